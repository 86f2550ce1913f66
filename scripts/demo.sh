#!/usr/bin/env bash
# The README's main command: install everything, then run the weekly job on the
# embedded default (SQLite in var/, bundled model) over the demo outlets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nguoitot run --demo "$@"
