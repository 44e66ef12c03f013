"""Baselines and a TD(lambda) critic for SeqGAN's policy gradient (remedies the paper does not have).

* ``leave_one_out_mean``: per position t, the mean of Q_t over the other samples of the batch, a
  baseline that depends on none of the sample's own tokens, so the gradient stays unbiased.
* ``ValueBaseline``: a learned V(Y_1:t-1), trained by squared error toward the same Q estimates the
  gradient uses; the advantage is A_t = Q_t - V(Y_1:t-1) (Williams 1992; Sutton & Barto 2018,
  Section 13.4, "REINFORCE with baseline").
* ``TDCritic``: V(Y_1:t) trained by TD(lambda) on the generated batches, whose Q(Y_1:t-1, y_t) is
  read at the prefix Y_1:t, so a g-step needs D only on the B finished samples. The targets are
  lambda-returns (Sutton & Barto 2018, Section 12.1, eq. 12.2-12.3, in their recursive form
  G^lambda_t = R_t+1 + gamma ((1 - lambda) v(S_t+1) + lambda G^lambda_t+1)), with gamma = 1, no
  intermediate reward and the terminal reward D(Y_1:T). As in Bahdanau et al. 2017 ("An
  Actor-Critic Algorithm for Sequence Prediction", ICLR), the critic is a network of its own,
  bootstraps from a delayed target network (their Algorithm 1, tau-averaged) and is warmed up
  before the actor starts (their pre-training of the critic with the actor fixed).
  D changes every round, so the critic keeps up three ways, each a config key: ``critic_warmup``
  batches under the pre-trained G and D before the first g-step, ``critic_updates`` updates on
  every g-step's batch (the terminal rewards come from the current D), and a target network moving
  at rate ``critic_target_rate``.

Both learned values are a small LSTM of their own (``PrefixValue``), not a head on G's LSTM: the
value loss then has no path into G at all, and the critic does not read features that the
policy gradient keeps moving under it. Its input is token ids only (detached by construction).

Shapes: B batch, T length, H hidden, K completions (``td_completions``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from .rollout import RolloutPolicy

Scorer = Callable[[torch.Tensor], torch.Tensor]  # (M, T) token ids -> (M,) rewards in [0, 1]


class PrefixValue(nn.Module):
    """V of every prefix of a batch: embedding, one LSTM layer, a linear output and a sigmoid (D's rewards
    lie in [0, 1])."""

    def __init__(self, vocab_size: int, hidden_dim: int, start_token: int):
        super().__init__()
        self.start_token = start_token
        self.embedding = nn.Embedding(vocab_size, hidden_dim)
        self.lstm = nn.LSTM(hidden_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, 1)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T+1): column t is V(Y_1:t), from the empty prefix to the whole sequence."""
        start = torch.full_like(seqs[:, :1], self.start_token)
        hidden, _ = self.lstm(self.embedding(torch.cat([start, seqs], dim=1)))  # (B, T+1, H)
        return torch.sigmoid(self.out(hidden).squeeze(2))

    @torch.no_grad()
    def calibrate(self, mean_reward: float) -> None:
        """Make V the constant ``mean_reward`` (a zero output layer and its bias at logit(mean)).

        A fresh sigmoid output reads 0.5, while D's rewards in SeqGAN fall to a few hundredths as D
        overfits; a value that starts there and learns at ~1e-3 a step subtracts a large wrong
        constant for hundreds of steps, which adds variance instead of removing it (an earlier
        measurement had 20x the variance of no baseline). Starting from the batch mean, V starts
        as the mean baseline.
        """
        p = min(max(mean_reward, 1e-4), 1.0 - 1e-4)
        self.out.weight.zero_()
        self.out.bias.fill_(torch.logit(torch.tensor(p)).item())


# -- baselines -----------------------------------------------------------------------------------------


def leave_one_out_mean(rewards: torch.Tensor) -> torch.Tensor:
    """Per position, the mean of the other rows: (B, T) -> (B, T); needs B >= 2."""
    b = rewards.shape[0]
    assert b >= 2, f"a leave-one-out mean needs at least 2 samples, got {b}"
    return (rewards.sum(dim=0, keepdim=True) - rewards) / (b - 1)


class MeanBaseline:
    """A_t = Q_t - (leave-one-out mean of Q_t over the batch)."""

    def __call__(self, samples: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
        return rewards - leave_one_out_mean(rewards)


class ValueBaseline:
    """A_t = Q_t - V(Y_1:t-1). Calling it only reads V; ``fit`` (called by the recipe after the read)
    takes ``updates`` Adam steps of squared error toward Q.

    The first batch it fits calibrates V to that batch's mean Q (``PrefixValue.calibrate``); before
    that, the baseline is the leave-one-out mean, so no sample's own Q enters its baseline.
    """

    def __init__(self, value: PrefixValue, lr: float, updates: int):
        self.value, self.updates = value, updates
        self.optimizer = torch.optim.Adam(value.parameters(), lr=lr)
        self.last_loss = float("nan")
        self.calibrated = False

    def __call__(self, samples: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
        if not self.calibrated:
            baseline = leave_one_out_mean(rewards)
        else:
            with torch.no_grad():
                baseline = self.value(samples)[:, :-1]  # (B, T): V(Y_1:t-1) for t = 1..T
        return rewards - baseline

    def fit(self, samples: torch.Tensor, rewards: torch.Tensor) -> None:
        rewards = rewards.detach()
        if not self.calibrated:
            self.value.calibrate(rewards.mean().item())
            self.calibrated = True
        for _ in range(self.updates):
            loss = ((self.value(samples)[:, :-1] - rewards) ** 2).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            self.last_loss = loss.item()

    def state_dict(self) -> dict:
        return {
            "value": self.value.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "calibrated": self.calibrated,
        }

    def load_state_dict(self, state: dict) -> None:
        self.value.load_state_dict(state["value"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.calibrated = state.get("calibrated", True)  # checkpoints from before calibration had started fitting


def normalize(advantages: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Advantages (B, T) scaled to mean 0 and standard deviation 1 over the tokens that count (mask 1)."""
    count = mask.sum().clamp(min=1.0)
    mean = (advantages * mask).sum() / count
    std = (((advantages - mean) ** 2 * mask).sum() / count).sqrt()
    return (advantages - mean) / (std + eps) * mask


# -- TD(lambda) --------------------------------------------------------------------------------------


def lambda_returns(values: torch.Tensor, final_reward: torch.Tensor, lam: float) -> torch.Tensor:
    """Lambda-returns of the prefixes Y_1:t, t = 0..T-1, of one episode per row (Sutton & Barto eq. 12.3).

    Args:
        values: (B, T+1) bootstrap values v(Y_1:t) for t = 0..T; column T is not used (the state
            Y_1:T is terminal and its return is the reward).
        final_reward: (B,) D(Y_1:T), the only reward (gamma = 1).
        lam: lambda in [0, 1].
    Returns:
        (B, T): column t is G^lambda_t = (1 - lambda) v(Y_1:t+1) + lambda G^lambda_t+1, with G^lambda_T = D(Y_1:T).
    """
    assert 0.0 <= lam <= 1.0, f"lambda must be in [0, 1], got {lam}"
    t_len = values.shape[1] - 1
    returns = torch.empty(values.shape[0], t_len, dtype=values.dtype, device=values.device)
    g = final_reward.to(values.dtype)  # G^lambda_T
    for t in reversed(range(t_len)):
        # the reward of the step t -> t+1 is 0 except on reaching Y_1:T, which the terminal G carries
        next_value = values[:, t + 1] if t + 1 < t_len else final_reward.to(values.dtype)
        g = (1.0 - lam) * next_value + lam * g
        returns[:, t] = g
    return returns


class TDCritic:
    """V(Y_1:t) learned by TD(lambda) on generated batches; Q(Y_1:t-1, y_t) = V(Y_1:t) for t < T, D(Y_1:T) at T."""

    def __init__(
        self,
        value: PrefixValue,
        *,
        lam: float,
        lr: float,
        updates: int,
        warmup: int,
        target_rate: float,
        completions: int = 0,
        eos_token: int | None = None,
    ):
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"td lambda must be in [0, 1], got {lam}")
        self.value, self.lam, self.updates, self.warmup = value, lam, updates, warmup
        self.target = copy.deepcopy(value).requires_grad_(False)
        self.target_rate, self.completions = target_rate, completions
        self.eos_token = eos_token  # a prefix holding it is a finished episode: its value is D(Y), not V
        self.optimizer = torch.optim.Adam(value.parameters(), lr=lr)
        self.steps = 0  # critic updates so far
        self.warmed_up = warmup == 0
        self.last_loss = float("nan")
        self.d_evaluations = 0  # D (scorer) calls on single sequences, for the experiments

    def bootstrap_values(
        self, samples: torch.Tensor, final_reward: torch.Tensor, rollout_policy: RolloutPolicy | None, scorer: Scorer
    ) -> torch.Tensor | None:
        """With ``completions`` K > 0: (B, T+1) values of the prefixes from the mean D of K real completions
        of each (column 0 and T unused by the lambda-return); None: bootstrap from the target critic."""
        if self.completions == 0:
            return None
        assert rollout_policy is not None, "real completions need the roll-out policy"
        b, t_len = samples.shape
        with torch.no_grad():
            completions = rollout_policy.complete(samples, self.completions)  # (T-1, K, B, T)
            scores = scorer(completions.reshape(-1, t_len)).float()
        self.d_evaluations += completions.shape[0] * completions.shape[1] * b
        mc = scores.view(t_len - 1, self.completions, b).mean(dim=1).t()  # (B, T-1): Y_1:1 .. Y_1:T-1
        return torch.cat([torch.zeros_like(mc[:, :1]), mc, final_reward.float().unsqueeze(1)], dim=1)

    def finished(self, samples: torch.Tensor) -> torch.Tensor | None:
        """(B, T) bool, column t-1: the prefix Y_1:t holds the end token (real data); None without one."""
        if self.eos_token is None:
            return None
        return (samples == self.eos_token).cumsum(dim=1) > 0

    def terminal(self, samples: torch.Tensor, final_reward: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """``values`` (B, T') of the prefixes Y_1:1.. with each finished prefix's value set to D(Y_1:T)."""
        finished = self.finished(samples)
        if finished is None:
            return values
        finished = finished[:, : values.shape[1]]
        return torch.where(finished, final_reward.unsqueeze(1).to(values.dtype), values)

    def targets(
        self, samples: torch.Tensor, final_reward: torch.Tensor, values: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Regression targets (B, T) for V(Y_1:t), t = 0..T-1: lambda-returns bootstrapped from ``values``
        (B, T+1), by default the target critic's. An episode ends at its end token: every prefix from
        there on bootstraps from D(Y_1:T), so its return, and the step into it, are exact."""
        with torch.no_grad():
            values = self.target(samples) if values is None else values
            values = torch.cat([values[:, :1], self.terminal(samples, final_reward, values[:, 1:])], dim=1)
            return lambda_returns(values, final_reward, self.lam)

    def update(self, samples: torch.Tensor, targets: torch.Tensor) -> None:
        """One Adam step of squared error of V(Y_1:t), t = 0..T-1, toward ``targets``; then the target network moves."""
        loss = ((self.value(samples)[:, :-1] - targets) ** 2).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.last_loss = loss.item()
        self.steps += 1
        with torch.no_grad():  # target <- (1 - tau) * target + tau * critic
            for tgt, src in zip(self.target.parameters(), self.value.parameters(), strict=True):
                tgt.mul_(1.0 - self.target_rate).add_(src.detach(), alpha=self.target_rate)

    def learn(self, samples: torch.Tensor, rollout_policy: RolloutPolicy | None, scorer: Scorer) -> torch.Tensor:
        """D on the finished samples, then ``updates`` critic updates on them; returns D(Y_1:T) (B,)."""
        final_reward = scorer(samples).float()
        self.d_evaluations += samples.shape[0]
        values = self.bootstrap_values(samples, final_reward, rollout_policy, scorer)
        for _ in range(self.updates):  # the target critic moves after each update, so its targets are read anew
            self.update(samples, self.targets(samples, final_reward, values))
        return final_reward

    def warm_up(self, sample: Callable[[], torch.Tensor], rollout_policy: RolloutPolicy | None, scorer: Scorer) -> None:
        """``warmup`` batches from ``sample()`` learned before the first g-step, with G and D as they are."""
        for _ in range(self.warmup):
            self.learn(sample(), rollout_policy, scorer)
        self.warmed_up = True

    def rewards(self, samples: torch.Tensor, rollout_policy: RolloutPolicy | None, scorer: Scorer) -> torch.Tensor:
        """Q (B, T) of a g-step's batch: the critic learns the batch first, then Q_t = V(Y_1:t) (t < T), Q_T = D(Y_1:T),
        and Q_t = D(Y_1:T) where Y_1:t holds the end token."""
        return self.q_values(samples, self.learn(samples, rollout_policy, scorer))

    def q_values(self, samples: torch.Tensor, final_reward: torch.Tensor) -> torch.Tensor:
        """Q (B, T) from the critic as it is: V(Y_1:t) for t < T, D(Y_1:T) = ``final_reward`` (B,) at T and
        from the end token on."""
        with torch.no_grad():
            values = self.value(samples)  # (B, T+1)
        q = torch.cat([values[:, 1:-1], final_reward.unsqueeze(1).to(values.dtype)], dim=1)
        return self.terminal(samples, final_reward, q)  # the end token's Q, and any after it, is D(Y)

    def state_dict(self) -> dict:
        return {
            "value": self.value.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "steps": self.steps,
            "warmed_up": self.warmed_up,
        }

    def load_state_dict(self, state: dict) -> None:
        self.value.load_state_dict(state["value"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps, self.warmed_up = state["steps"], state["warmed_up"]
