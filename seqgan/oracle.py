"""The oracle: a fixed LSTM that makes the synthetic data and judges samples.

Follows the SeqGAN authors' ``target_lstm.py`` (LantaoYu/SeqGAN): a textbook LSTM
whose inputs are multiplied from the left (``x @ W``), h and c starting at zero,
token 0 doubling as the start token. The weights come from the paper's file
(``oracle/seqgan_oracle_params.npz``, see the data README) or are drawn N(0, 1)
from a seed, the way the authors drew theirs.

Shapes: B batch, T sequence length, V vocabulary, E embedding, H hidden.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from .generator import sample_from_logits

GATES = ("i", "f", "o", "c")
PAPER_ORACLE = "oracle/seqgan_oracle_params.npz"


class Oracle(nn.Module):
    """The oracle LSTM G_oracle. Parameters are plain arrays named as in the npz file."""

    def __init__(self, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int, start_token: int = 0):
        super().__init__()
        self.vocab_size, self.emb_dim, self.hidden_dim = vocab_size, emb_dim, hidden_dim
        self.seq_len, self.start_token = seq_len, start_token
        self.embedding = nn.Parameter(torch.zeros(vocab_size, emb_dim), requires_grad=False)
        for g in GATES:
            setattr(self, f"W_{g}", nn.Parameter(torch.zeros(emb_dim, hidden_dim), requires_grad=False))
            setattr(self, f"U_{g}", nn.Parameter(torch.zeros(hidden_dim, hidden_dim), requires_grad=False))
            setattr(self, f"b_{g}", nn.Parameter(torch.zeros(hidden_dim), requires_grad=False))
        self.W_out = nn.Parameter(torch.zeros(hidden_dim, vocab_size), requires_grad=False)
        self.b_out = nn.Parameter(torch.zeros(vocab_size), requires_grad=False)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def random(cls, vocab_size: int, emb_dim: int, hidden_dim: int, seq_len: int, seed: int) -> Oracle:
        """An oracle whose every weight is drawn N(0, 1), as in the paper (Section 4.1)."""
        oracle = cls(vocab_size, emb_dim, hidden_dim, seq_len)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for p in oracle.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        return oracle

    @classmethod
    def from_npz(cls, path: str | Path, seq_len: int = 20) -> Oracle:
        """Load weights in the format of the data README. Raises ValueError on a bad file."""
        path = Path(path)
        try:
            arrays = dict(np.load(path, allow_pickle=False))
        except FileNotFoundError:
            raise ValueError(f"oracle file {path} does not exist") from None
        except Exception as e:  # numpy raises several types for a damaged file
            raise ValueError(f"oracle file {path} is not a readable .npz file ({e})") from None
        names = ["embedding", "W_out", "b_out"] + [f"{m}_{g}" for g in GATES for m in "WUb"]
        missing = [n for n in names if n not in arrays]
        if missing:
            raise ValueError(f"oracle file {path} lacks arrays {missing}")
        for name in names:
            want = 1 if name.startswith("b_") else 2
            if arrays[name].ndim != want:
                raise ValueError(
                    f"oracle file {path}: array {name} has {arrays[name].ndim} dimensions, expected {want}"
                )
        vocab_size, emb_dim = arrays["embedding"].shape
        hidden_dim = arrays["U_i"].shape[0]
        oracle = cls(vocab_size, emb_dim, hidden_dim, seq_len)
        with torch.no_grad():
            for name in names:
                param = getattr(oracle, name)
                if tuple(arrays[name].shape) != tuple(param.shape):
                    raise ValueError(
                        f"oracle file {path}: array {name} has shape {arrays[name].shape}, "
                        f"expected {tuple(param.shape)}"
                    )
                param.copy_(torch.from_numpy(arrays[name].astype(np.float32)))
        return oracle

    def dims(self) -> dict:
        return dict(vocab_size=self.vocab_size, emb_dim=self.emb_dim, hidden_dim=self.hidden_dim, seq_len=self.seq_len)

    # -- the cell -----------------------------------------------------------------------------
    def _step(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        # x: (B, E), h, c: (B, H)
        i = torch.sigmoid(x @ self.W_i + h @ self.U_i + self.b_i)
        f = torch.sigmoid(x @ self.W_f + h @ self.U_f + self.b_f)
        o = torch.sigmoid(x @ self.W_o + h @ self.U_o + self.b_o)
        c_tilde = torch.tanh(x @ self.W_c + h @ self.U_c + self.b_c)
        c = f * c + i * c_tilde
        h = o * torch.tanh(c)
        return h, c

    @torch.no_grad()
    def sample(self, num: int, generator: torch.Generator | None = None, batch_size: int = 256) -> torch.Tensor:
        """Draw ``num`` sequences (num, T) of token ids."""
        device = self.embedding.device
        out = []
        for start in range(0, num, batch_size):
            b = min(batch_size, num - start)
            h = torch.zeros(b, self.hidden_dim, device=device)
            c = torch.zeros(b, self.hidden_dim, device=device)
            tokens = torch.full((b,), self.start_token, dtype=torch.long, device=device)
            seq = []
            for _ in range(self.seq_len):
                h, c = self._step(self.embedding[tokens], h, c)
                tokens = sample_from_logits(h @ self.W_out + self.b_out, generator=generator)
                seq.append(tokens)
            out.append(torch.stack(seq, dim=1))
        return torch.cat(out)

    @torch.no_grad()
    def token_nll(self, seqs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Per-token negative log-likelihood (nats) of ``seqs`` (B, T) under the oracle: (B, T).

        Sequences may be longer or shorter than the oracle's own length; ``mask`` (B, T) marks
        the real tokens of padded rows (NLL 0 elsewhere).
        """
        device = self.embedding.device  # the oracle's: the run's device, or the CPU
        seqs = seqs.long().to(device)
        b, t = seqs.shape
        h = torch.zeros(b, self.hidden_dim, device=device)
        c = torch.zeros(b, self.hidden_dim, device=device)
        prev = torch.full((b,), self.start_token, dtype=torch.long, device=device)
        nll = torch.empty(b, t, device=device)
        for step in range(t):
            h, c = self._step(self.embedding[prev], h, c)
            logp = torch.log_softmax(h @ self.W_out + self.b_out, dim=-1)
            nll[:, step] = -logp.gather(1, seqs[:, step : step + 1]).squeeze(1)
            prev = seqs[:, step]
        if mask is not None:
            nll = nll * mask.to(device)
        return nll

    def nll(self, seqs: torch.Tensor, batch_size: int = 256) -> float:
        """NLL-oracle: the mean per-token NLL (nats) of equal-length sequences (B, T)."""
        # batch sums added in float64 on the device, read once (the sum of .item()s, without a sync a batch)
        total = torch.zeros((), dtype=torch.float64, device=self.embedding.device)
        for i in range(0, len(seqs), batch_size):
            total += self.token_nll(seqs[i : i + batch_size]).sum()
        return total.item() / seqs.numel()


def resolve_oracle_path(source: str, data_dir: str | None) -> Path:
    """Where ``source`` ('paper' or a path) points. 'paper' needs a data directory."""
    if source == "paper":
        if not data_dir:
            raise ValueError("oracle 'paper' needs the data directory: pass --data-dir or set SEQGAN_DATA_DIR")
        path = Path(data_dir) / PAPER_ORACLE
        if not path.exists():
            raise ValueError(f"oracle 'paper': {path} does not exist (data directory {data_dir})")
        return path
    return Path(source)
