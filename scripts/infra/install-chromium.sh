#!/usr/bin/env bash
# Debian's chromium, for the Web UI screenshot script. Idempotent.
set -euo pipefail
if [[ ! -x /usr/bin/chromium ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
