"""BF16Weights (seqgan/mixed_precision.py): the bf16 copies stand in for the weights only while
entered, their gradients reach the fp32 weights, and D's bf16 training with them computes exactly
what bf16 autocast alone computes (autocast casts the same weights at every call)."""

from __future__ import annotations

import torch
from torch import nn

from seqgan.build import adam
from seqgan.data import discriminator_set
from seqgan.discriminator import Discriminator
from seqgan.runtime.mixed_precision import BF16Weights
from seqgan.train import train_discriminator


def small_d(seed: int = 0) -> Discriminator:
    torch.manual_seed(seed)
    return Discriminator(30, 12, emb_dim=8, filter_sizes=(1, 2, 3, 12), num_filters=(5, 4, 3, 6))


def test_copies_stand_in_only_while_entered():
    layer = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    masters = list(layer.parameters())
    weights = BF16Weights([layer])
    with weights:
        inside = [layer[0].weight, layer[0].bias, layer[2].weight, layer[2].bias]
        assert all(p.dtype == torch.bfloat16 and p.requires_grad and p.is_leaf for p in inside)
        for copy, master in zip(inside, masters):
            assert torch.equal(copy, master.detach().to(torch.bfloat16))
        out = layer(torch.randn(5, 3, dtype=torch.bfloat16)).float().sum()
    assert list(layer.parameters()) == masters  # the same Parameter objects are back
    out.backward()
    assert all(p.grad is None for p in masters)  # gradients sit on the copies until moved
    copy_grads = [c.grad.clone() for c in weights.copies]
    weights.grads_to_master()
    for master, g in zip(masters, copy_grads):
        assert master.grad.dtype == torch.float32
        assert torch.equal(master.grad, g.float())
    assert all(c.grad is None for c in weights.copies)


def test_grads_accumulate_and_refresh_follows_the_masters():
    layer = nn.Linear(3, 2)
    weights = BF16Weights([layer])
    layer.weight.grad = torch.ones_like(layer.weight)
    with weights:
        layer(torch.ones(1, 3, dtype=torch.bfloat16)).sum().backward()
    weights.grads_to_master()
    torch.testing.assert_close(layer.weight.grad, torch.full_like(layer.weight, 2.0))  # 1 + d(sum)/dW = 1 + 1
    with torch.no_grad():
        layer.weight.mul_(3.0).add_(0.001)
    weights.refresh()
    assert torch.equal(weights.copies[0], layer.weight.detach().to(torch.bfloat16))


def _autocast_epoch(d: Discriminator, opt, real, fake, batch_size: int) -> None:
    """train_discriminator's epoch as at d90164a: bf16 autocast casting the fp32 weights at every call."""
    d.train()
    seqs, labels = discriminator_set(real, fake)
    order = torch.randperm(len(seqs))
    for i in range(0, len(seqs), batch_size):
        mb = order[i : i + batch_size]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = d.loss(seqs[mb], labels[mb])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def test_bf16_training_with_copies_equals_autocast_alone_bit_for_bit():
    real, fake = torch.randint(0, 15, (24, 12)), torch.randint(15, 30, (24, 12))
    d_lib, d_ref = small_d(), small_d()
    opt_lib, opt_ref = adam(d_lib.parameters(), 1e-2), adam(d_ref.parameters(), 1e-2)
    torch.manual_seed(7)
    train_discriminator(d_lib, opt_lib, real, fake, epochs=2, batch_size=16, bf16=True)
    torch.manual_seed(7)
    for _ in range(2):
        _autocast_epoch(d_ref, opt_ref, real, fake, 16)
    moved = 0
    for (name, p_lib), p_ref, p0 in zip(d_lib.named_parameters(), d_ref.parameters(), small_d().parameters()):
        assert p_lib.dtype == torch.float32, name
        assert torch.equal(p_lib, p_ref), name
        moved += not torch.equal(p_lib, p0)
    assert moved == len(list(d_lib.parameters()))  # every weight trained (6 steps at lr 1e-2)
