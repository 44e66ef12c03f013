"""D's training epochs in a form one CUDA graph holds: ``train_discriminator_graphed`` (issue 24).

The paper protocol is about 94% discriminator steps of batch 64. On a GPU such a step is a few
hundred small kernels, and their launches, not their arithmetic, bound it. Here a step is one
graph replay, captured as PyTorch's CUDA Graphs notes capture a whole network ("whole network
capture", ``torch.cuda.graph``):

- fixed device buffers hold the epoch's sequences (N, T), labels (N,) and permutation (N,);
- a step picks its minibatch on the device, ``index_select`` at a device offset that the step
  itself advances, so a replay reads nothing from the host and branches on no tensor value;
- zero_grad, the loss, backward and the optimiser's step (Adam fused, ``capturable``; TF1Adam in
  its device form, optim.py) run inside the graph, and so does the sum of the epoch's losses;
- one graph for full minibatches and one for the short last minibatch: an epoch of 20,000
  sequences is one ``randperm`` into the permutation buffer, 312 replays of the first and one of
  the second, and one host read of the mean loss at the end.

Warm-up steps run before a capture (on a side stream, as the notes ask) and change nothing that
is saved: the weights, the optimiser's state and the RNG states are restored after them. A graph
is kept per discriminator and recaptured when a weight or an optimiser state tensor is replaced
(``load_state_dict`` of an optimiser after ``--resume``, a new optimiser).

On the CPU the same step function runs eagerly and computes what ``train.train_discriminator``
computes, to the bit in fp32 (tests/test_d_graph.py): the same permutation from the same RNG, the
same minibatches, dropout drawn in the same order. Under a CUDA graph dropout's masks come from
the graph's philox offsets: the same distribution as eager, not the same bits.

Not captured (``ValueError`` naming the key): a gradient penalty (its double backward), a
``discriminator.compile`` mode (inductor's own CUDA graphs), and runs under torchrun (DDP's reducer).
"""

from __future__ import annotations

import contextlib
import weakref

import torch

from .data import discriminator_set
from .discriminator import Discriminator
from .runtime.cuda_graphs import capture_step_graphs, epoch_plan, state_addresses


def graphed(device: torch.device, gradient_penalty: str, compile_mode: str, distributed: bool) -> bool:
    """Whether D trains through ``train_discriminator_graphed`` (captured as a CUDA graph) on
    ``device``: on CUDA, without a gradient penalty, a compile mode or torchrun."""
    return device.type == "cuda" and gradient_penalty == "none" and compile_mode == "none" and not distributed


def refuse(gradient_penalty: str, compile_mode: str, distributed: bool) -> None:
    """One-line ``ValueError`` for what a captured D step cannot hold."""
    if gradient_penalty != "none":
        raise ValueError(
            f"key 'discriminator.gradient_penalty': a captured D step takes no gradient penalty "
            f"(its double backward), got {gradient_penalty!r}"
        )
    if compile_mode != "none":
        raise ValueError(f"key 'discriminator.compile': a captured D step runs eager kernels, got {compile_mode!r}")
    if distributed:
        raise ValueError("key 'device': a captured D step runs in one process, not under torchrun (DDP's reducer)")


class DStep:
    """D's training step over fixed buffers; ``epoch`` runs one epoch, replayed as graphs on CUDA.

    Args:
        discriminator: D, trained in place.
        optimizer: its Adam (or TF1Adam); on CUDA its groups are marked ``capturable``.
        num_rows: N, the rows of every training set this step will see.
        seq_len: T.
        batch_size: the minibatch size; the last minibatch of an epoch holds N mod batch_size rows.
        bf16: run the loss under bf16 autocast (fp32 master weights).
    """

    def __init__(
        self,
        discriminator: Discriminator,
        optimizer: torch.optim.Optimizer,
        num_rows: int,
        seq_len: int,
        batch_size: int,
        bf16: bool,
    ):
        device = discriminator.out.weight.device
        # weak: this object is the value of _STEPS, whose key is the discriminator
        self._discriminator = weakref.ref(discriminator)
        self.optimizer, self.bf16, self.device = optimizer, bf16, device
        self.seqs = torch.zeros(num_rows, seq_len, dtype=torch.long, device=device)  # (N, T)
        self.labels = torch.zeros(num_rows, dtype=torch.long, device=device)  # (N,)
        self.order = torch.zeros(num_rows, dtype=torch.long, device=device)  # (N,): this epoch's permutation
        self.offset = torch.zeros((), dtype=torch.long, device=device)  # the next minibatch's first place in order
        self.loss_sum = torch.zeros((), device=device)
        self.batch_size = batch_size
        self.plan = epoch_plan(num_rows, batch_size, device)  # full minibatches, then the short last
        self.steps_per_epoch = sum(k for _, k in self.plan)
        self.graphs: list[torch.cuda.CUDAGraph] | None = None
        self.tensors = self._tensors()

    @property
    def discriminator(self) -> Discriminator:
        d = self._discriminator()
        assert d is not None, "DStep: its discriminator is gone"
        return d

    def _tensors(self) -> list[int]:
        return state_addresses(self.discriminator.parameters(), self.optimizer)

    def minibatch_loss(self, rows: torch.Tensor) -> torch.Tensor:
        """D's loss on the minibatch at ``order[offset : offset + len(rows)]``, picked on the device."""
        mb = self.order.index_select(0, self.offset + rows)  # (b,)
        # no autocast cache: a captured graph must cast the weights it reads at every replay
        with (
            torch.autocast(self.device.type, dtype=torch.bfloat16, cache_enabled=False)
            if self.bf16
            else contextlib.nullcontext()
        ):
            return self.discriminator.loss(self.seqs.index_select(0, mb), self.labels.index_select(0, mb))

    def step(self, rows: torch.Tensor) -> None:
        """One training step on the next minibatch; then the offset moves on. No host read, no
        branch on a tensor's value: a CUDA graph can hold it."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.minibatch_loss(rows)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            self.loss_sum.add_(loss.detach())
            self.offset.add_(len(rows))

    def epoch(self) -> None:
        """One epoch: a fresh permutation (one ``randperm``), then every minibatch in its order."""
        torch.randperm(len(self.order), device=self.device, out=self.order)
        self.offset.zero_()
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
            self.discriminator.parameters(), self.optimizer, self.device, sizes, self.step, self.offset.zero_, warmup
        )
        self.tensors = self._tensors()


def _captures(device: torch.device) -> bool:
    return device.type == "cuda"  # a test puts a stand-in for CUDA graphs here


# discriminator -> its DStep, kept between calls (a run calls train_discriminator some 1,050 times)
_STEPS: weakref.WeakKeyDictionary[torch.nn.Module, DStep] = weakref.WeakKeyDictionary()


def train_discriminator_graphed(
    discriminator: Discriminator,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    fake: torch.Tensor,
    epochs: int,
    batch_size: int,
    bf16: bool,
    gp: str = "none",
    gp_weight: float = 0.0,
    compile_mode: str = "none",
) -> float:
    """``train.train_discriminator`` with every step a graph replay on CUDA (eager on the CPU): k
    epochs of D on real (label 1) vs generated (label 0); returns the last epoch's mean loss.

    Args:
        discriminator: D, trained in place.
        optimizer: D's Adam.
        real: (P, T) real sequences; a random P' = Q of them when there are more than negatives.
        fake: (Q, T) generated sequences.
        epochs: k.
        batch_size: minibatch size.
        bf16: the loss under bf16 autocast.
        gp, gp_weight, compile_mode: accepted for the same signature; anything but 'none' is refused.

    Returns:
        The mean of the last epoch's minibatch losses (cross-entropy and L2).
    """
    refuse(gp, compile_mode, torch.distributed.is_available() and torch.distributed.is_initialized())
    discriminator.train()
    if len(fake) < len(real):  # a balanced set: as many real sequences as negatives
        real = real[torch.randperm(len(real), device=real.device)[: len(fake)]]
    seqs, labels = discriminator_set(real, fake)
    step = _STEPS.get(discriminator)
    if (
        step is None
        or step.optimizer is not optimizer
        or step.seqs.shape != seqs.shape
        or step.bf16 != bf16
        or step.batch_size != batch_size
        or step.tensors != step._tensors()
    ):
        step = _STEPS[discriminator] = DStep(discriminator, optimizer, len(seqs), seqs.shape[1], batch_size, bf16)
    step.seqs.copy_(seqs)
    step.labels.copy_(labels)
    if _captures(step.device) and step.graphs is None:
        step.capture()
    for _ in range(epochs):
        step.loss_sum.zero_()
        step.epoch()
    return (step.loss_sum / step.steps_per_epoch).item()
