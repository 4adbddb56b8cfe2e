#!/usr/bin/env bash
# Installs moto (an S3-compatible server for the s3 source's tests, run as `python3 -m moto.server`)
# from PyPI, pinned, with the Flask pieces its server mode needs. Prints MOTO_PYTHON=… for `eval`:
# the interpreter the tests start the server with. Idempotent.
set -euo pipefail
PY=${PYTHON:-python3}
say() { echo "[install-moto] $*" >&2; }
want=("moto[s3]==5.2.1" "flask==3.1.3" "flask-cors==6.0.2")

probe() {
  "$PY" - <<'PYEOF'
from importlib import metadata
try:
    ok = metadata.version("moto") == "5.2.1"
    import flask, flask_cors, moto.server  # noqa: F401  (server mode needs all three)
except Exception:
    ok = False
print("ok" if ok else "missing")
PYEOF
}

if [[ "$(probe)" != ok ]]; then
  say "pip install ${want[*]}"
  "$PY" -m pip install -q "${want[@]}" >&2
fi
[[ "$(probe)" == ok ]] || { say "moto's server mode is not importable after pip install"; exit 1; }
echo "MOTO_PYTHON=$(command -v "$PY")"
