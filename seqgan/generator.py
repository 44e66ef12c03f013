"""The generator G_theta: an LSTM language model that is the policy of SeqGAN's RL agent.

Follows the SeqGAN authors' ``generator.py`` (LantaoYu/SeqGAN): embedding 32, hidden 32, token 0
as the start token, weights drawn N(0, 0.1). The state is the prefix y_1..y_{t-1}, the action the
next token. Besides the policy it gives MLE's loss, log-probabilities of given sequences and the
NLL-test metric.

Shapes: B batch, T sequence length, V vocabulary, E embedding, H hidden.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

State = tuple[torch.Tensor, torch.Tensor]  # h, c: (1, B, H) each


def sample_from_logits(
    logits: torch.Tensor, temperature: float = 1.0, block: int = 64, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One draw per row from softmax(logits / temperature): (B, V) -> (B,).

    Two-level inverse-CDF sampling: one uniform number a row picks a block of ``block`` tokens
    from the cumulative block sums, then a token inside that block. It is exact, needs no
    full-width cumsum (the slow part of plain inverse-CDF) and is many times faster than
    ``torch.multinomial`` on 5,000-way distributions (docs/performance.md).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    rows, vocab = logits.shape
    logits = logits.float()
    weights = logits - logits.amax(dim=1, keepdim=True)
    if temperature != 1.0:
        weights /= temperature
    weights = weights.exp_()  # (B, V) unnormalised probabilities, max 1
    full = vocab // block * block
    block_sums = weights[:, :full].view(rows, -1, block).sum(dim=2)  # (B, V // block)
    if full < vocab:
        block_sums = torch.cat([block_sums, weights[:, full:].sum(dim=1, keepdim=True)], dim=1)
    block_cdf = block_sums.cumsum(dim=1)
    u = torch.rand(rows, 1, device=weights.device, generator=generator) * block_cdf[:, -1:]
    # first block whose cdf exceeds u; a block (or token) of zero weight can never be picked
    k = torch.searchsorted(block_cdf, u, right=True).clamp_(max=block_cdf.shape[1] - 1)  # (B, 1)
    u_inner = u - (block_cdf.gather(1, k) - block_sums.gather(1, k))
    index = k * block + torch.arange(block, device=weights.device)  # (B, block)
    inner = weights.gather(1, index.clamp(max=vocab - 1)).masked_fill_(index >= vocab, 0.0)
    j = torch.searchsorted(inner.cumsum(dim=1), u_inner, right=True).clamp_(max=block - 1)
    token = (k * block + j).squeeze(1)
    # float rounding can push u_inner past the block's last positive weight: step back onto it
    bad = inner.gather(1, j).squeeze(1) == 0
    if bad.any():
        last = (inner > 0).float().cumsum(1).argmax(dim=1)
        token = torch.where(bad, k.squeeze(1) * block + last, token)
    return token


class Generator(nn.Module):
    """The LSTM policy G_theta(y_t | y_1..y_{t-1})."""

    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        *,
        emb_dim: int = 32,
        hidden_dim: int = 32,
        start_token: int = 0,
        init_std: float = 0.1,
    ):
        super().__init__()
        self.vocab_size, self.seq_len, self.start_token = vocab_size, seq_len, start_token
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.lstm = nn.LSTM(emb_dim, hidden_dim)  # (T, B, *) layout
        self.out = nn.Linear(hidden_dim, vocab_size)
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0.0, init_std)

    def _inputs(self, seqs: torch.Tensor) -> torch.Tensor:
        """Teacher-forcing inputs: start token then y_1..y_{T-1}; (B, T) -> (T, B)."""
        start = torch.full_like(seqs[:, :1], self.start_token)
        return torch.cat([start, seqs[:, :-1]], dim=1).t()

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits of every position: (B, T) -> (B, T, V)."""
        hidden, _ = self.lstm(self.embedding(self._inputs(seqs)))  # (T, B, H)
        # transpose the small hidden states, not the (T, B, V) logits, so no large copy is made
        return self.out(hidden.transpose(0, 1))  # (B, T, V)

    def step(self, tokens: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """Read one token per row (B,); return the hidden output (B, H) and the new state."""
        hidden, state = self.lstm(self.embedding(tokens).unsqueeze(0), state)
        return hidden.squeeze(0), state

    def sample_next(self, hidden: torch.Tensor, temperature: float = 1.0, chunk: int = 256) -> torch.Tensor:
        """Draw the next token for each hidden state (B, H) -> (B,).

        Chunks of rows keep the (chunk, V) logits in cache through matmul, exp and sums.
        """
        return torch.cat([
            sample_from_logits(self.out(hidden[i : i + chunk]), temperature) for i in range(0, len(hidden), chunk)
        ]) if len(hidden) else torch.empty(0, dtype=torch.long, device=hidden.device)

    def log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        """log G(y_t | y_<t) of each token of ``seqs`` (B, T) -> (B, T)."""
        logp = F.log_softmax(self(seqs), dim=-1)
        return logp.gather(2, seqs.unsqueeze(2)).squeeze(2)

    def mle_loss(self, seqs: torch.Tensor) -> torch.Tensor:
        """Mean per-token negative log-likelihood of ``seqs`` (B, T): MLE's loss."""
        logits = self(seqs)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), seqs.reshape(-1))

    def pg_loss(self, seqs: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
        """REINFORCE loss -sum_t log G(y_t | Y_1:t-1) * Q_t over a batch (paper eq. 4).

        ``rewards`` (B, T): the reward at t belongs to token y_t. Summed over batch and time, as the
        authors' code does; Adam makes the scale immaterial.
        """
        assert rewards.shape == seqs.shape, f"rewards {tuple(rewards.shape)} != samples {tuple(seqs.shape)}"
        return -(self.log_probs(seqs) * rewards).sum()

    @torch.no_grad()
    def sample(self, num: int, temperature: float = 1.0, batch_size: int = 10_000) -> torch.Tensor:
        """Draw ``num`` sequences (num, T) of token ids from the policy."""
        was_training = self.training
        self.eval()
        device = self.out.weight.device
        out = []
        for start in range(0, num, batch_size):
            b = min(batch_size, num - start)
            tokens = torch.full((b,), self.start_token, dtype=torch.long, device=device)
            state, seq = None, []
            for _ in range(self.seq_len):
                hidden, state = self.step(tokens, state)
                tokens = self.sample_next(hidden, temperature)
                seq.append(tokens)
            out.append(torch.stack(seq, dim=1))
        self.train(was_training)
        return torch.cat(out) if out else torch.empty(0, self.seq_len, dtype=torch.long, device=device)

    @torch.no_grad()
    def nll(self, seqs: torch.Tensor, batch_size: int = 256) -> float:
        """Mean per-token NLL (nats) of ``seqs`` (B, T) under G: NLL-test on held-out oracle data."""
        was_training = self.training
        self.eval()
        device = self.out.weight.device
        total = 0.0
        for i in range(0, len(seqs), batch_size):
            batch = seqs[i : i + batch_size].to(device)
            total += self.mle_loss(batch).item() * batch.numel()
        self.train(was_training)
        return total / seqs.numel()
