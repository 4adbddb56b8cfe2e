#!/usr/bin/env bash
# Runs the test suite. Installs what the tests need first (pgvector in the local Postgres 15,
# the pinned Temporal CLI; both idempotent and quick when already there), builds the CLI the
# end-to-end tests run, then node's test runner over test/<suite>/*.test.ts, one file at a time.
#   scripts/test.sh                 every suite
#   scripts/test.sh unit workflow   some suites (unit | workflow | integration)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -gt 0 ]]; then suites=("$@"); else suites=(unit workflow integration); fi
bash scripts/infra/install-model.sh  # the local embedder's model (unit tests run it too); quick when present
if [[ " ${suites[*]} " != " unit " ]]; then
  eval "$(bash scripts/infra/all.sh)"
  export TEMPORAL_CLI_PATH TEMPORAL_TEST_SERVER_PATH MOTO_PYTHON
fi
bash scripts/infra/install-qdrant-openapi.sh  # the Qdrant stand-in's schema (unit tests use it too)
npm run build --silent  # compiles dist/ and the prebuilt workflow bundle the CLI worker uses
files=()
for s in "${suites[@]}"; do
  [[ -d "test/$s" ]] || { echo "unknown suite: $s (expected unit, workflow or integration)" >&2; exit 2; }
  for f in test/"$s"/*.test.ts; do [[ -e "$f" ]] && files+=("$f"); done
done
if [[ ${#files[@]} -eq 0 ]]; then echo "no test files in: ${suites[*]}" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
