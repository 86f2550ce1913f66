#!/usr/bin/env bash
# Install everything nguoitot needs on a fresh Debian machine with Python 3.11:
# the Debian packages in scripts/apt-packages.txt (OCR, the browser for the
# review-desk tests…), then the package itself with all its extras.
# Idempotent: what is already there is not installed again.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(grep -v '^\s*#' scripts/apt-packages.txt | grep -v '^\s*$' | tr '\n' ' ')
missing=""
for p in $want; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "== apt-get install$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PY=${PYTHON:-python3}
# torch first and pinned: this version is a CPU wheel; anything else pulls a multi-GB CUDA build.
if ! $PY -c 'import torch' >/dev/null 2>&1; then
  echo "== pip install torch==2.13.0 (CPU)"
  $PY -m pip install -q torch==2.13.0
fi
echo "== pip install -e .[web,embed,st,rerank,dev]"
$PY -m pip install -q -e ".[web,embed,st,rerank,dev]"
