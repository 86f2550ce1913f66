#!/usr/bin/env bash
# The README's test command: install everything, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python3 -m pytest -q -p no:cacheprovider "$@"
