"""Gradient penalties for the discriminator, taken in one-hot input space.

D scores token sequences, so its "input" is a sequence of one-hot rows x (B, T, V) and its
embedding lookup is the product x @ E. The penalty's forward pass writes the lookup that way
(``Discriminator.features`` accepts one-hot or soft rows), and differentiates D's real-vs-fake
log-odds f(x) = logit_real - logit_fake with respect to x. Taking the gradient at the one-hot
input, not at the embedded vectors, means D cannot shrink the penalty by rescaling its embedding.

* ``r1``: (w / 2) E_real ||grad_x f(x)||^2, zero-centred on real sequences (Mescheder, Geiger and
  Nowozin, "Which Training Methods for GANs do actually Converge?", ICML 2018, eq. 9).
* ``zero_gp``: w E ||grad_x f(x_hat)||^2 on interpolates x_hat = a x_real + (1 - a) x_fake,
  a ~ U(0, 1) per sequence (Thanh-Tung, Tran and Venkatesh, "Improving Generalization and Stability
  of Generative Adversarial Networks", ICLR 2019: the zero-centred GP against a discriminator that
  memorises a finite data set).
* ``wgan_gp``: w E (||grad_x f(x_hat)|| - 1)^2 on the same interpolates, two-sided (Gulrajani et
  al., "Improved Training of Wasserstein GANs", NeurIPS 2017, eq. 3).

Within a minibatch of D's training set the real and generated rows are paired in order, as many
pairs as the smaller side has. Shapes: B batch, T sequence length, V vocabulary.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .discriminator import Discriminator

PENALTIES = ("none", "r1", "zero_gp", "wgan_gp")


def log_odds(discriminator: Discriminator, onehot: torch.Tensor) -> torch.Tensor:
    """D's real-vs-fake log-odds f(x) = logit_real - logit_fake of one-hot or soft rows (B, T, V) -> (B,)."""
    logits = discriminator(onehot).to(discriminator.out.weight.dtype)  # (B, 2), fp32 also under bf16 autocast
    return logits[:, 1] - logits[:, 0]


def input_gradients(discriminator: Discriminator, onehot: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """grad_x f(x) at the rows x (B, T, V), one per sequence; ``create_graph`` keeps it differentiable."""
    x = onehot.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(log_odds(discriminator, x).sum(), x, create_graph=create_graph)
    return grad  # (B, T, V)


def interpolates(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """a x_real + (1 - a) x_fake with one a per sequence: (B, T, V), (B, T, V), (B,) -> (B, T, V)."""
    a = alpha.view(-1, 1, 1)
    return a * real + (1.0 - a) * fake


def penalty_at(discriminator: Discriminator, points: torch.Tensor, kind: str, weight: float) -> torch.Tensor:
    """The penalty of ``kind`` at the given one-hot or interpolated rows (B, T, V); a scalar that
    backpropagates into D's weights."""
    grad = input_gradients(discriminator, points, create_graph=True)
    sq_norm = grad.square().sum(dim=(1, 2))  # (B,)
    if kind == "r1":
        return 0.5 * weight * sq_norm.mean()
    if kind == "zero_gp":
        return weight * sq_norm.mean()
    if kind == "wgan_gp":
        # sqrt has an infinite slope at 0; the epsilon keeps a zero gradient finite
        return weight * ((sq_norm + 1e-12).sqrt() - 1.0).square().mean()
    raise AssertionError(f"unknown gradient penalty {kind!r}")


def gradient_penalty(
    discriminator: Discriminator,
    seqs: torch.Tensor,
    labels: torch.Tensor,
    kind: str,
    weight: float,
) -> torch.Tensor:
    """The penalty of ``kind`` on one minibatch of D's training set.

    Args:
        discriminator: D, in the mode (train/eval) of the step it joins.
        seqs: (B, T) token ids, real and generated mixed.
        labels: (B,) 1 for real, 0 for generated.
        kind: 'r1', 'zero_gp' or 'wgan_gp'.
        weight: the penalty's weight (gamma of R1, lambda of the other two).
    Returns:
        A scalar to add to D's loss (0 when the minibatch lacks the rows the penalty needs).
    """
    if kind not in PENALTIES[1:]:
        raise ValueError(f"unknown gradient penalty {kind!r} (known: {', '.join(PENALTIES[1:])})")
    vocab_size, dtype = discriminator.embedding.num_embeddings, discriminator.embedding.weight.dtype
    real, fake = seqs[labels == 1], seqs[labels == 0]
    if kind == "r1":
        points = F.one_hot(real, vocab_size).to(dtype)  # (B_real, T, V)
    else:
        n = min(len(real), len(fake))
        alpha = torch.rand(n, device=seqs.device)
        onehot = lambda s: F.one_hot(s, vocab_size).to(dtype)  # noqa: E731
        points = interpolates(onehot(real[:n]), onehot(fake[:n]), alpha.to(dtype))  # (n, T, V)
    if len(points) == 0:
        return torch.zeros((), device=seqs.device)
    return penalty_at(discriminator, points, kind, weight)
