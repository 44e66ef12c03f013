"""Gradient penalties for D (seqgan/penalty.py): the one-hot lookup equals the embedding lookup, each
penalty and its gradient equal finite differences on a tiny D in float64, 'none' leaves D's training
bit for bit as it was, a large weight shrinks D's input gradient, and bf16 autocast agrees with fp32."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqgan.build import adam
from seqgan.config import ConfigError, load_config
from seqgan.data import discriminator_set
from seqgan.discriminator import Discriminator
from seqgan.penalty import gradient_penalty, input_gradients, interpolates, log_odds, penalty_at
from seqgan.train import train_discriminator

V, T = 4, 3


def tiny_d(seed: int = 0, dtype=torch.float64, **kw) -> Discriminator:
    torch.manual_seed(seed)
    kw.setdefault("emb_dim", 3)
    kw.setdefault("filter_sizes", (1, 2))
    kw.setdefault("num_filters", (2, 3))
    kw.setdefault("dropout_keep", 1.0)  # deterministic: finite differences need the same function twice
    d = Discriminator(V, T, **kw).to(dtype)
    with torch.no_grad():  # away from the init's shared 0.1 biases, so no ReLU sits at a kink
        for p in d.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return d


def numeric_input_gradient(d: Discriminator, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Central differences of sum_b f(x_b) in every coordinate of x (B, T, V)."""
    grad = torch.zeros_like(x)
    with torch.no_grad():
        for i in range(x.numel()):
            step = torch.zeros_like(x).view(-1)
            step[i] = eps
            step = step.view_as(x)
            grad.view(-1)[i] = (log_odds(d, x + step).sum() - log_odds(d, x - step).sum()) / (2 * eps)
    return grad


def hand_penalty(grad: torch.Tensor, kind: str, weight: float) -> torch.Tensor:
    norms = grad.flatten(1).norm(dim=1)
    return {
        "r1": 0.5 * weight * norms.square().mean(),
        "zero_gp": weight * norms.square().mean(),
        "wgan_gp": weight * (norms - 1.0).square().mean(),
    }[kind]


def points_for(kind: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    real = F.one_hot(torch.randint(0, V, (3, T), generator=g), V).double()
    if kind == "r1":
        return real
    fake = F.one_hot(torch.randint(0, V, (3, T), generator=g), V).double()
    return interpolates(real, fake, torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64))


def test_onehot_input_equals_the_embedding_lookup():
    d = tiny_d(dtype=torch.float32).eval()
    seqs = torch.randint(0, V, (5, T), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(d(F.one_hot(seqs, V).float()), d(seqs), rtol=1e-6, atol=1e-6)


def test_interpolates_mix_each_pair_by_its_own_alpha():
    real, fake = torch.ones(2, T, V), torch.zeros(2, T, V)
    mixed = interpolates(real, fake, torch.tensor([0.25, 0.75]))
    assert mixed[0].unique().tolist() == [0.25] and mixed[1].unique().tolist() == [0.75]


@pytest.mark.parametrize("kind", ["r1", "zero_gp", "wgan_gp"])
def test_penalty_and_its_gradient_equal_finite_differences(kind):
    d, x, weight = tiny_d(), points_for(kind), 3.0
    # the input gradient, then the penalty built from it by hand
    torch.testing.assert_close(
        input_gradients(d, x, create_graph=False), numeric_input_gradient(d, x), rtol=1e-6, atol=1e-8
    )
    value = penalty_at(d, x, kind, weight)
    want = hand_penalty(numeric_input_gradient(d, x), kind, weight)
    torch.testing.assert_close(value, want, rtol=1e-6, atol=1e-8)
    assert value.item() > 1e-3, value  # not a vacuous zero
    # the penalty's gradient in D's weights, against central differences of the penalty itself
    params = dict(d.named_parameters())
    grads = dict(zip(params, torch.autograd.grad(value, list(params.values()), allow_unused=True)))
    eps = 1e-6
    checked = 0
    for name in ["embedding.weight", "convs.0.weight", "convs.1.bias", "highway.gate.weight", "out.weight"]:
        p = params[name]
        for i in range(0, p.numel(), max(1, p.numel() // 4)):
            p.data.view(-1)[i] += eps  # .data: the penalty itself needs autograd on
            up = penalty_at(d, x, kind, weight).item()
            p.data.view(-1)[i] -= 2 * eps
            down = penalty_at(d, x, kind, weight).item()
            p.data.view(-1)[i] += eps
            numeric = (up - down) / (2 * eps)
            got = 0.0 if grads[name] is None else grads[name].view(-1)[i].item()
            assert abs(got - numeric) <= 1e-5 * max(1.0, abs(numeric)), (name, i, got, numeric)
            checked += abs(numeric) > 1e-4
    assert checked >= 5, f"only {checked} weight entries moved the penalty"


def test_minibatch_pairs_real_with_generated_rows():
    d = tiny_d()
    seqs = torch.tensor([[0, 1, 2], [3, 3, 3], [1, 1, 1], [2, 0, 1], [0, 0, 0]])
    labels = torch.tensor([1, 0, 1, 1, 0])
    # r1: the three real rows only
    torch.testing.assert_close(
        gradient_penalty(d, seqs, labels, "r1", 2.0), penalty_at(d, F.one_hot(seqs[[0, 2, 3]], V).double(), "r1", 2.0)
    )
    # interpolates: the first two real rows with the two generated rows, at alphas drawn from torch.rand
    torch.manual_seed(5)
    got = gradient_penalty(d, seqs, labels, "zero_gp", 2.0)
    torch.manual_seed(5)
    alpha = torch.rand(2).double()
    want = penalty_at(
        d, interpolates(F.one_hot(seqs[[0, 2]], V).double(), F.one_hot(seqs[[1, 4]], V).double(), alpha), "zero_gp", 2.0
    )
    torch.testing.assert_close(got, want)
    # no real row: nothing to penalise
    assert gradient_penalty(d, seqs[[1, 4]], labels[[1, 4]], "wgan_gp", 2.0).item() == 0.0
    with pytest.raises(ValueError, match="unknown gradient penalty 'r2'"):
        gradient_penalty(d, seqs, labels, "r2", 1.0)


def _paper_d_training(d, opt, real, fake, epochs, batch_size):
    """train_discriminator as it was before penalties existed (fp32)."""
    d.train()
    seqs, labels = discriminator_set(real, fake)
    for _ in range(epochs):
        order = torch.randperm(len(seqs))
        for i in range(0, len(seqs), batch_size):
            mb = order[i : i + batch_size]
            loss = d.loss(seqs[mb], labels[mb])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def _trained(gp: str | None, weight: float = 0.0):
    d = tiny_d(dtype=torch.float32, dropout_keep=0.75)
    opt = adam(d.parameters(), 1e-2)
    g = torch.Generator().manual_seed(7)
    real, fake = torch.randint(0, V, (40, T), generator=g), torch.randint(0, V, (40, T), generator=g)
    torch.manual_seed(11)
    if gp is None:
        _paper_d_training(d, opt, real, fake, epochs=2, batch_size=16)
    else:
        train_discriminator(d, opt, real, fake, epochs=2, batch_size=16, bf16=False, gp=gp, gp_weight=weight)
    return d.state_dict()


def test_none_leaves_d_training_bit_for_bit_unchanged():
    paper = _trained(None)
    for gp, weight in [("none", 0.0), ("none", 10.0)]:
        ours = _trained(gp, weight)
        assert all(torch.equal(paper[k], ours[k]) for k in paper), gp
    penalised = _trained("r1", 10.0)  # the comparison can fail: a penalty does change the weights
    assert not all(torch.equal(paper[k], penalised[k]) for k in paper)


@pytest.mark.parametrize("kind", ["r1", "zero_gp", "wgan_gp"])
def test_large_weight_shrinks_the_input_gradient(kind):
    vocab, seq_len = 20, 6
    torch.manual_seed(0)
    d = Discriminator(vocab, seq_len, emb_dim=8, filter_sizes=(1, 2, 3), num_filters=(8, 8, 8))
    g = torch.Generator().manual_seed(1)
    real = torch.randint(0, vocab // 2, (64, seq_len), generator=g)  # separable: D learns a steep boundary
    fake = torch.randint(vocab // 2, vocab, (64, seq_len), generator=g)
    alpha = torch.rand(64, generator=g)
    points = (
        F.one_hot(real, vocab).float()
        if kind == "r1"
        else interpolates(F.one_hot(real, vocab).float(), F.one_hot(fake, vocab).float(), alpha)
    )

    def measure(model):
        norms = input_gradients(model.eval(), points, create_graph=False).flatten(1).norm(dim=1)
        return norms.square().mean().item() if kind != "wgan_gp" else (norms - 1.0).square().mean().item()

    # first make D sharp without a penalty, then train on with (a) none and (b) a large weight
    opt = adam(d.parameters(), 1e-2)
    train_discriminator(d, opt, real, fake, epochs=5, batch_size=32, bf16=False)
    before = measure(d)
    results = {}
    for gp, weight in [("none", 0.0), (kind, 100.0)]:
        model = Discriminator(vocab, seq_len, emb_dim=8, filter_sizes=(1, 2, 3), num_filters=(8, 8, 8))
        model.load_state_dict(d.state_dict())
        model_opt = adam(model.parameters(), 1e-2)
        model_opt.load_state_dict(opt.state_dict())
        torch.manual_seed(2)
        train_discriminator(model, model_opt, real, fake, epochs=5, batch_size=32, bf16=False, gp=gp, gp_weight=weight)
        results[gp] = measure(model)
    assert results[kind] < 0.5 * before, (before, results)
    assert results[kind] < 0.5 * results["none"], (before, results)


@pytest.mark.parametrize("kind", ["r1", "zero_gp", "wgan_gp"])
def test_bf16_autocast_agrees_with_fp32(kind):
    torch.manual_seed(0)
    vocab, seq_len = 30, 8
    d = Discriminator(vocab, seq_len, emb_dim=8, filter_sizes=(1, 2, 4), num_filters=(6, 6, 6), dropout_keep=1.0)
    seqs = torch.randint(0, vocab, (16, seq_len))
    labels = torch.arange(16) % 2
    params = list(d.parameters())
    torch.manual_seed(1)
    fp32 = gradient_penalty(d, seqs, labels, kind, 10.0)
    want = torch.autograd.grad(fp32, params, allow_unused=True)  # the output bias does not move an input gradient
    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        bf16 = gradient_penalty(d, seqs, labels, kind, 10.0)
    got = torch.autograd.grad(bf16, params, allow_unused=True)
    assert bf16.dtype == torch.float32 and torch.isfinite(bf16)
    torch.testing.assert_close(bf16, fp32, rtol=0.05, atol=1e-4)
    assert [g is None for g in got] == [g is None for g in want]
    flat_got = torch.cat([g.flatten() for g in got if g is not None])
    flat_want = torch.cat([g.flatten() for g in want if g is not None])
    assert torch.isfinite(flat_got).all()
    assert F.cosine_similarity(flat_got, flat_want, dim=0) > 0.98


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_penalised_d_step_on_cuda_under_bf16():
    torch.manual_seed(0)
    d = Discriminator(30, 8, emb_dim=8, filter_sizes=(1, 2, 4), num_filters=(6, 6, 6)).cuda()
    opt = adam(d.parameters(), 1e-3)
    real, fake = torch.randint(0, 30, (64, 8), device="cuda"), torch.randint(0, 30, (64, 8), device="cuda")
    before = {k: v.clone() for k, v in d.state_dict().items()}
    for kind in ["r1", "zero_gp", "wgan_gp"]:
        loss = train_discriminator(d, opt, real, fake, epochs=1, batch_size=32, bf16=True, gp=kind, gp_weight=10.0)
        assert torch.isfinite(torch.tensor(loss))
    assert all(torch.isfinite(v).all() for v in d.state_dict().values())
    assert not torch.equal(before["convs.0.weight"], d.state_dict()["convs.0.weight"])


def test_config_names_a_bad_penalty(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("discriminator:\n  gradient_penalty: r2\n")
    with pytest.raises(
        ConfigError, match=r"c.yaml:2: key 'discriminator.gradient_penalty': one of none, r1, zero_gp, wgan_gp"
    ):
        load_config(path)
    with pytest.raises(ConfigError, match="discriminator.gp_weight"):
        load_config(None, ["discriminator.gp_weight=-1"])
    assert load_config(None).discriminator.gradient_penalty == "none"
