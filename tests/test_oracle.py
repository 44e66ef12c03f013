"""The oracle LSTM against an independent float64 NumPy implementation, its sampler, its loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import np_oracle
from helpers import assert_frequencies
from seqgan.oracle import Oracle, resolve_oracle_path


def oracle_arrays(oracle: Oracle) -> dict:
    return {name: getattr(oracle, name).detach().numpy() for name in np_oracle.NAMES}


@pytest.fixture(scope="module")
def small_oracle() -> Oracle:
    return Oracle.random(vocab_size=11, emb_dim=5, hidden_dim=6, seq_len=7, seed=3)


def test_token_nll_matches_float64_reference_on_random_oracle(small_oracle):
    gen = torch.Generator().manual_seed(0)
    uniform = torch.randint(0, 11, (16, 7), generator=gen)
    sampled = small_oracle.sample(16, generator=gen)
    for seqs in (uniform, sampled):
        got = small_oracle.token_nll(seqs).double().numpy()
        want = np_oracle.token_nll(oracle_arrays(small_oracle), seqs.numpy())
        assert got.shape == (16, 7)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # the mean over all tokens
    want_mean = np_oracle.token_nll(oracle_arrays(small_oracle), uniform.numpy()).mean()
    assert small_oracle.nll(uniform) == pytest.approx(want_mean, rel=1e-4)
    # batching inside nll() does not change the mean
    assert small_oracle.nll(uniform, batch_size=5) == pytest.approx(want_mean, rel=1e-4)


def test_token_nll_handles_other_lengths_and_masks(small_oracle):
    """Sequences longer than the oracle's seq_len, and a mask zeroing padded positions."""
    seqs = torch.randint(0, 11, (4, 12), generator=torch.Generator().manual_seed(1))
    want = np_oracle.token_nll(oracle_arrays(small_oracle), seqs.numpy())
    np.testing.assert_allclose(small_oracle.token_nll(seqs).numpy(), want, rtol=1e-4, atol=1e-5)
    mask = torch.ones(4, 12)
    mask[1, 5:] = 0
    masked = small_oracle.token_nll(seqs, mask).numpy()
    assert np.all(masked[1, 5:] == 0)
    np.testing.assert_allclose(masked[1, :5], want[1, :5], rtol=1e-4, atol=1e-5)


def test_paper_oracle_matches_float64_reference(paper_oracle_path):
    arrays = dict(np.load(paper_oracle_path))
    oracle = Oracle.from_npz(paper_oracle_path)
    assert (oracle.vocab_size, oracle.emb_dim, oracle.hidden_dim, oracle.seq_len) == (5000, 32, 32, 20)
    gen = torch.Generator().manual_seed(0)
    seqs = torch.cat([torch.randint(0, 5000, (8, 20), generator=gen), oracle.sample(8, generator=gen)])
    want = np_oracle.token_nll(arrays, seqs.numpy())
    np.testing.assert_allclose(oracle.token_nll(seqs).double().numpy(), want, rtol=1e-4, atol=1e-5)
    assert oracle.nll(seqs) == pytest.approx(want.mean(), rel=1e-4)


def test_random_oracle_is_deterministic_in_its_seed():
    a = Oracle.random(13, 4, 5, 6, seed=7).state_dict()
    b = Oracle.random(13, 4, 5, 6, seed=7).state_dict()
    c = Oracle.random(13, 4, 5, 6, seed=8).state_dict()
    assert a.keys() == b.keys() == c.keys()
    assert set(a) == set(np_oracle.NAMES)
    for name in a:
        assert torch.equal(a[name], b[name]), name
        assert not torch.equal(a[name], c[name]), name
    # N(0, 1) weights, as in the paper
    flat = torch.cat([v.flatten() for v in a.values()])
    assert abs(flat.mean().item()) < 0.15 and abs(flat.std().item() - 1.0) < 0.15


def test_first_token_frequencies_match_float64_softmax():
    oracle = Oracle.random(vocab_size=6, emb_dim=4, hidden_dim=5, seq_len=2, seed=11)
    arrays = oracle_arrays(oracle)
    n = 20_000
    seqs = oracle.sample(n, generator=torch.Generator().manual_seed(0), batch_size=7_000)
    assert seqs.shape == (n, 2) and seqs.dtype == torch.long
    assert seqs.min() >= 0 and seqs.max() < 6
    first = np.bincount(seqs[:, 0].numpy(), minlength=6)
    assert_frequencies(first, np_oracle.next_token_probs(arrays, []), what="first token")
    # and the second token, conditioned on the most frequent first token
    top = int(first.argmax())
    second = np.bincount(seqs[seqs[:, 0] == top, 1].numpy(), minlength=6)
    assert_frequencies(second, np_oracle.next_token_probs(arrays, [top]), what="second token")


def test_sampling_is_deterministic_for_a_generator_seed(small_oracle):
    a = small_oracle.sample(50, generator=torch.Generator().manual_seed(5))
    b = small_oracle.sample(50, generator=torch.Generator().manual_seed(5))
    c = small_oracle.sample(50, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


# -- loading ---------------------------------------------------------------------------------------


def test_from_npz_loads_arrays_exactly(tmp_path):
    arrays = np_oracle.random_params(9, 3, 4, seed=0)
    path = tmp_path / "oracle.npz"
    np.savez(path, **arrays)
    oracle = Oracle.from_npz(path, seq_len=5)
    assert (oracle.vocab_size, oracle.emb_dim, oracle.hidden_dim, oracle.seq_len) == (9, 3, 4, 5)
    for name, value in arrays.items():
        assert torch.equal(getattr(oracle, name).detach(), torch.from_numpy(value)), name
    seqs = torch.randint(0, 9, (5, 5), generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(
        oracle.token_nll(seqs).numpy(), np_oracle.token_nll(arrays, seqs.numpy()), rtol=1e-4, atol=1e-5
    )


def _bad_npz(tmp_path, kind: str):
    arrays = np_oracle.random_params(9, 3, 4, seed=0)
    path = tmp_path / f"bad_{kind}.npz"
    if kind == "missing":
        del arrays["W_f"]
    elif kind == "wrong_shape":
        arrays["W_out"] = np.zeros((4, 8), dtype=np.float32)
    elif kind == "wrong_gate_shape":
        arrays["U_c"] = np.zeros((3, 4), dtype=np.float32)
    elif kind == "embedding_rank":
        arrays["embedding"] = arrays["embedding"].ravel()
    elif kind == "scalar_gate":
        arrays["U_i"] = np.float32(1.0)
    if kind == "not_npz":
        path.write_text("this is not a numpy archive\n")
    elif kind == "random_bytes":
        path.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8)))
    elif kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    else:
        np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    "kind",
    ["missing", "wrong_shape", "wrong_gate_shape", "embedding_rank", "scalar_gate", "not_npz", "random_bytes", "npy"],
)
def test_from_npz_rejects_bad_files_naming_them(tmp_path, kind):
    path = _bad_npz(tmp_path, kind)
    with pytest.raises(ValueError) as info:
        Oracle.from_npz(path)
    assert path.name in str(info.value)
    if kind == "missing":
        assert "W_f" in str(info.value)
    if kind == "wrong_shape":
        assert "W_out" in str(info.value)


def test_from_npz_missing_file_names_it(tmp_path):
    with pytest.raises(ValueError, match="nowhere.npz"):
        Oracle.from_npz(tmp_path / "nowhere.npz")


def test_resolve_oracle_path(tmp_path):
    with pytest.raises(ValueError, match="SEQGAN_DATA_DIR"):
        resolve_oracle_path("paper", None)
    with pytest.raises(ValueError, match=str(tmp_path)):
        resolve_oracle_path("paper", str(tmp_path))  # no oracle file there
    (tmp_path / "oracle").mkdir()
    (tmp_path / "oracle" / "seqgan_oracle_params.npz").write_bytes(b"")
    assert resolve_oracle_path("paper", str(tmp_path)) == tmp_path / "oracle" / "seqgan_oracle_params.npz"
    assert resolve_oracle_path("some/file.npz", None) == Path("some/file.npz")
