"""Monte Carlo rewards (paper eq. 4-5): the batched roll-out against the looped reference, against
exact values by enumeration, reward/token alignment, and the delayed roll-out policy G_beta."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from torch import nn

from reference import rewards_looped
from seqgan import rollout as rollout_module
from seqgan.discriminator import Discriminator
from seqgan.generator import Generator
from seqgan.rollout import RolloutPolicy, discriminator_scorer, get_rewards, rewards_from_completions, score_batch


def make_models(vocab=6, seq_len=5, seed=0, g_std=0.5, d_std=0.0):
    torch.manual_seed(seed)
    g = Generator(vocab, seq_len, emb_dim=4, hidden_dim=5, init_std=g_std)
    widths = tuple(w for w in (1, 2, 3) if w <= seq_len)
    d = Discriminator(vocab, seq_len, emb_dim=4, filter_sizes=widths, num_filters=(3,) * len(widths))
    if d_std:  # spread D's scores out: N(0, d_std^2) weights everywhere
        with torch.no_grad():
            for p in d.parameters():
                p.normal_(0.0, d_std)
    return g, d


class PositionD(nn.Module):
    """A discriminator stand-in whose score depends on the token at one position only."""

    def __init__(self, position: int, vocab: int, seed: int = 0):
        super().__init__()
        self.position = position
        self.table = torch.rand(vocab, generator=torch.Generator().manual_seed(seed)) * 0.8 + 0.1

    def prob_real(self, seqs, batch_size=8192, bf16=False):
        return self.table[seqs[:, self.position]]


# -- (a) batched rewards equal the paper's loops on the same completions ---------------------------


def test_rewards_from_completions_equal_looped_reference():
    g, d = make_models(vocab=6, seq_len=5, seed=1)
    policy = RolloutPolicy(g, 0.8)
    torch.manual_seed(0)
    samples = g.sample(3)
    completions = policy.complete(samples, rollout_num=4)
    d.train()  # both must score in eval mode regardless
    fast = rewards_from_completions(d, samples, completions, batch_size=7)
    slow = rewards_looped(policy.policy, d, samples, 4, completions=completions)
    assert fast.shape == (3, 5)
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-6)
    # the rewards are not trivially constant
    assert fast.std() > 1e-3


def test_scoring_a_g_steps_rows_in_one_batch_gives_the_batched_q(monkeypatch):
    """The accelerator's choice (``score_batch``: a g-step's 19,520 rows in one batch) run on the CPU
    gives the Q values of scoring in batches of ``train.score_batch_size``."""
    assert score_batch(torch.device("cpu"), 512, 20) == 512
    assert score_batch(torch.device("cuda"), 512, 20) >= 64 * 19 * 16 + 64
    g, d = make_models(vocab=30, seq_len=20, seed=2, d_std=0.3)
    policy = RolloutPolicy(g, 0.0)
    torch.manual_seed(0)
    samples = g.sample(64)
    completions = policy.complete(samples, rollout_num=16)  # (19, 16, 64, 20)
    batched = rewards_from_completions(d, samples, completions, batch_size=512)
    calls = []
    d.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    monkeypatch.setattr(rollout_module, "score_batch", lambda device, b, t: score_batch(torch.device("cuda"), b, t))
    one_batch = rewards_from_completions(d, samples, completions, batch_size=512)
    assert calls == [64 * 19 * 16 + 64]
    torch.testing.assert_close(one_batch, batched, rtol=0, atol=1e-6)
    calls.clear()
    torch.testing.assert_close(discriminator_scorer(d, batch_size=512)(samples), batched[:, -1], rtol=0, atol=1e-6)
    assert calls == [64]


def test_rewards_from_completions_rejects_mismatched_shapes():
    g, d = make_models(vocab=6, seq_len=5)
    samples = torch.zeros(3, 5, dtype=torch.long)
    with pytest.raises(AssertionError):
        rewards_from_completions(d, samples, torch.zeros(4, 2, 2, 5, dtype=torch.long))
    with pytest.raises(AssertionError):
        rewards_from_completions(d, samples, torch.zeros(3, 2, 3, 5, dtype=torch.long))


# -- (b) the completions --------------------------------------------------------------------------


def test_complete_keeps_prefixes_and_samples_suffixes():
    g, _ = make_models(vocab=6, seq_len=5, seed=2, g_std=1.0)
    policy = RolloutPolicy(g, 0.8)
    torch.manual_seed(0)
    samples = g.sample(4)
    n = 50
    comp = policy.complete(samples, rollout_num=n)
    assert comp.shape == (4, n, 4, 5) and comp.dtype == torch.long
    assert comp.min() >= 0 and comp.max() < 6
    for t in range(1, 5):
        prefix = comp[t - 1, :, :, :t]  # (N, B, t)
        assert torch.equal(prefix, samples[:, :t].unsqueeze(0).expand(n, -1, -1)), f"prefix of length {t} not kept"
        # the rest is sampled: over 50 rollouts the suffix differs from the sample itself somewhere
        suffix = comp[t - 1, :, :, t:]
        assert (suffix != samples[:, t:].unsqueeze(0)).any(), f"suffixes after prefix {t} just copy the sample"
    assert not torch.equal(comp[:, 0], comp[:, 1])  # rollouts are independent draws
    assert policy.complete(samples[:1], rollout_num=1).shape == (4, 1, 1, 5)


# -- (c) in distribution: exact Q by enumeration ----------------------------------------------------


def exact_q(policy: Generator, d, samples: torch.Tensor, vocab: int):
    """Exact Q (B, T) and the standard deviation of one rollout's D score (B, T), by enumerating
    every completion weighted by the roll-out policy's probability."""
    t_len = samples.shape[1]
    everything = torch.tensor(list(itertools.product(range(vocab), repeat=t_len)))  # (V^T, T)
    with torch.no_grad():
        logp = copy.deepcopy(policy).double().log_probs(everything)  # (V^T, T), in float64
    score = d.prob_real(everything).double()
    q = torch.zeros(samples.shape, dtype=torch.float64)
    sd = torch.zeros(samples.shape, dtype=torch.float64)
    for b, sample in enumerate(samples):
        for t in range(1, t_len + 1):
            match = (everything[:, :t] == sample[:t]).all(dim=1)
            weight = logp[match, t:].sum(dim=1).exp()  # probability of each completion of Y_1:t
            assert weight.sum().item() == pytest.approx(1.0, abs=1e-9)
            mean = (weight * score[match]).sum()
            q[b, t - 1] = mean
            sd[b, t - 1] = ((weight * score[match] ** 2).sum() - mean**2).clamp(min=0).sqrt()
    return q, sd


@pytest.fixture(scope="module")
def tiny_setting():
    vocab, t_len = 3, 3
    g, d = make_models(vocab=vocab, seq_len=t_len, seed=3, g_std=1.0, d_std=0.6)
    policy = RolloutPolicy(g, 0.8)
    # move the generator away from the roll-out policy: rewards must use G_beta, not G_theta
    with torch.no_grad():
        for p in g.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 1.0)
    samples = torch.tensor(list(itertools.product(range(vocab), repeat=t_len)))  # every sequence
    q, sd = exact_q(policy.policy, d, samples, vocab)
    return vocab, g, d, policy, samples, q, sd


def test_exact_setting_is_discriminating(tiny_setting):
    vocab, g, d, policy, samples, q, sd = tiny_setting
    # D's scores spread out, and Q differs between prefixes, so a wrong estimator would show
    assert d.prob_real(samples).std() > 0.1
    assert q[:, 0].max() - q[:, 0].min() > 0.05
    assert (sd[:, :-1] > 0.01).float().mean() > 0.5 and (sd[:, -1] == 0).all()
    # using the generator instead of the roll-out policy would give visibly different values
    q_theta, _ = exact_q(g, d, samples, vocab)
    assert (q_theta[:, :-1] - q[:, :-1]).abs().max() > 0.05


def test_batched_rewards_match_exact_q(tiny_setting):
    vocab, g, d, policy, samples, q, sd = tiny_setting
    n = 4000
    torch.manual_seed(0)
    d.train()
    rewards = get_rewards(policy, d, samples, rollout_num=n, batch_size=5000).double()
    assert d.training
    assert rewards.shape == samples.shape
    torch.testing.assert_close(rewards[:, -1], q[:, -1], rtol=0, atol=1e-6)  # Q_T = D(Y) exactly
    z = (rewards - q).abs() / (sd / n**0.5 + 1e-12)
    assert z[:, :-1].max() < 5, f"batched rewards {z.max():.1f} standard errors from the exact Q"
    # and the difference is tiny in absolute terms
    assert (rewards - q).abs().max() < 0.02


def test_looped_reference_matches_exact_q(tiny_setting):
    vocab, g, d, policy, samples, q, sd = tiny_setting
    n = 150
    torch.manual_seed(1)
    pick = [0, 13, 26]
    rewards = rewards_looped(policy.policy, d, samples[pick], n).double()
    z = (rewards - q[pick]).abs() / (sd[pick] / n**0.5 + 1e-12)
    torch.testing.assert_close(rewards[:, -1], q[pick, -1], rtol=0, atol=1e-6)
    assert z[:, :-1].max() < 5, f"looped rewards {z.max():.1f} standard errors from the exact Q"


# -- (d) the reward at index t-1 belongs to token y_t ------------------------------------------------


@pytest.mark.parametrize("position", [0, 2, 4])
def test_reward_alignment_with_position_dependent_d(position):
    """D scores y_{k+1} (0-based position k) only: Q(Y_1:t-1, y_t) is then exactly D's score of the
    sample for every t >= k+1, since each completion of Y_1:t keeps y_{k+1}; before that it is a
    rollout average."""
    vocab, t_len = 6, 5
    g, _ = make_models(vocab=vocab, seq_len=t_len, seed=4, g_std=1.0)
    d = PositionD(position, vocab)
    policy = RolloutPolicy(g, 0.8)
    torch.manual_seed(0)
    samples = g.sample(8)
    rewards = get_rewards(policy, d, samples, rollout_num=16)
    own = d.table[samples[:, position]].unsqueeze(1).expand(-1, t_len - position)
    torch.testing.assert_close(rewards[:, position:], own, rtol=0, atol=1e-6)
    if position > 0:
        # y_{k+1} not yet chosen at index k-1: Q there is an average, not the sample's own score
        assert (rewards[:, position - 1] - d.table[samples[:, position]]).abs().max() > 1e-3


def test_rewards_depend_only_on_the_prefix_they_reward():
    """With the same random numbers, changing y_{t+1}..y_T of one sample leaves its rewards at
    indices 0..t-1 (tokens y_1..y_t) and every other sample's rewards unchanged, and changes the
    last reward (D of the sample)."""
    vocab, t_len = 6, 5
    g, d = make_models(vocab=vocab, seq_len=t_len, seed=5, g_std=1.0, d_std=0.6)
    policy = RolloutPolicy(g, 0.8)
    torch.manual_seed(0)
    samples = g.sample(4)
    for t in (1, 2, 3):
        changed = samples.clone()
        changed[1, t:] = (changed[1, t:] + 1) % vocab
        torch.manual_seed(10)
        r0 = get_rewards(policy, d, samples, rollout_num=8)
        torch.manual_seed(10)
        r1 = get_rewards(policy, d, changed, rollout_num=8)
        torch.testing.assert_close(r1[1, :t], r0[1, :t], rtol=0, atol=1e-6)
        torch.testing.assert_close(r1[[0, 2, 3]], r0[[0, 2, 3]], rtol=0, atol=1e-6)
        assert r1[1, -1] != r0[1, -1]
        assert not torch.allclose(r1[1, t:], r0[1, t:])


def test_last_reward_is_d_of_the_sample():
    g, d = make_models(seed=6, d_std=0.6)
    policy = RolloutPolicy(g, 0.8)
    torch.manual_seed(0)
    samples = g.sample(6)
    rewards = get_rewards(policy, d, samples, rollout_num=3)
    torch.testing.assert_close(rewards[:, -1], d.prob_real(samples), rtol=0, atol=1e-7)
    assert ((rewards > 0) & (rewards < 1)).all()


# -- (e) the delayed roll-out policy --------------------------------------------------------------


def _perturbed(g: Generator, seed: int) -> Generator:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p))
    return g


def test_policy_is_a_detached_deep_copy():
    g, _ = make_models(seed=7)
    policy = RolloutPolicy(g, 0.8)
    g_params = dict(g.named_parameters())
    for name, p in policy.policy.named_parameters():
        assert not p.requires_grad, name
        assert torch.equal(p, g_params[name]), name
        assert p.data_ptr() != g_params[name].data_ptr(), f"{name} shares storage with the generator"
    assert all(p.requires_grad for name, p in g.named_parameters() if name != "lstm.bias_hh_l0")
    before = [p.clone() for p in policy.policy.parameters()]
    _perturbed(g, 0)
    for b, p in zip(before, policy.policy.parameters()):
        assert torch.equal(b, p)


@pytest.mark.parametrize("rate", [0.8, 0.3])
def test_update_moves_beta_toward_theta(rate):
    g, _ = make_models(seed=8)
    policy = RolloutPolicy(g, rate)
    _perturbed(g, 1)
    old = [p.clone() for p in policy.policy.parameters()]
    policy.update(g)
    for o, theta, beta in zip(old, g.parameters(), policy.policy.parameters()):
        want = rate * o + (1 - rate) * theta.detach()
        torch.testing.assert_close(beta, want, rtol=0, atol=1e-6)
        assert not torch.equal(beta, o)
        assert not beta.requires_grad
    # a second update compounds
    old2 = [p.clone() for p in policy.policy.parameters()]
    policy.update(g)
    for o, theta, beta in zip(old2, g.parameters(), policy.policy.parameters()):
        torch.testing.assert_close(beta, rate * o + (1 - rate) * theta.detach(), rtol=0, atol=1e-6)


def test_update_rate_one_freezes_and_zero_copies():
    g, _ = make_models(seed=9)
    frozen, copying = RolloutPolicy(g, 1.0), RolloutPolicy(g, 0.0)
    start = [p.clone() for p in frozen.policy.parameters()]
    _perturbed(g, 2)
    frozen.update(g)
    copying.update(g)
    for s, theta, f, c in zip(start, g.parameters(), frozen.policy.parameters(), copying.policy.parameters()):
        assert torch.equal(f, s)
        assert torch.equal(c, theta.detach())
        assert c.data_ptr() != theta.data_ptr()
    with pytest.raises(ValueError):
        RolloutPolicy(g, 1.5)
    with pytest.raises(ValueError):
        RolloutPolicy(g, -0.1)


def test_updated_policy_is_what_completes():
    """After update with rate 0 the completions follow the generator's new weights: the same
    random numbers give the same completions as a policy built fresh from the generator."""
    g, _ = make_models(seed=10, g_std=1.0)
    policy = RolloutPolicy(g, 0.0)
    _perturbed(g, 3)
    policy.update(g)
    fresh = RolloutPolicy(g, 0.0)
    samples = torch.randint(0, 6, (3, 5), generator=torch.Generator().manual_seed(0))
    torch.manual_seed(4)
    a = policy.complete(samples, 5)
    torch.manual_seed(4)
    b = fresh.complete(samples, 5)
    assert torch.equal(a, b)
