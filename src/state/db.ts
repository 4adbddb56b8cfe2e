/** The state store's transactions: one pooled connection, guarded (src/pg/connection.ts). */
export { inTransaction } from '../pg/connection';
