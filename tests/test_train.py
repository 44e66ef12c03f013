"""The recipe's units of work, in process: each must move its model the right way."""

from __future__ import annotations

import torch
from torch import nn

from seqgan.discriminator import Discriminator
from seqgan.generator import Generator
from seqgan.oracle import Oracle
from seqgan.rollout import RolloutPolicy
from seqgan.train import mle_epoch, policy_gradient_step, results_table, train_discriminator, use_bf16


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
        rewards.append(policy_gradient_step(g, opt, policy, d.prob_real, batch_size=32, rollout_num=2, grad_clip=5.0))
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
        policy_gradient_step(g, opt, policy, AvoidThree(3).prob_real, 32, 2, 5.0)
        policy.update(g)
    assert first_token_probs(g)[3].item() < before * 0.7


def test_mle_epochs_lower_the_loss_on_oracle_data():
    oracle = Oracle.random(12, 4, 6, 6, seed=0)
    data = oracle.sample(256, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    g = Generator(12, 6, emb_dim=8, hidden_dim=16)
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
    assert isinstance(use_bf16("auto", cpu), bool)


def test_results_table_lists_rows():
    table = results_table({"rows": {"MLE": {"nll_oracle": 9.0381, "nll_test": 7.1}, "SeqGAN": {"nll_oracle": 8.7364, "nll_test": 7.3}}})
    lines = table.splitlines()
    assert lines[2] == "| MLE | 9.038 | 7.100 |"
    assert lines[3] == "| SeqGAN | 8.736 | 7.300 |"
