"""G's MLE epochs in a form one CUDA graph holds: ``mle_epoch_graphed`` (issue 24, item 4).

An MLE step of batch 64 on a GPU is some hundred small kernels (the LSTM, the fused output-layer
loss in one chunk, ``generator.loss_chunk``, the gradient clip and Adam), bound by their launches.
Here a step is one graph replay, captured as d_graph.py captures D's step (PyTorch's CUDA Graphs
notes, "whole network capture", ``torch.cuda.graph``):

- fixed device buffers hold the training sequences (N, T), the epoch's permutation (N,) and the
  epoch's minibatch losses (steps,);
- a step picks its minibatch on the device, ``index_select`` at a device offset that the step
  itself advances, and writes its loss at a device count: a replay reads nothing from the host;
- zero_grad, ``Generator.mle_loss``, backward, ``clip_grad_norm_`` (``foreach=True``: the norm, the
  clip coefficient ``min(max_norm / (norm + 1e-6), 1)`` and the scaling stay device tensors; with
  ``error_if_nonfinite=False`` it reads nothing on the host) and Adam (fused, ``capturable``; TF1Adam
  in its device form) run inside the graph;
- one graph for full minibatches and one for the short last minibatch: an epoch of 10,000
  sequences is one ``randperm``, 156 replays of the first and one of the second, and one host
  read of the mean loss at the end.

Warm-up steps run before a capture on a side stream and change nothing that is saved (weights,
optimiser state, RNG states restored). A step is kept per generator (the MLE row and the
scheduled-sampling row have their own) and rebuilt and recaptured when a weight or optimiser state
tensor is replaced (``--resume``), the optimiser, the data's shape, the batch size or the clip
changes.

On the CPU the same step runs eagerly and computes what ``train.mle_epoch`` computes, to the bit
(tests/test_g_graph.py): the same ``randperm`` from the same RNG as ``data.batches``, the same
minibatches, the same clip and Adam kernels, the mean of the same stacked losses. MLE draws no
random numbers, so a replay is today's step to rounding.

Not captured: scheduled sampling (``sample_prob > 0``: its inputs depend on the model's own draws
step by step; it stays eager in ``train.mle_epoch``), and runs under torchrun (DDP's reducer).
"""

from __future__ import annotations

import weakref

import torch

from .generator import Generator
from .runtime.cuda_graphs import capture_step_graphs, epoch_plan, state_addresses


def graphed(device: torch.device, sample_prob: float, distributed: bool) -> bool:
    """Whether an MLE epoch runs through ``mle_epoch_graphed`` (captured as CUDA graphs) on
    ``device``: on CUDA, plain teacher forcing (no scheduled sampling), not under torchrun."""
    return device.type == "cuda" and sample_prob == 0.0 and not distributed


def refuse(sample_prob: float, distributed: bool) -> None:
    """One-line ``ValueError`` for what a captured MLE step cannot hold."""
    if sample_prob != 0.0:
        raise ValueError(
            f"sample_prob: a captured MLE step is teacher-forced; scheduled sampling "
            f"(sample_prob={sample_prob}) runs eagerly in train.mle_epoch"
        )
    if distributed:
        raise ValueError("key 'device': a captured MLE step runs in one process, not under torchrun (DDP's reducer)")


class GStep:
    """G's MLE step over fixed buffers; ``epoch`` runs one epoch, replayed as graphs on CUDA.

    Args:
        generator: G, trained in place.
        optimizer: its Adam (or TF1Adam); on CUDA its groups are marked ``capturable``.
        num_rows: N, the training sequences.
        seq_len: T.
        batch_size: the minibatch size; the last minibatch of an epoch holds N mod batch_size rows.
        grad_clip: the maximum gradient norm (a constant of the captured graphs).
    """

    def __init__(
        self,
        generator: Generator,
        optimizer: torch.optim.Optimizer,
        num_rows: int,
        seq_len: int,
        batch_size: int,
        grad_clip: float,
    ):
        device = generator.out.weight.device
        # weak: this object is the value of _STEPS, whose key is the generator
        self._generator = weakref.ref(generator)
        self.optimizer, self.device, self.batch_size, self.grad_clip = optimizer, device, batch_size, grad_clip
        self.data = torch.zeros(num_rows, seq_len, dtype=torch.long, device=device)  # (N, T)
        self.order = torch.zeros(num_rows, dtype=torch.long, device=device)  # (N,): this epoch's permutation
        self.offset = torch.zeros((), dtype=torch.long, device=device)  # the next minibatch's first place in order
        self.plan = epoch_plan(num_rows, batch_size, device)  # full minibatches, then the short last
        self.steps_per_epoch = sum(k for _, k in self.plan)
        self.losses = torch.zeros(self.steps_per_epoch, device=device)  # this epoch's minibatch losses
        self.count = torch.zeros(1, dtype=torch.long, device=device)  # the next loss's place in losses
        self.graphs: list[torch.cuda.CUDAGraph] | None = None
        self.tensors = self._tensors()

    @property
    def generator(self) -> Generator:
        g = self._generator()
        assert g is not None, "GStep: its generator is gone"
        return g

    def _tensors(self) -> list[int]:
        return state_addresses(self.generator.parameters(), self.optimizer)

    def minibatch_loss(self, rows: torch.Tensor) -> torch.Tensor:
        """MLE's loss on the minibatch at ``order[offset : offset + len(rows)]``, picked on the device."""
        mb = self.order.index_select(0, self.offset + rows)  # (b,)
        return self.generator.mle_loss(self.data.index_select(0, mb))

    def clip(self) -> torch.Tensor:
        """``train.mle_epoch``'s gradient clip, all on the device: the total norm, the coefficient
        ``min(grad_clip / (norm + 1e-6), 1)`` and the scaling (no host read, no branch on a value)."""
        return torch.nn.utils.clip_grad_norm_(self.generator.parameters(), self.grad_clip, foreach=True)

    def step(self, rows: torch.Tensor) -> None:
        """One MLE step on the next minibatch; then the offset and the loss count move on. No host
        read, no branch on a tensor's value: a CUDA graph can hold it."""
        loss = self.minibatch_loss(rows)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.clip()
        self.optimizer.step()
        with torch.no_grad():
            self.losses.index_copy_(0, self.count, loss.detach().view(1))
            self.count.add_(1)
            self.offset.add_(len(rows))

    def epoch(self) -> None:
        """One epoch: a fresh permutation (one ``randperm``, as ``data.batches`` draws it), then every
        minibatch in its order."""
        torch.randperm(len(self.order), device=self.device, out=self.order)
        self.offset.zero_()
        self.count.zero_()
        for i, (rows, steps) in enumerate(self.plan):
            for _ in range(steps):
                if self.graphs is not None:
                    self.graphs[i].replay()
                else:
                    self.step(rows)

    def capture(self, warmup: int = 3) -> None:
        """Capture one CUDA graph per minibatch size, after ``warmup`` eager steps that change nothing
        saved (``runtime/cuda_graphs.py``)."""
        sizes = [rows for rows, _ in self.plan]
        self.graphs = capture_step_graphs(
            self.generator.parameters(), self.optimizer, self.device, sizes, self.step, self._rewind, warmup
        )
        self.tensors = self._tensors()

    def _rewind(self) -> None:
        """Back to the epoch's first minibatch and loss slot."""
        self.offset.zero_()
        self.count.zero_()


def _captures(device: torch.device) -> bool:
    return device.type == "cuda"  # a test puts a stand-in for CUDA graphs here


# generator -> its GStep, kept between calls (the paper preset runs 120 MLE epochs and the MLE row one a round)
_STEPS: weakref.WeakKeyDictionary[torch.nn.Module, GStep] = weakref.WeakKeyDictionary()


def mle_epoch_graphed(
    generator: Generator,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    batch_size: int,
    grad_clip: float,
    sample_prob: float = 0.0,
) -> float:
    """``train.mle_epoch`` with every step a graph replay on CUDA (eager on the CPU): one epoch of
    maximum-likelihood training over shuffled minibatches of ``data``.

    Args:
        generator: G, trained in place.
        optimizer: G's Adam.
        data: (N, T) training sequences.
        batch_size: minibatch size.
        grad_clip: the maximum gradient norm.
        sample_prob: accepted for the same signature; anything but 0 is refused (scheduled sampling stays eager).

    Returns:
        The mean of the epoch's minibatch losses.
    """
    refuse(sample_prob, torch.distributed.is_available() and torch.distributed.is_initialized())
    generator.train()
    step = _STEPS.get(generator)
    if (
        step is None
        or step.optimizer is not optimizer
        or step.data.shape != data.shape
        or step.batch_size != batch_size
        or step.grad_clip != grad_clip
        or step.tensors != step._tensors()
    ):
        step = _STEPS[generator] = GStep(generator, optimizer, len(data), data.shape[1], batch_size, grad_clip)
    step.data.copy_(data)
    if _captures(step.device) and step.graphs is None:
        step.capture()
    step.epoch()
    return step.losses.mean().item()
