#!/usr/bin/env bash
# The kill -9 drill at length: kills the worker process N times (default 20) at random points of
# one run and checks the sink holds exactly the source's chunks. DRILL_SEED=… replays a timing.
#   bash scripts/drill-kill.sh 20
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/infra/all.sh)"
export TEMPORAL_CLI_PATH TEMPORAL_TEST_SERVER_PATH
npm run build --silent
DRILL_KILLS="${1:-20}" exec node --import tsx --test --test-reporter=spec test/integration/drill-kill.test.ts
