/**
 * One simple-protocol query string that contains a `COPY … FROM STDIN`, with the COPY's data
 * sent right behind the query text instead of after the server's CopyInResponse: the whole
 * statement batch (e.g. BEGIN; COPY into a staging table; INSERT … ON CONFLICT; COMMIT) costs
 * one round trip. pg-copy-streams waits for CopyInResponse before it sends data, which is a
 * second round trip per COPY.
 *
 * Safe by the protocol: the server reads the CopyData/CopyDone messages when the COPY starts;
 * if a statement before it fails, the rest of the query string is skipped and the server
 * "accepts but ignores" CopyData/CopyDone outside COPY mode (postgres.c), so the connection
 * stays usable and the caller rolls back as after any failed query.
 *
 * Statements of the batch must not return rows (no SELECT, no RETURNING): the command tags
 * (e.g. `INSERT 0 128`) are what it hands back.
 */
import type { ClientBase } from 'pg';

interface Connection {
  query(text: string): void;
  stream: { write(b: Buffer): boolean };
}

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'

/** A pg "submittable": pg's Client drives it with the backend's messages for this query. */
class PipelinedCopyQuery {
  private readonly tags: string[] = [];
  private failed = false;
  readonly done: Promise<string[]>;
  private resolve!: (tags: string[]) => void;
  private reject!: (err: Error) => void;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
  ) {
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  submit(connection: Connection): void {
    connection.query(this.text);
    const head = Buffer.allocUnsafe(5);
    head[0] = COPY_DATA;
    head.writeUInt32BE(this.data.length + 4, 1);
    connection.stream.write(head);
    connection.stream.write(this.data);
    connection.stream.write(Buffer.from([COPY_DONE, 0, 0, 0, 4]));
  }

  handleCopyInResponse(): void {
    // The data is on its way already.
  }

  handleCommandComplete(msg: { text?: string }): void {
    if (msg.text) this.tags.push(msg.text);
  }

  handleRowDescription(): void {
    this.fail(new Error('pipelined COPY batch: a statement returned rows'));
  }

  handleDataRow(): void {}

  handleEmptyQuery(): void {}

  handleError(err: Error): void {
    this.fail(err);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.resolve(this.tags);
  }

  /** pg calls this to arm query_timeout; nothing to do here. */
  callback(): void {}

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(err);
  }
}

/** Runs the statement batch `text` (one `COPY … FROM STDIN (FORMAT binary)` in it) with `data` as the COPY's input; returns the command tags. */
export function pipelinedCopy(client: ClientBase, text: string, data: Buffer): Promise<string[]> {
  const q = new PipelinedCopyQuery(text, data);
  (client as unknown as { query(q: PipelinedCopyQuery): void }).query(q);
  return q.done;
}
