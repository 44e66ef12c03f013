"""bf16 training with persistent bf16 copies of the large weights, refreshed once per optimiser step.

Mixed precision as Micikevicius et al. (2018), "Mixed Precision Training" (ICLR), Section 3.1: the
fp32 weights stay the master copy that the optimiser updates; forward and backward run on bf16
copies of them. ``torch.autocast`` makes those copies itself, at every call of a matrix product,
and casts their gradients back in the backward pass: for D's highway layer (2 x 1720 x 1720) the
cast gradient arrives transposed, and that strided copy was about a fifth of a bf16 training step
on an AMX Xeon (docs/performance.md). Here each copy is made once, after the optimiser step, and
each gradient is cast back in its own memory order.

Use inside the training loop (``train.train_discriminator``)::

    weights = BF16Weights([*d.convs, d.highway])
    with torch.autocast(device_type, dtype=torch.bfloat16), weights:
        loss = d.loss(seqs, labels)    # the listed modules' parameters are their bf16 copies here
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    weights.grads_to_master()          # bf16 gradients -> fp32 .grad of the master weights
    optimizer.step()
    weights.refresh()                  # the copies follow the updated weights

Parameters of modules not listed (D's embedding and output layer) stay fp32 and autocast treats
them as usual, so the loss's L2 penalty still reads fp32 weights.
"""

from __future__ import annotations

import torch
from torch import nn


class BF16Weights:
    """bf16 copies of the parameters of ``modules``, swapped in while the object is entered."""

    def __init__(self, modules: list[nn.Module], dtype: torch.dtype = torch.bfloat16):
        self.slots = [
            (m, name) for top in modules for m in top.modules() for name, _ in m.named_parameters(recurse=False)
        ]
        self.copies = [m._parameters[name].detach().to(dtype).requires_grad_() for m, name in self.slots]
        self.masters: list[nn.Parameter] = []

    def __enter__(self) -> BF16Weights:
        assert not self.masters, "BF16Weights entered twice"
        for (m, name), copy in zip(self.slots, self.copies):
            self.masters.append(m._parameters[name])
            m._parameters[name] = copy  # what nn.Module attribute access returns, as torch.func.functional_call does
        return self

    def __exit__(self, *exc) -> None:
        for (m, name), master in zip(self.slots, self.masters):
            m._parameters[name] = master
        self.masters = []

    @torch.no_grad()
    def grads_to_master(self) -> None:
        """Move each copy's gradient to its fp32 weight's ``.grad`` (cast, accumulated if one is there)."""
        for (m, name), copy in zip(self.slots, self.copies):
            if copy.grad is None:
                continue
            master = m._parameters[name]
            grad = copy.grad.to(master.dtype, memory_format=torch.preserve_format)
            master.grad = grad if master.grad is None else master.grad.add_(grad)
            copy.grad = None

    @torch.no_grad()
    def refresh(self) -> None:
        """Copy the fp32 weights into their bf16 copies, after the optimiser changed them."""
        for (m, name), copy in zip(self.slots, self.copies):
            copy.copy_(m._parameters[name])
