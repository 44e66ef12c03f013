"""The KL-regularised remedy (issue 32): a policy gradient toward the pre-trained generator tilted by
D, and discriminator-weighted resampling, its training-free control.

SeqGAN maximises E_theta[r(x)] with nothing that keeps G near what MLE taught it; its optimum is a
point mass on what D likes best. The RL fine-tuning of language models that descends from it adds
a KL penalty to the pre-trained policy p_0 (Jaques et al. 2017; Ziegler et al. 2019, "Fine-Tuning
Language Models from Human Preferences"):

    J(theta) = E_{x ~ p_theta}[ r(x) ] - beta KL(p_theta || p_0),    optimum  p*(x) ∝ p_0(x) exp(r(x) / beta)

With r = log D / (1 - D) and beta = 1, and D optimal between the data and p_0, D / (1 - D) =
p_data / p_0, so p* = p_data (the identity of MaliGAN, Che et al. 2017, and of discriminator
rejection sampling, Azadi et al. 2019).

* ``kl_returns``: the per-token returns of J, the reward-to-go of Ziegler et al.: the sequence's
  reward (or its Monte Carlo Q at each prefix) minus beta times the sum, from t on, of the
  per-token log-ratio log p_old(y_s | y_<s) - log p_0(y_s | y_<s) of the sampling policy.
* ``ppo_loss``: PPO's clipped surrogate (Schulman et al. 2017, eq. 7), summed over the batch's tokens
  as SeqGAN's g-loss is; at the first epoch on a batch (ratio 1) its gradient is REINFORCE's.
* ``resample``: sampling-importance-resampling of M draws from p_0 with weights (D / (1 - D))^(1 / beta)
  = exp(log-odds / beta): as M grows, a draw is distributed as p_0 exp(r / beta) / Z with r = log-odds,
  the optimum above, with no training at all.

Shapes: B batch, T length, M pool of draws.
"""

from __future__ import annotations

import torch

from .discriminator import Discriminator


def reward_to_go(per_token: torch.Tensor) -> torch.Tensor:
    """sum_{s >= t} per_token[:, s] for every t: (B, T) -> (B, T)."""
    return per_token.flip(1).cumsum(1).flip(1)


def kl_returns(
    rewards: torch.Tensor, logp_old: torch.Tensor, logp_ref: torch.Tensor, beta: float, mask: torch.Tensor
) -> torch.Tensor:
    """Returns of the KL-regularised objective for each token (B, T).

    Args:
        rewards: (B, T) Q of each token under r (Monte Carlo over completions, or r(x) of the whole
            sequence in every column when there are no roll-outs).
        logp_old: (B, T) log p of each token under the policy that sampled the batch.
        logp_ref: (B, T) log p_0 of each token under the frozen pre-trained generator.
        beta: the KL weight.
        mask: (B, T) 1 for tokens that count (padding after an end token is no action).
    Returns:
        (B, T): rewards[:, t] - beta * sum_{s >= t} (logp_old - logp_ref)[:, s] over counted tokens.
    """
    log_ratio = (logp_old - logp_ref) * mask
    return (rewards - beta * reward_to_go(log_ratio)) * mask


def ppo_loss(
    logp_new: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, clip: float
) -> torch.Tensor:
    """-sum over counted tokens of min(ratio A, clip(ratio, 1 - clip, 1 + clip) A), ratio = p_new / p_old."""
    ratio = torch.exp(logp_new - logp_old.detach())
    advantages = advantages.detach()
    surrogate = torch.minimum(ratio * advantages, ratio.clamp(1.0 - clip, 1.0 + clip) * advantages)
    return -(surrogate * mask).sum()


def tilted_distribution(logp_ref: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """p_0 exp(r / beta) / Z over an enumerated set of sequences: log p_0 (N,) and r (N,) -> probabilities (N,)."""
    return torch.softmax(logp_ref.double() + rewards.double() / beta, dim=0)


def resample(log_odds: torch.Tensor, beta: float, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Indices (num,) into a pool of M draws from p_0, drawn with replacement with weights
    (D / (1 - D))^(1 / beta) = exp(log_odds / beta) (log_odds (M,))."""
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    weights = torch.softmax(log_odds.double() / beta, dim=0)
    return torch.multinomial(weights, num, replacement=True, generator=generator)


def log_odds_scorer(discriminator: Discriminator, batch_size: int = 512):
    """The 'logit' reward of whole sequences (M, T) -> (M,): log D / (1 - D), D's two logits' difference,
    in eval mode and in batches of ``batch_size``."""

    @torch.no_grad()
    def score(seqs: torch.Tensor) -> torch.Tensor:
        was_training = discriminator.training
        discriminator.eval()
        device = next(discriminator.parameters()).device
        out = []
        for i in range(0, len(seqs), batch_size):
            logits = discriminator(seqs[i : i + batch_size].to(device)).float()  # (b, 2), class 1 real
            out.append(logits[:, 1] - logits[:, 0])
        discriminator.train(was_training)
        return torch.cat(out) if out else torch.empty(0, device=device)

    return score


@torch.no_grad()
def resampled_sample(generator, scorer, num: int, beta: float, pool_size: int, temperature: float = 1.0):
    """``num`` sequences (num, T) by discriminator-weighted resampling of ``pool_size`` draws of ``generator``,
    and log Z-hat = log mean exp(r / beta) over the pool, the normaliser of p_0 exp(r / beta) that
    ``tilted_nll`` needs. ``scorer`` gives r of whole sequences (``log_odds_scorer`` for (D / (1 - D))^(1 / beta))."""
    if pool_size < num:
        raise ValueError(f"the pool ({pool_size}) must hold at least the {num} sequences drawn from it")
    pool = generator.sample(pool_size, temperature=temperature)  # (M, T)
    rewards = scorer(pool).double()  # (M,)
    log_z = float(torch.logsumexp(rewards / beta, dim=0) - torch.log(torch.tensor(float(pool_size))))
    return pool[resample(rewards, beta, num).to(pool.device)], log_z


@torch.no_grad()
def tilted_nll(generator, scorer, seqs: torch.Tensor, beta: float, log_z: float) -> float:
    """Mean per-token NLL of ``seqs`` (N, T) under p_0 exp(r / beta) / Z-hat, the distribution resampling draws
    from: -(log p_0(x) + r(x) / beta - log Z-hat) summed over sequences, over the tokens counted."""
    total, tokens = 0.0, 0.0
    for i in range(0, len(seqs), 256):
        batch = seqs[i : i + 256]
        mask = generator.token_mask(batch)
        log_p0 = (generator.log_probs(batch) * mask).sum(1).double()  # (b,)
        total += float(-(log_p0 + scorer(batch).double() / beta - log_z).sum())
        tokens += float(mask.sum())
    return total / max(tokens, 1.0)
