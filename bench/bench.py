"""Benchmarks of seqgan at the paper's settings (V 5000, T 20, batch 64, N 16; models from Config()).

    .venv/bin/python bench/bench.py [--quick] [--device cpu|cuda] [--compile MODE]
        [--out bench/out/bench.json] [--threads N]

nanoGPT bench.py style: fixed synthetic input, warm-up, timed repeats (torch.cuda.synchronize on
CUDA), median. Where a unit is measured at a reduced size (``--quick``, emulated bf16, the looped
reference) its time is scaled linearly to the paper's size and the row says so. Prints a markdown
table and writes every raw timing to JSON. See bench/README.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import public_style  # noqa: E402  (bench/public_style.py)

from reference import rewards_looped  # noqa: E402  (tests/reference.py)
from seqgan import metrics  # noqa: E402
from seqgan.build import adam, build_discriminator, build_generator, build_oracle  # noqa: E402
from seqgan.config import Config  # noqa: E402
from seqgan.d_graph import train_discriminator_graphed  # noqa: E402
from seqgan.discriminator import merged_convs  # noqa: E402
from seqgan.penalty import PENALTIES  # noqa: E402
from seqgan.rollout import RolloutPolicy, discriminator_scorer, get_rewards, rewards_from_completions  # noqa: E402
from seqgan.runtime.compiled import COMPILE_MODES  # noqa: E402
from seqgan.runtime.hardware import cpu_has_native_bf16  # noqa: E402
from seqgan.train import mle_epoch, monte_carlo, policy_gradient_step, train_discriminator  # noqa: E402

CFG = Config()  # the paper's settings
V, T, B = CFG.oracle.vocab_size, CFG.oracle.seq_len, CFG.train.batch_size
N, NUM = CFG.train.rollout_num, CFG.train.num_negatives  # 16 rollouts, 10,000 sequences
CLIP, SCORE_BS = CFG.generator.grad_clip, CFG.train.score_batch_size
D_SEQS = CFG.oracle.num_train + NUM  # one D epoch: 10,000 real + 10,000 fake

SIZES = {  # measured sizes; everything is scaled to the paper's sizes
    "full": dict(
        repeats=3,
        pg_batch=B,
        d_seqs=D_SEQS,
        mle_seqs=CFG.oracle.num_train,
        sample_seqs=NUM,
        eval_seqs=NUM,
        looped_batch=2,
        looped_n=N,
        bf16_d_seqs=256,
        bf16_score_batch=4,
        scale_batch=16,
        scale_t=(20, 40, 80),
        scale_n=(4, 16, 64),
        scale_repeats=2,
        pub_d_seqs=2560,
        pub_mle_seqs=2560,
        pub_sample_seqs=2000,
        pub_pg_batch=16,
        profile_steps=50,
        gemm_repeats=15,
    ),
    "quick": dict(
        repeats=2,
        pg_batch=8,
        d_seqs=640,
        mle_seqs=640,
        sample_seqs=1000,
        eval_seqs=1000,
        looped_batch=1,
        looped_n=4,
        bf16_d_seqs=64,
        bf16_score_batch=1,
        scale_batch=4,
        scale_t=(20, 40),
        scale_n=(4, 16),
        scale_repeats=1,
        pub_d_seqs=256,
        pub_mle_seqs=256,
        pub_sample_seqs=200,
        pub_pg_batch=2,
        profile_steps=10,
        gemm_repeats=5,
    ),
    # every code path once at the smallest sizes: the test suite runs this so the bench cannot rot
    "smoke": dict(
        repeats=1,
        pg_batch=2,
        d_seqs=128,
        mle_seqs=128,
        sample_seqs=64,
        eval_seqs=64,
        looped_batch=1,
        looped_n=1,
        bf16_d_seqs=64,
        bf16_score_batch=1,
        scale_batch=1,
        scale_t=(20,),
        scale_n=(),
        scale_repeats=1,
        pub_d_seqs=128,
        pub_mle_seqs=128,
        pub_sample_seqs=64,
        pub_pg_batch=1,
        profile_steps=2,
        gemm_repeats=1,
    ),
}

RESULTS: dict[str, dict] = {}
DEVICE = torch.device("cpu")
CLOCK = time.perf_counter  # --cpu-time: time.thread_time, the one thread's CPU seconds


def sync() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench(
    name: str, fn, repeats: int, warmup: int = 1, scale: float = 1.0, measured: str = "", note: str = ""
) -> float:
    """Median seconds of ``fn`` over ``repeats`` after ``warmup`` calls; returns median * scale."""
    return bench_group({name: (fn, scale, measured, note)}, repeats, warmup)[name]


def bench_group(jobs: dict, repeats: int, warmup: int = 1) -> dict[str, float]:
    """Like ``bench`` for several {name: (fn, scale, measured, note)}, interleaved: every repeat runs
    each job once, so a load that drifts during the run hits them alike."""
    for fn, *_ in jobs.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in jobs}
    for _ in range(repeats):
        for name, (fn, *_) in jobs.items():
            sync()
            t0 = CLOCK()
            fn()
            sync()
            times[name].append(CLOCK() - t0)
    out = {}
    for name, (_, scale, measured, note) in jobs.items():
        med = statistics.median(times[name])
        RESULTS[name] = dict(
            times=times[name],
            median=med,
            scale=scale,
            estimate=med * scale,
            measured=measured,
            note=note,
            maxrss_mb=round(maxrss_mb(), 1),
        )
        print(
            f"  {name:<24} {med:9.4f} s median of {repeats} ({measured})  x{scale:g} -> {med * scale:.4g} s",
            file=sys.stderr,
            flush=True,
        )
        out[name] = med * scale
    return out


def d_step_flop(d, batch: int, seq_len: int) -> float:
    """FLOPs of one D training step: forward, input gradient and weight gradient of every matrix
    product (the convolutions over their windows, the highway's two layers, the output layer)."""
    macs = sum(c.weight.numel() * (seq_len - c.weight.shape[2] + 1) for c in d.convs)  # n * E * w per window
    macs += d.highway.transform.weight.numel() + d.highway.gate.weight.numel() + d.out.weight.numel()
    return 3 * 2 * macs * batch


def d_step_gemms(d, batch: int, seq_len: int, dtype: torch.dtype, repeats: int) -> tuple[float, float]:
    """(seconds, GFLOP/s) of a D step's matrix products timed one by one at their shapes in ``dtype``,
    and the rate of a (4096, 1024) x (1024, 1024) product: the step's matrix-product floor and the
    dtype's peak on this machine."""
    e = d.embedding.weight.shape[1]
    shapes = [(batch * (seq_len - c.weight.shape[2] + 1), e * c.weight.shape[2], c.weight.shape[0]) for c in d.convs]
    shapes += [(batch, lin.in_features, lin.out_features) for lin in (d.highway.transform, d.highway.gate, d.out)]

    def timed(fn) -> float:
        fn()
        times = []
        for _ in range(repeats):
            sync()
            t0 = CLOCK()
            fn()
            sync()
            times.append(CLOCK() - t0)
        return statistics.median(times)

    floor = 0.0
    for m, k, n in shapes:
        a, w, g = (torch.randn(*shape, device=DEVICE).to(dtype) for shape in ((m, k), (n, k), (m, n)))
        floor += timed(lambda: a @ w.t()) + timed(lambda: g @ w) + timed(lambda: g.t() @ a)
    a, b = torch.randn(4096, 1024, device=DEVICE).to(dtype), torch.randn(1024, 1024, device=DEVICE).to(dtype)
    return floor, 2 * 4096 * 1024 * 1024 / timed(lambda: a @ b) / 1e9


def d_step_profile(d, opt, real, fake, steps: int, bf16: bool, top: int = 8) -> list[tuple[str, float, int]]:
    """torch.profiler over ``steps`` D training steps (train_discriminator, one epoch): the top
    operators by self time, as (name, share of all self time, calls)."""
    from torch.profiler import ProfilerActivity, profile

    n = steps * B // 2
    train_discriminator(d, opt, real[:n], fake[:n], 1, B, bf16)  # warm-up
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if DEVICE.type == "cuda" else [])
    with profile(activities=activities) as prof:
        train_discriminator(d, opt, real[:n], fake[:n], 1, B, bf16)
    events = [ev for ev in prof.key_averages() if ev.self_cpu_time_total > 0]
    total = sum(ev.self_cpu_time_total for ev in events)
    events.sort(key=lambda ev: ev.self_cpu_time_total, reverse=True)
    return [(ev.key, ev.self_cpu_time_total / total, ev.count) for ev in events[:top]]


def machine_info() -> dict:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    info = dict(
        cpu=cpu,
        cores=os.cpu_count(),
        usable_cores=len(os.sched_getaffinity(0)),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        cpu_native_bf16=cpu_has_native_bf16(),
        python=platform.python_version(),
        device=str(DEVICE),
        loadavg_start=os.getloadavg(),
    )
    if DEVICE.type == "cuda":
        info.update(gpu=torch.cuda.get_device_name(DEVICE), gpu_bf16=torch.cuda.is_bf16_supported())
    return info


def fmt(x: float) -> str:
    return f"{x:.4g}"


def main() -> None:
    global DEVICE, CLOCK
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="reduced sizes and repeats (< ~3 min)")
    ap.add_argument(
        "--smoke", action="store_true", help="every unit once at the smallest sizes (a test, not a measurement)"
    )
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "bench.json"))
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument(
        "--cpu-time",
        action="store_true",
        help="time the thread's CPU seconds, not wall time (CPU, "
        "--threads 1): on a shared machine this leaves out the time other processes had the core, "
        "not their cache and memory traffic",
    )
    ap.add_argument(
        "--compile",
        default="none",
        choices=COMPILE_MODES,
        help="also time D epochs with discriminator.compile=MODE (seqgan/compiled.py; 'reduce-overhead' "
        "is CUDA graphs on a GPU); compiling takes minutes on a CPU and is reported apart",
    )
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: torch sees no CUDA device")
    if args.threads:
        torch.set_num_threads(args.threads)
    DEVICE = torch.device(args.device)
    if args.cpu_time:
        if DEVICE.type != "cpu" or torch.get_num_threads() != 1:
            sys.exit("--cpu-time needs --device cpu and --threads 1: other threads' work would not be counted")
        CLOCK = time.thread_time
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    clock = "CPU time of the one thread (time.thread_time)" if args.cpu_time else "wall time"
    S = SIZES[mode]
    R = S["repeats"]
    # bf16 autocast on a CPU without AVX512-BF16/AMX is emulated and many times slower: measure it small
    bf16_emulated = DEVICE.type == "cpu" and not cpu_has_native_bf16()
    bf16_tag = "bf16 (EMULATED on this CPU)" if bf16_emulated else "bf16"
    started = time.perf_counter()
    info = machine_info()
    print(
        f"seqgan bench: {mode}, device {DEVICE}, {torch.get_num_threads()} threads, "
        f"{info['cpu']}, load {info['loadavg_start']}",
        file=sys.stderr,
        flush=True,
    )
    if DEVICE.type == "cpu" and info["loadavg_start"][0] + torch.get_num_threads() > info["usable_cores"] + 0.5:
        print(
            f"  warning: load {info['loadavg_start'][0]:.1f} + {torch.get_num_threads()} threads > "
            f"{info['usable_cores']} cores: oversubscribed threads can be many times slower; try --threads",
            file=sys.stderr,
            flush=True,
        )
    if DEVICE.type == "cuda":
        torch.cuda.reset_peak_memory_stats(DEVICE)

    torch.manual_seed(0)
    g = build_generator(CFG, V).to(DEVICE)
    d = build_discriminator(CFG, V).to(DEVICE)
    g_opt, d_opt = adam(g.parameters(), CFG.generator.lr), adam(d.parameters(), CFG.discriminator.lr)
    rp = RolloutPolicy(g, CFG.train.rollout_update_rate)
    oracle = build_oracle(CFG).to(DEVICE)  # NLL-oracle on the run's device, as in the library
    real = torch.randint(0, V, (D_SEQS // 2, T), device=DEVICE)
    fake = torch.randint(0, V, (D_SEQS // 2, T), device=DEVICE)
    test = torch.randint(0, V, (NUM, T), device=DEVICE)

    # 1. one adversarial g-step and its parts
    pb = S["pg_batch"]
    at, sc = f"B={pb} N={N} T={T}", B / pb
    d_scorer = discriminator_scorer(d, batch_size=SCORE_BS)
    samples = g.sample(pb)
    completions = rp.complete(samples, N)
    bench_group(
        {
            "g_step.sample": (lambda: g.sample(pb), sc, at, ""),
            "g_step.complete": (lambda: rp.complete(samples, N), sc, at, ""),
            "g_step.score": (
                lambda: rewards_from_completions(d, samples, completions, batch_size=SCORE_BS),
                sc,
                f"{completions[..., 0].numel()} completions + {pb} samples",
                "fp32",
            ),
            "g_step": (lambda: policy_gradient_step(g, g_opt, monte_carlo(rp, d_scorer, N), pb, CLIP), sc, at, ""),
            "get_rewards": (lambda: get_rewards(rp, d, samples, N, batch_size=SCORE_BS), sc, at, ""),
        },
        R,
    )

    # 2. one D epoch over 20,000 sequences, fp32 and bf16
    def d_epoch(n: int, bf16: bool):
        return lambda: train_discriminator(d, d_opt, real[: n // 2], fake[: n // 2], 1, B, bf16)

    n = S["d_seqs"]
    bench("d_epoch.fp32", d_epoch(n, False), R, scale=D_SEQS / n, measured=f"{n} seqs, {-(-n // B)} steps")
    RESULTS["d_epoch.fp32"]["steps"] = -(-n // B)
    n = S["bf16_d_seqs"] if bf16_emulated else S["d_seqs"]
    bench(
        "d_epoch.bf16",
        d_epoch(n, True),
        1 if bf16_emulated else R,
        scale=D_SEQS / n,
        measured=f"{n} seqs, {-(-n // B)} steps",
        note=bf16_tag,
    )
    RESULTS["d_epoch.bf16"]["steps"] = -(-n // B)

    # 2d. the same D epochs with D's loss under torch.compile, on a copy of D; the first epoch compiles
    # (the full and the short last minibatch) and is timed apart
    compiled_rows = []
    if args.compile != "none":
        d_c = copy.deepcopy(d)
        d_c_opt = adam(d_c.parameters(), CFG.discriminator.lr)
        n = S["d_seqs"]
        for tag, bf16 in (("fp32", False), ("bf16", True)):
            if bf16 and bf16_emulated:
                continue

            def epoch(bf16=bf16):
                return train_discriminator(
                    d_c, d_c_opt, real[: n // 2], fake[: n // 2], 1, B, bf16, compile_mode=args.compile
                )

            t0 = time.perf_counter()
            epoch()
            sync()
            compile_s = time.perf_counter() - t0
            key = f"d_epoch.{tag}.compiled"
            bench(
                key,
                epoch,
                R,
                warmup=0,
                scale=D_SEQS / n,
                measured=f"{n} seqs, {-(-n // B)} steps",
                note=f"compile {args.compile}; first epoch (compiling) {compile_s:.0f} s wall",
            )
            RESULTS[key]["compile_s"] = compile_s
            compiled_rows.append((f"2d. D epoch, 20,000 seqs, {tag}, compiled", key, tag))

    # 2e. the same D epochs as CUDA graphs of the whole step (d_graph.py), merged convolutions
    # (CUDA's default) and the 12 branches, on copies of D; the first call warms up and captures
    # (timed apart). Eager on a CPU, where only --smoke runs it, so that the code cannot rot.
    graph_rows = []
    if DEVICE.type == "cuda" or mode == "smoke":
        n = S["d_seqs"]
        for tag, bf16, merge in (("fp32", False, None), ("bf16", True, None), ("fp32.branches", False, False)):
            if bf16 and bf16_emulated:
                continue
            d_g = copy.deepcopy(d)
            d_g.merge = merge
            d_g_opt = adam(d_g.parameters(), CFG.discriminator.lr)

            def epoch(d_g=d_g, d_g_opt=d_g_opt, bf16=bf16):
                return train_discriminator_graphed(d_g, d_g_opt, real[: n // 2], fake[: n // 2], 1, B, bf16)

            t0 = time.perf_counter()
            epoch()
            sync()
            capture_s = time.perf_counter() - t0
            key = f"d_epoch.{tag}.graph"
            bench(
                key,
                epoch,
                R,
                warmup=0,
                scale=D_SEQS / n,
                measured=f"{n} seqs, {-(-n // B)} steps",
                note=f"{'merged convs' if (merged_convs(DEVICE) if merge is None else merge) else '12 branches'}; "
                f"first call ({'capture' if DEVICE.type == 'cuda' else 'eager'}) {capture_s:.2f} s wall",
            )
            RESULTS[key].update(capture_s=capture_s, steps=-(-n // B))
            graph_rows.append(
                (f"2e. D epoch, 20,000 seqs, {tag.replace('.branches', '')}, graph", key, tag.split(".")[0])
            )

    # 2c. the D step: achieved GFLOP/s against the matrix-product floor and peak for each dtype, and a profile
    flop = d_step_flop(d, B, T)
    d_step = {}
    for tag, dtype, bf16 in (("fp32", torch.float32, False), ("bf16", torch.bfloat16, True)):
        if bf16 and bf16_emulated:
            continue
        step_s = RESULTS[f"d_epoch.{tag}"]["median"] / RESULTS[f"d_epoch.{tag}"]["steps"]
        floor, peak = d_step_gemms(d, B, T, dtype, S["gemm_repeats"])
        d_step[tag] = dict(
            step_s=step_s,
            gflops=flop / step_s / 1e9,
            gemm_floor_s=floor,
            peak_gflops=peak,
            profile=d_step_profile(d, d_opt, real, fake, S["profile_steps"], bf16),
        )
        print(
            f"  d_step.{tag}: {1e3 * step_s:.1f} ms, {flop / step_s / 1e9:.0f} GFLOP/s; its products alone "
            f"{1e3 * floor:.1f} ms; peak {peak:.0f} GFLOP/s",
            file=sys.stderr,
            flush=True,
        )

    # 2c. one D training step (a minibatch of 64) with each gradient penalty (seqgan/penalty.py), fp32
    def penalised_d_step(gp: str):
        return lambda: train_discriminator(d, d_opt, real[: B // 2], fake[: B // 2], 1, B, False, gp, 10.0)

    bench_group({f"d_step.{gp}": (penalised_d_step(gp), 1.0, f"batch {B}", "fp32") for gp in PENALTIES}, R)

    # 3. one MLE epoch over 10,000 sequences; 4. sampling 10,000 sequences
    n = S["mle_seqs"]
    bench(
        "mle_epoch",
        lambda: mle_epoch(g, g_opt, real[:n], B, CLIP),
        R,
        scale=CFG.oracle.num_train / n,
        measured=f"{n} seqs",
    )
    n = S["sample_seqs"]
    bench("sample_10k", lambda: g.sample(n), R, scale=NUM / n, measured=f"{n} seqs")

    # 5. the literal looped reference (tests/reference.py, always on the CPU) against get_rewards
    lb, ln = S["looped_batch"], S["looped_n"]
    policy_cpu, d_cpu = copy.deepcopy(rp.policy).cpu(), copy.deepcopy(d).cpu()
    bench(
        "rewards_looped",
        lambda: rewards_looped(policy_cpu, d_cpu, samples[:lb].cpu(), ln),
        R,
        warmup=0,
        scale=(B / lb) * (N / ln),
        measured=f"B={lb} N={ln} T={T}, cpu",
        note="scaled linearly in B and N to a batch of 64 at N=16",
    )

    # 6. D scoring of the 19,456 completions: fp32 vs bf16 on the same subset
    k = S["bf16_score_batch"] if bf16_emulated else pb
    sub_s, sub_c = samples[:k], completions[:, :, :k]
    at = f"{sub_c[..., 0].numel()} completions + {k} samples"
    bench(
        "score_subset.fp32",
        lambda: rewards_from_completions(d, sub_s, sub_c, batch_size=SCORE_BS),
        R,
        scale=B / k,
        measured=at,
    )
    bench(
        "score_subset.bf16",
        lambda: rewards_from_completions(d, sub_s, sub_c, batch_size=SCORE_BS, bf16=True),
        1 if bf16_emulated else R,
        scale=B / k,
        measured=at,
        note=bf16_tag,
    )

    # 7. one evaluation unit: sample + D scoring of real and fake + NLL-oracle + NLL-test
    n = S["eval_seqs"]

    def eval_unit():
        s = g.sample(n)
        metrics.discriminator_metrics(d, test[:n], s, bf16=False)
        metrics.nll_oracle(oracle, s)
        metrics.nll_test(g, test[:n])

    bench("eval_unit", eval_unit, R, scale=NUM / n, measured=f"{n} samples, {2 * n} D scores, 2 x {n} NLL")

    # 8. the public implementations' code paths (bench/public_style.py) on the same models and data,
    # CPU only: they are the CPU ports' loops, measured here side by side with ours
    if DEVICE.type == "cpu":
        pub_d = public_style.PublicDiscriminator(copy.deepcopy(d))
        pub_g, pub_rollout = copy.deepcopy(g), copy.deepcopy(rp.policy)
        pub_d_opt = public_style.default_adam(pub_d.parameters(), CFG.discriminator.lr)
        pub_g_opt = public_style.default_adam(pub_g.parameters(), CFG.generator.lr)
        n, nm, ns, pbb = S["pub_d_seqs"], S["pub_mle_seqs"], S["pub_sample_seqs"], S["pub_pg_batch"]
        bench_group(
            {
                "public.d_epoch": (
                    lambda: public_style.d_epoch(pub_d, pub_d_opt, real[: n // 2], fake[: n // 2], B),
                    D_SEQS / n,
                    f"{n} seqs",
                    "conv2d per width, default Adam",
                ),
                "public.mle_epoch": (
                    lambda: public_style.mle_epoch(pub_g, pub_g_opt, real[:nm], B, CLIP),
                    CFG.oracle.num_train / nm,
                    f"{nm} seqs",
                    "full logits, default Adam",
                ),
                "public.sample_10k": (
                    lambda: public_style.sample(pub_g, ns, NUM),
                    NUM / ns,
                    f"{ns} seqs",
                    "torch.multinomial",
                ),
                "public.g_step": (
                    lambda: public_style.g_step(pub_g, pub_g_opt, pub_rollout, pub_d, pbb, N, CLIP),
                    B / pbb,
                    f"B={pbb} N={N} T={T}",
                    "loops over N and t, batch of B",
                ),
            },
            R,
        )

    # 9. rollout scaling: complete + score, work ~ N * T(T-1)/2 (completion tokens) for each
    scaling = []
    sb = S["scale_batch"]
    points = [(t, N) for t in S["scale_t"]] + [(T, n_r) for n_r in S["scale_n"] if n_r != N]
    for t_len, n_roll in points:
        cfg_t = copy.deepcopy(CFG)
        cfg_t.oracle.seq_len = t_len
        torch.manual_seed(0)
        g_t = build_generator(cfg_t, V).to(DEVICE)
        d_t = build_discriminator(cfg_t, V).to(DEVICE)
        rp_t = RolloutPolicy(g_t, CFG.train.rollout_update_rate)
        s_t = g_t.sample(sb)
        c_t = rp_t.complete(s_t, n_roll)
        tag = f"T={t_len} N={n_roll}"
        reps = S["scale_repeats"]
        t_c = bench(f"scale.complete.{tag}", lambda: rp_t.complete(s_t, n_roll), reps, warmup=0, measured=f"B={sb}")
        t_s = bench(
            f"scale.score.{tag}",
            lambda: rewards_from_completions(d_t, s_t, c_t, batch_size=SCORE_BS),
            reps,
            warmup=0,
            measured=f"B={sb}",
        )
        work = n_roll * t_len * (t_len - 1) / 2
        scaling.append(
            dict(
                T=t_len,
                N=n_roll,
                B=sb,
                work=work,
                complete=t_c,
                score=t_s,
                total=t_c + t_s,
                complete_per_work=t_c / work,
                score_per_work=t_s / work,
                total_per_work=(t_c + t_s) / work,
            )
        )

    # 7. projection of the full protocol (counts from Config(), as seqgan.train runs them)
    e = {k: v["estimate"] for k, v in RESULTS.items()}
    tc = CFG.train
    every = CFG.eval.every
    n_eval_pre = -(-tc.pretrain_g_epochs // every)  # every 5 epochs and at the end
    n_eval_adv = (1 + -(-tc.rounds // every)) * (
        2 if "mle" in CFG.rows.names else 1
    )  # at the start, every 5 rounds; SeqGAN + MLE

    def protocol(mle: float, sample: float, d_epoch: float, g_step: float, eval_unit: float) -> dict[str, float]:
        """Seconds of each phase of the paper protocol from the unit times."""
        return {
            f"MLE pre-training: {tc.pretrain_g_epochs} epochs": tc.pretrain_g_epochs * mle,
            f"D pre-training: {tc.pretrain_d_steps} x (sample + {tc.pretrain_d_epochs} D epochs)": tc.pretrain_d_steps
            * (sample + tc.pretrain_d_epochs * d_epoch),
            f"adversarial g-steps: {tc.rounds} x {tc.g_steps}": tc.rounds * tc.g_steps * g_step,
            f"adversarial d-steps: {tc.rounds} x {tc.d_steps} x (sample + {tc.d_epochs} D epochs)": tc.rounds
            * tc.d_steps
            * (sample + tc.d_epochs * d_epoch),
            f"MLE baseline: {tc.rounds} x {CFG.rows.mle_epochs_per_round} epochs": tc.rounds
            * CFG.rows.mle_epochs_per_round
            * mle
            * ("mle" in CFG.rows.names),
            f"evaluation: {n_eval_pre} + {n_eval_adv} units": (n_eval_pre + n_eval_adv) * eval_unit,
        }

    phases_g_step = {"fp32": e["g_step"], "bf16": e["g_step"] - e["g_step.score"] + e["score_subset.bf16"]}
    phases = {
        "fp32": protocol(e["mle_epoch"], e["sample_10k"], e["d_epoch.fp32"], e["g_step"], e["eval_unit"]),
        "bf16": protocol(
            e["mle_epoch"],
            e["sample_10k"],
            e["d_epoch.bf16"],
            e["g_step"] - e["g_step.score"] + e["score_subset.bf16"],
            e["eval_unit"],
        ),
    }
    for tag in ("fp32", "bf16"):  # with D's step as a graph (2e); bf16's g-step scores in bf16 as above
        if f"d_epoch.{tag}.graph" in e and DEVICE.type == "cuda":
            phases[f"{tag} graph"] = protocol(
                e["mle_epoch"], e["sample_10k"], e[f"d_epoch.{tag}.graph"], phases_g_step[tag], e["eval_unit"]
            )
    if "public.d_epoch" in e:  # its evaluation: ours with the public sampler's time in place of ours
        phases["public-style"] = protocol(
            e["public.mle_epoch"],
            e["public.sample_10k"],
            e["public.d_epoch"],
            e["public.g_step"],
            e["eval_unit"] - e["sample_10k"] + e["public.sample_10k"],
        )
    totals = {k: sum(v.values()) for k, v in phases.items()}
    memory = {"maxrss_mb": round(maxrss_mb(), 1)}
    if DEVICE.type == "cuda":
        memory["cuda_max_allocated_mb"] = round(torch.cuda.max_memory_allocated(DEVICE) / 2**20, 1)
    info.update(loadavg_end=os.getloadavg(), bench_seconds=round(time.perf_counter() - started, 1))

    # the report
    def row(label, key, extra=""):
        r = RESULTS[key]
        scaled = "" if r["scale"] == 1 else f" (x{r['scale']:.4g})"
        note = "; ".join(x for x in (r["note"], extra) if x)
        return f"| {label} | {r['measured']}{scaled} | {fmt(r['median'])} | {fmt(r['estimate'])} | {note} |"

    derived_update = e["g_step"] - e["g_step.sample"] - e["g_step.complete"] - e["g_step.score"]
    ours_ps, looped_ps = e["get_rewards"] / B, e["rewards_looped"] / B
    public_lines = []
    if "public-style" in phases:
        pairs = [
            ("one adversarial g-step", "public.g_step", "g_step"),
            ("one D epoch, 20,000 seqs (fp32)", "public.d_epoch", "d_epoch.fp32"),
            ("one MLE epoch, 10,000 seqs", "public.mle_epoch", "mle_epoch"),
            ("sampling 10,000 seqs", "public.sample_10k", "sample_10k"),
        ]
        public_lines = [
            "",
            "### Public code paths against ours, same run (bench/public_style.py)",
            "",
            "| unit | public-style s | ours s | public / ours |",
            "| --- | ---: | ---: | ---: |",
            *[f"| {label} | {fmt(e[pk])} | {fmt(e[ok])} | {e[pk] / e[ok]:.2f}x |" for label, pk, ok in pairs],
            f"| paper protocol, projected (h) | {totals['public-style'] / 3600:.2f} | {totals['fp32'] / 3600:.2f} | "
            f"{totals['public-style'] / totals['fp32']:.2f}x |",
        ]
    lines = [
        f"## seqgan bench ({mode}, {DEVICE}, {torch.get_num_threads()} threads, {clock})",
        "",
        f"Paper's settings: V={V}, T={T}, batch {B}, N={N}, "
        f"G emb/hidden {CFG.generator.emb_dim}/{CFG.generator.hidden_dim}, "
        f"D as seqgan.discriminator defaults, fused Adam. Median of repeats after warm-up; 'paper size' scales the "
        f"measured median linearly (factor in brackets).",
        "",
        "| unit | measured at | median s | s at paper size | note |",
        "| --- | --- | ---: | ---: | --- |",
        row("1. g-step (policy_gradient_step)", "g_step"),
        row("1a. sample 64", "g_step.sample"),
        row("1b. rollout completions (RolloutPolicy.complete)", "g_step.complete"),
        row("1c. D scoring (rewards_from_completions)", "g_step.score"),
        f"| 1d. update: pg loss, backward, clip, Adam | derived: 1 - 1a - 1b - 1c | | {fmt(derived_update)} | "
        "difference of noisy medians |",
        row("2. D epoch, 20,000 seqs, fp32", "d_epoch.fp32"),
        row("2b. D epoch, 20,000 seqs, bf16", "d_epoch.bf16"),
        *[
            row(label, key, f"{RESULTS[key]['median'] / RESULTS[f'd_epoch.{tag}']['median']:.2f}x eager")
            for label, key, tag in compiled_rows
        ],
        *[
            row(
                label,
                key,
                f"{1e3 * RESULTS[key]['median'] / RESULTS[key]['steps']:.3f} ms a step; "
                f"{RESULTS[key]['median'] / RESULTS[f'd_epoch.{tag}']['median']:.2f}x row 2/2b",
            )
            for label, key, tag in graph_rows
        ],
        *[
            row(
                f"2c. D step, batch {B}, gradient penalty {gp}",
                f"d_step.{gp}",
                f"{RESULTS[f'd_step.{gp}']['median'] / RESULTS['d_step.none']['median']:.1f}x none",
            )
            for gp in PENALTIES
        ],
        row("3. MLE epoch, 10,000 seqs", "mle_epoch"),
        row("4. sample 10,000 seqs", "sample_10k"),
        row("5a. get_rewards (ours), batch of 64", "get_rewards", f"{fmt(ours_ps)} s/sample"),
        row("5b. rewards_looped (tests/reference.py)", "rewards_looped", f"{fmt(looped_ps)} s/sample"),
        f"| 5c. looped / ours, per sample | | | {looped_ps / ours_ps:.1f}x | |",
        row("6a. D scoring 19,456 completions, fp32 (subset)", "score_subset.fp32"),
        row(
            "6b. D scoring 19,456 completions, bf16 (subset)",
            "score_subset.bf16",
            f"bf16/fp32 = {RESULTS['score_subset.bf16']['median'] / RESULTS['score_subset.fp32']['median']:.1f}x",
        ),
        row("7. evaluation unit", "eval_unit"),
        "",
        f"### The D training step (batch {B}, {flop / 1e9:.2f} GFLOP; train_discriminator)",
        "",
        "| precision | ms a step | GFLOP/s achieved | its matrix products alone, ms | step / products | "
        "dtype's peak GFLOP/s ((4096,1024)x(1024,1024)) | achieved / peak |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {tag} | {1e3 * r['step_s']:.1f} | {r['gflops']:.0f} | {1e3 * r['gemm_floor_s']:.1f} | "
            f"{r['step_s'] / r['gemm_floor_s']:.2f}x | {r['peak_gflops']:.0f} | {r['gflops'] / r['peak_gflops']:.0%} |"
            for tag, r in d_step.items()
        ],
        *(
            ["", f"bf16 / fp32, ms a step: {d_step['bf16']['step_s'] / d_step['fp32']['step_s']:.2f}"]
            if "bf16" in d_step
            else []
        ),
        *[
            line
            for tag, r in d_step.items()
            for line in (
                "",
                f"torch.profiler, {S['profile_steps']} steps, {tag}: top operators by self time",
                "",
                "| operator | share | calls |",
                "| --- | ---: | ---: |",
                *[f"| `{name}` | {share:.1%} | {calls} |" for name, share, calls in r["profile"]],
            )
        ],
        "",
        "### Projected full paper protocol",
        "",
        "| phase | " + " | ".join(f"{bf16_tag if k == 'bf16' else k} (h)" for k in phases) + " |",
        "| --- |" + " ---: |" * len(phases),
        *[f"| {ph} | " + " | ".join(f"{phases[k][ph] / 3600:.2f}" for k in phases) + " |" for ph in phases["fp32"]],
        "| **total** | " + " | ".join(f"**{totals[k] / 3600:.2f}**" for k in phases) + " |",
        "| total, minutes | " + " | ".join(f"{totals[k] / 60:.1f}" for k in phases) + " |",
        *public_lines,
        "",
        f"### Rollout scaling (complete + score, batch {sb}; work = N*T*(T-1)/2)",
        "",
        "| T | N | work | complete s | score s | total s | complete us/work | score us/work | total us/work |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *[
            f"| {p['T']} | {p['N']} | {p['work']:.0f} | {fmt(p['complete'])} | {fmt(p['score'])} | {fmt(p['total'])} | "
            f"{p['complete_per_work'] * 1e6:.1f} | {p['score_per_work'] * 1e6:.1f} | {p['total_per_work'] * 1e6:.1f} |"
            for p in scaling
        ],
        "",
        "### Memory and machine",
        "",
        f"- peak RSS (ru_maxrss): {memory['maxrss_mb']:.0f} MB"
        + (
            f"; CUDA max allocated: {memory['cuda_max_allocated_mb']:.0f} MB"
            if "cuda_max_allocated_mb" in memory
            else ""
        ),
        f"- CPU: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), torch {info['torch']}, "
        f"{info['torch_threads']} threads, native bf16: {info['cpu_native_bf16']}"
        + (f"; GPU: {info['gpu']} (bf16: {info['gpu_bf16']})" if "gpu" in info else ""),
        f"- load average at start {info['loadavg_start']}, at end {info['loadavg_end']} "
        f"(other processes make the timings noisy); bench took {info['bench_seconds']:.0f} s",
    ]
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            dict(
                mode=mode,
                clock=clock,
                sizes=S,
                machine=info,
                memory=memory,
                results=RESULTS,
                derived=dict(
                    g_step_update=derived_update,
                    rewards_per_sample_ours=ours_ps,
                    rewards_per_sample_looped=looped_ps,
                    looped_over_ours=looped_ps / ours_ps,
                ),
                projection_seconds=phases,
                scaling=scaling,
                d_step=d_step,
                table=table,
            ),
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
