"""Shared fixtures and the suite's tiers.

- The paper's oracle and the real data sets from the data directory, skipped when absent.
- ``system_package``: a test that needs a system package (Chromium, PostgreSQL) skips with one line
  naming the command that installs it, or fails under ``CI=true``.
"""

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


# -- system packages ---------------------------------------------------------------------------------

def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_system_package(found: bool, what: str, packages: str, problem: str = "is not installed") -> None:
    """Skip the calling test when ``what`` is not ``found``, with one line naming the command that
    installs it; under CI=true fail instead, since CI's set-up installs it (scripts/system_deps.sh)."""
    if found:
        return
    problem = " ".join(problem.split())  # one line, whatever a server's log said
    message = f"{what} {problem}: `apt-get install {packages}` as root installs it (bash scripts/test.sh does)"
    if on_ci():
        pytest.fail(f"{message}; CI=true, so this does not skip", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def system_package():
    """``system_package(found, what, packages)``: see ``require_system_package``."""
    return require_system_package

