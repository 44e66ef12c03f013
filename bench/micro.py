"""Micro-benchmarks behind docs/performance.md's floor and "what did not help" figures.

    .venv/bin/python bench/micro.py [gemm] [sampler] [dstep] [compile] [--threads 2] [--repeats 25]

gemm     each matrix product of a D training step at its own shape, in GFLOP/s, and their sum: the
         matrix-product floor of a D step
sampler  the logits pass of one sampling step over 10,000 rows: fused softmax (ours) against
         amax/subtract/exp (before); both on wide-range logits; exp alone; row-chunk sizes
dstep    D training-step variants that did not help (ReLU and bias after pooling, max for amax,
         dropout by rand), interleaved with the library's step
compile  torch.compile of D's loss against eager (slow: about a minute to compile)

Medians of interleaved repeats in one process, so a load that drifts hits every variant alike.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqgan.discriminator import PAPER_FILTER_SIZES, PAPER_NUM_FILTERS, Discriminator  # noqa: E402
from seqgan.generator import Generator  # noqa: E402

V, T, B, E = 5000, 20, 64, 64


def interleaved(fns: dict, repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds of each function, the repeats interleaved."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def gemm(repeats: int) -> None:
    print("| product | M x K x N | GFLOP/s | ms |\n| --- | --- | ---: | ---: |")
    total = 0.0
    shapes = [(f"conv w={w}", B * (T - w + 1), w * E, n) for w, n in zip(PAPER_FILTER_SIZES, PAPER_NUM_FILTERS)]
    shapes += [("highway layer (x2)", B, 1720, 1720)]
    for name, m, k, n in shapes:
        a, w, g = torch.randn(m, k), torch.randn(n, k), torch.randn(m, n)
        t = interleaved({"fwd": lambda: a @ w.t(), "dX": lambda: g @ w, "dW": lambda: g.t() @ a}, repeats)
        copies = 2 if name.startswith("highway") else 1
        for part, sec in t.items():
            print(f"| {name} {part} | {m} x {k} x {n} | {2 * m * k * n / sec / 1e9:.0f} | {1e3 * sec * copies:.3f} |")
            total += sec * copies
    print(f"\nmatrix products of one D training step (batch {B}): {1e3 * total:.1f} ms")


def _old_logits_pass(g: Generator, h: torch.Tensor, chunk: int = 256) -> None:
    for i in range(0, len(h), chunk):
        logits = g.out(h[i : i + chunk])
        w = (logits - logits.amax(1, keepdim=True)).exp_()
        w[:, : V // 64 * 64].reshape(len(w), -1, 64).sum(2)


def _new_logits_pass(g: Generator, h: torch.Tensor, chunk: int = 256) -> None:
    for i in range(0, len(h), chunk):
        w = torch.softmax(g.out(h[i : i + chunk]), 1)
        w[:, : V // 64 * 64].reshape(len(w), -1, 64).sum(2)


def sampler(repeats: int) -> None:
    torch.manual_seed(0)
    g, h = Generator(V, T), torch.randn(10_000, 32)
    t = interleaved({"amax/sub/exp (before)": lambda: _old_logits_pass(g, h), "softmax (ours)": lambda: _new_logits_pass(g, h)}, repeats)
    for k, sec in t.items():
        print(f"logits pass of one step, 10,000 rows, {k}: {1e3 * sec:.1f} ms")
    wide = torch.randn(256, V) * 30  # a peaked generator or a low temperature
    t = interleaved({"amax/sub/exp": lambda: (wide - wide.amax(1, keepdim=True)).exp_(),
                     "softmax": lambda: torch.softmax(wide, 1)}, repeats * 4)
    for k, sec in t.items():
        print(f"(256, {V}) logits of std 30, {k}: {1e3 * sec:.2f} ms")
    out = torch.empty(256, V)
    sec = interleaved({"exp": lambda: torch.exp(wide / 30, out=out)}, repeats * 4)["exp"]
    print(f"exp: {1e9 * sec / out.numel() * torch.get_num_threads():.2f} ns a value a thread")
    chunks = (128, 256, 512, 1024, 2048)
    t = interleaved({c: (lambda c=c: g.sample_next(h, chunk=c)) for c in chunks}, repeats)
    print("sample_next over 10,000 rows by chunk: " + ", ".join(f"{c}: {1e3 * s:.0f} ms" for c, s in t.items()))


def _loss_pool_first(d: Discriminator, seqs: torch.Tensor, labels: torch.Tensor, use_max: bool, rand_dropout: bool):
    """D's loss with ReLU and bias after max-pooling (exact: both are monotone), optionally max for
    amax and dropout by ``rand < keep``."""
    x = d.embedding(seqs)
    pooled = []
    for conv in d.convs:
        n, e, w = conv.weight.shape
        windows = x.unfold(1, w, 1).reshape(len(x), -1, e * w)
        z = (windows.reshape(-1, e * w) @ conv.weight.reshape(n, e * w).t()).view(len(x), -1, n)
        pooled.append(z.max(dim=1).values if use_max else z.amax(dim=1))
    h = d.highway(F.relu(torch.cat(pooled, 1) + torch.cat([c.bias for c in d.convs])))
    keep = 1.0 - d.dropout.p
    h = h * (torch.rand_like(h) < keep) / keep if rand_dropout else d.dropout(h)
    l2 = 0.5 * (d.out.weight.square().sum() + d.out.bias.square().sum())
    return F.cross_entropy(d.out(h), labels) + d.l2_reg * l2


def _steps(loss_fns: dict) -> dict:
    torch.manual_seed(0)
    seqs, labels = torch.randint(0, V, (B, T)), torch.randint(0, 2, (B,))
    steps = {}
    for name, loss_fn in loss_fns.items():
        d = Discriminator(V, T)
        opt = torch.optim.Adam(d.parameters(), lr=1e-4, fused=True)

        def step(d=d, opt=opt, loss_fn=loss_fn):
            loss = loss_fn(d, seqs, labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        steps[name] = step
    return steps


def dstep(repeats: int) -> None:
    steps = _steps({
        "library": lambda d, s, y: d.loss(s, y),
        "ReLU+bias after pooling": lambda d, s, y: _loss_pool_first(d, s, y, False, False),
        "... and max for amax": lambda d, s, y: _loss_pool_first(d, s, y, True, False),
        "... and dropout by rand": lambda d, s, y: _loss_pool_first(d, s, y, True, True),
    })
    for k, sec in interleaved(steps, repeats).items():
        print(f"D training step, {k}: {1e3 * sec:.1f} ms")


def compile_(repeats: int) -> None:
    eager = Discriminator(V, T)
    compiled_d = copy.deepcopy(eager)
    compiled_loss = torch.compile(compiled_d.loss)
    steps = _steps({"eager": lambda d, s, y: d.loss(s, y)})
    seqs, labels = torch.randint(0, V, (B, T)), torch.randint(0, 2, (B,))
    opt = torch.optim.Adam(compiled_d.parameters(), lr=1e-4, fused=True)

    def compiled_step():
        loss = compiled_loss(seqs, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    t0 = time.perf_counter()
    compiled_step()
    print(f"torch.compile: first step (compiling) {time.perf_counter() - t0:.1f} s")
    for k, sec in interleaved({"eager": steps["eager"], "compiled": compiled_step}, repeats).items():
        print(f"D training step, {k}: {1e3 * sec:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="*", default=["gemm", "sampler", "dstep"], choices=["gemm", "sampler", "dstep", "compile"])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=25)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for part in args.parts:
        print(f"\n## {part}\n")
        {"gemm": gemm, "sampler": sampler, "dstep": dstep, "compile": compile_}[part](args.repeats)


if __name__ == "__main__":
    main()
