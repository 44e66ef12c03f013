"""Monte Carlo rollouts: the action values Q that reward the generator (paper Section 3, eq. 4-5).

For a sample Y_1:T and t < T, Q(Y_1:t-1, y_t) is the mean of D over N completions of the prefix
Y_1:t drawn by the roll-out policy G_beta; at t = T it is D(Y_1:T). The roll-out policy is updated
after each round by beta <- r * beta + (1 - r) * theta. The paper's Algorithm 1 sets beta <- theta
(r = 0, the default), and so does the authors' code in effect: their ``rollout.py`` reads the
generator's variables through ``tf.identity``, so its roll-out network always equals the current
generator, and the r = 0.8 delayed update that its ``update_params`` writes builds graph nodes that
nothing runs. r = 0.8 here runs that intended update.

Everything is batched: one teacher-forced pass gives the state after every prefix, the N x (T-1)
completions of the whole batch are sampled together, and D scores them in large batches (on an
accelerator all of a g-step's rows in one, ``score_batch``).
Rows are ordered by prefix length, so at each step the rows that still need a token are one
contiguous slice and logits are computed for those rows only: work grows as N * T^2 / 2,
sequential depth as T.

Shapes: B batch, T length, N rollouts (``rollout_num``), H hidden, R = (T-1) * N * B completions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .bleu import BleuReference
from .discriminator import Discriminator
from .generator import Generator


class RolloutPolicy(nn.Module):
    """G_beta: a delayed copy of the generator's weights."""

    def __init__(self, generator: Generator, update_rate: float):
        super().__init__()
        if not 0.0 <= update_rate <= 1.0:
            raise ValueError(f"rollout update_rate must be in [0, 1], got {update_rate}")
        self.policy = generator.copy().requires_grad_(False)
        self.update_rate = update_rate

    @torch.no_grad()
    def update(self, generator: Generator) -> None:
        """beta <- r * beta + (1 - r) * theta, over every weight."""
        for beta, theta in zip(self.policy.parameters(), generator.parameters(), strict=True):
            beta.mul_(self.update_rate).add_(theta.detach(), alpha=1.0 - self.update_rate)

    @torch.no_grad()
    def complete(self, samples: torch.Tensor, rollout_num: int) -> torch.Tensor:
        """N Monte Carlo completions of every proper prefix of every sample.

        Args:
            samples: (B, T) token ids.
            rollout_num: N.
        Returns:
            (T-1, N, B, T): entry [t-1, n, b] keeps samples[b, :t] and completes it by sampling.
        """
        g = self.policy
        g.eval()
        b, t_len = samples.shape
        n = rollout_num
        # states after reading y_1..y_t for t = 1..T-1, from one teacher-forced pass
        tokens = torch.full((b,), g.start_token, dtype=torch.long, device=samples.device)
        _, state = g.step(tokens, None)
        hs, cs = [], []
        for t in range(1, t_len):
            _, state = g.step(samples[:, t - 1], state)
            hs.append(state[0][0])
            cs.append(state[1][0])
        rows = (t_len - 1) * n * b
        h = torch.stack(hs).unsqueeze(1).expand(-1, n, -1, -1).reshape(1, rows, -1)  # (1, R, H)
        c = torch.stack(cs).unsqueeze(1).expand(-1, n, -1, -1).reshape(1, rows, -1)
        completions = samples.unsqueeze(0).expand(rows // b, -1, -1).reshape(rows, t_len).clone()  # (R, T)
        rows_per_prefix = n * b
        for s in range(1, t_len):  # fill column s (token y_s+1) of rows whose prefix length is <= s
            active = s * rows_per_prefix
            tokens = g.sample_next(h[0, :active])
            completions[:active, s] = tokens
            if s < t_len - 1:
                _, (h_new, c_new) = g.step(tokens, (h[:, :active], c[:, :active]))
                h[:, :active] = h_new
                c[:, :active] = c_new
        return g.pad_after_end(completions).view(t_len - 1, n, b, t_len)


Scorer = Callable[[torch.Tensor], torch.Tensor]  # (M, T) token ids -> (M,) rewards in [0, 1]


def score_batch(device: torch.device, batch_size: int, seq_len: int) -> int:
    """Sequences D scores at once on ``device``: ``batch_size`` (``train.score_batch_size``) on a CPU,
    where larger batches fall out of cache; on an accelerator, where each batch costs a forward
    pass of launches, up to 2**19 tokens (26,214 rows at T = 20): a g-step's 19,520 rows
    (64 x 19 prefixes x 16 rollouts, and the 64 samples) are one batch. D scores each row alone,
    so only the batching changes, not the scores."""
    return batch_size if device.type == "cpu" else max(batch_size, 2**19 // max(seq_len, 1))


def discriminator_scorer(discriminator: Discriminator, *, batch_size: int = 512, bf16: bool = False) -> Scorer:
    """SeqGAN's reward: D's probability that a whole sequence is real, in batches of ``score_batch``."""
    weight = next(discriminator.parameters(), None)  # a stand-in that scores like D may have none

    def score(seqs: torch.Tensor) -> torch.Tensor:
        device = seqs.device if weight is None else weight.device
        return discriminator.prob_real(seqs, batch_size=score_batch(device, batch_size, seqs.shape[1]), bf16=bf16)

    return score


class BleuScorer:
    """PG-BLEU's reward: sentence BLEU-n of each whole sequence against the training data.

    The references' n-gram tables are built once; identical sequences (common among the N
    completions of long prefixes) are scored once per call.
    """

    def __init__(self, references: torch.Tensor, max_n: int = 4):
        self.reference = BleuReference([tuple(r) for r in references.tolist()], max_n=max_n)
        self.max_n = max_n

    def __call__(self, seqs: torch.Tensor) -> torch.Tensor:
        cache: dict[tuple, float] = {}
        scores = []
        for row in seqs.tolist():
            key = tuple(row)
            if key not in cache:
                cache[key] = self.reference.score(key, self.max_n)
            scores.append(cache[key])
        return torch.tensor(scores, dtype=torch.float32, device=seqs.device)


@torch.no_grad()
def rewards_from_completions(
    scorer: Discriminator | Scorer,
    samples: torch.Tensor,
    completions: torch.Tensor,
    *,
    batch_size: int = 512,
    bf16: bool = False,
) -> torch.Tensor:
    """Q values (B, T) from fixed completions (T-1, N, B, T); reward [b, t-1] belongs to y_t.

    ``scorer`` is D (scored in batches of ``score_batch``: ``batch_size`` on a CPU) or any function of
    whole sequences. The completions and the samples go to the scorer in one call, R + B rows.
    """
    if hasattr(scorer, "prob_real"):  # D, or anything that scores like it
        scorer = discriminator_scorer(scorer, batch_size=batch_size, bf16=bf16)
    t_minus_1, n, b, t_len = completions.shape
    assert samples.shape == (b, t_len) and t_minus_1 == t_len - 1, (tuple(samples.shape), tuple(completions.shape))
    scores = scorer(torch.cat([completions.reshape(-1, t_len), samples]))  # (R + B,)
    q_prefix = scores[:-b].view(t_minus_1, n, b).mean(dim=1).t()  # (B, T-1)
    q_last = scores[-b:].unsqueeze(1)  # (B, 1)
    return torch.cat([q_prefix, q_last], dim=1)


def get_rewards(
    rollout_policy: RolloutPolicy,
    scorer: Discriminator | Scorer,
    samples: torch.Tensor,
    rollout_num: int,
    *,
    batch_size: int = 512,
    bf16: bool = False,
) -> torch.Tensor:
    """Rewards (B, T) for generated ``samples`` (B, T): Monte Carlo Q values under D (or a scorer)."""
    completions = rollout_policy.complete(samples, rollout_num)
    return rewards_from_completions(scorer, samples, completions, batch_size=batch_size, bf16=bf16)
