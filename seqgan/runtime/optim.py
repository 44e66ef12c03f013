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
        for group in self.param_groups:
            # every weight of a group steps together: the first one with state holds the count
            steps = [self.state[p]["step"] for p in group["params"] if p.grad is not None and "step" in self.state[p]]
            t = (float(steps[0]) if steps else 0.0) + 1.0  # the step about to be taken
            group["eps"] = group["tf1_eps"] / math.sqrt(1.0 - group["betas"][1] ** t)
        return super().step(closure)
