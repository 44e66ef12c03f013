"""The public implementations' hot loops, rewritten here so the bench can time them side by side.

The performance issue quotes public SeqGAN code's times from another machine. To compare on the
machine at hand, these functions follow the *structure* of that code (the authors' TensorFlow
``sequence_gan.py``, ``rollout.py`` and ``discriminator.py``, and the PyTorch ports that copy it),
written in plain PyTorch on seqgan's own models:

- sampling draws every token with ``torch.multinomial`` on the softmax (``tf.multinomial``);
- the rollout loops over the N rollouts and the T-1 prefix lengths, each iteration re-reading the
  prefix through the LSTM, sampling the rest token by token for the batch, and scoring the batch
  with D (the authors' ``get_reward``);
- D runs one ``conv2d`` per filter width over a (B, 1, T, E) image of embeddings (their layout);
- MLE computes the full (B, T, V) logits and a cross-entropy;
- optimisers are the default ``torch.optim.Adam`` (one small kernel per weight tensor).

Same models, same sizes, same arithmetic (up to the order of floating-point sums): only the code
paths differ. Nothing here is used by the library.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqgan.discriminator import Discriminator
from seqgan.generator import Generator


class PublicDiscriminator(nn.Module):
    """The authors' D layout: conv2d with (w, E) kernels over (B, 1, T, E), on seqgan's weights."""

    def __init__(self, d: Discriminator):
        super().__init__()
        self.embedding, self.highway, self.dropout, self.out = d.embedding, d.highway, d.dropout, d.out
        self.l2_reg = d.l2_reg
        self.convs = nn.ModuleList()
        for conv in d.convs:  # the same weights, reshaped to the 2-D kernel layout (n, 1, w, E)
            n, e, w = conv.weight.shape
            c2 = nn.Conv2d(1, n, (w, e))
            with torch.no_grad():
                c2.weight.copy_(conv.weight.permute(0, 2, 1).unsqueeze(1))
                c2.bias.copy_(conv.bias)
            self.convs.append(c2)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        x = self.embedding(seqs).unsqueeze(1)  # (B, 1, T, E)
        pooled = [F.relu(conv(x)).squeeze(3).max(dim=2).values for conv in self.convs]  # (B, n) each
        return self.out(self.dropout(self.highway(torch.cat(pooled, dim=1))))

    def loss(self, seqs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        l2 = 0.5 * (self.out.weight.square().sum() + self.out.bias.square().sum())
        return F.cross_entropy(self(seqs), labels) + self.l2_reg * l2

    @torch.no_grad()
    def prob_real(self, seqs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self(seqs), dim=1)[:, 1]


def default_adam(params, lr: float) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr)


def d_epoch(d: PublicDiscriminator, opt, real: torch.Tensor, fake: torch.Tensor, batch_size: int) -> None:
    """One epoch of D over real + fake, shuffled, in batches."""
    d.train()
    seqs = torch.cat([real, fake])
    labels = torch.cat([torch.ones(len(real), dtype=torch.long), torch.zeros(len(fake), dtype=torch.long)])
    order = torch.randperm(len(seqs))
    for i in range(0, len(seqs), batch_size):
        mb = order[i : i + batch_size]
        loss = d.loss(seqs[mb], labels[mb])
        opt.zero_grad()
        loss.backward()
        opt.step()


@torch.no_grad()
def generate(g: Generator, num: int, prefix: torch.Tensor | None = None) -> torch.Tensor:
    """Sample ``num`` sequences with multinomial draws; a ``prefix`` (num, t) is read, not sampled."""
    g.eval()
    tokens = torch.full((num,), g.start_token, dtype=torch.long)
    state, out = None, []
    for i in range(g.seq_len):
        hidden, state = g.step(tokens, state)
        if prefix is not None and i < prefix.shape[1]:
            tokens = prefix[:, i]
        else:
            tokens = torch.multinomial(torch.softmax(g.out(hidden), dim=-1), 1).squeeze(1)
        out.append(tokens)
    return torch.stack(out, dim=1)


def sample(g: Generator, num: int, batch_size: int) -> torch.Tensor:
    return torch.cat([generate(g, min(batch_size, num - i)) for i in range(0, num, batch_size)])


@torch.no_grad()
def rewards(rollout: Generator, d: PublicDiscriminator, samples: torch.Tensor, rollout_num: int) -> torch.Tensor:
    """Q (B, T) the authors' way: for each rollout, for each prefix length, complete and score the batch."""
    d.eval()
    b, t_len = samples.shape
    q = torch.zeros(b, t_len)
    for _ in range(rollout_num):
        for given in range(1, t_len):
            q[:, given - 1] += d.prob_real(generate(rollout, b, samples[:, :given]))
        q[:, t_len - 1] += d.prob_real(samples)
    return q / rollout_num


def g_step(
    g: Generator, opt, rollout: Generator, d: PublicDiscriminator, batch_size: int, rollout_num: int, grad_clip: float
) -> None:
    """One adversarial generator step: sample, reward by rollouts, REINFORCE on full logits."""
    samples = generate(g, batch_size)
    q = rewards(rollout, d, samples, rollout_num)
    g.train()
    logp = F.log_softmax(g(samples), dim=-1).gather(2, samples.unsqueeze(2)).squeeze(2)  # (B, T)
    loss = -(logp * q).sum() / batch_size
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(g.parameters(), grad_clip)
    opt.step()


def mle_epoch(g: Generator, opt, data: torch.Tensor, batch_size: int, grad_clip: float) -> None:
    g.train()
    for i in range(0, len(data), batch_size):
        seqs = data[i : i + batch_size]
        loss = F.cross_entropy(g(seqs).reshape(-1, g.vocab_size), seqs.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(g.parameters(), grad_clip)
        opt.step()
