"""Literal, looped versions of the paper's equations: the references the fast code is tested against.

``rewards_looped`` is eq. (4)-(5) of the paper written as the authors' ``rollout.py`` loops it:
for every sample, every prefix length t < T and every rollout n, complete the prefix one token at
a time and ask D for one score; at t = T the reward is D of the sample itself. It shares nothing
with ``seqgan.rollout`` but the models, and samples with ``torch.multinomial``, a different
sampler from the library's.
"""

from __future__ import annotations

import torch

from seqgan.discriminator import Discriminator
from seqgan.generator import Generator


@torch.no_grad()
def complete_one(policy: Generator, prefix: torch.Tensor) -> torch.Tensor:
    """Complete one prefix (t,) to length T by sampling from ``policy`` token by token."""
    tokens = torch.tensor([policy.start_token])
    _, state = policy.step(tokens, None)
    out = prefix.tolist()
    for tok in out:
        hidden, state = policy.step(torch.tensor([tok]), state)
    while len(out) < policy.seq_len:
        probs = torch.softmax(policy.out(hidden), dim=-1)
        tok = int(torch.multinomial(probs, 1).item())
        out.append(tok)
        hidden, state = policy.step(torch.tensor([tok]), state)
    return torch.tensor(out)


@torch.no_grad()
def rewards_looped(
    policy: Generator,
    discriminator: Discriminator,
    samples: torch.Tensor,
    rollout_num: int,
    completions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Q (B, T) by the paper's loops; ``completions`` (T-1, N, B, T), if given, replaces sampling."""
    policy.eval()
    discriminator.eval()
    b_size, t_len = samples.shape
    rewards = torch.zeros(b_size, t_len)
    for b in range(b_size):
        for t in range(1, t_len + 1):
            if t == t_len:
                rewards[b, t - 1] = discriminator.prob_real(samples[b : b + 1])[0]
                continue
            total = 0.0
            for n in range(rollout_num):
                if completions is not None:
                    y = completions[t - 1, n, b]
                else:
                    y = complete_one(policy, samples[b, :t])
                total += discriminator.prob_real(y.unsqueeze(0))[0].item()
            rewards[b, t - 1] = total / rollout_num
    return rewards


def discriminator_loss_d90164a(d: Discriminator, seqs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``Discriminator.loss`` as commit d90164a computed it, frozen: the fp32 path must stay equal to
    it bit for bit, and the bench times the bf16 training step before and after against it."""
    x = d.embedding(seqs)  # (B, T, E)
    b = x.shape[0]
    pooled = []
    for conv in d.convs:
        n, e, w = conv.weight.shape
        windows = x.unfold(1, w, 1).reshape(b, -1, e * w)
        z = torch.addmm(conv.bias, windows.reshape(-1, e * w), conv.weight.reshape(n, e * w).t())
        pooled.append(torch.relu(z.view(b, -1, n)).amax(dim=1))
    logits = d.out(d.dropout(d.highway(torch.cat(pooled, dim=1)))).float()
    l2 = 0.5 * (d.out.weight.square().sum() + d.out.bias.square().sum())
    return torch.nn.functional.cross_entropy(logits, labels) + d.l2_reg * l2
