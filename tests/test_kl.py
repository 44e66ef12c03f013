"""The KL-regularised remedy (seqgan/kl.py) against exact computations on an enumerable policy."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch

from helpers import assert_frequencies
from seqgan.kl import kl_returns, ppo_loss, resample, reward_to_go, tilted_distribution

ROOT = Path(__file__).resolve().parent.parent

V, T = 2, 3
SEQS = torch.tensor(list(itertools.product(range(V), repeat=T)))  # all 8 sequences (8, T)


class TabularPolicy(torch.nn.Module):
    """An autoregressive policy with a logit vector for every prefix: any distribution over SEQS."""

    def __init__(self, logits: torch.Tensor | None = None):
        super().__init__()
        n_prefixes = sum(V**t for t in range(T))
        self.logits = torch.nn.Parameter(torch.zeros(n_prefixes, V) if logits is None else logits.clone())

    @staticmethod
    def prefix_index(seq: list[int], t: int) -> int:
        return sum(V**s for s in range(t)) + sum(tok * V ** (t - 1 - i) for i, tok in enumerate(seq[:t]))

    def token_logp(self, seqs: torch.Tensor) -> torch.Tensor:
        """log p(y_t | y_<t) of each token (N, T)."""
        logp = torch.log_softmax(self.logits.double(), dim=1)
        rows = [[logp[self.prefix_index(s.tolist(), t), s[t]] for t in range(T)] for s in seqs]
        return torch.stack([torch.stack(r) for r in rows])

    @classmethod
    def of(cls, probs: torch.Tensor) -> TabularPolicy:
        """The tabular policy whose sequence distribution is ``probs`` (8,): its conditionals."""
        logits = torch.zeros(sum(V**t for t in range(T)), V, dtype=torch.float64)
        for t in range(T):
            for prefix in itertools.product(range(V), repeat=t):
                mass = [
                    sum(float(p) for s, p in zip(SEQS.tolist(), probs) if tuple(s[:t]) == prefix and s[t] == v)
                    for v in range(V)
                ]
                logits[cls.prefix_index(list(prefix), t)] = torch.log(torch.tensor(mass, dtype=torch.float64))
        return cls(logits)


def exact_gradient(policy: TabularPolicy, ref_logp: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """The expected policy gradient of the KL g-step, E_x[sum_t grad log p(y_t) G_t(x)], by enumeration."""
    policy.zero_grad()
    logp = policy.token_logp(SEQS)  # (8, T)
    probs = logp.sum(1).exp().detach()  # p(x) (8,)
    returns = kl_returns(rewards[:, None].expand(-1, T), logp.detach(), ref_logp, beta, torch.ones(8, T))
    loss = ppo_loss(logp, logp.detach(), returns * probs[:, None], torch.ones(8, T), clip=0.2)  # ratio 1: REINFORCE
    loss.backward()
    return policy.logits.grad.clone()


@pytest.fixture
def problem():
    torch.manual_seed(0)
    ref = TabularPolicy(torch.randn(7, V, dtype=torch.float64))
    with torch.no_grad():
        ref_logp = ref.token_logp(SEQS)
    rewards = torch.randn(8, dtype=torch.float64)
    return ref_logp, rewards


def test_reward_to_go_and_kl_returns_by_hand():
    per_token = torch.tensor([[1.0, 2.0, 3.0]])
    assert reward_to_go(per_token).tolist() == [[6.0, 5.0, 3.0]]
    rewards = torch.tensor([[0.5, 0.5, 0.5]])
    logp_old, logp_ref = torch.tensor([[-1.0, -2.0, -0.5]]), torch.tensor([[-1.5, -1.0, -0.5]])
    # log-ratios 0.5, -1.0, 0.0; beta 2: returns 0.5 - 2 * (-0.5, -1.0, 0.0) = (1.5, 2.5, 0.5); the padded third: 0
    got = kl_returns(rewards, logp_old, logp_ref, 2.0, torch.tensor([[1.0, 1.0, 0.0]]))
    torch.testing.assert_close(got, torch.tensor([[1.5, 2.5, 0.0]]))


@pytest.mark.parametrize("beta", [0.5, 1.0, 3.0])
def test_the_updates_fixed_point_is_p0_tilted_by_exp_r_over_beta(problem, beta):
    ref_logp, rewards = problem
    target = tilted_distribution(ref_logp.sum(1), rewards, beta)
    at_optimum = exact_gradient(TabularPolicy.of(target), ref_logp, rewards, beta)
    assert at_optimum.abs().max() < 1e-12  # the expected update vanishes at p_0 exp(r / beta) / Z
    at_start = exact_gradient(TabularPolicy.of(ref_logp.sum(1).exp()), ref_logp, rewards, beta)
    assert at_start.abs().max() > 1e-3  # and not at p_0: the reward moves it


def test_ascent_on_the_expected_update_converges_to_the_tilted_distribution(problem):
    ref_logp, rewards = problem
    beta = 1.0
    policy = TabularPolicy.of(ref_logp.sum(1).exp())  # start at p_0, as the remedy does
    opt = torch.optim.Adam(policy.parameters(), lr=0.05)
    for _ in range(1500):
        exact_gradient(policy, ref_logp, rewards, beta)
        opt.step()
    with torch.no_grad():
        reached = policy.token_logp(SEQS).sum(1).exp()
    target = tilted_distribution(ref_logp.sum(1), rewards, beta)
    assert (reached - target).abs().sum() / 2 < 1e-3  # total variation
    assert (ref_logp.sum(1).exp() - target).abs().sum() / 2 > 0.05  # it had somewhere to go


def test_the_clipped_surrogate_stops_pushing_a_ratio_past_its_clip():
    logp_old = torch.log(torch.tensor([[0.5, 0.5]]))
    advantages = torch.tensor([[1.0, -1.0]])
    inside = torch.log(torch.tensor([[0.55, 0.45]])).requires_grad_()
    ppo_loss(inside, logp_old, advantages, torch.ones(1, 2), clip=0.2).backward()
    assert (inside.grad != 0).all()  # ratios 1.1 and 0.9: both inside the clip
    beyond = torch.log(torch.tensor([[0.65, 0.35]])).requires_grad_()  # ratios 1.3 (A > 0) and 0.7 (A < 0)
    ppo_loss(beyond, logp_old, advantages, torch.ones(1, 2), clip=0.2).backward()
    assert (beyond.grad == 0).all()


def test_resampling_draws_from_p0_tilted_by_the_odds(problem):
    ref_logp, rewards = problem
    beta = 0.7
    p0 = ref_logp.sum(1).exp().float()
    gen = torch.Generator().manual_seed(3)
    pool = torch.multinomial(p0, 400_000, replacement=True, generator=gen)  # M draws from p_0
    picked = pool[resample(rewards[pool], beta, 200_000, generator=gen)]
    target = tilted_distribution(ref_logp.sum(1), rewards, beta)
    assert_frequencies(torch.bincount(picked, minlength=8).numpy(), target.numpy(), what="resampled sequences")
    with pytest.raises(ValueError, match="beta must be positive"):
        resample(rewards, 0.0, 5)


# -- the KL objective in the recipe --------------------------------------------------------------------

SMOKE = ROOT / "configs" / "synthetic_smoke.yaml"


def _kl_run(tmp_path, name: str, *overrides: str) -> dict:
    from seqgan.config import load_config
    from seqgan.train import train

    cfg = load_config(SMOKE, ["rows.names=[]", "train.rounds=6", "eval.every=6", *overrides])
    train(cfg, tmp_path / name)
    return torch.load(tmp_path / name / "checkpoint.pt", weights_only=True)


def _kl_to_pretrained(ckpt: dict) -> float:
    """KL(G || p_0) estimated on 2,000 of G's samples: how far the adversarial phase moved G."""
    from seqgan.generator import Generator

    g, p0 = (Generator(50, 8, emb_dim=8, hidden_dim=8) for _ in range(2))
    g.load_state_dict(ckpt["generator"])
    p0.load_state_dict(ckpt["pretrained"])
    torch.manual_seed(0)
    samples = g.sample(2000)
    with torch.no_grad():
        return float((g.log_probs(samples) - p0.log_probs(samples)).sum(1).mean())


def test_the_kl_objective_keeps_g_near_its_start_in_proportion_to_beta_and_a_frozen_d_stays(tmp_path):
    common = ("train.objective=kl", "train.freeze_d=true", "train.rewards=none", "train.baseline=mean")
    near = _kl_run(tmp_path, "near", *common, "train.kl_beta=100.0")
    far = _kl_run(tmp_path, "far", *common, "train.kl_beta=0.001")
    assert 0 <= _kl_to_pretrained(near) < _kl_to_pretrained(far)
    # D as its pre-training left it: the same as a run of no adversarial rounds at all
    none = _kl_run(tmp_path, "none", *common, "train.rounds=0")
    for key, value in none["discriminator"].items():
        assert torch.equal(value, near["discriminator"][key]), key


def test_the_kl_objective_refuses_what_it_cannot_run():
    from seqgan.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="'kl' takes train.rewards 'mc' or 'none'"):
        load_config(SMOKE, ["train.objective=kl", "train.rewards=td"])
    with pytest.raises(ConfigError, match="train.kl_reward"):
        load_config(SMOKE, ["train.objective=kl", "train.kl_reward=odds"])


def test_tilted_nll_and_the_pools_normaliser_against_enumeration():
    from seqgan.generator import Generator
    from seqgan.kl import resampled_sample, tilted_nll

    torch.manual_seed(1)
    g = Generator(3, 2, emb_dim=4, hidden_dim=4)
    seqs = torch.tensor(list(itertools.product(range(3), repeat=2)))  # all 9 sequences
    with torch.no_grad():
        log_p0 = g.log_probs(seqs).sum(1).double()  # (9,)

    def scorer(x):
        return (x[:, 0] - x[:, 1]).double() * 0.7  # any fixed reward of whole sequences

    beta = 0.5
    log_z = float(torch.logsumexp(log_p0 + scorer(seqs) / beta, dim=0))  # exact: sum_x p_0(x) e^(r(x)/beta)
    exact = float(-(log_p0 + scorer(seqs) / beta - log_z).sum()) / seqs.numel()
    assert tilted_nll(g, scorer, seqs, beta, log_z) == pytest.approx(exact, abs=1e-9)
    # the tilted distribution sums to one: its NLL is its entropy-like mean, and the pool estimates log Z
    probs = torch.exp(log_p0 + scorer(seqs) / beta - log_z)
    assert float(probs.sum()) == pytest.approx(1.0, abs=1e-9)
    torch.manual_seed(2)
    drawn, log_z_hat = resampled_sample(g, scorer, 50_000, beta, 200_000)
    assert log_z_hat == pytest.approx(log_z, abs=0.02)
    index = drawn[:, 0] * 3 + drawn[:, 1]
    assert_frequencies(torch.bincount(index, minlength=9).numpy(), probs.numpy(), what="resampled sequences")


def test_sample_and_evaluate_resample_with_the_runs_discriminator(tmp_path):
    import json
    import subprocess
    import sys

    ckpt = _kl_run(tmp_path, "run", "train.rounds=0")  # D trained against the pre-trained G, as the control needs
    assert ckpt["pretrained"] is not None
    base = [sys.executable, "-m", "seqgan"]
    out = subprocess.run(
        [*base, "sample", str(tmp_path / "run"), "--num", "7", "--resample-beta", "1", "--pool", "50"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 7 and all(len(line.split()) == 8 for line in out.stdout.splitlines())
    ev = subprocess.run(
        [*base, "evaluate", str(tmp_path / "run"), "--num", "64", "--resample-beta", "2"],
        capture_output=True,
        text=True,
    )
    assert ev.returncode == 0, ev.stderr
    result = json.loads(ev.stdout)
    assert result["resample_beta"] == 2.0 and result["pool"] == 640 and math.isfinite(result["nll_test"])
    bad = subprocess.run(
        [*base, "sample", str(tmp_path / "run"), "--num", "7", "--resample-beta", "1", "--pool", "3"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "the pool (3) must hold at least the 7" in bad.stderr
