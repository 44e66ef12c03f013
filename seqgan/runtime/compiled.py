"""D's training step under ``torch.compile``: CUDA graphs on a GPU (``discriminator.compile``).

The paper protocol is about 90% discriminator steps of batch 64 (issue 13). On a GPU such a step
is a few hundred small kernels: 12 convolution branches, the highway, dropout, the loss and its
backward, so launch overhead, not arithmetic, bounds it. ``mode="reduce-overhead"`` has inductor
fuse the element-wise work and replay the forward and backward as CUDA graphs (PyTorch's
``torch.compile`` documentation; the same capture ``torch.cuda.graphs`` offers by hand, without
static-buffer bookkeeping here). On a CPU the same setting compiles with inductor and skips the
graphs; docs/performance.md has what that measured (slower in fp32, faster in bf16 on AMX).

What changes against eager:
- numbers: inductor fuses and reorders floating-point work, so losses agree to rounding, not bit for
  bit, and draws dropout masks from its own generator (seeded from torch's, so one seed still fixes
  a run);
- bf16: autocast runs inside the compiled graph, which fuses the casts, so the persistent weight
  copies of ``mixed_precision.py`` are not used;
- shapes are static (``dynamic=False``): the short last minibatch of an epoch compiles once more.

Not combined with a gradient penalty (its double backward) or torchrun: ``config.validate`` and
``train.run_distributed`` refuse them with one line.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch

COMPILE_MODES = ("none", "default", "reduce-overhead", "max-autotune")

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# discriminator -> {mode: compiled loss}; weak, and outside the module so that a deepcopy of D
# (a baseline row, a test's twin) compiles its own loss instead of calling the original's
_COMPILED: weakref.WeakKeyDictionary[torch.nn.Module, dict[str, LossFn]] = weakref.WeakKeyDictionary()


def discriminator_loss_fn(discriminator: torch.nn.Module, mode: str) -> LossFn:
    """D's loss (seqs (B, T), labels (B,)) -> scalar, compiled once per discriminator and mode."""
    if mode == "none":
        return discriminator.loss
    if mode not in COMPILE_MODES:
        raise ValueError(f"compile mode: one of {', '.join(COMPILE_MODES)}, got {mode!r}")
    cache = _COMPILED.setdefault(discriminator, {})
    if mode not in cache:
        cache[mode] = torch.compile(discriminator.loss, mode=mode, dynamic=False)
    return cache[mode]


def mark_step(device: torch.device) -> None:
    """Tell CUDA-graph trees that a new training step starts, so the last step's outputs may be reused."""
    if device.type == "cuda":
        torch.compiler.cudagraph_mark_step_begin()
