#!/usr/bin/env bash
# Runs the test suite: installs what the tests need (Temporal CLI, pgvector in the local
# Postgres 15), then node's test runner over test/<suite>/*.test.ts.
#   scripts/test.sh            every suite
#   scripts/test.sh unit       one suite (unit | workflow | integration)
set -euo pipefail
cd "$(dirname "$0")/.."
suites=("${@:-unit workflow integration}")
suites=(${suites[*]})
if [[ " ${suites[*]} " != " unit " ]]; then
  eval "$(bash scripts/infra/all.sh)"
  export TEMPORAL_CLI_PATH TEMPORAL_TEST_SERVER_PATH
fi
files=()
for s in "${suites[@]}"; do
  for f in test/"$s"/*.test.ts; do [[ -e "$f" ]] && files+=("$f"); done
done
if [[ ${#files[@]} -eq 0 ]]; then echo "no test files for: ${suites[*]}" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
