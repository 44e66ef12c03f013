"""Checkpoints: plain dicts of state dicts, counters and RNG states, written atomically.

A checkpoint is written to a temporary file beside its target, flushed to disk, then renamed over
the target, so a run killed at any moment leaves either the old checkpoint or the new one, never
half of one. Loading uses ``weights_only=True``: a checkpoint is data, not code.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

FORMAT = "seqgan-checkpoint-v2"  # v2: baseline rows (v1 had one MLE copy)


def save_checkpoint(state: dict, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only left if the save failed; the old checkpoint stands


def set_aside_unresumable(run_dir: str | Path) -> Path | None:
    """Rename a run directory that holds an unfinished run with no checkpoint to RUN_DIR.unfinished[-K].

    Such a directory is what a run leaves when its checkpoint is gone: git keeps a long run's
    metrics and log, never its checkpoint, so a run started on another machine arrives this way.
    It cannot be resumed and a new run refuses to write into it; a sweep (``seqgan experiment``,
    ``seqgan tune``) sets it aside, keeping what it wrote, and starts the run again. Returns the
    new name, or None where there was nothing to set aside (empty, missing, finished or resumable).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not any(run_dir.iterdir()):
        return None
    if (run_dir / "results.json").exists() or (run_dir / "checkpoint.pt").exists():
        return None
    aside, k = run_dir.with_name(f"{run_dir.name}.unfinished"), 1
    while aside.exists():
        k += 1
        aside = run_dir.with_name(f"{run_dir.name}.unfinished-{k}")
    run_dir.rename(aside)
    return aside


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint; raise ValueError naming the file if it is missing, corrupt or foreign."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.exists():
        raise ValueError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a truncated or foreign file
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(f"{path}: not a readable checkpoint (corrupt or truncated?): {reason[:200]}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path}: not a seqgan checkpoint (expected format {FORMAT})")
    return state
