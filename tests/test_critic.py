"""Baselines and the TD(lambda) critic against exact computations on a tiny generator whose every
sequence can be enumerated (vocabulary 3, length 3: 27 sequences)."""

from __future__ import annotations

import itertools

import pytest
import torch

from seqgan.critic import (
    MeanBaseline,
    PrefixValue,
    TDCritic,
    ValueBaseline,
    lambda_returns,
    leave_one_out_mean,
    normalize,
)
from seqgan.generator import Generator
from seqgan.rollout import RolloutPolicy

V, T = 3, 3


def tiny_generator(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    return Generator(V, T, emb_dim=4, hidden_dim=5, init_std=0.6).double()


def all_sequences() -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(V), repeat=T)))  # (27, T)


def seq_probs(g: Generator, seqs: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return g.log_probs(seqs).sum(dim=1).exp()


def d_table(seed: int = 1) -> dict[tuple, float]:
    torch.manual_seed(seed)
    return {tuple(s): float(x) for s, x in zip(all_sequences().tolist(), torch.rand(V**T).tolist())}


def exact_q(g: Generator, seqs: torch.Tensor, d: dict) -> torch.Tensor:
    """Q(Y_1:t-1, y_t) = E[D(Y) | Y_1:t] under g, by enumerating every completion: (M, T)."""
    every = all_sequences()
    p = seq_probs(g, every)
    q = torch.zeros(seqs.shape, dtype=torch.float64)
    for i, s in enumerate(seqs.tolist()):
        for t in range(1, T + 1):
            match = (every[:, :t] == torch.tensor(s[:t])).all(dim=1)
            q[i, t - 1] = (
                sum(p[j] * d[tuple(every[j].tolist())] for j in match.nonzero().flatten().tolist()) / p[match].sum()
            )
    return q


def flat_grad(g: Generator, seqs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Gradient of -sum_{b,t} weights[b, t] log G(y_t | Y_1:t-1), flattened."""
    g.zero_grad(set_to_none=True)
    g.pg_loss(seqs, weights).backward()
    return torch.cat([p.grad.flatten() for p in g.parameters() if p.requires_grad])


# -- baselines ---------------------------------------------------------------------------------------


def test_a_state_dependent_baseline_leaves_the_expected_gradient_unchanged():
    """E_Y[sum_t grad log G(y_t) (Q_t - V(Y_1:t-1))] = E_Y[sum_t grad log G(y_t) Q_t], exactly by enumeration."""
    g, d = tiny_generator(), d_table()
    seqs = all_sequences()
    p = seq_probs(g, seqs).unsqueeze(1)  # (27, 1)
    q = exact_q(g, seqs, d)
    torch.manual_seed(5)
    value = PrefixValue(V, 6, g.start_token).double()
    with torch.no_grad():
        baseline = value(seqs)[:, :-1]  # V(Y_1:t-1), t = 1..T
    assert baseline.std() > 0.01  # a real, varying baseline
    plain = flat_grad(g, seqs, p * q)
    with_baseline = flat_grad(g, seqs, p * (q - baseline))
    torch.testing.assert_close(with_baseline, plain, atol=1e-10, rtol=1e-8)
    # per sequence the two differ: the baseline changes every sample's gradient, not their mean
    assert (flat_grad(g, seqs[:1], q[:1]) - flat_grad(g, seqs[:1], q[:1] - baseline[:1])).abs().max() > 1e-3
    # a baseline that reads the token itself (V(Y_1:t)) is not state-dependent and biases the gradient
    with torch.no_grad():
        cheat = value(seqs)[:, 1:]
    assert (flat_grad(g, seqs, p * (q - cheat)) - plain).abs().max() > 1e-3


def test_the_leave_one_out_mean_baseline_is_unbiased_over_every_batch_of_two():
    """Batches of B = 2 independent samples: all 27^2 ordered pairs weighted by their probability."""
    g, d = tiny_generator(2), d_table(3)
    seqs = all_sequences()
    p = seq_probs(g, seqs)
    q = exact_q(g, seqs, d)
    pairs = list(itertools.product(range(len(seqs)), repeat=2))
    i, j = torch.tensor([a for a, _ in pairs]), torch.tensor([b for _, b in pairs])
    batch_seqs = torch.stack([seqs[i], seqs[j]], dim=1).reshape(-1, T)  # (2 * 729, T), pairs in order
    batch_q = torch.stack([q[i], q[j]], dim=1)  # (729, 2, T)
    weight = (p[i] * p[j]).view(-1, 1, 1)
    advantages = torch.stack([MeanBaseline()(None, bq) for bq in batch_q])  # (729, 2, T)
    plain = flat_grad(g, batch_seqs, (weight * batch_q).reshape(-1, T))
    centred = flat_grad(g, batch_seqs, (weight * advantages).reshape(-1, T))
    torch.testing.assert_close(centred, plain, atol=1e-10, rtol=1e-8)


def test_leave_one_out_mean_by_hand():
    r = torch.tensor([[1.0, 0.0], [2.0, 4.0], [6.0, 2.0]])
    torch.testing.assert_close(leave_one_out_mean(r), torch.tensor([[4.0, 3.0], [3.5, 1.0], [1.5, 2.0]]))


def test_normalize_ignores_padding():
    adv = torch.tensor([[1.0, 3.0, 100.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    torch.testing.assert_close(normalize(adv, mask), torch.tensor([[-1.0, 1.0, 0.0]]), atol=1e-6, rtol=0)


def test_the_value_loss_never_reaches_g():
    g = tiny_generator().float()
    torch.manual_seed(0)
    baseline = ValueBaseline(PrefixValue(V, 6, g.start_token), lr=0.05, updates=3)
    before_g = [p.detach().clone() for p in g.parameters()]
    before_v = [p.detach().clone() for p in baseline.value.parameters()]
    first = g.sample(16)
    baseline.fit(first, torch.rand(16, T))  # the first batch calibrates V
    samples = g.sample(16)
    rewards = torch.rand(16, T)
    with torch.no_grad():
        v_before = baseline.value(samples)[:, :-1]
    advantages = baseline(samples, rewards)
    baseline.fit(samples, rewards)
    torch.testing.assert_close(advantages, rewards - v_before)  # V as it was before learning this batch
    assert not advantages.requires_grad
    assert all(p.grad is None for p in g.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before_g, g.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_v, baseline.value.parameters()))
    # and the policy-gradient loss of the advantages reaches G only, never V
    value_grads = [p.grad.clone() for p in baseline.value.parameters()]
    g.pg_loss(samples, advantages).backward()
    assert all(p.grad is not None for p in g.parameters() if p.requires_grad)
    assert all(torch.equal(a, p.grad) for a, p in zip(value_grads, baseline.value.parameters()))


def test_the_first_batch_calibrates_v_to_its_mean_and_gets_the_leave_one_out_mean():
    torch.manual_seed(0)
    baseline = ValueBaseline(PrefixValue(V, 6, 0), lr=0.05, updates=0)
    samples = torch.randint(0, V, (5, T))
    rewards = torch.rand(5, T) * 0.1  # D's rewards late in a run: far from a fresh sigmoid's 0.5
    torch.testing.assert_close(baseline(samples, rewards), rewards - leave_one_out_mean(rewards))
    assert not baseline.calibrated  # reading V changes nothing: only fit learns
    baseline.fit(samples, rewards)
    with torch.no_grad():
        v = baseline.value(torch.randint(0, V, (7, T)))
    torch.testing.assert_close(v, torch.full_like(v, rewards.mean().item()), atol=1e-6, rtol=0)
    # calibrated once: the next batch is measured against V, which stays where learning moves it
    other = torch.rand(5, T)
    with torch.no_grad():
        v_next = baseline.value(samples)[:, :-1]
    torch.testing.assert_close(baseline(samples, other), other - v_next)
    state = baseline.state_dict()
    fresh = ValueBaseline(PrefixValue(V, 6, 0), lr=0.05, updates=0)
    fresh.load_state_dict(state)
    assert fresh.calibrated
    del state["calibrated"]  # a checkpoint from before calibration existed: it had been fitting all along
    fresh = ValueBaseline(PrefixValue(V, 6, 0), lr=0.05, updates=0)
    fresh.load_state_dict(state)
    assert fresh.calibrated


def test_with_the_default_settings_v_keeps_up_with_a_falling_reward():
    """D's rewards fall from ~0.58 to ~0.04 over a quick run's 30 g-steps; V must follow them, or the
    advantage becomes a large negative constant (what value_lr 1e-3 with one update a g-step did)."""
    from seqgan.config import TrainConfig

    tc = TrainConfig()
    torch.manual_seed(0)
    baseline = ValueBaseline(PrefixValue(50, tc.critic_hidden_dim, 0), lr=tc.value_lr, updates=tc.value_updates)
    lags = []
    for k in range(30):
        level = 0.58 * (0.04 / 0.58) ** (k / 29)
        samples = torch.randint(0, 50, (64, 20))
        if baseline.calibrated:
            with torch.no_grad():
                lags.append(baseline.value(samples)[:, :-1].mean().item() - level)
        baseline.fit(samples, (level + 0.05 * torch.randn(64, 20)).clamp(0, 1))
    assert max(abs(x) for x in lags) < 0.06, lags
    slow = ValueBaseline(PrefixValue(50, tc.critic_hidden_dim, 0), lr=1e-3, updates=1)
    torch.manual_seed(0)
    for k in range(30):
        level = 0.58 * (0.04 / 0.58) ** (k / 29)
        samples = torch.randint(0, 50, (64, 20))
        slow.fit(samples, (level + 0.05 * torch.randn(64, 20)).clamp(0, 1))
    with torch.no_grad():
        assert slow.value(samples)[:, :-1].mean().item() - 0.04 > 0.3  # the lag the defaults were raised for


def test_the_value_baseline_learns_the_mean_q_of_each_prefix():
    """Squared error toward Q: on one fixed batch V(Y_1:t-1) converges to the mean Q over rows sharing the prefix."""
    torch.manual_seed(0)
    baseline = ValueBaseline(PrefixValue(V, 8, 0), lr=0.03, updates=1)
    samples = torch.tensor([[0, 1, 2], [0, 2, 2], [1, 1, 1]])
    rewards = torch.tensor([[0.2, 0.4, 0.9], [0.6, 0.8, 0.1], [0.5, 0.5, 0.5]])
    for _ in range(600):
        baseline.fit(samples, rewards)
    with torch.no_grad():
        v = baseline.value(samples)[:, :-1]
    # empty prefix: all three rows; prefix (0,): rows 0 and 1; the rest are unique
    want = torch.tensor(
        [[(0.2 + 0.6 + 0.5) / 3, 0.6, 0.9], [(0.2 + 0.6 + 0.5) / 3, 0.6, 0.1], [(0.2 + 0.6 + 0.5) / 3, 0.5, 0.5]]
    )
    torch.testing.assert_close(v, want, atol=0.02, rtol=0)


# -- TD(lambda) -------------------------------------------------------------------------------------


def test_lambda_returns_by_hand():
    """T = 3, v(Y_1:1) = 0.2, v(Y_1:2) = 0.6, D = 1, lambda = 0.5:
    G_2 = D = 1;  G_1 = 0.5 * 0.6 + 0.5 * 1 = 0.8;  G_0 = 0.5 * 0.2 + 0.5 * 0.8 = 0.5."""
    values = torch.tensor([[0.9, 0.2, 0.6, 0.3]])  # v(empty) and v(Y_1:3) are never read
    got = lambda_returns(values, torch.tensor([1.0]), 0.5)
    torch.testing.assert_close(got, torch.tensor([[0.5, 0.8, 1.0]]))
    # lambda = 0: one-step TD targets v(Y_1:t+1); the last is the reward
    torch.testing.assert_close(lambda_returns(values, torch.tensor([1.0]), 0.0), torch.tensor([[0.2, 0.6, 1.0]]))
    # a longer episode, lambda = 0.3, D = 0.4: G_t = 0.7 v_t+1 + 0.3 G_t+1
    values = torch.tensor([[0.0, 0.1, 0.5, 0.7, 0.0]])
    g3 = 0.4
    g2 = 0.7 * 0.7 + 0.3 * g3
    g1 = 0.7 * 0.5 + 0.3 * g2
    g0 = 0.7 * 0.1 + 0.3 * g1
    torch.testing.assert_close(lambda_returns(values, torch.tensor([0.4]), 0.3), torch.tensor([[g0, g1, g2, g3]]))


def test_lambda_one_without_bootstrapping_regresses_on_the_monte_carlo_return():
    torch.manual_seed(0)
    critic = TDCritic(PrefixValue(V, 6, 0), lam=1.0, lr=0.01, updates=1, warmup=0, target_rate=0.5)
    samples = torch.tensor([[0, 1, 2], [2, 2, 1]])
    final = torch.tensor([0.3, 0.8])
    targets = critic.targets(samples, final)
    torch.testing.assert_close(targets, final.unsqueeze(1).expand(2, T))
    # whatever the target network says
    with torch.no_grad():
        for p in critic.target.parameters():
            p.add_(1.0)
    torch.testing.assert_close(critic.targets(samples, final), final.unsqueeze(1).expand(2, T))


def test_the_critic_bootstraps_from_its_target_network():
    torch.manual_seed(0)
    critic = TDCritic(PrefixValue(V, 6, 0), lam=0.4, lr=0.01, updates=1, warmup=0, target_rate=0.5)
    samples = torch.tensor([[0, 1, 2]])
    final = torch.tensor([0.7])
    with torch.no_grad():
        v = critic.target(samples)[0]
    g2 = 0.7
    g1 = 0.6 * v[2] + 0.4 * g2
    g0 = 0.6 * v[1] + 0.4 * g1
    torch.testing.assert_close(critic.targets(samples, final), torch.tensor([[g0, g1, g2]]))
    # after an update the target network moves a rate tau toward the critic
    old_target = [p.clone() for p in critic.target.parameters()]
    critic.update(samples, critic.targets(samples, final))
    for old, new, online in zip(old_target, critic.target.parameters(), critic.value.parameters()):
        torch.testing.assert_close(new, 0.5 * old + 0.5 * online)


def test_an_episode_ends_at_its_end_token():
    """Real data: a prefix holding the end token is finished, so its value, its return and the Q of the
    end token (and of any padding after it) are D(Y), not the critic's guess."""
    torch.manual_seed(0)
    eos = 1
    critic = TDCritic(PrefixValue(V, 6, 0), lam=0.5, lr=0.01, updates=1, warmup=0, target_rate=0.5, eos_token=eos)
    samples = torch.tensor([[0, eos, 2], [2, 2, 0]])  # row 0 ends at t = 2; row 1 runs to T
    final = torch.tensor([0.3, 0.9])
    with torch.no_grad():
        v = critic.target(samples)  # (B, T+1)
    targets = critic.targets(samples, final)
    # row 0: Y_1:2 and Y_1:3 are finished, so G_2 = G_1 = D; G_0 bootstraps from V(Y_1:1)
    torch.testing.assert_close(
        targets[0], torch.stack([0.5 * v[0, 1] + 0.5 * 0.3, torch.tensor(0.3), torch.tensor(0.3)])
    )
    # row 1 has no end token: the plain lambda-return
    torch.testing.assert_close(targets[1], lambda_returns(v[1:], final[1:], 0.5)[0])
    q = critic.rewards(samples, None, lambda seqs: final[: len(seqs)])
    with torch.no_grad():
        after = critic.value(samples)
    torch.testing.assert_close(q[0], torch.stack([after[0, 1], torch.tensor(0.3), torch.tensor(0.3)]))
    torch.testing.assert_close(q[1], torch.cat([after[1, 1:-1], torch.tensor([0.9])]))


def test_real_completions_replace_the_bootstrap_values():
    """td_completions K: the bootstrap value of Y_1:t is the mean D of K completions by G_beta."""
    g = tiny_generator().float()
    policy = RolloutPolicy(g, 0.0)
    calls = []

    def scorer(seqs):  # pays the first token: every completion of Y_1:t (t >= 1) gets D(Y) exactly
        calls.append(len(seqs))
        return (seqs[:, 0] == 1).float() * 0.5 + 0.25

    torch.manual_seed(0)
    critic = TDCritic(PrefixValue(V, 6, 0), lam=0.0, lr=0.01, updates=2, warmup=0, target_rate=0.5, completions=3)
    samples = torch.tensor([[1, 0, 2], [0, 2, 2]])
    final = scorer(samples)
    values = critic.bootstrap_values(samples, final, policy, scorer)
    assert calls[-1] == 3 * (T - 1) * 2
    targets = critic.targets(samples, final, values)
    torch.testing.assert_close(targets, torch.tensor([[0.75] * 3, [0.25] * 3]))
    calls.clear()
    critic.learn(samples, policy, scorer)
    assert sum(calls) == 2 + 3 * (T - 1) * 2, calls  # D on the samples, completions once for both updates
    assert critic.d_evaluations == 3 * (T - 1) * 2 + 2 + 3 * (T - 1) * 2  # both calls counted


def test_td_rewards_read_the_critic_at_the_prefix_and_d_at_the_end():
    torch.manual_seed(0)
    critic = TDCritic(PrefixValue(V, 6, 0), lam=0.5, lr=0.01, updates=1, warmup=0, target_rate=0.5)
    samples = torch.tensor([[0, 1, 2], [2, 2, 1]])
    calls = []

    def scorer(seqs):
        calls.append(len(seqs))
        return torch.tensor([0.3, 0.9])[: len(seqs)]

    q = critic.rewards(samples, None, scorer)
    assert calls == [2]  # D on the B finished samples only
    with torch.no_grad():
        v = critic.value(samples)
    torch.testing.assert_close(q, torch.cat([v[:, 1:T], torch.tensor([[0.3], [0.9]])], dim=1))


def test_td_lambda_learns_the_exact_values_of_an_enumerable_policy():
    """Trained on samples of a fixed G and D, V(Y_1:t) approaches E[D | Y_1:t] (the exact Q)."""
    g, d = tiny_generator(4), d_table(6)
    g = g.float()
    torch.manual_seed(0)
    critic = TDCritic(PrefixValue(V, 16, g.start_token), lam=0.7, lr=0.01, updates=2, warmup=400, target_rate=0.2)

    def scorer(seqs):
        return torch.tensor([d[tuple(s)] for s in seqs.tolist()])

    critic.warm_up(lambda: g.sample(64), None, scorer)
    seqs = all_sequences()
    want = exact_q(g.double(), seqs, d)[:, :-1].float()
    with torch.no_grad():
        got = critic.value(seqs)[:, 1:T]
    weights = seq_probs(g.double(), seqs).float().unsqueeze(1)
    mean_abs_error = ((got - want).abs() * weights).sum() / (weights.sum() * (T - 1))
    assert mean_abs_error < 0.03, f"probability-weighted |V - Q| = {mean_abs_error:.3f}"
    assert critic.steps == 800 and critic.warmed_up


def test_td_critic_rejects_lambda_outside_the_unit_interval():
    with pytest.raises(ValueError, match="lambda"):
        TDCritic(PrefixValue(V, 4, 0), lam=1.5, lr=0.01, updates=1, warmup=0, target_rate=0.5)
