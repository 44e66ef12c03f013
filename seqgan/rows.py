"""Table 1's rows: the models a run trains beside SeqGAN to compare with it, and their names.

A row is named in the config (``rows.names``, once ``baselines.rows``: 'random', 'mle', 'scheduled_sampling',
'pg_bleu'), in ``metrics.jsonl`` (its phase) and in Table 1 (its label). ``TABLE1_ROWS`` is the one
list of them all; every module that names a row reads it from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .generator import Generator
from .rollout import RolloutPolicy

# metrics phase -> Table 1's label, in the paper's order; 'pretrain' is the pre-trained G (the
# temperature study's control), 'adversarial' is SeqGAN itself
TABLE1_ROWS = {
    "random": "Random",
    "pretrain": "pretrained",
    "mle": "MLE",
    "scheduled_sampling": "SS",
    "pg_bleu": "PG-BLEU",
    "adversarial": "SeqGAN",
}
TRAINED_BESIDE = ("random", "mle", "scheduled_sampling", "pg_bleu")  # rows a run may train beside SeqGAN (config names)


def samples_file(phase: str) -> str:
    """The samples file a finished run writes for a row: samples.txt for SeqGAN, samples_NAME.txt for the others."""
    return "samples.txt" if phase == "adversarial" else f"samples_{phase}.txt"


@dataclass
class Row:
    """One of Table 1's other rows in a run: its generator, and what it trains with."""

    generator: Generator
    optimizer: torch.optim.Optimizer | None = None  # None: 'random', never trained
    rollout_policy: RolloutPolicy | None = None  # 'pg_bleu' only


def ss_sample_prob(schedule: str, progress: float, final_prob: float, k: float = 10.0) -> float:
    """Scheduled sampling's probability of feeding the model's own token, at ``progress`` in [0, 1].

    Bengio et al. (2015) decay the teacher-forcing probability eps by a linear, exponential or
    inverse-sigmoid schedule; here each is stretched over the rounds so that eps reaches
    1 - ``final_prob`` at progress 1, and the sampling probability is 1 - eps.
    """
    if final_prob <= 0.0:
        return 0.0
    eps_end = 1.0 - final_prob
    if schedule == "linear":
        eps = 1.0 - (1.0 - eps_end) * progress
    elif schedule == "exponential":  # eps_i = a^i with a^(last i) = eps_end
        eps = eps_end**progress
    elif schedule == "inverse_sigmoid":  # eps_i = k / (k + exp(i / k)), i running to where eps = eps_end
        i_end = k * math.log(max(k * (1.0 / eps_end - 1.0), 1.0))
        eps = k / (k + math.exp(progress * i_end / k))
    else:
        raise ValueError(f"unknown scheduled-sampling schedule {schedule!r}")
    return 1.0 - eps
