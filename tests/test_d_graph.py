"""The graph-ready D epochs (seqgan/d_graph.py): run eagerly on the CPU they compute what
``train.train_discriminator`` computes; their step holds no host read or graph break; what a graph
cannot hold is refused in one line; on CUDA, capture and replay equal eager to rounding."""

from __future__ import annotations

import contextlib
import copy
import math

import pytest
import torch

from seqgan import d_graph
from seqgan.build import adam
from seqgan.d_graph import DStep, train_discriminator_graphed
from seqgan.discriminator import PAPER_FILTER_SIZES, PAPER_NUM_FILTERS, Discriminator
from seqgan.runtime.optim import TF1Adam, tf1_adam_update
from seqgan.train import train_discriminator

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def small_d(seed: int = 0, dropout_keep: float = 0.75, device: str = "cpu") -> Discriminator:
    torch.manual_seed(seed)
    d = Discriminator(
        30, 12, emb_dim=8, filter_sizes=(1, 2, 3, 12), num_filters=(5, 4, 3, 6), dropout_keep=dropout_keep
    )
    return d.to(device)


def assert_same_training(d_a, opt_a, d_b, opt_b, rtol=0.0, atol=0.0):
    for (name, a), b in zip(d_a.named_parameters(), d_b.parameters()):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol, msg=name)
        for key, value in opt_a.state[a].items():
            torch.testing.assert_close(value, opt_b.state[b][key], rtol=rtol, atol=atol, msg=f"{name} {key}")


@pytest.mark.parametrize("epsilon_form", ["pytorch", "tf1"])
def test_eager_epochs_equal_train_discriminator(epsilon_form):
    """Three epochs over 44 rows in minibatches of 16 (the last one 12 rows), then a second call
    with a balanced subset of the real rows: loss, every weight and Adam's state equal today's
    train_discriminator's bit for bit, dropout included (the same draws in the same order)."""
    real, fake = torch.randint(0, 15, (22, 12)), torch.randint(15, 30, (22, 12))
    d_ref, d_new = small_d(), small_d()
    opt_ref, opt_new = adam(d_ref.parameters(), 1e-2, epsilon_form), adam(d_new.parameters(), 1e-2, epsilon_form)
    for call, (r, f) in enumerate([(real, fake), (real, fake[:18])]):
        torch.manual_seed(10 + call)
        want = train_discriminator(d_ref, opt_ref, r, f, epochs=3, batch_size=16, bf16=False)
        torch.manual_seed(10 + call)
        got = train_discriminator_graphed(d_new, opt_new, r, f, epochs=3, batch_size=16, bf16=False)
        assert got == want
        assert_same_training(d_new, opt_new, d_ref, opt_ref)


def test_resumed_training_ends_where_uninterrupted_training_ends():
    """Two calls in one go against one call, a checkpoint round trip into a fresh D and Adam
    (as --resume builds them, RNG state included), and the second call: the same weights and
    Adam state, bit for bit."""
    real, fake = torch.randint(0, 15, (22, 12)), torch.randint(15, 30, (22, 12))
    d_a = small_d()
    opt_a = adam(d_a.parameters(), 1e-2, "tf1")
    d_b = small_d()
    opt_b = adam(d_b.parameters(), 1e-2, "tf1")
    torch.manual_seed(1)
    train_discriminator_graphed(d_a, opt_a, real, fake, epochs=2, batch_size=16, bf16=False)
    train_discriminator_graphed(d_a, opt_a, real, fake, epochs=2, batch_size=16, bf16=False)
    torch.manual_seed(1)
    train_discriminator_graphed(d_b, opt_b, real, fake, epochs=2, batch_size=16, bf16=False)
    ckpt = copy.deepcopy({"d": d_b.state_dict(), "opt": opt_b.state_dict(), "rng": torch.get_rng_state()})
    d_c = small_d(seed=5)
    opt_c = adam(d_c.parameters(), 1e-2, "tf1")
    d_c.load_state_dict(ckpt["d"])
    opt_c.load_state_dict(ckpt["opt"])
    torch.set_rng_state(ckpt["rng"])
    train_discriminator_graphed(d_c, opt_c, real, fake, epochs=2, batch_size=16, bf16=False)
    assert_same_training(d_c, opt_c, d_a, opt_a)


@pytest.mark.parametrize("merge, bf16", [(False, False), (True, False), (True, True)])
def test_step_compiles_without_graph_breaks(merge, bf16):
    """The proxy for capturable: the minibatch pick and loss trace whole (fullgraph=True) with
    their backward, in both forms of the convolutions and under bf16 autocast, and so does
    TF1Adam's device update; no host read, no branch on a value. (Adam's fused, capturable step
    is PyTorch's to keep capturable.)"""
    real, fake = torch.randint(0, 15, (20, 12)), torch.randint(15, 30, (20, 12))
    d = small_d(dropout_keep=1.0)
    d.merge = merge
    step = DStep(d, adam(d.parameters(), 1e-2), 40, 12, 16, bf16=bf16)
    step.seqs.copy_(torch.cat([real, fake]))
    step.labels[:20] = 1
    torch.randperm(40, out=step.order)
    step.offset.fill_(16)
    rows = step.plan[0][0]
    want = step.minibatch_loss(rows)
    want_grads = torch.autograd.grad(want, list(d.parameters()))
    torch._dynamo.reset()
    try:
        loss = torch.compile(step.minibatch_loss, fullgraph=True, backend="aot_eager")(rows)
        grads = torch.autograd.grad(loss, list(d.parameters()))
        update = torch.compile(tf1_adam_update, fullgraph=True, backend="aot_eager")
        p, g, m, v, t = torch.zeros(3), torch.ones(3), torch.zeros(3), torch.zeros(3), torch.zeros(())
        update([p], [g], [m], [v], [t], lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    finally:
        torch._dynamo.reset()
    tol = {"rtol": 2e-2, "atol": 2e-2} if bf16 else {}
    torch.testing.assert_close(loss, want, **tol)
    for a, b in zip(grads, want_grads):
        torch.testing.assert_close(a, b, **tol)
    assert t.item() == 1.0 and torch.allclose(
        p, torch.full((3,), -0.01 * math.sqrt(1 - 0.999) / (math.sqrt(1 - 0.999) + 1e-8))
    )


def test_tf1_adam_device_form_steps_by_tensorflow_1s_formula():
    """TF1Adam's form off the CPU (``tf1_adam_update``) keeps the step count a tensor and steps by
    TF 1's formula, written out by hand, at tiny gradients where epsilon's placement matters."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    start = torch.tensor([0.5, -0.3, 0.2, 0.1], dtype=torch.float64)
    grads = [torch.tensor([1e-7, -2e-7, 0.3, 0.0], dtype=torch.float64) * (k + 1) for k in range(3)]
    w, m_t, v_t, step = start.clone().float(), torch.zeros(4), torch.zeros(4), torch.zeros(())
    theta, m, v = start.clone(), torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / (v.sqrt() + eps)
        tf1_adam_update([w], [g.float()], [m_t], [v_t], [step], lr=lr, beta1=b1, beta2=b2, eps=eps)
        torch.testing.assert_close(w.double(), theta, rtol=1e-6, atol=1e-7)
    assert step.item() == 3.0


def test_tf1_adam_off_the_cpu_reads_no_host_value():
    """On the meta device a value read back to the host raises: TF1Adam's steps there run, and
    keep torch Adam's state (a float32 step count tensor, the two moments), so checkpoints move."""
    w = torch.nn.Parameter(torch.zeros(4, device="meta"))
    opt = TF1Adam([w], lr=0.01, fused=True)
    for _ in range(2):
        w.grad = torch.ones(4, device="meta")
        opt.step()
    state = opt.state[w]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq"}
    assert state["step"].device.type == "meta" and state["step"].dtype == torch.float32


@pytest.mark.parametrize(
    "kw, key",
    [
        ({"gp": "r1", "gp_weight": 1.0}, "discriminator.gradient_penalty"),
        ({"compile_mode": "reduce-overhead"}, "discriminator.compile"),
    ],
)
def test_what_a_graph_cannot_hold_is_refused_in_one_line(kw, key):
    d = small_d()
    real = torch.randint(0, 30, (8, 12))
    with pytest.raises(ValueError, match=f"^key '{key}'") as e:
        train_discriminator_graphed(d, adam(d.parameters(), 1e-2), real, real, 1, 4, False, **kw)
    assert "\n" not in str(e.value)


def test_torchrun_is_refused_and_only_cuda_is_graphed(monkeypatch):
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    d = small_d()
    real = torch.randint(0, 30, (8, 12))
    with pytest.raises(ValueError, match="^key 'device': .*torchrun"):
        train_discriminator_graphed(d, adam(d.parameters(), 1e-2), real, real, 1, 4, False)
    assert d_graph.graphed(torch.device("cuda"), "none", "none", False)
    assert not d_graph.graphed(torch.device("cpu"), "none", "none", False)
    assert not d_graph.graphed(torch.device("cuda"), "r1", "none", False)
    assert not d_graph.graphed(torch.device("cuda"), "none", "default", False)
    assert not d_graph.graphed(torch.device("cuda"), "none", "none", True)


@cuda
@pytest.mark.parametrize("epsilon_form", ["pytorch", "tf1"])
def test_cuda_capture_and_replay_equal_eager(epsilon_form):
    """Captured graphs (full and short last minibatch) against the same steps run eagerly on the
    GPU, no dropout, no TF32: equal to fp32 rounding over two calls of 2 epochs; the warm-up
    before the capture changed nothing (else the first call would differ)."""
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        real, fake = torch.randint(0, 15, (150, 12), device="cuda"), torch.randint(15, 30, (150, 12), device="cuda")
        d_eager, d_graph_ = small_d(dropout_keep=1.0, device="cuda"), small_d(dropout_keep=1.0, device="cuda")
        opt_eager = adam(d_eager.parameters(), 1e-2, epsilon_form)
        opt_graph = adam(d_graph_.parameters(), 1e-2, epsilon_form)
        for call in range(2):
            torch.manual_seed(call)
            step = DStep(d_eager, opt_eager, 300, 12, 64, bf16=False)  # eager on the GPU: never captured
            step.seqs.copy_(torch.cat([real, fake]))
            step.labels.copy_(torch.cat([torch.ones(150), torch.zeros(150)]).long())
            for _ in range(2):
                step.loss_sum.zero_()
                step.epoch()
            want = (step.loss_sum / step.steps_per_epoch).item()
            torch.manual_seed(call)
            got = train_discriminator_graphed(d_graph_, opt_graph, real, fake, epochs=2, batch_size=64, bf16=False)
            assert d_graph._STEPS[d_graph_].graphs is not None
            assert got == pytest.approx(want, rel=1e-5)
            assert_same_training(d_graph_, opt_graph, d_eager, opt_eager, rtol=1e-4, atol=1e-5)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32


@cuda
def test_cuda_graph_dropout_keeps_its_distribution():
    """Under a graph dropout draws new bits at every replay (the graph's philox offsets move on),
    at the keep probability: today's distribution, not today's bits."""
    x, drop = torch.ones(64, 1720, device="cuda"), torch.nn.Dropout(p=0.25).train()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        drop(x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        y = drop(x)
    masks = []
    for _ in range(20):
        graph.replay()
        masks.append(y != 0)
    shares = torch.stack([m.float().mean() for m in masks])
    assert (shares - 0.75).abs().max().item() < 0.01, shares
    assert not torch.equal(masks[0], masks[1])
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1.0 / 0.75))  # kept units scaled by 1 / keep


@cuda
def test_cuda_bf16_graph_runs_at_the_paper_filter_counts():
    torch.manual_seed(0)
    d = Discriminator(100, 20, filter_sizes=PAPER_FILTER_SIZES, num_filters=PAPER_NUM_FILTERS).cuda()
    real, fake = torch.randint(0, 50, (200, 20), device="cuda"), torch.randint(50, 100, (200, 20), device="cuda")
    before = copy.deepcopy(d.state_dict())
    loss = train_discriminator_graphed(d, adam(d.parameters(), 1e-4), real, fake, epochs=2, batch_size=64, bf16=True)
    assert math.isfinite(loss)
    assert all(not torch.equal(before[k], v) for k, v in d.state_dict().items())


def test_a_discriminator_copy_gets_its_own_step_and_none_outlives_its_discriminator():
    import gc

    d = small_d()
    real = torch.randint(0, 30, (8, 12))
    train_discriminator_graphed(d, adam(d.parameters(), 1e-2), real, real, 1, 4, False)
    twin = copy.deepcopy(d)
    train_discriminator_graphed(twin, adam(twin.parameters(), 1e-2), real, real, 1, 4, False)
    assert d_graph._STEPS[twin] is not d_graph._STEPS[d]
    n = len(d_graph._STEPS)
    del twin
    gc.collect()
    assert len(d_graph._STEPS) == n - 1


@pytest.fixture
def stand_in_graphs(monkeypatch):
    """CUDA graphs stood in for on the CPU: a 'capture' runs its step eagerly and then puts back
    everything the step changed (a real capture runs nothing), and a replay runs the captured step
    again. What this checks is ``DStep.capture``'s bookkeeping: the warm-up changes nothing saved,
    the graphs replay in the plan's order."""

    class Graph:
        def replay(self):
            self.fn()

    capturing = {}

    @contextlib.contextmanager
    def graph(g):
        step = capturing["step"]
        saved = (
            [p.detach().clone() for p in step.discriminator.parameters()],
            copy.deepcopy(step.optimizer.state_dict()),
            torch.get_rng_state(),
            step.loss_sum.clone(),
            step.offset.clone(),
        )
        capturing["graph"] = g
        yield
        del capturing["graph"]
        with torch.no_grad():
            for p, v in zip(step.discriminator.parameters(), saved[0]):
                p.copy_(v)
        state = step.optimizer.state_dict()
        for k, s in saved[1]["state"].items():
            for name, v in s.items():
                state["state"][k][name].copy_(v)
        torch.set_rng_state(saved[2])
        step.loss_sum.copy_(saved[3])
        step.offset.copy_(saved[4])

    real_step, real_capture = DStep.step, DStep.capture

    def step(self, rows):
        if "graph" in capturing:
            capturing["graph"].fn = lambda: real_step(self, rows)
        real_step(self, rows)

    def capture(self, warmup=3):
        capturing["step"] = self
        real_capture(self, warmup)

    class Stream:
        def __init__(self, *a):
            pass

        def wait_stream(self, other):
            pass

    monkeypatch.setattr(DStep, "step", step)
    monkeypatch.setattr(DStep, "capture", capture)
    monkeypatch.setattr(d_graph, "_captures", lambda device: True)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", Graph)
    monkeypatch.setattr(torch.cuda, "graph", graph)
    monkeypatch.setattr(torch.cuda, "Stream", Stream)
    monkeypatch.setattr(torch.cuda, "stream", lambda s: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "current_stream", lambda *a: Stream())
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda *a: torch.get_rng_state())
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, *a: torch.set_rng_state(state))


@pytest.mark.parametrize("epsilon_form", ["pytorch", "tf1"])
def test_capture_bookkeeping_leaves_training_as_eager(stand_in_graphs, epsilon_form):
    """With the stand-in graphs, warm-up (3 steps of each size), restore, capture and replays
    train exactly as today's train_discriminator, dropout included, over two calls (the second
    replays the graphs captured in the first)."""
    real, fake = torch.randint(0, 15, (22, 12)), torch.randint(15, 30, (22, 12))
    d_ref, d_new = small_d(), small_d()
    opt_ref, opt_new = adam(d_ref.parameters(), 1e-2, epsilon_form), adam(d_new.parameters(), 1e-2, epsilon_form)
    for call in range(2):
        torch.manual_seed(20 + call)
        want = train_discriminator(d_ref, opt_ref, real, fake, epochs=3, batch_size=16, bf16=False)
        torch.manual_seed(20 + call)
        got = train_discriminator_graphed(d_new, opt_new, real, fake, epochs=3, batch_size=16, bf16=False)
        assert d_graph._STEPS[d_new].graphs is not None and len(d_graph._STEPS[d_new].graphs) == 2
        assert got == want
        assert_same_training(d_new, opt_new, d_ref, opt_ref)
    assert all(group["capturable"] for group in opt_new.param_groups)
