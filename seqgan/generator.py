"""The generator G_theta: an LSTM language model that is the policy of SeqGAN's RL agent.

Follows the SeqGAN authors' ``generator.py`` (LantaoYu/SeqGAN): embedding 32, hidden 32, token 0
as the start token, weights drawn N(0, 0.1). The state is the prefix y_1..y_{t-1}, the action the
next token. Besides the policy it gives MLE's loss, log-probabilities of given sequences and the
NLL-test metric.

Shapes: B batch, T sequence length, V vocabulary, E embedding, H hidden.
"""

from __future__ import annotations

import copy

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
    if temperature != 1.0:
        logits = logits / temperature
    # one fused pass (max, exp, sum, scale) instead of amax, subtract and exp: ~20% of a draw
    weights = torch.softmax(logits, dim=1)  # (B, V)
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
    # (branch-free, so sampling never waits on the device)
    bad = inner.gather(1, j).squeeze(1) == 0
    last = (inner > 0).float().cumsum(1).argmax(dim=1)
    return torch.where(bad, k.squeeze(1) * block + last, token)


class _LinearCrossEntropy(torch.autograd.Function):
    """sum_i w_i * CE(hidden_i @ W.T + b, target_i), with its gradient, chunk by chunk.

    MLE (w = 1/N) and the policy gradient (w = Q) both reduce to this weighted cross-entropy of the
    output layer. Done naively it writes (B*T, V) logits, log-probabilities and their gradients to
    memory several times over (25 MB each at the paper's sizes); here each chunk of rows goes
    through matmul, softmax and the gradient matmuls while it is in cache, and the gradients are
    computed in the forward pass. Verified against autograd in tests/test_generator.py.
    """

    @staticmethod
    def forward(ctx, hidden, weight, bias, target, row_weights, chunk):
        # hidden (N, H), weight (V, H), bias (V,), target (N,), row_weights (N,)
        grad_hidden = torch.empty_like(hidden)
        grad_weight = torch.zeros_like(weight)
        grad_bias = torch.zeros_like(bias)
        loss = hidden.new_zeros(())
        for i in range(0, hidden.shape[0], chunk):
            h, y, w = hidden[i : i + chunk], target[i : i + chunk], row_weights[i : i + chunk]
            logits = torch.addmm(bias, h, weight.t())  # (n, V)
            target_logit = logits.gather(1, y.unsqueeze(1)).squeeze(1)
            shift = logits.amax(dim=1, keepdim=True)
            probs = logits.sub_(shift).exp_()
            total = probs.sum(dim=1, keepdim=True)
            lse = total.log().squeeze(1) + shift.squeeze(1)
            loss += (w * (lse - target_logit)).sum()
            grad = probs.div_(total)  # softmax
            grad.scatter_add_(1, y.unsqueeze(1), -torch.ones_like(w).unsqueeze(1))
            grad.mul_(w.unsqueeze(1))  # (n, V): d loss / d logits
            grad_bias += grad.sum(dim=0)
            grad_weight.addmm_(grad.t(), h)
            torch.mm(grad, weight, out=grad_hidden[i : i + chunk])
        ctx.save_for_backward(grad_hidden, grad_weight, grad_bias)
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        grad_hidden, grad_weight, grad_bias = ctx.saved_tensors
        return grad_hidden * grad_loss, grad_weight * grad_loss, grad_bias * grad_loss, None, None, None


def sampling_chunk(device: torch.device) -> int:
    """Rows of logits computed at once when sampling: 256 on a CPU, where (256, V) stays in cache
    (``bench/micro.py sampler``); on an accelerator every chunk costs ~36 kernel launches, so
    32,768 rows (a 655 MB chunk of logits at V = 5,000) cover a sample of 10,000 or a g-step's
    19,456 rollout rows in one."""
    return 256 if device.type == "cpu" else 32_768


def loss_chunk(device: torch.device) -> int:
    """Rows of the output layer's loss (``_LinearCrossEntropy``) computed at once: 256 on a CPU, where
    (256, V) logits stay in cache; on an accelerator each chunk costs ~15 kernel launches (about 240
    a batch of 64 x 20 rows in 256-row chunks), so 16,384 rows, a whole batch of 64 sequences up to
    T = 256, go in one (a 328 MB chunk at V = 5,000). One chunk adds the weight gradient in one
    product instead of a sum over chunks: the rounding changes, not the result."""
    return 256 if device.type == "cpu" else 16_384


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
        single_bias: bool = True,
        eos_token: int | None = None,
        pad_token: int = 0,
    ):
        super().__init__()
        self.vocab_size, self.seq_len, self.start_token = vocab_size, seq_len, start_token
        # real data: a sequence ends at its end token, then padding that no loss counts and every
        # sampled sequence repeats; None (the synthetic task): every position is a token
        self.eos_token, self.pad_token = eos_token, pad_token
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.lstm = nn.LSTM(emb_dim, hidden_dim)  # (T, B, *) layout
        self.out = nn.Linear(hidden_dim, vocab_size)
        with torch.no_grad():
            for p in self.parameters():
                p.normal_(0.0, init_std)
        if single_bias:
            # The authors' LSTM cell has one bias per gate; nn.LSTM has two (b_ih + b_hh), and each
            # would get the full bias gradient and its own Adam step: twice the movement, counted
            # twice by the gradient clip. b_hh is held at zero and never trained, so b_ih is the bias.
            with torch.no_grad():
                self.lstm.bias_hh_l0.zero_()
            self.lstm.bias_hh_l0.requires_grad_(False)

    def copy(self) -> Generator:
        """A deep copy with weights of its own (the roll-out policy, the baseline rows). On CUDA the
        copy's LSTM weights are regathered into one buffer, which cuDNN needs to avoid a copy a call."""
        clone = copy.deepcopy(self)
        clone.lstm.flatten_parameters()
        return clone

    def _inputs(self, seqs: torch.Tensor) -> torch.Tensor:
        """Teacher-forcing inputs: start token then y_1..y_{T-1}; (B, T) -> (T, B)."""
        start = torch.full_like(seqs[:, :1], self.start_token)
        return torch.cat([start, seqs[:, :-1]], dim=1).t()

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits of every position: (B, T) -> (B, T, V)."""
        # the small hidden states are laid out (B, T) first, so the (B, T, V) logits need no copy
        return self.out(self._hidden(seqs)).view(*seqs.shape, self.vocab_size)

    def step(self, tokens: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """Read one token per row (B,); return the hidden output (B, H) and the new state."""
        hidden, state = self.lstm(self.embedding(tokens).unsqueeze(0), state)
        return hidden.squeeze(0), state

    def sample_next(self, hidden: torch.Tensor, temperature: float = 1.0, chunk: int | None = None) -> torch.Tensor:
        """Draw the next token for each hidden state (B, H) -> (B,).

        Chunks of rows (default ``sampling_chunk``) keep the (chunk, V) logits in a CPU's cache
        through matmul, exp and sums.
        """
        chunk = chunk or sampling_chunk(hidden.device)
        return (
            torch.cat(
                [sample_from_logits(self.out(hidden[i : i + chunk]), temperature) for i in range(0, len(hidden), chunk)]
            )
            if len(hidden)
            else torch.empty(0, dtype=torch.long, device=hidden.device)
        )

    def log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        """log G(y_t | y_<t) of each token of ``seqs`` (B, T) -> (B, T)."""
        logp = F.log_softmax(self(seqs), dim=-1)
        return logp.gather(2, seqs.unsqueeze(2)).squeeze(2)

    def _hidden(self, seqs: torch.Tensor) -> torch.Tensor:
        """Teacher-forced LSTM outputs, rows in (B, T) order: (B*T, H)."""
        hidden, _ = self.lstm(self.embedding(self._inputs(seqs)))  # (T, B, H)
        return hidden.transpose(0, 1).reshape(-1, hidden.shape[-1])

    def weighted_nll(self, seqs: torch.Tensor, weights: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """sum_{b,t} weights[b, t] * -log G(y_t | y_<t) for ``seqs`` and ``weights`` (B, T).

        The fused path when gradients are wanted (see ``_LinearCrossEntropy``), ``chunk`` rows at a
        time (default ``loss_chunk``: cache-sized on a CPU, the whole batch on an accelerator).
        """
        hidden = self._hidden(seqs)
        chunk = chunk or loss_chunk(hidden.device)
        targets, row_weights = seqs.reshape(-1), weights.reshape(-1).to(hidden.dtype)
        if not torch.is_grad_enabled():
            logp = F.log_softmax(self.out(hidden), dim=-1).gather(1, targets.unsqueeze(1)).squeeze(1)
            return -(row_weights * logp).sum()
        return _LinearCrossEntropy.apply(hidden, self.out.weight, self.out.bias, targets, row_weights.detach(), chunk)

    def token_mask(self, seqs: torch.Tensor) -> torch.Tensor:
        """Which tokens of ``seqs`` (B, T) count: up to and including the first end token (float)."""
        if self.eos_token is None:
            return torch.ones(seqs.shape, device=seqs.device)
        is_end = (seqs == self.eos_token).long()
        return ((is_end.cumsum(dim=1) - is_end) == 0).float()

    def pad_after_end(self, seqs: torch.Tensor) -> torch.Tensor:
        """``seqs`` (B, T) with every token after the first end token replaced by padding."""
        if self.eos_token is None:
            return seqs
        return seqs.masked_fill(self.token_mask(seqs) == 0, self.pad_token)

    def mle_loss(self, seqs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Mean per-token negative log-likelihood of ``seqs`` (B, T): MLE's loss.

        ``mask`` (B, T) marks the tokens that count; by default ``token_mask`` (all of them on the
        synthetic task, none of the padding after an end token on real data).
        """
        weights = self.token_mask(seqs) if mask is None else mask.to(torch.float32)
        return self.weighted_nll(seqs, weights) / weights.sum().clamp(min=1.0)

    def scheduled_sampling_loss(
        self,
        seqs: torch.Tensor,
        sample_prob: float,
        mask: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """MLE's loss under scheduled sampling (Bengio et al. 2015).

        Step by step, the input that precedes y_t (t >= 2) is, with probability ``sample_prob``, a
        token drawn from the model's own prediction at the previous step instead of y_{t-1}; the
        targets stay the real tokens. No gradient flows through the draw (as in the original).
        Returns the loss and which inputs were replaced, (B, T-1): column t-1 is y_t's input slot.
        """
        if not 0.0 <= sample_prob <= 1.0:
            raise ValueError(f"sample_prob must be in [0, 1], got {sample_prob}")
        b, t_len = seqs.shape
        tokens = torch.full((b,), self.start_token, dtype=torch.long, device=seqs.device)
        state, hiddens, replaced = None, [], []
        for t in range(t_len):
            hidden, state = self.step(tokens, state)  # (B, H): predicts y_t+1
            hiddens.append(hidden)
            if t == t_len - 1:
                break
            tokens = seqs[:, t]
            if sample_prob > 0.0:
                coin = torch.rand(b, device=seqs.device, generator=generator) < sample_prob
                with torch.no_grad():
                    own = sample_from_logits(self.out(hidden), generator=generator)
                tokens = torch.where(coin, own, tokens)
            else:
                coin = torch.zeros(b, dtype=torch.bool, device=seqs.device)
            replaced.append(coin)
        hidden = torch.stack(hiddens, dim=1).reshape(b * t_len, -1)  # rows in (B, T) order
        weights = self.token_mask(seqs) if mask is None else mask.to(torch.float32)
        loss = _LinearCrossEntropy.apply(
            hidden,
            self.out.weight,
            self.out.bias,
            seqs.reshape(-1),
            weights.reshape(-1),
            loss_chunk(hidden.device),
        ) / weights.sum().clamp(min=1.0)
        return loss, torch.stack(replaced, dim=1) if replaced else torch.zeros(b, 0, dtype=torch.bool)

    def pg_loss(self, seqs: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
        """REINFORCE loss -sum_t log G(y_t | Y_1:t-1) * Q_t over a batch (paper eq. 4).

        ``rewards`` (B, T): the reward at t belongs to token y_t. Summed over batch and time, as the
        authors' code does; Adam makes the scale immaterial.
        """
        assert rewards.shape == seqs.shape, f"rewards {tuple(rewards.shape)} != samples {tuple(seqs.shape)}"
        return self.weighted_nll(seqs, rewards * self.token_mask(seqs))  # padding is no action

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
            out.append(self.pad_after_end(torch.stack(seq, dim=1)))
        self.train(was_training)
        return torch.cat(out) if out else torch.empty(0, self.seq_len, dtype=torch.long, device=device)

    @torch.no_grad()
    def nll(
        self,
        seqs: torch.Tensor,
        batch_size: int = 256,
        temperature: float = 1.0,
        mask: torch.Tensor | None = None,
    ) -> float:
        """Mean per-token NLL (nats) of ``seqs`` (B, T) under G: NLL-test on held-out data.

        ``temperature`` scores under softmax(logits / temperature), the distribution that
        ``sample(temperature=...)`` draws from; ``mask`` (B, T) (default ``token_mask``) leaves out padding.
        """
        was_training = self.training
        self.eval()
        device = self.out.weight.device
        # batch sums added in float64 on the device and read once: no host sync a batch
        total = torch.zeros((), dtype=torch.float64, device=device)
        count = torch.zeros((), dtype=torch.float64, device=device)
        for i in range(0, len(seqs), batch_size):
            batch = seqs[i : i + batch_size].to(device)
            logits = self.out(self._hidden(batch)) / temperature  # (b*T, V)
            token_nll = -F.log_softmax(logits, dim=-1).gather(1, batch.reshape(-1, 1)).squeeze(1)
            weights = self.token_mask(batch) if mask is None else mask[i : i + batch_size].to(device)
            weights = weights.reshape(-1).to(token_nll.dtype)
            total += (token_nll * weights).sum()
            count += weights.sum()
        self.train(was_training)
        total, count = torch.stack([total, count]).tolist()  # one host read
        return total / max(count, 1.0)
