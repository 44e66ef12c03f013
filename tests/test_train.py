"""The recipe's units of work, in process: each must move its model the right way."""

from __future__ import annotations

import math

import torch
from torch import nn

from seqgan.discriminator import Discriminator
from seqgan.generator import Generator
from seqgan.oracle import Oracle
from seqgan.reporting import results_table
from seqgan.rollout import RolloutPolicy
from seqgan.runtime.hardware import use_bf16
from seqgan.train import mle_epoch, monte_carlo, policy_gradient_step, train_discriminator


class FirstTokenD(nn.Module):
    """A discriminator stand-in: 'real' exactly when the first token is ``target``."""

    def __init__(self, target: int):
        super().__init__()
        self.target = target

    def prob_real(self, seqs, batch_size=8192, bf16=False):
        return (seqs[:, 0] == self.target).float()


def first_token_probs(g: Generator) -> torch.Tensor:
    with torch.no_grad():
        hidden, _ = g.step(torch.tensor([g.start_token]), None)
        return torch.softmax(g.out(hidden)[0], dim=0)


def test_policy_gradient_steps_raise_the_rewarded_tokens_probability():
    torch.manual_seed(0)
    g = Generator(5, 4, emb_dim=6, hidden_dim=8)
    policy = RolloutPolicy(g, 0.8)
    opt = torch.optim.Adam(g.parameters(), lr=0.02)
    d = FirstTokenD(target=3)
    before = first_token_probs(g)[3].item()
    assert abs(before - 0.2) < 0.05  # near uniform at the start
    rewards = []
    for _ in range(25):
        rewards.append(policy_gradient_step(g, opt, monte_carlo(policy, d.prob_real, 2), batch_size=32, grad_clip=5.0))
        policy.update(g)
    after = first_token_probs(g)[3].item()
    assert after > 0.6, f"p(y_1 = 3) went from {before:.3f} to {after:.3f}"
    # the mean reward is the share of samples starting with 3, which rises with it
    assert sum(rewards[-5:]) / 5 > sum(rewards[:5]) / 5 + 0.2
    # the roll-out policy trails the generator
    assert first_token_probs(policy.policy)[3].item() < after


def test_policy_gradient_step_with_negative_signal_lowers_probability():
    """A D that calls every sequence starting with 3 fake: Q is 0 for those, positive otherwise."""
    torch.manual_seed(1)
    g = Generator(5, 4, emb_dim=6, hidden_dim=8)
    policy = RolloutPolicy(g, 0.8)
    opt = torch.optim.Adam(g.parameters(), lr=0.02)

    class AvoidThree(FirstTokenD):
        def prob_real(self, seqs, batch_size=8192, bf16=False):
            return 1.0 - super().prob_real(seqs)

    before = first_token_probs(g)[3].item()
    for _ in range(25):
        policy_gradient_step(g, opt, monte_carlo(policy, AvoidThree(3).prob_real, 2), 32, 5.0)
        policy.update(g)
    assert first_token_probs(g)[3].item() < before * 0.7


def oracle_data_and_generator() -> tuple[Oracle, torch.Tensor, Generator]:
    oracle = Oracle.random(12, 4, 6, 6, seed=0)
    data = oracle.sample(256, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    return oracle, data, Generator(12, 6, emb_dim=8, hidden_dim=16)


def test_mle_epochs_lower_the_loss_on_oracle_data():
    oracle, data, g = oracle_data_and_generator()
    opt = torch.optim.Adam(g.parameters(), lr=0.01)
    start = g.nll(data)
    losses = [mle_epoch(g, opt, data, 32, 5.0) for _ in range(8)]
    assert losses[-1] < losses[0]
    assert g.nll(data) < start - 0.3
    # the oracle's own NLL of its data is a floor MLE approaches from above
    assert g.nll(data) > oracle.nll(data) - 0.2


def test_train_discriminator_learns_real_vs_fake():
    torch.manual_seed(0)
    d = Discriminator(10, 6, emb_dim=8, filter_sizes=(1, 2, 3), num_filters=(4, 4, 4))
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    real = torch.randint(0, 5, (64, 6), generator=gen)
    fake = torch.randint(5, 10, (64, 6), generator=gen)
    losses = [train_discriminator(d, opt, real, fake, epochs=2, batch_size=16, bf16=False) for _ in range(4)]
    assert losses[-1] < losses[0] - 0.2
    assert (d.prob_real(real) > 0.5).all() and (d.prob_real(fake) < 0.5).all()


def test_use_bf16_respects_explicit_precision():
    cpu = torch.device("cpu")
    assert use_bf16("fp32", cpu) is False
    assert use_bf16("bf16", cpu) is True
    # 'auto' on the CPU: bf16 exactly where the CPU has native bf16, i.e. its flags list AVX512-BF16 or AMX-BF16
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = {flag for line in f if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:
        flags = set()
    assert use_bf16("auto", cpu) is bool(flags & {"avx512_bf16", "amx_bf16"})


def test_results_table_lists_rows():
    table = results_table(
        {"rows": {"MLE": {"nll_oracle": 9.0381, "nll_test": 7.1}, "SeqGAN": {"nll_oracle": 8.7364, "nll_test": 7.3}}}
    )
    lines = table.splitlines()
    assert lines[2] == "| MLE | 9.038 | 7.100 |"
    assert lines[3] == "| SeqGAN | 8.736 | 7.300 |"


# -- Table 1's baselines -------------------------------------------------------------------------


def test_scheduled_sampling_feeds_model_samples_at_the_scheduled_rate():
    torch.manual_seed(0)
    g = Generator(7, 12, emb_dim=6, hidden_dim=8)
    seqs = torch.randint(0, 7, (400, 12), generator=torch.Generator().manual_seed(1))
    for prob in (0.0, 0.3, 0.8):
        loss, replaced = g.scheduled_sampling_loss(seqs, prob, generator=torch.Generator().manual_seed(2))
        assert replaced.shape == (400, 11)
        rate = replaced.float().mean().item()
        sd = (prob * (1 - prob) / replaced.numel()) ** 0.5
        assert abs(rate - prob) <= 5 * sd + 1e-9, (prob, rate)
        assert torch.isfinite(loss)
    # at probability 0 it is exactly teacher-forced MLE
    loss0, _ = g.scheduled_sampling_loss(seqs, 0.0)
    torch.testing.assert_close(loss0, g.mle_loss(seqs))


def test_scheduled_sampling_really_changes_the_inputs():
    """A model whose input decides its output: with replaced inputs, the predictions that follow
    are those of the sampled tokens, so the loss differs from teacher forcing exactly there."""
    torch.manual_seed(0)
    g = Generator(5, 6, emb_dim=4, hidden_dim=8, init_std=1.0)  # far from uniform: inputs matter
    seqs = torch.randint(0, 5, (64, 6), generator=torch.Generator().manual_seed(3))
    teacher = g.mle_loss(seqs).item()
    mixed, replaced = g.scheduled_sampling_loss(seqs, 1.0, generator=torch.Generator().manual_seed(4))
    assert replaced.all()
    assert abs(mixed.item() - teacher) > 0.01
    # with every input its own sample, the loss equals the NLL of the real tokens along the
    # model's own trajectory: recompute it step by step with the same draws
    gen = torch.Generator().manual_seed(4)
    from seqgan.generator import sample_from_logits

    tokens, state, total = torch.full((64,), g.start_token), None, 0.0
    with torch.no_grad():
        for t in range(6):
            hidden, state = g.step(tokens, state)
            logp = torch.log_softmax(g.out(hidden), dim=-1)
            total += -logp.gather(1, seqs[:, t : t + 1]).sum().item()
            if t < 5:
                torch.rand(64, generator=gen)  # the coin flips come first, as in the loss
                tokens = sample_from_logits(g.out(hidden), generator=gen)
    assert abs(mixed.item() - total / seqs.numel()) < 1e-5


def test_scheduled_sampling_schedules_rise_to_the_final_probability():
    from seqgan.rows import ss_sample_prob

    for schedule in ("linear", "exponential", "inverse_sigmoid"):
        probs = [ss_sample_prob(schedule, i / 10, 0.25) for i in range(11)]
        assert all(a <= b for a, b in zip(probs, probs[1:])), (schedule, probs)
        assert abs(probs[-1] - 0.25) < 1e-12, (schedule, probs)
        assert probs[0] < 0.1
    assert ss_sample_prob("linear", 0.5, 0.25) == 0.125
    assert abs(ss_sample_prob("exponential", 0.5, 0.25) - (1 - 0.75**0.5)) < 1e-12
    assert ss_sample_prob("inverse_sigmoid", 0.0, 0.25, k=10.0) == 1 - 10 / 11  # Bengio's eps_0 = k / (k + 1)
    assert ss_sample_prob("linear", 0.7, 0.0) == 0.0


def test_scheduled_sampling_epochs_lower_the_loss():
    oracle, data, g = oracle_data_and_generator()
    opt = torch.optim.Adam(g.parameters(), lr=0.01)
    start = g.nll(data)
    for _ in range(8):
        mle_epoch(g, opt, data, 32, 5.0, sample_prob=0.25)
    assert g.nll(data) < start - 0.3


def test_pg_bleu_rewards_equal_bleu_of_the_completed_rollouts():
    """PG-BLEU's Q: the mean sentence BLEU (against the training data) of the N completions of each
    prefix, and the BLEU of the whole sample at t = T, computed here by brute force with nltk's
    formula (seqgan.bleu.sentence_bleu)."""
    from seqgan.bleu import sentence_bleu
    from seqgan.rollout import BleuScorer, rewards_from_completions

    torch.manual_seed(0)
    g = Generator(6, 5, emb_dim=4, hidden_dim=8)
    references = torch.randint(0, 6, (40, 5), generator=torch.Generator().manual_seed(1))
    scorer = BleuScorer(references, max_n=3)
    samples = g.sample(4)
    completions = RolloutPolicy(g, 0.8).complete(samples, rollout_num=3)  # (T-1, N, B, T)
    rewards = rewards_from_completions(scorer, samples, completions)
    refs = [tuple(r) for r in references.tolist()]
    for b in range(4):
        for t in range(1, 5):
            expected = sum(sentence_bleu(refs, tuple(completions[t - 1, n, b].tolist()), n=3) for n in range(3)) / 3
            assert abs(rewards[b, t - 1].item() - expected) < 1e-6
            assert torch.equal(completions[t - 1, :, b, :t], samples[b, :t].expand(3, t))  # the prefix is kept
        assert abs(rewards[b, 4].item() - sentence_bleu(refs, tuple(samples[b].tolist()), n=3)) < 1e-6


def test_pg_bleu_steps_raise_bleu():
    """Policy gradient with BLEU as the reward moves G toward the references' n-grams."""
    from seqgan.rollout import BleuScorer

    torch.manual_seed(0)
    g = Generator(8, 4, emb_dim=6, hidden_dim=8)
    references = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 5]])
    scorer = BleuScorer(references, max_n=2)
    policy = RolloutPolicy(g, 0.8)
    opt = torch.optim.Adam(g.parameters(), lr=0.03)
    before = scorer(g.sample(512)).mean().item()
    for _ in range(40):
        policy_gradient_step(g, opt, monte_carlo(policy, scorer, 2), batch_size=32, grad_clip=5.0)
        policy.update(g)
    after = scorer(g.sample(512)).mean().item()
    assert after > before + 0.15, (before, after)


def test_tf1_adam_steps_by_tensorflow_1s_formula():
    """Three steps of TF1Adam equal TF 1's AdamOptimizer update written out by hand, with tiny
    gradients where the placement of epsilon matters (|g| ~ 1e-7), and differ from torch's Adam there."""
    from seqgan.runtime.optim import TF1Adam

    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    start = torch.tensor([0.5, -0.3, 0.2, 0.1], dtype=torch.float64)
    grads = [torch.tensor([1e-7, -2e-7, 0.3, 0.0], dtype=torch.float64) * (k + 1) for k in range(3)]
    for fused in (False, True):
        w = torch.nn.Parameter(start.clone().float())
        torch_w = torch.nn.Parameter(start.clone().float())
        opt = TF1Adam([w], lr=lr, fused=fused)
        torch_opt = torch.optim.Adam([torch_w], lr=lr, fused=fused)
        theta, m, v = start.clone(), torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
        for t, g in enumerate(grads, start=1):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            theta = theta - lr_t * m / (v.sqrt() + eps)
            for p, o in ((w, opt), (torch_w, torch_opt)):
                p.grad = g.float()
                o.step()
            torch.testing.assert_close(w.detach().double(), theta, rtol=1e-6, atol=1e-7)
        # torch's form at the tiny gradients: a visibly different step (eps is 32x smaller at t = 1)
        assert (torch_w.detach().double() - theta)[:2].abs().max() > 1e-4
