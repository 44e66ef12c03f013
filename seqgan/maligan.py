"""MaliGAN's rewards (Che et al. 2017, "Maximum-Likelihood Augmented Discrete Generative
Adversarial Networks"), in two forms, each a (B, T) reward for ``Generator.pg_loss``.

* ``maligan_rewards``, the paper's basic MaliGAN (its Algorithm 1): with an optimal D,
  r_D(x) = D(x) / (1 - D(x)) = p_data(x) / p_theta(x), so weighting each sample's log-likelihood
  gradient by r_D normalised over the batch estimates the gradient of KL(p_data || p_theta), MLE's
  own objective, from the generator's samples. The gradient is
  sum_i (r_D(x_i) / sum_j r_D(x_j) - b) grad log p_theta(x_i), with the baseline b = 1 / B, the
  normalised weights' mean. Every token of a sequence gets its sequence's weight. The ratio is
  computed from D's two logits, r = exp(s_real - s_fake), so the normalised weights are a softmax
  over the batch and stay finite where D is sure.
* ``maligan_basic_rewards``, Texygen's ``models/maligan_basic/MaliganReward.py``, the form its
  published MaliGAN column comes from: D itself (not D / (1 - D)), normalised over the batch and
  its mean subtracted, the same for every token, with no roll-outs. (Texygen scores the batch
  ``rollout_num`` times and averages; its D has no dropout at scoring, so the mean is D.)

Shapes: B batch, T sequence length.
"""

from __future__ import annotations

import torch

from .discriminator import Discriminator


@torch.no_grad()
def log_odds(discriminator: Discriminator, samples: torch.Tensor) -> torch.Tensor:
    """log D / (1 - D) of each sequence (B, T) -> (B,): the difference of D's two logits, in eval mode."""
    was_training = discriminator.training
    discriminator.eval()
    logits = discriminator(samples).float()  # (B, 2), class 1 real
    discriminator.train(was_training)
    return logits[:, 1] - logits[:, 0]


def maligan_rewards(log_odds_real: torch.Tensor, seq_len: int) -> torch.Tensor:
    """The paper's weights: r_i / sum_j r_j - 1/B with r = D / (1 - D) = exp(log-odds); (B,) -> (B, T)."""
    b = len(log_odds_real)
    weights = torch.softmax(log_odds_real.double(), dim=0) - 1.0 / b  # normalised ratio minus its mean
    return weights.float().unsqueeze(1).expand(b, seq_len)


def maligan_basic_rewards(prob_real: torch.Tensor, seq_len: int) -> torch.Tensor:
    """Texygen's maligan_basic reward: D / sum(D) minus its batch mean, every token alike; (B,) -> (B, T)."""
    b = len(prob_real)
    normalised = prob_real.double() / prob_real.double().sum()
    return (normalised - normalised.mean()).float().unsqueeze(1).expand(b, seq_len)
