#!/usr/bin/env bash
# Qdrant's OpenAPI document for the Qdrant version @qdrant/js-client-rest 1.18.0 targets (1.18),
# which the Qdrant stand-in (src/testing/qdrant-standin) validates every request and response
# against. The copy comes from a registry package: PyPI `qdrant-rest-cli` 0.1.4 ships it as
# qdrant_rest_cli/spec.yaml (JSON despite the name). Its 397 component schemas and 59 paths are
# exactly those of the client's generated types; it differs from Qdrant's published
# docs/redoc/v1.18.x/openapi.json only in info.version ("master") and one `minimum`
# (ReadConsistency). Idempotent; prints nothing on stdout (all.sh's output is eval'ed).
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=.cache/qdrant-openapi/1.18/openapi.json
wheel=qdrant_rest_cli-0.1.4-py3-none-any.whl
wheel_sha=020a0afc229d3d9f55db78bf385961aab939cbb5334f4a10d276e72246b48119
spec_sha=82f236e827def4fd3b766cd73a7e2dd545953a5dfdef7c502893cffde79c7e40
if [[ -s "$dest" ]] && echo "$spec_sha  $dest" | sha256sum -c --quiet >/dev/null 2>&1; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --no-deps --disable-pip-version-check -q -d "$tmp" qdrant-rest-cli==0.1.4 >&2
echo "$wheel_sha  $tmp/$wheel" | sha256sum -c --quiet >&2
mkdir -p "$(dirname "$dest")"
python3 - "$tmp/$wheel" "$dest" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], 'wb') as out:
    out.write(z.read('qdrant_rest_cli/spec.yaml'))
PY
echo "$spec_sha  $dest" | sha256sum -c --quiet >&2
echo "Qdrant 1.18 OpenAPI schema in $dest" >&2
