#!/usr/bin/env bash
# Everything the tests need on a fresh machine; prints TEMPORAL_CLI_PATH=… for `eval`.
set -euo pipefail
here=$(dirname "$0")
bash "$here/ensure-postgres.sh"
bash "$here/install-pgvector.sh"
bash "$here/install-format-tools.sh"
bash "$here/install-model.sh"
bash "$here/install-qdrant-openapi.sh"
bash "$here/install-temporal.sh"
bash "$here/install-moto.sh"
