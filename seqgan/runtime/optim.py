"""Adam with TensorFlow 1's placement of epsilon, the optimiser the SeqGAN authors' code ran.

``tf.train.AdamOptimizer`` (TF 1.x, used by LantaoYu/SeqGAN for G and D) folds the bias
corrections into the step size and adds epsilon to the raw second-moment root:

    lr_t  = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    theta = theta - lr_t * m_t / (sqrt(v_t) + eps)

PyTorch's Adam (Kingma and Ba 2015, Algorithm 1) adds epsilon after the bias correction:

    theta = theta - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps')

Multiplying the TF form through by sqrt(1 - beta2^t) shows the two are the same update when
eps' = eps / sqrt(1 - beta2^t): 3.2e-7 at step 1 for eps = 1e-8 and beta2 = 0.999, falling to eps
over thousands of steps. Only weights whose gradients are tiny (rare tokens' embedding rows and
output columns) step differently. ``TF1Adam`` sets that eps' before every step and otherwise is
``torch.optim.Adam``, fused kernel included.

That eps' is a Python float computed from the step count, which the fused kernel takes as a
constant: on a GPU reading the count is a host sync every step, and a CUDA graph would replay
step 1's eps' forever. So off the CPU the step runs TF's formula itself on device tensors
(``tf1_adam_update``, capturable): the step count stays a tensor, no host value is read, and the
state keeps torch Adam's keys, so checkpoints move between the two forms and between devices.
"""

from __future__ import annotations

import math

import torch


class TF1Adam(torch.optim.Adam):
    """torch.optim.Adam whose epsilon is applied as TensorFlow 1's AdamOptimizer applies it."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, **kw):
        super().__init__(params, lr=lr, betas=betas, eps=eps, **kw)
        for group in self.param_groups:
            group["tf1_eps"] = eps

    @torch.no_grad()
    def step(self, closure=None):
        assert closure is None, "TF1Adam takes no closure"
        if any(p.device.type != "cpu" for g in self.param_groups for p in g["params"]):
            for group in self.param_groups:
                self._device_step(group)
            return None
        for group in self.param_groups:
            # every weight of a group steps together: the first one with state holds the count
            steps = [self.state[p]["step"] for p in group["params"] if p.grad is not None and "step" in self.state[p]]
            t = (float(steps[0]) if steps else 0.0) + 1.0  # the step about to be taken
            group["eps"] = group["tf1_eps"] / math.sqrt(1.0 - group["betas"][1] ** t)
        return super().step(closure)

    def _device_step(self, group: dict) -> None:
        assert not (group["amsgrad"] or group["maximize"] or group["weight_decay"]), "TF1Adam: plain Adam only"
        params = [p for p in group["params"] if p.grad is not None]
        for p in params:
            state = self.state[p]
            if not state:  # torch Adam's state, as its fused form keeps it: the count a float32 tensor on p's device
                state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        states = [self.state[p] for p in params]
        beta1, beta2 = group["betas"]
        tf1_adam_update(
            params,
            [p.grad for p in params],
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["step"] for s in states],
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["tf1_eps"],
        )


def tf1_adam_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    steps: list[torch.Tensor],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    """One step of TF 1's AdamOptimizer, in place, with no host read (capturable in a CUDA graph):
    m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2; t <- t + 1;
    theta <- theta - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
    ``steps`` are the weights' step counts (0-dim tensors, all equal: the weights step together)."""
    if not params:
        return
    torch._foreach_add_(steps, 1)
    torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1.0 - beta2)
    t = steps[0]
    lr_t = -lr * torch.sqrt(1.0 - torch.pow(beta2, t)) / (1.0 - torch.pow(beta1, t))  # a 0-dim device tensor
    denom = torch._foreach_sqrt(exp_avg_sqs)
    torch._foreach_add_(denom, eps)
    updates = torch._foreach_div(exp_avgs, denom)
    torch._foreach_mul_(updates, lr_t)
    torch._foreach_add_(params, updates)
