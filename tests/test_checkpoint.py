"""Checkpoints: round trip, atomic writes, and errors naming the file."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from seqgan.runtime.checkpoint import FORMAT, load_checkpoint, save_checkpoint, set_aside_unresumable

# what torch.save raises for a local lambda: AttributeError ("Can't pickle local object") up to
# Python 3.13, pickle.PicklingError from 3.14 on
UNPICKLABLE = (AttributeError, pickle.PicklingError)


def sample_state() -> dict:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    return {
        "format": FORMAT,
        "model": model.state_dict(),
        "opt": opt.state_dict(),
        "progress": {"g_epoch": 3, "round": 2, "finished": False},
        "seconds": 1.5,
        "rng_cpu": torch.get_rng_state(),
        "none": None,
    }


def assert_same(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    else:
        assert a == b


def test_round_trip_and_no_temp_file(tmp_path):
    state = sample_state()
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(state, path)
    assert os.listdir(tmp_path) == ["checkpoint.pt"]
    loaded = load_checkpoint(path)
    assert_same(loaded, state)
    # a run directory stands for its checkpoint.pt
    assert_same(load_checkpoint(tmp_path), state)
    # saving again replaces the file, still leaving nothing else behind
    state["progress"]["round"] = 3
    save_checkpoint(state, path)
    assert load_checkpoint(path)["progress"]["round"] == 3
    assert os.listdir(tmp_path) == ["checkpoint.pt"]


def test_failed_save_keeps_the_old_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(sample_state(), path)
    before = path.read_bytes()
    with pytest.raises(UNPICKLABLE):
        save_checkpoint({"format": FORMAT, "bad": lambda: 0}, path)  # a lambda cannot be pickled
    assert path.read_bytes() == before
    assert load_checkpoint(path)["progress"]["round"] == 2


def test_failed_save_leaves_no_temp_file(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(sample_state(), path)
    with pytest.raises(UNPICKLABLE):
        save_checkpoint({"format": FORMAT, "bad": lambda: 0}, path)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.pt"], "a failed save left its temporary file"


@pytest.mark.parametrize("cut", [0.5, 0.1])
def test_truncated_file_fails_naming_it(tmp_path, cut):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(sample_state(), path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ValueError, match=str(path)):
        load_checkpoint(path)


def test_random_bytes_and_empty_file_fail_naming_them(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ValueError, match="noise.pt"):
        load_checkpoint(path)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.pt"):
        load_checkpoint(empty)


@pytest.mark.parametrize("obj", [{"a": 1}, {"format": "other-v9"}, [1, 2, 3], torch.zeros(3)])
def test_foreign_torch_file_fails(tmp_path, obj):
    path = tmp_path / "foreign.pt"
    torch.save(obj, path)
    with pytest.raises(ValueError, match="foreign.pt.*not a seqgan checkpoint"):
        load_checkpoint(path)


def test_pickled_code_is_refused(tmp_path):
    """weights_only loading: a file that would run code is an error, not executed."""
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "obj": SystemExit}, path)
    with pytest.raises(ValueError, match="evil.pt"):
        load_checkpoint(path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(ValueError, match=str(tmp_path / "checkpoint.pt")):
        load_checkpoint(tmp_path)


def test_an_unfinished_run_without_checkpoint_is_set_aside_whole(tmp_path):
    """What git brings of a long run to a new machine: its metrics and log, no checkpoint. It is
    renamed, not deleted; finished, resumable, empty and missing directories are left alone."""
    run = tmp_path / "r1-seed0"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"phase": "pretrain", "step": 5}\n')
    (run / "config.yaml").write_text("seed: 0\n")
    assert set_aside_unresumable(run) == tmp_path / "r1-seed0.unfinished"
    assert not run.exists()
    assert (tmp_path / "r1-seed0.unfinished" / "metrics.jsonl").read_text() == '{"phase": "pretrain", "step": 5}\n'
    run.mkdir()  # a second loss of the same run keeps the first one's remains too
    (run / "metrics.jsonl").write_text("{}\n")
    assert set_aside_unresumable(run) == tmp_path / "r1-seed0.unfinished-2"
    assert (tmp_path / "r1-seed0.unfinished").is_dir()
    for keep in ("results.json", "checkpoint.pt"):
        kept = tmp_path / f"with-{keep}"
        kept.mkdir()
        (kept / keep).write_text("x")
        (kept / "metrics.jsonl").write_text("{}\n")
        assert set_aside_unresumable(kept) is None and (kept / keep).exists()
    (tmp_path / "empty").mkdir()
    assert set_aside_unresumable(tmp_path / "empty") is None and (tmp_path / "empty").is_dir()
    assert set_aside_unresumable(tmp_path / "missing") is None
