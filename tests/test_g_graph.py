"""The graph-ready MLE epochs (seqgan/g_graph.py): run eagerly on the CPU they compute what
``train.mle_epoch`` computes, bit for bit; their step holds no host read or graph break; what a
graph cannot hold is refused in one line or left to the eager path; on CUDA, capture and replay
equal eager to rounding."""

from __future__ import annotations

import contextlib
import copy
import gc

import pytest
import torch

from seqgan import g_graph
from seqgan.build import adam
from seqgan.g_graph import GStep, mle_epoch_graphed
from seqgan.generator import Generator
from seqgan.train import mle_epoch

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def small_g(seed: int = 0, device: str = "cpu", eos_token: int | None = None) -> Generator:
    torch.manual_seed(seed)
    return Generator(30, 12, emb_dim=8, hidden_dim=8, eos_token=eos_token).to(device)


def assert_same_training(g_a, opt_a, g_b, opt_b, rtol=0.0, atol=0.0):
    for (name, a), b in zip(g_a.named_parameters(), g_b.parameters()):
        torch.testing.assert_close(a, b, rtol=rtol, atol=atol, msg=name)
        assert set(opt_a.state[a]) == set(opt_b.state[b]), name
        for key, value in opt_a.state[a].items():
            torch.testing.assert_close(value, opt_b.state[b][key], rtol=rtol, atol=atol, msg=f"{name} {key}")


@pytest.mark.parametrize(
    "epsilon_form, grad_clip, eos_token",
    [("pytorch", 5.0, None), ("pytorch", 0.01, None), ("tf1", 0.01, None), ("pytorch", 0.01, 7)],
)
def test_eager_epochs_equal_mle_epoch(epsilon_form, grad_clip, eos_token):
    """Three epochs over 70 rows in minibatches of 32 (the last one 6 rows; 384 loss rows a full
    minibatch, two of the CPU's 256-row loss chunks), with the clip off (5.0) and biting (0.01),
    then an epoch over a second data set of another size: loss, every weight and Adam's state equal
    today's mle_epoch bit for bit."""
    data = torch.randint(0, 30, (70, 12))
    g_ref, g_new = small_g(eos_token=eos_token), small_g(eos_token=eos_token)
    opt_ref, opt_new = adam(g_ref.parameters(), 1e-2, epsilon_form), adam(g_new.parameters(), 1e-2, epsilon_form)
    for epoch, d in enumerate([data, data, data, data[:45]]):
        torch.manual_seed(10 + epoch)
        want = mle_epoch(g_ref, opt_ref, d, 32, grad_clip)
        torch.manual_seed(10 + epoch)
        got = mle_epoch_graphed(g_new, opt_new, d, 32, grad_clip)
        assert got == want
        assert_same_training(g_new, opt_new, g_ref, opt_ref)
    step = g_graph._STEPS[g_new]
    assert step.steps_per_epoch == 2 and step.graphs is None  # rebuilt for the 45 rows; never captured on the CPU


def test_the_clip_bites_and_reads_the_same_norm():
    """At 0.01 the clip scales the gradients (their norm is far above it), and the step's clip
    returns the norm clip_grad_norm_'s default form returns."""
    g = small_g()
    step = GStep(g, adam(g.parameters(), 1e-2), 70, 12, 32, 0.01)
    step.data.copy_(torch.randint(0, 30, (70, 12)))
    torch.randperm(70, out=step.order)
    step.minibatch_loss(step.plan[0][0]).backward()
    grads = [p.grad.clone() for p in g.parameters() if p.grad is not None]
    norm = step.clip()
    assert norm.item() > 2 * 0.01
    want = torch.nn.utils.get_total_norm(grads)
    assert torch.equal(norm, want)
    for p, before in zip([p for p in g.parameters() if p.grad is not None], grads):
        torch.testing.assert_close(p.grad, before * (0.01 / (want + 1e-6)), rtol=0, atol=0)


def test_step_compiles_without_graph_breaks():
    """The proxy for capturable: the minibatch pick and MLE loss trace whole (fullgraph=True) with
    their backward, and so does the clip (norm, coefficient, scaling): no host read, no branch on a
    value. Dynamo breaks on nn.LSTM by policy (``allow_rnn``), not for a host read: lifted here.
    (Adam's fused, capturable step is PyTorch's to keep capturable; TF1Adam's device form is
    checked in tests/test_d_graph.py.)"""
    g = small_g()
    step = GStep(g, adam(g.parameters(), 1e-2), 70, 12, 32, 0.01)
    step.data.copy_(torch.randint(0, 30, (70, 12)))
    torch.randperm(70, out=step.order)
    step.offset.fill_(32)
    rows = step.plan[0][0]
    params = [p for p in g.parameters() if p.requires_grad]
    want = step.minibatch_loss(rows)
    want_grads = torch.autograd.grad(want, params)
    torch._dynamo.reset()
    try:
        with torch._dynamo.config.patch(allow_rnn=True):
            loss = torch.compile(step.minibatch_loss, fullgraph=True, backend="aot_eager")(rows)
            grads = torch.autograd.grad(loss, params)
            for p, gr in zip(params, grads):
                p.grad = gr.clone()
            norm = torch.compile(step.clip, fullgraph=True, backend="aot_eager")()
    finally:
        torch._dynamo.reset()
    torch.testing.assert_close(loss, want)
    for a, b in zip(grads, want_grads):
        torch.testing.assert_close(a, b)
    want_norm = torch.nn.utils.get_total_norm(want_grads)
    torch.testing.assert_close(norm, want_norm)
    for p, b in zip(params, want_grads):
        torch.testing.assert_close(p.grad, b * (0.01 / (want_norm + 1e-6)))


def test_scheduled_sampling_and_torchrun_are_not_graphed(monkeypatch):
    """graphed(): CUDA, plain MLE, one process. Called anyway, the graph-ready epoch refuses
    scheduled sampling and torchrun in one line."""
    assert g_graph.graphed(torch.device("cuda"), 0.0, False)
    assert not g_graph.graphed(torch.device("cpu"), 0.0, False)
    assert not g_graph.graphed(torch.device("cuda"), 0.25, False)
    assert not g_graph.graphed(torch.device("cuda"), 0.0, True)
    g = small_g()
    data = torch.randint(0, 30, (8, 12))
    with pytest.raises(ValueError, match="^sample_prob: .*scheduled sampling") as e:
        mle_epoch_graphed(g, adam(g.parameters(), 1e-2), data, 4, 5.0, sample_prob=0.25)
    assert "\n" not in str(e.value)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    with pytest.raises(ValueError, match="^key 'device': .*torchrun") as e:
        mle_epoch_graphed(g, adam(g.parameters(), 1e-2), data, 4, 5.0)
    assert "\n" not in str(e.value)


def test_a_generator_copy_gets_its_own_step_and_none_outlives_its_generator():
    g = small_g()
    data = torch.randint(0, 30, (8, 12))
    mle_epoch_graphed(g, adam(g.parameters(), 1e-2), data, 4, 5.0)
    twin = g.copy()
    mle_epoch_graphed(twin, adam(twin.parameters(), 1e-2), data, 4, 5.0)
    assert g_graph._STEPS[twin] is not g_graph._STEPS[g]
    n = len(g_graph._STEPS)
    del twin
    gc.collect()
    assert len(g_graph._STEPS) == n - 1


@pytest.fixture
def stand_in_graphs(monkeypatch):
    """CUDA graphs stood in for on the CPU (as in tests/test_d_graph.py): a 'capture' runs its step
    eagerly and then puts back everything the step changed (a real capture runs nothing), and a
    replay runs the captured step again. What this checks is ``GStep.capture``'s bookkeeping: the
    warm-up changes nothing saved, the graphs replay in the plan's order."""

    class Graph:
        def replay(self):
            self.fn()

    capturing = {"captures": 0}

    @contextlib.contextmanager
    def graph(g):
        step = capturing["step"]
        saved = (
            [p.detach().clone() for p in step.generator.parameters()],
            copy.deepcopy(step.optimizer.state_dict()),
            torch.get_rng_state(),
            step.losses.clone(),
            step.count.clone(),
            step.offset.clone(),
        )
        capturing["graph"] = g
        capturing["captures"] += 1
        yield
        del capturing["graph"]
        with torch.no_grad():
            for p, v in zip(step.generator.parameters(), saved[0]):
                p.copy_(v)
        state = step.optimizer.state_dict()
        for k, s in saved[1]["state"].items():
            for name, v in s.items():
                state["state"][k][name].copy_(v)
        torch.set_rng_state(saved[2])
        step.losses.copy_(saved[3])
        step.count.copy_(saved[4])
        step.offset.copy_(saved[5])

    real_step, real_capture = GStep.step, GStep.capture

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

    monkeypatch.setattr(GStep, "step", step)
    monkeypatch.setattr(GStep, "capture", capture)
    monkeypatch.setattr(g_graph, "_captures", lambda device: True)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", Graph)
    monkeypatch.setattr(torch.cuda, "graph", graph)
    monkeypatch.setattr(torch.cuda, "Stream", Stream)
    monkeypatch.setattr(torch.cuda, "stream", lambda s: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "current_stream", lambda *a: Stream())
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda *a: torch.get_rng_state())
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, *a: torch.set_rng_state(state))
    return capturing


@pytest.mark.parametrize("epsilon_form", ["pytorch", "tf1"])
def test_capture_bookkeeping_leaves_training_as_eager(stand_in_graphs, epsilon_form):
    """With the stand-in graphs, warm-up (3 steps of each size), restore, capture and replays train
    exactly as today's mle_epoch over three epochs (the later ones replay the graphs captured in
    the first); then a checkpoint round trip of the optimiser (as --resume does: new state tensors)
    recaptures, and training goes on exactly as today's."""
    data = torch.randint(0, 30, (70, 12))
    g_ref, g_new = small_g(), small_g()
    opt_ref, opt_new = adam(g_ref.parameters(), 1e-2, epsilon_form), adam(g_new.parameters(), 1e-2, epsilon_form)
    for epoch in range(3):
        torch.manual_seed(20 + epoch)
        want = mle_epoch(g_ref, opt_ref, data, 32, 0.01)
        torch.manual_seed(20 + epoch)
        got = mle_epoch_graphed(g_new, opt_new, data, 32, 0.01)
        assert g_graph._STEPS[g_new].graphs is not None and len(g_graph._STEPS[g_new].graphs) == 2
        assert got == want
        assert_same_training(g_new, opt_new, g_ref, opt_ref)
    assert stand_in_graphs["captures"] == 2
    assert all(group["capturable"] for group in opt_new.param_groups)
    first = g_graph._STEPS[g_new]
    opt_new.load_state_dict(copy.deepcopy(opt_new.state_dict()))
    torch.manual_seed(30)
    want = mle_epoch(g_ref, opt_ref, data, 32, 0.01)
    torch.manual_seed(30)
    got = mle_epoch_graphed(g_new, opt_new, data, 32, 0.01)
    assert g_graph._STEPS[g_new] is not first and stand_in_graphs["captures"] == 4
    assert got == want
    assert_same_training(g_new, opt_new, g_ref, opt_ref)


@cuda
@pytest.mark.parametrize("epsilon_form", ["pytorch", "tf1"])
def test_cuda_capture_and_replay_equal_eager(epsilon_form):
    """Captured graphs (full and short last minibatch) against the same steps run eagerly on the
    GPU, no TF32, the clip biting: equal to fp32 rounding over three epochs; the warm-up before the
    capture changed nothing (else the first epoch would differ)."""
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        data = torch.randint(0, 30, (300, 12), device="cuda")
        g_eager, g_graph_ = small_g(device="cuda"), small_g(device="cuda")
        opt_eager = adam(g_eager.parameters(), 1e-2, epsilon_form)
        opt_graph = adam(g_graph_.parameters(), 1e-2, epsilon_form)
        step = GStep(g_eager, opt_eager, 300, 12, 64, 0.01)  # eager on the GPU: never captured
        step.data.copy_(data)
        for epoch in range(3):
            torch.manual_seed(epoch)
            step.epoch()
            want = step.losses.mean().item()
            torch.manual_seed(epoch)
            got = mle_epoch_graphed(g_graph_, opt_graph, data, 64, 0.01)
            assert g_graph._STEPS[g_graph_].graphs is not None
            assert got == pytest.approx(want, rel=1e-5)
            assert_same_training(g_graph_, opt_graph, g_eager, opt_eager, rtol=1e-4, atol=1e-5)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32


@cuda
def test_cuda_graphed_epoch_equals_mle_epoch_at_the_paper_sizes(monkeypatch):
    """The graphed epoch against today's mle_epoch on the GPU, at the paper's sizes (V 5,000,
    T 20, batch 64, 1,000 rows: 15 full minibatches and a short one of 40): to fp32 rounding."""
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        torch.manual_seed(0)
        g_ref = Generator(5000, 20).cuda()
        g_new = g_ref.copy()
        opt_ref, opt_new = adam(g_ref.parameters(), 1e-2), adam(g_new.parameters(), 1e-2)
        data = torch.randint(0, 5000, (1000, 20), device="cuda")
        for epoch in range(2):
            torch.manual_seed(epoch)
            with monkeypatch.context() as m:  # today's eager epoch, whatever train.mle_epoch dispatches to
                m.setattr(g_graph, "graphed", lambda *a: False)
                want = mle_epoch(g_ref, opt_ref, data, 64, 5.0)
            torch.manual_seed(epoch)
            got = mle_epoch_graphed(g_new, opt_new, data, 64, 5.0)
            assert got == pytest.approx(want, rel=1e-5)
            assert_same_training(g_new, opt_new, g_ref, opt_ref, rtol=1e-4, atol=1e-5)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
