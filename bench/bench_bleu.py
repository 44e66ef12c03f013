"""Speed of seqgan.bleu against NLTK's sentence_bleu (method1) at the size Texygen/SeqGAN use.

    .venv/bin/python bench/bench_bleu.py [--data-dir DIR] [--nltk-hyps 10] [--hyps 1000]

BLEU: 1,000 hypotheses (the first lines of coco/test_coco.txt) against 10,000 references
(coco/image_coco.txt), split on whitespace, BLEU-2..4. The data directory is --data-dir or
$SEQGAN_DATA_DIR; without it, synthetic Zipf-distributed token ids of the same shape are used.

NLTK rebuilds every reference's n-gram counts for every hypothesis, so it is timed on a subset
(--nltk-hyps) of the hypotheses against the full reference set, and reported per hypothesis.
seqgan.bleu is timed on all the hypotheses, the one-off reference precompute included, and also
reported per hypothesis (the median of --repeats runs). NLTK is given its cheapest form: one
sentence_bleu call per hypothesis with the list of weights [(1/2,)*2, (1/3,)*3, (1/4,)*4], which
returns BLEU-2..4 together
(Texygen calls it once per n, i.e. 3x as often). Self-BLEU-2..4 of the same 1,000 hypotheses is
timed the same way (NLTK: brute force, hypothesis i against the 999 others, on a subset).
Both sides run single-threaded in this process; the scores of the timed subset are compared.

Prints a markdown table. NLTK is needed (a test-only dependency of seqgan).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqgan.bleu import BleuReference, self_bleu_scores  # noqa: E402

MAX_N = 4
ORDERS = range(2, MAX_N + 1)


def cpu_model() -> str:
    """``model name`` from /proc/cpuinfo, with the CPU family and model numbers."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError as exc:
        return f"{platform.processor() or 'unknown CPU'} (/proc/cpuinfo: {exc.__class__.__name__})"
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name", platform.processor() or "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def load_data(data_dir: str | None, n_refs: int, n_hyps: int):
    if data_dir:
        coco = Path(data_dir) / "coco"
        ref_path, hyp_path = coco / "image_coco.txt", coco / "test_coco.txt"
        if ref_path.is_file() and hyp_path.is_file():
            refs = [ln.split() for ln in ref_path.read_text(encoding="utf-8").splitlines()]
            hyps = [ln.split() for ln in hyp_path.read_text(encoding="utf-8").splitlines()]
            desc = f"MS-COCO captions: {ref_path} (references), {hyp_path} (hypotheses)"
            return refs[:n_refs], hyps[:n_hyps], desc
        print(f"note: {coco} lacks image_coco.txt/test_coco.txt; using synthetic data")
    else:
        print("note: no --data-dir and SEQGAN_DATA_DIR unset; using synthetic data")
    rng = random.Random(0)
    vocab = 4700
    weights = [1.0 / (r + 1) for r in range(vocab)]

    def sent():
        return rng.choices(range(vocab), weights=weights, k=rng.randint(7, 20))

    desc = f"synthetic: token ids from a Zipf(1) vocabulary of {vocab}, lengths 7-20"
    return [sent() for _ in range(n_refs)], [sent() for _ in range(n_hyps)], desc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("SEQGAN_DATA_DIR"))
    ap.add_argument("--refs", type=int, default=10_000)
    ap.add_argument("--hyps", type=int, default=1_000)
    ap.add_argument("--nltk-hyps", type=int, default=20, help="hypotheses NLTK scores (BLEU)")
    ap.add_argument("--nltk-self-hyps", type=int, default=50, help="same, for Self-BLEU")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of our side (median kept)")
    args = ap.parse_args()

    import nltk
    from nltk.translate.bleu_score import SmoothingFunction
    from nltk.translate.bleu_score import sentence_bleu as nltk_sentence_bleu

    method1 = SmoothingFunction().method1
    weights = [tuple(1.0 / n for _ in range(n)) for n in ORDERS]

    refs, hyps, desc = load_data(args.data_dir, args.refs, args.hyps)
    k = min(args.nltk_hyps, len(hyps))
    ks = min(args.nltk_self_hyps, len(hyps))
    print(f"data: {desc}")
    print(f"{len(refs)} references, {len(hyps)} hypotheses")

    # --- BLEU: ours on everything, precompute included (median of the repeats) ---
    runs = []
    for _ in range(max(1, args.repeats)):
        t0 = time.perf_counter()
        table = BleuReference(refs, max_n=MAX_N)
        t1 = time.perf_counter()
        ours = [table.scores(h) for h in hyps]
        t2 = time.perf_counter()
        runs.append((t2 - t0, t1 - t0, t2 - t1))
    _, ours_pre, ours_score = sorted(runs)[len(runs) // 2]
    ours_per_hyp = (ours_pre + ours_score) / len(hyps)

    # --- BLEU: NLTK on the first k hypotheses against all references ---
    t0 = time.perf_counter()
    theirs = [nltk_sentence_bleu(refs, h, weights, smoothing_function=method1) for h in hyps[:k]]
    nltk_time = time.perf_counter() - t0
    nltk_per_hyp = nltk_time / k
    diff = max(abs(ours[i][n] - theirs[i][j]) for i in range(k) for j, n in enumerate(ORDERS))

    # --- Self-BLEU: ours on all hypotheses; NLTK brute force on the first ks ---
    self_runs = []
    for _ in range(max(1, args.repeats)):
        t0 = time.perf_counter()
        self_ours = self_bleu_scores(hyps, max_n=MAX_N)
        self_runs.append(time.perf_counter() - t0)
    self_ours_time = sorted(self_runs)[len(self_runs) // 2]
    t0 = time.perf_counter()
    self_theirs = [
        nltk_sentence_bleu(hyps[:i] + hyps[i + 1 :], hyps[i], weights, smoothing_function=method1) for i in range(ks)
    ]
    self_nltk_time = time.perf_counter() - t0
    self_diff = max(abs(self_ours[i][n] - self_theirs[i][j]) for i in range(ks) for j, n in enumerate(ORDERS))

    means = {n: math.fsum(s[n] for s in ours) / len(ours) for n in ORDERS}
    self_means = {n: math.fsum(s[n] for s in self_ours) / len(self_ours) for n in ORDERS}

    ms = 1e3
    print()
    print(
        f"Machine: {cpu_model()}, {os.cpu_count()} logical CPUs "
        f"(load average {os.getloadavg()[0]:.2f} at the end: other jobs were running), "
        f"Python {platform.python_version()}, nltk {nltk.__version__}; single process. "
        f"seqgan.bleu times are the median of {max(1, args.repeats)} runs; NLTK's one run."
    )
    print()
    print("| task | what was timed | total (s) | per hypothesis (ms) | speed-up |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| BLEU-2..4, NLTK | {k} hypotheses x {len(refs)} references, one sentence_bleu "
        f"call each (3 weight tuples) | {nltk_time:.2f} | {nltk_per_hyp * ms:.1f} | 1 |"
    )
    print(
        f"| BLEU-2..4, seqgan.bleu | precompute of {len(refs)} references ({ours_pre:.2f} s) "
        f"+ {len(hyps)} hypotheses scored ({ours_score:.3f} s) | {ours_pre + ours_score:.2f} "
        f"| {ours_per_hyp * ms:.3f} | {nltk_per_hyp / ours_per_hyp:,.0f}x |"
    )
    print(
        f"| BLEU-2..4, seqgan.bleu, scoring only | {len(hyps)} hypotheses, precompute excluded "
        f"| {ours_score:.3f} | {ours_score / len(hyps) * ms:.4f} "
        f"| {nltk_per_hyp / (ours_score / len(hyps)):,.0f}x |"
    )
    s_nltk = self_nltk_time / ks
    s_ours = self_ours_time / len(hyps)
    print(
        f"| Self-BLEU-2..4, NLTK | {ks} of {len(hyps)} hypotheses, each against the "
        f"{len(hyps) - 1} others | {self_nltk_time:.2f} | {s_nltk * ms:.1f} | 1 |"
    )
    print(
        f"| Self-BLEU-2..4, seqgan.bleu | all {len(hyps)} hypotheses, table build included "
        f"| {self_ours_time:.3f} | {s_ours * ms:.4f} | {s_nltk / s_ours:,.0f}x |"
    )
    print()
    print(
        f"Largest |ours - NLTK| on the timed subsets: BLEU {diff:.1e} ({k} x 3 scores), "
        f"Self-BLEU {self_diff:.1e} ({ks} x 3 scores)."
    )
    print(
        "Projected NLTK time for all hypotheses: "
        f"BLEU {nltk_per_hyp * len(hyps):.0f} s, Self-BLEU {s_nltk * len(hyps):.0f} s."
    )
    print(
        "Mean over all hypotheses (seqgan.bleu): "
        + ", ".join(f"BLEU-{n} {means[n]:.4f}" for n in ORDERS)
        + "; "
        + ", ".join(f"Self-BLEU-{n} {self_means[n]:.4f}" for n in ORDERS)
    )


if __name__ == "__main__":
    main()
