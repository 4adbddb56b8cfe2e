#!/usr/bin/env bash
# Makes sure the local PostgreSQL 15 is up and the test database exists. Idempotent.
set -euo pipefail
HOST=${PGHOST_TEST:-127.0.0.1}
PORT=${PGPORT_TEST:-5432}
DB=${VECTOR_INGEST_TEST_DB:-vector_ingest_test}
say() { echo "[ensure-postgres] $*" >&2; }

if ! pg_isready -q -h "$HOST" -p "$PORT"; then
  say "PostgreSQL is not answering on $HOST:$PORT; starting the local cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 60); do pg_isready -q -h "$HOST" -p "$PORT" && break; sleep 0.5; done
fi
pg_isready -q -h "$HOST" -p "$PORT" || { say "PostgreSQL on $HOST:$PORT did not become ready in 30 s"; exit 1; }

if [[ "$(psql -h "$HOST" -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
  say "creating database $DB"
  psql -h "$HOST" -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE $DB" >&2
fi
