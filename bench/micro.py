"""Micro-benchmarks behind docs/performance.md's floor and "what did not help" figures.

    .venv/bin/python bench/micro.py [gemm] [sampler] [dstep] [compile] [--threads 2] [--repeats 25]

gemm     each matrix product of a D training step at its own shape, in GFLOP/s, and their sum: the
         matrix-product floor of a D step
sampler  the logits pass of one sampling step over 10,000 rows: fused softmax (ours) against
         amax/subtract/exp (before); both on wide-range logits; exp alone; row-chunk sizes
dstep    D training-step variants that did not help (ReLU and bias after pooling, max for amax,
         dropout by rand), interleaved with the library's step
compile  torch.compile of D's loss against eager (slow: about a minute to compile)
bf16     D training-step variants in bf16 against fp32, interleaved: autocast as at d90164a; autocast
         with token-by-token windows (the library now); plus persistent bf16 weight copies (the
         library's training step now, train.train_discriminator); conv1d on channels-last (oneDNN);
         widths 1-10 merged into one matrix product; and fp32 with the token-by-token windows
windows  the backward of the unfolded windows over the 12 widths: unfold_backward against the
         shifted adds of seqgan.discriminator._Windows, fp32 and bf16
merged   the D training step with the 12 branches against the merged width groups (discriminator.py,
         ``merged_convs``), fp32 and bf16: whether the CPU should take the merged form too
profile  torch.profiler's top operators of the D training step, fp32 and bf16 (the library's)
gen      whether bf16 helps the generator: the logits pass of one sampling step over 10,000 rows,
         and the output-layer product of an MLE step, fp32 against bf16

Medians of interleaved repeats in one process, so a load that drifts hits every variant alike.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from reference import discriminator_loss_d90164a  # noqa: E402  (tests/reference.py)
from seqgan.discriminator import (  # noqa: E402
    PAPER_FILTER_SIZES,
    PAPER_NUM_FILTERS,
    Discriminator,
    _Windows,  # noqa: E402
)
from seqgan.generator import Generator  # noqa: E402
from seqgan.runtime.mixed_precision import BF16Weights  # noqa: E402

V, T, B, E = 5000, 20, 64, 64
CLOCK = time.perf_counter  # --cpu-time: time.thread_time, this thread's CPU seconds (1 thread only)


def interleaved(fns: dict, repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds of each function, the repeats interleaved."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = CLOCK()
            f()
            times[k].append(CLOCK() - t0)
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
    t = interleaved(
        {"amax/sub/exp (before)": lambda: _old_logits_pass(g, h), "softmax (ours)": lambda: _new_logits_pass(g, h)},
        repeats,
    )
    for k, sec in t.items():
        print(f"logits pass of one step, 10,000 rows, {k}: {1e3 * sec:.1f} ms")
    wide = torch.randn(256, V) * 30  # a peaked generator or a low temperature
    t = interleaved(
        {"amax/sub/exp": lambda: (wide - wide.amax(1, keepdim=True)).exp_(), "softmax": lambda: torch.softmax(wide, 1)},
        repeats * 4,
    )
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
    steps = _steps(
        {
            "library": lambda d, s, y: d.loss(s, y),
            "ReLU+bias after pooling": lambda d, s, y: _loss_pool_first(d, s, y, False, False),
            "... and max for amax": lambda d, s, y: _loss_pool_first(d, s, y, True, False),
            "... and dropout by rand": lambda d, s, y: _loss_pool_first(d, s, y, True, True),
        }
    )
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


def _bf16_step(loss_fn, copies: bool):
    """A D training step under bf16 autocast, with or without persistent bf16 weight copies."""
    torch.manual_seed(0)
    seqs, labels = torch.randint(0, V, (B, T)), torch.randint(0, 2, (B,))
    d = Discriminator(V, T)
    opt = torch.optim.Adam(d.parameters(), lr=1e-4, fused=True)
    weights = BF16Weights([*d.convs, d.highway]) if copies else None

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16), weights if copies else contextlib.nullcontext():
            loss = loss_fn(d, seqs, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if copies:
            weights.grads_to_master()
        opt.step()
        if copies:
            weights.refresh()

    return step


def _loss_from(features):
    def loss(d, seqs, labels):
        logits = d.out(d.dropout(d.highway(features(d, seqs)))).float()
        l2 = 0.5 * (d.out.weight.square().sum() + d.out.bias.square().sum())
        return F.cross_entropy(logits, labels) + d.l2_reg * l2

    return loss


def _features_conv1d(d, seqs):
    """oneDNN's conv1d on the embedded input in channels-last order (a (B, E, T) view of (B, T, E))."""
    x = d.embedding(seqs).to(torch.bfloat16).transpose(1, 2)
    return torch.cat([F.relu(F.conv1d(x, c.weight, c.bias)).amax(dim=2) for c in d.convs], dim=1)


def _features_merged(d, seqs, merge: int = 10):
    """Widths up to ``merge`` as one matrix product: windows of ``merge`` tokens over the input
    padded at the end, each width's filters zero beyond its taps, positions past its last window
    masked before pooling; the wider filters as in the library."""
    x = d.embedding(seqs).to(torch.bfloat16)
    b, t, e = x.shape
    small = [c for c in d.convs if c.weight.shape[2] <= merge]
    weight = torch.cat([F.pad(c.weight, (0, merge - c.weight.shape[2])) for c in small])  # (n, E, merge)
    windows = _Windows.apply(F.pad(x, (0, 0, 0, merge - 1)), merge)  # (B, T, merge*E)
    z = torch.addmm(
        torch.cat([c.bias for c in small]),
        windows.reshape(b * t, -1),
        weight.transpose(1, 2).reshape(len(weight), -1).t(),
    ).view(b, t, -1)
    last = torch.cat([torch.full((c.weight.shape[0],), t - c.weight.shape[2]) for c in small])  # last valid position
    z = z.masked_fill(torch.arange(t).unsqueeze(1) > last, float("-inf"))
    pooled = [F.relu(z).amax(dim=1)]
    for conv in d.convs[len(small) :]:
        n, _, w = conv.weight.shape
        z = torch.addmm(
            conv.bias, _Windows.apply(x, w).reshape(-1, w * e), conv.weight.transpose(1, 2).reshape(n, -1).t()
        )
        pooled.append(F.relu(z.view(b, -1, n)).amax(dim=1))
    return torch.cat(pooled, dim=1)


def _features_windows_fp32(d, seqs):
    x = d.embedding(seqs)
    b, _, e = x.shape
    pooled = []
    for conv in d.convs:
        n, _, w = conv.weight.shape
        z = torch.addmm(
            conv.bias, _Windows.apply(x, w).reshape(-1, w * e), conv.weight.transpose(1, 2).reshape(n, -1).t()
        )
        pooled.append(F.relu(z.view(b, -1, n)).amax(dim=1))
    return torch.cat(pooled, dim=1)


def bf16(repeats: int) -> None:
    steps = _steps(
        {
            "fp32, library": lambda d, s, y: d.loss(s, y),
            "fp32, token-by-token windows": _loss_from(_features_windows_fp32),
        }
    )
    steps.update(
        {
            "bf16 autocast, d90164a": _bf16_step(discriminator_loss_d90164a, False),
            "bf16 autocast, library (windows)": _bf16_step(lambda d, s, y: d.loss(s, y), False),
            "bf16 + weight copies, library": _bf16_step(lambda d, s, y: d.loss(s, y), True),
            "bf16 + weight copies, conv1d": _bf16_step(_loss_from(_features_conv1d), True),
            "bf16 + weight copies, widths 1-10 merged": _bf16_step(_loss_from(_features_merged), True),
        }
    )
    for k, sec in interleaved(steps, repeats).items():
        print(f"D training step, {k}: {1e3 * sec:.1f} ms")


def windows(repeats: int) -> None:
    for dtype in (torch.float32, torch.bfloat16):
        x = torch.randn(B, T, E, dtype=dtype, requires_grad=True)
        grads = {w: torch.randn(B, T - w + 1, E * w, dtype=dtype) for w in PAPER_FILTER_SIZES}
        unfolded = {w: x.unfold(1, w, 1).reshape(B, -1, E * w) for w in PAPER_FILTER_SIZES}
        tokenwise = {w: _Windows.apply(x, w) for w in PAPER_FILTER_SIZES}
        t = interleaved(
            {
                "unfold_backward": lambda: torch.autograd.grad(
                    list(unfolded.values()), x, list(grads.values()), retain_graph=True
                ),
                "shifted adds": lambda: torch.autograd.grad(
                    list(tokenwise.values()), x, list(grads.values()), retain_graph=True
                ),
            },
            repeats,
        )
        print(
            f"backward of the 12 widths' windows, {dtype}: " + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in t.items())
        )


def profile(repeats: int) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    for name, step in (
        ("fp32", _steps({"fp32": lambda d, s, y: d.loss(s, y)})["fp32"]),
        ("bf16", _bf16_step(lambda d, s, y: d.loss(s, y), True)),
    ):
        for _ in range(3):
            step()
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            t0 = CLOCK()
            for _ in range(repeats):
                step()
            sec = (CLOCK() - t0) / repeats
        print(f"### {name}: {1e3 * sec:.1f} ms a step under the profiler, {repeats} steps\n")
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12, max_name_column_width=36))


def gen(repeats: int) -> None:
    torch.manual_seed(0)
    g, h = Generator(V, T), torch.randn(10_000, 32)
    hid, w = torch.randn(B * T, 32), torch.randn(V, 32)  # an MLE batch's hidden states, the output layer
    hid16, w16 = hid.bfloat16(), w.bfloat16()

    def logits_pass(bf16: bool):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            _new_logits_pass(g, h)

    # the MLE loss is a custom fused function (generator._LinearCrossEntropy) that computes in the
    # weights' dtype; autocast does not reach it, so only its output-layer product is compared
    t = interleaved(
        {
            "logits pass of a sampling step, 10,000 rows, fp32": lambda: logits_pass(False),
            "logits pass of a sampling step, 10,000 rows, bf16 autocast": lambda: logits_pass(True),
            f"MLE output-layer product ({B * T} x 32 x {V}), fp32": lambda: hid @ w.t(),
            f"MLE output-layer product ({B * T} x 32 x {V}), bf16": lambda: hid16 @ w16.t(),
        },
        repeats,
    )
    for k, sec in t.items():
        print(f"generator, {k}: {1e3 * sec:.2f} ms")


def merged(repeats: int) -> None:
    torch.manual_seed(0)
    seqs, labels = torch.randint(0, V, (B, T)), torch.randint(0, 2, (B,))
    steps = {}
    for dtype in (torch.float32, torch.bfloat16):
        for merge in (False, True):
            torch.manual_seed(0)
            d = Discriminator(V, T)
            d.merge = merge
            opt = torch.optim.Adam(d.parameters(), lr=1e-4, fused=True)

            def step(d=d, opt=opt, bf16=dtype == torch.bfloat16):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    loss = d.loss(seqs, labels)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

            steps[
                f"{'merged width groups' if merge else '12 branches'}, {'bf16' if dtype == torch.bfloat16 else 'fp32'}"
            ] = step
    for k, sec in interleaved(steps, repeats).items():
        print(f"D training step, {k}: {1e3 * sec:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "parts",
        nargs="*",
        default=["gemm", "sampler", "dstep"],
        choices=["gemm", "sampler", "dstep", "compile", "bf16", "windows", "profile", "gen", "merged"],
    )
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=25)
    ap.add_argument(
        "--cpu-time",
        action="store_true",
        help="time this thread's CPU seconds, not wall time: on a "
        "shared machine it leaves out the time other processes had the core (not their cache and "
        "memory traffic); needs --threads 1",
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cpu_time:
        if torch.get_num_threads() != 1:
            sys.exit("--cpu-time needs --threads 1: other threads' work would not be counted")
        global CLOCK
        CLOCK = time.thread_time
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {'CPU' if args.cpu_time else 'wall'} time")
    for part in args.parts:
        print(f"\n## {part}\n")
        {
            "gemm": gemm,
            "sampler": sampler,
            "dstep": dstep,
            "compile": compile_,
            "bf16": bf16,
            "windows": windows,
            "profile": profile,
            "gen": gen,
            "merged": merged,
        }[part](args.repeats)


if __name__ == "__main__":
    main()
