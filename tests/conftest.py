"""Shared fixtures: the paper's oracle from the data directory, skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PAPER_ORACLE = "oracle/seqgan_oracle_params.npz"


def paper_oracle_file() -> Path | None:
    data_dir = os.environ.get("SEQGAN_DATA_DIR")
    if not data_dir:
        return None
    path = Path(data_dir) / PAPER_ORACLE
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def paper_oracle_path() -> Path:
    data_dir = os.environ.get("SEQGAN_DATA_DIR")
    if not data_dir:
        pytest.skip("SEQGAN_DATA_DIR is not set: the paper's oracle (oracle/seqgan_oracle_params.npz) is unavailable")
    path = Path(data_dir) / PAPER_ORACLE
    if not path.is_file():
        pytest.skip(f"the paper's oracle file {path} does not exist (SEQGAN_DATA_DIR={data_dir})")
    return path


# The suite's models are tiny: one thread avoids oversubscribing a small, shared machine (with two
# cores and another busy process, torch's default of two threads makes small ops ~10x slower).
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The real data sets: $SEQGAN_DATA_DIR, else the project's sibling ../shared/data; skipped when
    neither exists."""
    env_dir = os.environ.get("SEQGAN_DATA_DIR")
    sibling = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    path = Path(env_dir) if env_dir else sibling
    if not path.is_dir():
        where = f"SEQGAN_DATA_DIR={env_dir}" if env_dir else f"SEQGAN_DATA_DIR is not set and {sibling} does not exist"
        pytest.skip(f"the real data sets are unavailable ({where})")
    return path
