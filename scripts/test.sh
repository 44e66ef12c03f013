#!/usr/bin/env bash
# The README's test command: set up (.venv by scripts/setup.sh, the system packages the tests drive
# by scripts/system_deps.sh), then pytest. Arguments go to pytest:
#   SEQGAN_SKIP_PYTEST=1 bash scripts/test.sh       set-up only
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/system_deps.sh
export SEQGAN_DATA_DIR="${SEQGAN_DATA_DIR:-$(cd .. && pwd)/shared/data}"

[ "${SEQGAN_SKIP_PYTEST:-0}" = 1 ] && exit 0
.venv/bin/python -m pytest -q "$@"
