"""The CNN discriminator: convolutions against conv1d, dropout as a keep probability, the L2 term,
prob_real's eval mode, and learning on separable data."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqgan.discriminator import Discriminator


def make_d(vocab=12, seq_len=6, seed=0, **kw) -> Discriminator:
    torch.manual_seed(seed)
    kw.setdefault("emb_dim", 5)
    kw.setdefault("filter_sizes", (1, 2, 3, 6))
    kw.setdefault("num_filters", (4, 3, 5, 2))
    return Discriminator(vocab, seq_len, **kw)


def reference_features(d: Discriminator, seqs: torch.Tensor) -> torch.Tensor:
    x = d.embedding(seqs).transpose(1, 2)  # (B, E, T)
    return torch.cat([F.relu(F.conv1d(x, conv.weight, conv.bias)).amax(dim=2) for conv in d.convs], dim=1)


def test_features_equal_conv1d_reference():
    d = make_d()
    seqs = torch.randint(0, 12, (9, 6), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got, want = d.features(seqs), reference_features(d, seqs)
    assert got.shape == (9, 4 + 3 + 5 + 2)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    # with non-default biases and weights too (the reference must not just match the init)
    with torch.no_grad():
        for conv in d.convs:
            conv.weight.normal_()
            conv.bias.normal_()
        torch.testing.assert_close(d.features(seqs), reference_features(d, seqs), rtol=1e-5, atol=1e-5)


def test_features_gradients_match_conv1d_reference():
    d = make_d()
    seqs = torch.randint(0, 12, (5, 6), generator=torch.Generator().manual_seed(2))
    params = [p for conv in d.convs for p in conv.parameters()] + [d.embedding.weight]
    g1 = torch.autograd.grad(d.features(seqs).square().sum(), params)
    g2 = torch.autograd.grad(reference_features(d, seqs).square().sum(), params)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def _dropout_io(d: Discriminator, seqs: torch.Tensor):
    seen = {}

    def hook(module, inputs, output):
        seen["in"], seen["out"] = inputs[0].detach(), output.detach()

    handle = d.dropout.register_forward_hook(hook)
    try:
        d(seqs)
    finally:
        handle.remove()
    return seen["in"], seen["out"]


def test_dropout_keep_is_a_keep_probability():
    d = make_d(dropout_keep=0.75, num_filters=(40, 40, 40, 40))
    seqs = torch.randint(0, 12, (256, 6), generator=torch.Generator().manual_seed(3))
    d.train()
    torch.manual_seed(0)
    x, y = _dropout_io(d, seqs)
    live = x != 0
    zeroed = (y == 0) & live
    frac = zeroed.sum().item() / live.sum().item()
    assert live.sum() > 10_000
    assert frac == pytest.approx(0.25, abs=0.02), f"{frac:.3f} of highway outputs dropped, expected 1 - keep = 0.25"
    kept = ~zeroed & live
    torch.testing.assert_close(y[kept], x[kept] / 0.75)  # inverted dropout scales the kept units
    # eval mode: no dropout
    d.eval()
    x, y = _dropout_io(d, seqs)
    assert torch.equal(x, y)


def test_dropout_keep_one_drops_nothing_and_bad_values_fail():
    d = make_d(dropout_keep=1.0)
    d.train()
    x, y = _dropout_io(d, torch.randint(0, 12, (64, 6)))
    assert torch.equal(x, y)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="dropout_keep"):
            make_d(dropout_keep=bad)


@pytest.mark.parametrize("l2_reg", [0.0, 0.2, 0.7])
def test_loss_is_cross_entropy_plus_half_l2_of_output_layer(l2_reg):
    d = make_d(l2_reg=l2_reg)
    with torch.no_grad():
        d.out.weight.normal_()
        d.out.bias.normal_()
    d.eval()  # no dropout, so the two forward passes agree
    seqs = torch.randint(0, 12, (10, 6), generator=torch.Generator().manual_seed(4))
    labels = torch.randint(0, 2, (10,), generator=torch.Generator().manual_seed(5))
    ce = F.cross_entropy(d(seqs), labels)
    l2 = 0.5 * (d.out.weight.square().sum() + d.out.bias.square().sum())
    torch.testing.assert_close(d.loss(seqs, labels), ce + l2_reg * l2, rtol=1e-6, atol=1e-6)
    # the penalty covers the output layer only: its gradient on the highway is the CE's
    g_loss = torch.autograd.grad(d.loss(seqs, labels), d.highway.transform.weight)[0]
    g_ce = torch.autograd.grad(F.cross_entropy(d(seqs), labels), d.highway.transform.weight)[0]
    torch.testing.assert_close(g_loss, g_ce)


def test_filter_wider_than_sequence_fails():
    with pytest.raises(ValueError, match="exceeds"):
        make_d(seq_len=4, filter_sizes=(1, 5), num_filters=(2, 2))
    with pytest.raises(ValueError):
        make_d(filter_sizes=(1, 2), num_filters=(2,))
    make_d(seq_len=4, filter_sizes=(1, 4), num_filters=(2, 2))  # width == seq_len is fine


def test_prob_real_uses_eval_mode_and_restores_training():
    d = make_d()
    seqs = torch.randint(0, 12, (20, 6), generator=torch.Generator().manual_seed(6))
    d.train()
    torch.manual_seed(0)
    p1 = d.prob_real(seqs)
    p2 = d.prob_real(seqs)
    p3 = d.prob_real(seqs, batch_size=3)
    assert d.training
    assert p1.shape == (20,)
    assert ((p1 > 0) & (p1 < 1)).all()
    assert torch.equal(p1, p2)
    torch.testing.assert_close(p1, p3)
    d.eval()
    with torch.no_grad():
        torch.testing.assert_close(p1, torch.softmax(d(seqs), dim=1)[:, 1])
    # in train mode a forward pass is random (dropout), which prob_real must not be
    d.train()
    with torch.no_grad():
        assert not torch.equal(d(seqs), d(seqs))
    assert d.prob_real(seqs[:0]).shape == (0,)


def test_training_separates_real_from_fake():
    d = make_d(vocab=10, seq_len=6, dropout_keep=0.75)
    gen = torch.Generator().manual_seed(7)
    real = torch.randint(0, 5, (64, 6), generator=gen)  # tokens 0-4
    fake = torch.randint(5, 10, (64, 6), generator=gen)  # tokens 5-9
    seqs = torch.cat([real, fake])
    labels = torch.cat([torch.ones(64), torch.zeros(64)]).long()

    def evaluate():
        p = d.prob_real(seqs)
        acc = ((p > 0.5).long() == labels).float().mean().item()
        with torch.no_grad():
            d.eval()
            loss = d.loss(seqs, labels).item()
            d.train()
        return acc, loss

    acc0, loss0 = evaluate()
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    torch.manual_seed(0)
    d.train()
    for _ in range(30):
        loss = d.loss(seqs, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc1, loss1 = evaluate()
    assert acc1 == 1.0
    assert acc0 < 0.9
    assert loss1 < loss0 - 0.2


def test_bf16_scores_are_close_to_fp32():
    """The mixed-precision path (bf16 autocast, fp32 weights) scores like fp32: what a bf16 run of
    the rollout rewards relies on. Small model, since bf16 is emulated on CPUs without it."""
    torch.manual_seed(0)
    d = Discriminator(40, 10, emb_dim=16, filter_sizes=(1, 2, 3, 5, 10), num_filters=(8, 16, 16, 8, 8))
    seqs = torch.randint(0, 40, (64, 10))
    fp32 = d.prob_real(seqs, bf16=False)
    bf16 = d.prob_real(seqs, bf16=True)
    assert bf16.dtype == torch.float32
    assert (fp32 - bf16).abs().max().item() < 0.02
    assert not torch.equal(fp32, bf16)  # the autocast path really ran in lower precision


def test_bf16_training_step_keeps_fp32_master_weights():
    from seqgan.build import adam
    from seqgan.train import train_discriminator

    torch.manual_seed(0)
    d = Discriminator(40, 10, emb_dim=16, filter_sizes=(1, 2, 3), num_filters=(8, 8, 8))
    before = [p.detach().clone() for p in d.parameters()]
    real, fake = torch.randint(0, 20, (32, 10)), torch.randint(20, 40, (32, 10))
    train_discriminator(d, adam(d.parameters(), 1e-3), real, fake, epochs=1, batch_size=16, bf16=True)
    assert all(p.dtype == torch.float32 for p in d.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, d.parameters()))


def _loss_and_grads(d: Discriminator, loss_fn, seqs, labels, seed: int = 3):
    torch.manual_seed(seed)  # the same dropout mask for both
    d.zero_grad(set_to_none=True)
    loss = loss_fn(d, seqs, labels)
    loss.backward()
    return loss.detach(), {name: p.grad.clone() for name, p in d.named_parameters()}


def test_fp32_loss_and_gradients_equal_d90164a_bit_for_bit():
    """The fp32 path computes exactly what commit d90164a computed (the frozen copy in
    tests/reference.py): a run in fp32 keeps its results to the last bit."""
    from reference import discriminator_loss_d90164a

    torch.manual_seed(0)
    d = Discriminator(50, 20, emb_dim=8, filter_sizes=(1, 2, 3, 5, 10, 20), num_filters=(6, 5, 4, 3, 2, 7))
    seqs, labels = torch.randint(0, 50, (16, 20)), torch.randint(0, 2, (16,))
    loss, grads = _loss_and_grads(d, lambda d, s, y: d.loss(s, y), seqs, labels)
    want_loss, want_grads = _loss_and_grads(d, discriminator_loss_d90164a, seqs, labels)
    assert torch.equal(loss, want_loss)
    for name in want_grads:
        assert torch.equal(grads[name], want_grads[name]), name


def test_bf16_loss_and_gradients_close_to_d90164a_under_autocast():
    """Under bf16 autocast the token-by-token windows give d90164a's loss and gradients up to bf16
    rounding (the same products, summed in another order)."""
    from reference import discriminator_loss_d90164a

    torch.manual_seed(0)
    d = Discriminator(50, 20, emb_dim=8, filter_sizes=(1, 2, 3, 5, 10, 20), num_filters=(6, 5, 4, 3, 2, 7))
    seqs, labels = torch.randint(0, 50, (16, 20)), torch.randint(0, 2, (16,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, grads = _loss_and_grads(d, lambda d, s, y: d.loss(s, y), seqs, labels)
        want_loss, want_grads = _loss_and_grads(d, discriminator_loss_d90164a, seqs, labels)
    _, fp32_grads = _loss_and_grads(d, lambda d, s, y: d.loss(s, y), seqs, labels)
    torch.testing.assert_close(loss, want_loss, rtol=1e-2, atol=1e-2)
    for name, want in want_grads.items():
        scale = fp32_grads[name].abs().max().item()
        assert (grads[name] - want).abs().max().item() <= 0.05 * scale + 1e-6, name
        assert grads[name].dtype == torch.float32, name


def test_token_windows_and_their_backward_are_exact():
    """_Windows: each row is w consecutive embeddings token by token, and its backward (shifted
    adds) is the exact adjoint; checked in float64 by gradcheck and against unfold."""
    from seqgan.discriminator import _Windows

    x = torch.randn(3, 7, 4, dtype=torch.float64, requires_grad=True)
    for w in (1, 2, 7):
        got = _Windows.apply(x, w)
        want = x.unfold(1, w, 1).transpose(2, 3).reshape(3, 8 - w, w * 4)
        assert torch.equal(got, want)
        assert torch.autograd.gradcheck(lambda x, w=w: _Windows.apply(x, w), (x,))
