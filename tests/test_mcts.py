"""The tree-search reward estimator on a tiny generator (vocabulary 3, length 4) where every
continuation can be enumerated: its budget of D evaluations, and its upward bias by design."""

from __future__ import annotations

import pytest
import torch

from seqgan.generator import Generator
from seqgan.mcts import mcts_rewards
from seqgan.rollout import RolloutPolicy, get_rewards

V, T = 3, 4
TARGET = (1, 2, 0, 1)


def tiny_policy(seed: int = 0, eos: int | None = None) -> RolloutPolicy:
    torch.manual_seed(seed)
    return RolloutPolicy(Generator(V, T, emb_dim=4, hidden_dim=4, init_std=0.5, eos_token=eos), 0.0)


class CountingD:
    """Pays 1 for one sequence and 0 for every other; counts the sequences it scores."""

    def __init__(self, target=TARGET):
        self.target, self.calls = torch.tensor(target), 0

    def __call__(self, seqs: torch.Tensor) -> torch.Tensor:
        self.calls += len(seqs)
        return (seqs == self.target).all(dim=1).float()


def exact_q_of_target(policy: RolloutPolicy) -> list[float]:
    """Q(Y_1:t-1, y_t) of the roll-out policy for the target's prefixes: P(completing Y_1:t into the target)."""
    g = policy.policy
    with torch.no_grad():
        logp = g.log_probs(torch.tensor([TARGET]))[0]
    return [logp[t:].sum().exp().item() for t in range(1, T)] + [1.0]


@pytest.mark.parametrize("budget", [1, 3, 8])
def test_mcts_spends_exactly_its_budget_of_d_evaluations(budget):
    policy = tiny_policy()
    d = CountingD()
    samples = policy.policy.sample(5)
    mcts_rewards(policy, d, samples, budget)
    assert d.calls == 5 * (budget * (T - 1) + 1)
    # the same as the paper's Monte Carlo estimate with N = budget
    d_mc = CountingD()
    get_rewards(policy, d_mc, samples, budget)
    assert d_mc.calls == d.calls


def test_mcts_budget_with_end_tokens_too():
    """Real data: a prefix that holds the end token is finished; its every simulation still scores it once."""
    policy = tiny_policy(1, eos=2)
    d = CountingD()
    samples = torch.tensor([[2, 0, 0, 0], [0, 1, 2, 0], [1, 1, 1, 1]])
    q = mcts_rewards(policy, d, samples, 6)
    assert d.calls == 3 * (6 * (T - 1) + 1)
    assert q.shape == (3, T)


def test_mcts_with_budget_one_is_the_paper_estimate_with_one_completion():
    """One simulation evaluates the prefix itself by one roll-out: an unbiased estimate of the paper's Q,
    as N = 1 Monte Carlo is."""
    policy = tiny_policy(2)
    d = CountingD()
    torch.manual_seed(0)
    batch = torch.tensor([TARGET] * 300)  # 300 independent searches, one per row
    q_mean = mcts_rewards(policy, d, batch, 1).mean(dim=0)
    mc_mean = get_rewards(policy, d, batch, 1).mean(dim=0)
    exact = torch.tensor(exact_q_of_target(policy))
    # both estimate the roll-out policy's Q without bias: within 4 standard errors of the exact value
    se = (exact * (1 - exact) / 300).sqrt() + 1e-9
    assert ((q_mean - exact).abs() <= 4 * se).all(), (q_mean, exact)
    assert ((mc_mean - exact).abs() <= 4 * se).all(), (mc_mean, exact)


def test_mcts_q_exceeds_the_roll_out_policys_and_approaches_the_best_continuation():
    """D pays 1 for one continuation only: the best continuation of each target prefix is worth 1,
    the roll-out policy's exact Q is the probability of completing into it. The search's Q is above
    that, and climbs toward 1 as the budget grows."""
    policy = tiny_policy(3)
    exact = exact_q_of_target(policy)
    assert max(exact[:-1]) < 0.35  # the roll-out policy rarely finds the paying continuation
    means = {}
    for budget, repeats in ((64, 12), (256, 4), (1024, 2)):
        torch.manual_seed(budget)
        q = torch.stack([mcts_rewards(policy, CountingD(), torch.tensor([TARGET]), budget)[0] for _ in range(repeats)])
        means[budget] = q.mean(dim=0)
    for t in range(T - 1):
        assert means[64][t] > exact[t] + 0.1, (t, means[64][t].item(), exact[t])
        assert means[64][t] < means[256][t] < means[1024][t] <= 1.0, (t, [m[t].item() for m in means.values()])
        assert means[1024][t] > 0.9, (t, means[1024][t].item())
    assert all(m[T - 1] == 1.0 for m in means.values())  # Q at T is D(Y_1:T)


def test_mcts_does_not_invent_reward():
    """When no continuation of a prefix pays, the search's Q is 0 like the roll-out policy's."""
    policy = tiny_policy(4)
    samples = torch.tensor([[0, 0, 0, 0], [2, 1, 1, 1]])  # neither starts like the target
    q = mcts_rewards(policy, CountingD(), samples, 32)
    assert torch.equal(q, torch.zeros(2, T))


def test_mcts_rejects_a_budget_below_one_completion():
    with pytest.raises(ValueError, match="at least one completion"):
        mcts_rewards(tiny_policy(), CountingD(), torch.tensor([TARGET]), 0)
