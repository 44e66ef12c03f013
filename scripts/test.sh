#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SEQGAN_DATA_DIR="${SEQGAN_DATA_DIR:-$(cd .. && pwd)/shared/data}"
.venv/bin/python -m pytest -q "$@"
