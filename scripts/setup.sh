#!/usr/bin/env bash
# Create .venv and install seqgan into it. torch is pinned to the CPU wheel this project is
# developed on; the package itself asks only torch>=2.4, so a GPU user may install any CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check "torch==${SEQGAN_TORCH_VERSION:-2.13.0}"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
.venv/bin/python -c "import seqgan, torch; print(f'seqgan {seqgan.__version__} with torch {torch.__version__}')"
