#!/usr/bin/env bash
# Builds pgvector (0.8.x, Debian trixie's source package) into the local PostgreSQL 15, which
# Debian bookworm does not package. Idempotent: does nothing when the extension is installed.
set -euo pipefail
PG_MAJOR=${PG_MAJOR:-15}
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
HOST=${PGHOST_TEST:-127.0.0.1}
DB=${VECTOR_INGEST_TEST_DB:-vector_ingest_test}
say() { echo "[install-pgvector] $*" >&2; }

if [[ ! -f /usr/share/postgresql/$PG_MAJOR/extension/vector.control ]]; then
  export DEBIAN_FRONTEND=noninteractive
  # deb-src only: no trixie binaries can be installed by accident.
  SRC=/etc/apt/sources.list.d/vector-ingest-trixie-src.list
  if [[ ! -f $SRC ]]; then
    echo "deb-src http://deb.debian.org/debian trixie main" > "$SRC"
    rm -f /var/lib/apt/lists/*trixie*_Sources* 2>/dev/null || true
  fi
  if ! ls /var/lib/apt/lists/*trixie*_Sources* >/dev/null 2>&1 || ! dpkg -s "postgresql-server-dev-$PG_MAJOR" >/dev/null 2>&1; then
    say "apt-get update"
    apt-get update -qq >&2
  fi
  if ! dpkg -s "postgresql-server-dev-$PG_MAJOR" >/dev/null 2>&1 || ! command -v make >/dev/null || ! command -v dpkg-source >/dev/null; then
    say "installing postgresql-server-dev-$PG_MAJOR and build tools"
    apt-get install -y -qq "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev >&2
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  say "fetching the pgvector source package"
  (cd "$work" && apt-get source --download-only -qq pgvector >&2)
  dsc=$(ls "$work"/pgvector_*.dsc | head -1)
  (cd "$work" && dpkg-source --no-check -x "$dsc" src >&2)
  say "building $(basename "$dsc" .dsc)"
  make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" >&2
  make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" install >&2
fi

bash "$(dirname "$0")/ensure-postgres.sh"
v=$(PGOPTIONS="-c client_min_messages=warning" psql -h "$HOST" -U postgres -d "$DB" -tAc "CREATE EXTENSION IF NOT EXISTS vector; SELECT extversion FROM pg_extension WHERE extname = 'vector'" | tail -1)
[[ -n "$v" ]] || { say "pgvector did not load in $DB"; exit 1; }
say "pgvector $v ready in $DB"
