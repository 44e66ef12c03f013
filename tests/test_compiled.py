"""D's training step under torch.compile (seqgan/compiled.py, ``discriminator.compile``).

Inductor's own correctness is PyTorch's to test, and compiling with it takes minutes on this
project's 2-core CPUs, so these tests compile with the ``aot_eager`` backend: TorchDynamo captures
our loss and AOTAutograd splits it into the forward and backward graphs, which is what inductor
and CUDA graphs then take. They check that the setting reaches ``torch.compile`` with its mode and
static shapes, that training through the compiled loss computes what eager training computes, and
that bad combinations are refused. ``bench/bench.py --compile MODE`` runs the real backend.
"""

from __future__ import annotations

import copy

import pytest
import torch

from seqgan.build import adam
from seqgan.config import ConfigError, config_from_dict
from seqgan.discriminator import Discriminator
from seqgan.runtime import compiled
from seqgan.train import train_discriminator


def small_d(seed: int = 0, dropout_keep: float = 1.0) -> Discriminator:
    torch.manual_seed(seed)
    return Discriminator(
        30, 12, emb_dim=8, filter_sizes=(1, 2, 3, 12), num_filters=(5, 4, 3, 6), dropout_keep=dropout_keep
    )


@pytest.fixture
def compile_calls(monkeypatch):
    """torch.compile, recorded, with the aot_eager backend in place of inductor."""
    calls, real_compile = [], torch.compile

    def recording_compile(fn, *, mode=None, dynamic=None):
        calls.append({"mode": mode, "dynamic": dynamic})
        return real_compile(fn, backend="aot_eager", dynamic=dynamic)

    monkeypatch.setattr(torch, "compile", recording_compile)
    torch._dynamo.reset()
    yield calls
    torch._dynamo.reset()


@pytest.mark.parametrize("dropout_keep", [1.0, 0.75])
def test_compiled_training_equals_eager(compile_calls, dropout_keep):
    """Two epochs of 3 steps each (the last minibatch short, 8 of 24 rows): every weight of the
    compiled run ends where eager training ends, to float32 rounding. With dropout the masks are
    aten's under aot_eager, drawn in eager's order; inductor draws its own (compiled.py)."""
    real, fake = torch.randint(0, 15, (20, 12)), torch.randint(15, 30, (20, 12))
    d_eager, d_comp = small_d(dropout_keep=dropout_keep), small_d(dropout_keep=dropout_keep)
    opt_eager, opt_comp = adam(d_eager.parameters(), 1e-2), adam(d_comp.parameters(), 1e-2)
    torch.manual_seed(3)
    loss_eager = train_discriminator(d_eager, opt_eager, real, fake, epochs=2, batch_size=16, bf16=False)
    torch.manual_seed(3)
    loss_comp = train_discriminator(
        d_comp, opt_comp, real, fake, epochs=2, batch_size=16, bf16=False, compile_mode="reduce-overhead"
    )
    assert compile_calls == [{"mode": "reduce-overhead", "dynamic": False}]
    torch.testing.assert_close(loss_comp, loss_eager, rtol=1e-5, atol=1e-6)
    start = small_d().state_dict()
    for name, p_eager in d_eager.state_dict().items():
        p_comp = d_comp.state_dict()[name]
        assert not torch.equal(p_comp, start[name]), f"{name} did not train"
        torch.testing.assert_close(p_comp, p_eager, rtol=1e-5, atol=1e-6, msg=name)


def test_compiled_once_per_discriminator_and_mode(compile_calls):
    """A run calls train_discriminator some 80-3,150 times: the loss compiles once per D, and a
    copy of D (a baseline row, a twin) gets its own compiled loss, not one bound to the original."""
    d = small_d()
    first = compiled.discriminator_loss_fn(d, "default")
    assert compiled.discriminator_loss_fn(d, "default") is first
    twin = copy.deepcopy(d)
    assert compiled.discriminator_loss_fn(twin, "default") is not first
    assert compiled.discriminator_loss_fn(d, "none") == d.loss  # eager: the bound method itself
    assert len(compile_calls) == 2
    with torch.no_grad():
        twin.out.bias.add_(1.0)  # the twin's compiled loss must read the twin's weights
    seqs, labels = torch.randint(0, 30, (4, 12)), torch.tensor([0, 1, 0, 1])
    d.eval(), twin.eval()
    torch.testing.assert_close(compiled.discriminator_loss_fn(twin, "default")(seqs, labels), twin.loss(seqs, labels))
    torch.testing.assert_close(first(seqs, labels), d.loss(seqs, labels))


def test_bf16_compiled_step_uses_autocast_inside_the_graph(compile_calls):
    """Under bf16 the compiled step runs plain autocast (no persistent copies): it matches an eager
    autocast epoch to bf16 rounding, and the fp32 master weights stay fp32."""
    real, fake = torch.randint(0, 15, (16, 12)), torch.randint(15, 30, (16, 12))
    d_comp, d_eager = small_d(), small_d()
    opt_comp, opt_eager = adam(d_comp.parameters(), 1e-3), adam(d_eager.parameters(), 1e-3)
    torch.manual_seed(5)
    train_discriminator(d_comp, opt_comp, real, fake, epochs=1, batch_size=16, bf16=True, compile_mode="default")
    torch.manual_seed(5)
    train_discriminator(d_eager, opt_eager, real, fake, epochs=1, batch_size=16, bf16=True)
    for (name, p_comp), p_eager in zip(d_comp.named_parameters(), d_eager.parameters()):
        assert p_comp.dtype == torch.float32, name
        torch.testing.assert_close(p_comp, p_eager, rtol=2e-2, atol=2e-4, msg=name)


@pytest.mark.parametrize(
    "overrides, needle",
    [
        ({"compile": "cudagraphs"}, "key 'discriminator.compile': one of none, default, reduce-overhead, max-autotune"),
        ({"compile": "default", "gradient_penalty": "r1"}, "a compiled D step takes no gradient penalty"),
        (
            {"compile": "reduce-overhead", "precision": "bf16", "device": "cuda"},
            "key 'discriminator.compile': in bf16 on CUDA",
        ),
        (
            {"compile": "default", "precision": "bf16", "device": "cuda:1"},
            "key 'discriminator.compile': in bf16 on CUDA",
        ),
    ],
)
def test_bad_compile_settings_are_one_line(overrides, needle):
    overrides = dict(overrides)
    device = overrides.pop("device", "cpu")
    with pytest.raises(ConfigError) as err:
        config_from_dict({"discriminator": overrides, "device": device})
    assert needle in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("mode", [m for m in compiled.COMPILE_MODES if m != "none"])
def test_every_mode_is_accepted_in_fp32_on_cuda_and_in_bf16_on_the_cpu(mode):
    config_from_dict({"discriminator": {"compile": mode, "precision": "fp32"}, "device": "cuda"})
    config_from_dict({"discriminator": {"compile": mode, "precision": "bf16"}, "device": "cpu"})
    config_from_dict({"discriminator": {"compile": mode}, "device": "cuda"})  # 'auto' is fp32 on CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", ["default", "reduce-overhead", "max-autotune-no-cudagraphs"])
def test_cuda_bf16_compile_at_the_paper_filter_counts(mode):
    """The check behind the bf16 refusal in config.validate: inductor's bf16 D step at the paper's
    1,720 filters (merged width groups, CUDA's default), forward and backward, three steps. It
    crashed with 'misaligned address' at issue 24's commit; bench/gpu_check.sh runs it in a process
    of its own (a CUDA error ends the process) and reports whether the refusal can go."""
    from seqgan.discriminator import PAPER_FILTER_SIZES, PAPER_NUM_FILTERS

    torch.manual_seed(0)
    d = Discriminator(5000, 20, filter_sizes=PAPER_FILTER_SIZES, num_filters=PAPER_NUM_FILTERS).cuda()
    opt = adam(d.parameters(), 1e-4)
    loss_fn = torch.compile(d.loss, mode=mode, dynamic=False)
    seqs, labels = torch.randint(0, 5000, (64, 20), device="cuda"), torch.randint(0, 2, (64,), device="cuda")
    for _ in range(3):
        compiled.mark_step(seqs.device)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = loss_fn(seqs, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    assert torch.isfinite(loss).item()


def test_an_unknown_mode_is_refused_by_the_function_too():
    with pytest.raises(ValueError, match="compile mode"):
        compiled.discriminator_loss_fn(small_d(), "fast")
