"""An independent float64 NumPy implementation of the oracle LSTM (the data README's equations).

Shares no code with ``seqgan.oracle``: the tests compare the package's float32 torch oracle
against it. Parameters are a dict of arrays named as in ``seqgan_oracle_params.npz``.
"""

from __future__ import annotations

import numpy as np

GATES = ("i", "f", "o", "c")
NAMES = ["embedding", "W_out", "b_out"] + [f"{m}_{g}" for g in GATES for m in ("W", "U", "b")]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def as_float64(params: dict) -> dict:
    return {k: np.asarray(params[k], dtype=np.float64) for k in NAMES}


def random_params(vocab: int, emb: int, hidden: int, seed: int, dtype=np.float32) -> dict:
    """N(0, 1) arrays in the npz layout, drawn with NumPy (not with the package)."""
    rng = np.random.default_rng(seed)
    shapes = {"embedding": (vocab, emb), "W_out": (hidden, vocab), "b_out": (vocab,)}
    for g in GATES:
        shapes[f"W_{g}"] = (emb, hidden)
        shapes[f"U_{g}"] = (hidden, hidden)
        shapes[f"b_{g}"] = (hidden,)
    return {k: rng.standard_normal(shapes[k]).astype(dtype) for k in NAMES}


def cell(p: dict, x: np.ndarray, h: np.ndarray, c: np.ndarray):
    i = _sigmoid(x @ p["W_i"] + h @ p["U_i"] + p["b_i"])
    f = _sigmoid(x @ p["W_f"] + h @ p["U_f"] + p["b_f"])
    o = _sigmoid(x @ p["W_o"] + h @ p["U_o"] + p["b_o"])
    c_tilde = np.tanh(x @ p["W_c"] + h @ p["U_c"] + p["b_c"])
    c = f * c + i * c_tilde
    h = o * np.tanh(c)
    return h, c


def token_nll(params: dict, seqs, start_token: int = 0) -> np.ndarray:
    """Per-token NLL (B, T) in float64 of integer sequences (B, T)."""
    p = as_float64(params)
    seqs = np.asarray(seqs, dtype=np.int64)
    b, t_len = seqs.shape
    hidden = p["U_i"].shape[0]
    h = np.zeros((b, hidden))
    c = np.zeros((b, hidden))
    prev = np.full(b, start_token)
    out = np.zeros((b, t_len))
    for t in range(t_len):
        h, c = cell(p, p["embedding"][prev], h, c)
        logp = _log_softmax(h @ p["W_out"] + p["b_out"])
        out[:, t] = -logp[np.arange(b), seqs[:, t]]
        prev = seqs[:, t]
    return out


def ragged_mean_nll(params: dict, seqs: list[list[int]]) -> float:
    """Mean NLL over all tokens of sequences of any lengths (one at a time, no padding)."""
    total, count = 0.0, 0
    for s in seqs:
        total += token_nll(params, np.asarray([s])).sum()
        count += len(s)
    return total / count


def next_token_probs(params: dict, prefix: list[int], start_token: int = 0) -> np.ndarray:
    """float64 softmax over the next token after reading start + ``prefix``: (V,)."""
    p = as_float64(params)
    hidden = p["U_i"].shape[0]
    h = np.zeros((1, hidden))
    c = np.zeros((1, hidden))
    for tok in [start_token, *prefix]:
        h, c = cell(p, p["embedding"][[tok]], h, c)
    return np.exp(_log_softmax(h @ p["W_out"] + p["b_out"]))[0]
