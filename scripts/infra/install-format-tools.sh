#!/usr/bin/env bash
# What the format tests use to make their input files with programs other than the code under
# test: Debian's chromium (HTML → PDF with --print-to-pdf, and screenshots for a scanned PDF),
# pandoc (markdown → DOCX) and qpdf (encrypted and 10,000-page PDFs). Idempotent; all output on
# stderr (all.sh's stdout is for `eval`).
set -euo pipefail
here=$(dirname "$0")
bash "$here/install-chromium.sh" >&2
missing=()
command -v pandoc >/dev/null || missing+=(pandoc)
command -v qpdf >/dev/null || missing+=(qpdf)
if ((${#missing[@]} > 0)); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi
