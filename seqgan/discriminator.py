"""The discriminator D_phi: a CNN that scores whole sequences as real (oracle) or generated.

The paper's text classifier (Section 4 and its appendix; the authors' ``discriminator.py``):
token embedding 64; convolutions of widths 1-10, 15 and 20 with 100, 200, 200, 200, 200, 100,
100, 100, 100, 100, 160 and 160 filters, ReLU; max-over-time pooling; one highway layer
(transform-gate bias 0, as the authors' code passes); dropout keeping 75% of units (keep
probability 0.75, not drop probability 0.75 as some ports ship); a two-way output layer with L2
penalty 0.2 on its weights and bias (``tf.nn.l2_loss``: half the sum of squares).

On CUDA the 12 convolutions run merged into a few width groups (``merged_convs``): one matrix
product per group, the narrower filters' weights zero-padded to the group's widest width and
their positions past their own valid length masked before the max-pool. That changes rounding
(the zero products join the sums), not results; the parameters and the state dict are the 12
branches' own, so checkpoints load either way.

Shapes: B batch, T sequence length, E embedding, F total filters, L window positions of a group,
N filters of a group.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

PAPER_FILTER_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
PAPER_NUM_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)


class Highway(nn.Module):
    """y = t * relu(W_h x) + (1 - t) * x, with transform gate t = sigmoid(W_t x + bias)."""

    def __init__(self, size: int, gate_bias: float = 0.0):
        super().__init__()
        self.transform = nn.Linear(size, size)
        self.gate = nn.Linear(size, size)
        self.gate_bias = gate_bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.sigmoid(self.gate(x) + self.gate_bias)
        return t * F.relu(self.transform(x)) + (1.0 - t) * x


class _Windows(torch.autograd.Function):
    """The windows of w consecutive tokens, (B, T, E) -> (B, T-w+1, w*E), token by token.

    The backward adds each of the w token slices of the gradient into the input gradient at its
    shift, accumulating in fp32: 6.8 against 13.3 ms of CPU time for ``unfold_backward`` over the
    paper's 12 widths in bf16 (batch 64, 1 thread, AMX Xeon; ``bench/micro.py windows``).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: int) -> torch.Tensor:
        b, t, e = x.shape
        ctx.w, ctx.shape, ctx.dtype = w, x.shape, x.dtype
        return x.unfold(1, w, 1).transpose(2, 3).reshape(b, t - w + 1, w * e)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (b, t, e), w = ctx.shape, ctx.w
        length = t - w + 1
        accumulate = torch.promote_types(grad.dtype, torch.float32)
        grad = grad.to(accumulate).view(b, length, w, e)  # one cast, not one a slice
        grad_x = torch.zeros(b, t, e, dtype=accumulate, device=grad.device)
        for j in range(w):
            grad_x[:, j : j + length] += grad[:, :, j]
        return grad_x.to(ctx.dtype), None


def merged_convs(device: torch.device) -> bool:
    """Whether D's convolutions run as merged width groups on ``device`` (``Discriminator.merge``).

    On CUDA a D step is bound by kernel launches, and 3 groups launch a quarter of the 12
    branches' kernels for 1.7x their arithmetic at the paper's sizes. On the CPU the arithmetic
    counts: the merged form measured slower there (bench/micro.py merged; docs/performance.md).
    """
    return device.type == "cuda"


def width_groups(
    filter_sizes: tuple[int, ...], num_filters: tuple[int, ...], seq_len: int, max_groups: int = 3
) -> list[list[int]]:
    """Branch indices split into at most ``max_groups`` runs of consecutive branches, the split
    that needs the fewest multiply-adds once each run is padded to its widest filter and covers
    the window positions of its narrowest one (the paper's widths: [1-5], [6-10], [15, 20])."""
    k = len(filter_sizes)

    def cost(i: int, j: int) -> int:  # branches i..j-1 as one group, per embedding unit and row
        widths = filter_sizes[i:j]
        return sum(num_filters[i:j]) * max(widths) * (seq_len - min(widths) + 1)

    # best[g][j]: the cheapest split of the first j branches into g groups, and where its last group starts
    best = [{0: (0, 0)}] + [{} for _ in range(max_groups)]
    for g in range(1, max_groups + 1):
        for j in range(1, k + 1):
            options = [(best[g - 1][i][0] + cost(i, j), i) for i in range(j) if i in best[g - 1]]
            if options:
                best[g][j] = min(options)
    g = min(range(1, max_groups + 1), key=lambda g: best[g][k][0] if k in best[g] else float("inf"))
    groups, j = [], k
    while j > 0:
        i = best[g][j][1]
        groups.insert(0, list(range(i, j)))
        j, g = i, g - 1
    return groups


def output_l2(weight: torch.Tensor, bias: torch.Tensor, l2_reg: float) -> torch.Tensor:
    """The paper's L2 term on D's output layer: ``l2_reg`` times half the sum of squares of its
    weight (2, F) and bias (2,), as ``tf.nn.l2_loss``."""
    return l2_reg * 0.5 * (weight.square().sum() + bias.square().sum())


class Discriminator(nn.Module):
    """CNN classifier; ``forward`` returns logits (B, 2), class 1 meaning real."""

    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        *,
        emb_dim: int = 64,
        filter_sizes: tuple[int, ...] = PAPER_FILTER_SIZES,
        num_filters: tuple[int, ...] = PAPER_NUM_FILTERS,
        dropout_keep: float = 0.75,
        l2_reg: float = 0.2,
    ):
        super().__init__()
        if len(filter_sizes) != len(num_filters):
            raise ValueError(f"{len(filter_sizes)} filter sizes but {len(num_filters)} filter counts")
        if max(filter_sizes) > seq_len:
            raise ValueError(f"filter width {max(filter_sizes)} exceeds sequence length {seq_len}")
        if not 0.0 < dropout_keep <= 1.0:
            raise ValueError(f"dropout_keep is a keep probability in (0, 1], got {dropout_keep}")
        self.seq_len, self.l2_reg = seq_len, l2_reg
        self.embedding = nn.Embedding(vocab_size, emb_dim)
        self.convs = nn.ModuleList(nn.Conv1d(emb_dim, n, w) for w, n in zip(filter_sizes, num_filters))
        total = sum(num_filters)
        self.merge: bool | None = None  # None: merged width groups where merged_convs(device) says so
        self.groups = width_groups(tuple(filter_sizes), tuple(num_filters), seq_len)
        for g, group in enumerate(self.groups):
            # True where a filter's window runs past the sequence end: masked before the max (L, N)
            widths = [filter_sizes[i] for i in group]
            positions = torch.arange(seq_len - min(widths) + 1)[:, None]
            limits = torch.tensor([seq_len - filter_sizes[i] for i in group for _ in range(num_filters[i])])
            self.register_buffer(f"past_end{g}", positions > limits[None, :], persistent=False)
        self.highway = Highway(total)
        self.dropout = nn.Dropout(p=1.0 - dropout_keep)
        self.out = nn.Linear(total, 2)
        # the authors' initialisation: truncated normal 0.1 weights, 0.1 biases for conv and output
        with torch.no_grad():
            nn.init.uniform_(self.embedding.weight, -1.0, 1.0)
            for layer in [*self.convs, self.out]:
                nn.init.trunc_normal_(layer.weight, std=0.1, a=-0.2, b=0.2)
                nn.init.constant_(layer.bias, 0.1)

    def features(self, seqs: torch.Tensor) -> torch.Tensor:
        """Max-over-time pooled convolution features: (B, T) -> (B, F).

        ``seqs`` may also be one-hot or soft rows (B, T, V): the lookup is then the product
        onehot @ E, which a gradient penalty differentiates (seqgan/penalty.py).

        Each convolution runs as one matrix product over unfolded windows, which is faster than
        ``conv1d`` on CPU (53 vs 67 ms a training step at the paper's sizes, docs/performance.md).
        Under autocast the embedded input is cast once, and the windows are laid out token by
        token, (w, E), so that their backward is w shifted adds (``_Windows``), not
        ``unfold_backward`` (docs/performance.md); fp32 keeps conv1d's (E, w) layout, bit for bit.
        """
        x = self.embedding(seqs) if seqs.dim() == 2 else seqs @ self.embedding.weight  # (B, T, E)
        device_type = x.device.type
        low_precision = torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type)
        if low_precision:
            x = x.to(torch.get_autocast_dtype(device_type))
        if self.merge if self.merge is not None else merged_convs(x.device):
            return self._merged_features(x)
        b = x.shape[0]
        pooled = []
        for conv in self.convs:
            n, e, w = conv.weight.shape
            if low_precision:
                windows = _Windows.apply(x, w)  # (B, T-w+1, w*E)
                weight = conv.weight.transpose(1, 2).reshape(n, w * e)  # (n, w*E), the same order
            else:
                windows = x.unfold(1, w, 1).reshape(b, -1, e * w)  # (B, T-w+1, E*w), conv1d's layout
                weight = conv.weight.reshape(n, e * w)
            z = torch.addmm(conv.bias, windows.reshape(-1, e * w), weight.t())
            pooled.append(F.relu(z.view(b, -1, n)).amax(dim=1))  # (B, n)
        return torch.cat(pooled, dim=1)

    def _merged_features(self, x: torch.Tensor) -> torch.Tensor:
        """``features`` with one matrix product per width group: (B, T, E) -> (B, F), the same
        values to rounding. The padded weight is built from the parameters on every call, so its
        padding is no parameter and gets no gradient (F.pad's backward drops it)."""
        b, t, e = x.shape
        pooled = []
        for g, group in enumerate(self.groups):
            convs = [self.convs[i] for i in group]
            widths = [conv.weight.shape[2] for conv in convs]
            w, length = max(widths), t - min(widths) + 1
            windows = F.pad(x, (0, 0, 0, w - min(widths))).unfold(1, w, 1)  # (B, L, E, W), conv1d's layout
            weight = torch.cat([F.pad(conv.weight, (0, w - conv.weight.shape[2])) for conv in convs])  # (N, E, W)
            bias = torch.cat([conv.bias for conv in convs])  # (N,)
            n = weight.shape[0]
            z = torch.addmm(bias, windows.reshape(b * length, e * w), weight.reshape(n, e * w).t())
            z = z.view(b, length, n).masked_fill(getattr(self, f"past_end{g}"), float("-inf"))  # (B, L, N)
            pooled.append(F.relu(z).amax(dim=1))  # (B, N)
        return torch.cat(pooled, dim=1)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(self.highway(self.features(seqs))))

    def loss(self, seqs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy on (B, T) sequences with labels (B,) plus the output layer's L2 penalty."""
        logits = self(seqs).float()
        return F.cross_entropy(logits, labels) + output_l2(self.out.weight, self.out.bias, self.l2_reg)

    @torch.no_grad()
    def prob_real(self, seqs: torch.Tensor, batch_size: int = 512, bf16: bool = False) -> torch.Tensor:
        """D(Y): the probability that each sequence (B, T) is real, in eval mode (no dropout)."""
        was_training = self.training
        self.eval()
        device = self.out.weight.device
        probs = []
        for i in range(0, len(seqs), batch_size):
            # entered only for bf16, so that a device without autocast (meta, in the tests) can score
            with torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
                logits = self(seqs[i : i + batch_size].to(device))
            probs.append(torch.softmax(logits.float(), dim=1)[:, 1])
        self.train(was_training)
        return torch.cat(probs) if probs else torch.empty(0, device=device)
