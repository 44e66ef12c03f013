"""Re-derive every figure of the KL remedy's comparison (results/kl) from the committed files, sharing
no code with the study (seqgan/studies/kl_remedy.py) or with seqgan.

From each kl_sweeps/seedS.json (the sweeps of the pre-trained generator, A and B, each trained arm's sweep
and each resampled point) and the runs' results.json:

1. the sweeps belong to the committed runs: each key is the first 16 hex digits of the sha256 of that
   arm's results.json;
2. each arm's gap (its NLL-oracle at T = 1, or the resampled draws', minus the mean of sweeps A and B at
   its NLL-test, read on the branch up to the temperature of lowest NLL-test) and its s.e., each arm minus
   the paper arm, each trained arm's curve gap and its s.e., against every cell of kl.md's per-seed table,
   and each resampling line against the sweeps' resampled points;
3. over seeds, each arm's mean gap, 95 % t-interval, t-test and Wilcoxon p, its s.e. (rms) and the seeds
   left out, and the paired difference to the paper arm, against kl.md's summary table; the verdict's
   head, and the arms it calls below and above, against the intervals.

Usage: python scripts/check_kl.py [--results DIR]; prints "all N kl figures match ..." or each mismatch
and exits 1. A DIR without kl.md is reported as nothing to check.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
# the arms as the design fixes them (docs/remedies.md), typed here again, and kl.md's label of each
BETAS = ("0.1", "1", "10")
NAMES = {
    "kl_frozen": "KL g-step, D frozen",
    "kl_trained": "KL g-step, D trained",
    "resample": "resampling p_0 by (D/(1-D))^(1/B)",
}
TRAINED = ["paper"] + [f"{k}_b{b}" for k in ("kl_frozen", "kl_trained") for b in BETAS]
ARMS = TRAINED + [f"resample_b{b}" for b in BETAS]


def label(arm: str) -> str:
    if arm == "paper":
        return "SeqGAN, paper settings"
    kind, beta = arm.rsplit("_b", 1)
    return f"{NAMES[kind]}, B = {beta}"


def branch(points: list[dict]) -> list[tuple[float, float, float]]:
    """(nll_test, nll_oracle, nll_oracle_se) from the coldest point to the one of lowest NLL-test."""
    pts = sorted(points, key=lambda p: p["temperature"])
    low = min(range(len(pts)), key=lambda i: pts[i]["nll_test"])
    return [(p["nll_test"], p["nll_oracle"], p["nll_oracle_se"]) for p in pts[: low + 1]]


def read(curve: list[tuple], x: float, column: int) -> float | None:
    """Linear interpolation of ``column`` along NLL-test; None outside the curve's range."""
    pts = sorted(curve)
    if not pts or x < pts[0][0] or x > pts[-1][0]:
        return None
    for a, b in zip(pts, pts[1:]):
        if a[0] <= x <= b[0]:
            return a[column] if b[0] == a[0] else a[column] + (b[column] - a[column]) * (x - a[0]) / (b[0] - a[0])
    return pts[0][column]


def seed_gaps(sweeps: dict) -> dict:
    a, b = branch(sweeps["curves"]["pretrained_A"]), branch(sweeps["curves"]["pretrained_B"])
    gaps = {}
    for arm in ARMS:
        if arm in TRAINED:
            point = next(p for p in sweeps["curves"][arm] if abs(p["temperature"] - 1) < 1e-9)
        else:
            point = sweeps["resample"][arm]
        x = point["nll_test"]
        ys, ses = [read(c, x, 1) for c in (a, b)], [read(c, x, 2) for c in (a, b)]
        if None in ys:
            gaps[arm] = (point, None, None)
        else:
            gap = point["nll_oracle"] - (ys[0] + ys[1]) / 2
            gaps[arm] = (point, gap, math.sqrt(point["nll_oracle_se"] ** 2 + (ses[0] ** 2 + ses[1] ** 2) / 4))
    return gaps


def mean_between(curve: list[tuple], column: int, lo: float, hi: float) -> float:
    """The mean of ``column`` of a piecewise-linear curve over NLL-test lo..hi (trapezoids on every breakpoint)."""
    xs = sorted({lo, hi} | {p[0] for p in curve if lo < p[0] < hi})
    ys = [read(curve, x, column) for x in xs]
    if hi == lo:
        return ys[0]
    return sum((a + b) / 2 * (x1 - x0) for x0, x1, a, b in zip(xs, xs[1:], ys, ys[1:])) / (hi - lo)


def curve_gap(sweeps: dict, arm: str) -> tuple[float, float] | None:
    """The arm's tempered curve minus the mean of sweeps A and B, averaged over the NLL-test range all three
    share, and its s.e. (fully correlated errors within a curve); None where the range is empty."""
    curves = [branch(sweeps["curves"][name]) for name in (arm, "pretrained_A", "pretrained_B")]
    lo, hi = max(min(p[0] for p in c) for c in curves), min(max(p[0] for p in c) for c in curves)
    if not hi > lo:
        return None
    xs = sorted({lo, hi} | {p[0] for c in curves for p in c if lo < p[0] < hi})
    diff = [read(curves[0], x, 1) - (read(curves[1], x, 1) + read(curves[2], x, 1)) / 2 for x in xs]
    gap = sum((a + b) / 2 * (x1 - x0) for x0, x1, a, b in zip(xs, xs[1:], diff, diff[1:])) / (hi - lo)
    se = [mean_between(c, 2, lo, hi) for c in curves]
    return gap, math.sqrt(se[0] ** 2 + (se[1] ** 2 + se[2] ** 2) / 4)


def summary(values: list[float]) -> tuple[float, float, float, float] | None:
    """mean, CI low, CI high, two-sided t-test p; None below 2 values."""
    if len(values) < 2:
        return None
    n, m = len(values), sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    p = 2 * stats.t.sf(abs(m / (sd / math.sqrt(n))), n - 1) if sd > 1e-12 * max(1.0, abs(m)) else float("nan")
    return m, m - half, m + half, p


def s3(v: float) -> str:
    return f"{v:+.3f}"


def fmt_p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    if p == 0.0:
        return "< 1e-300"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def check(results: Path) -> tuple[int, list[str]]:
    md_path = results / "kl.md"
    md = md_path.read_text(encoding="utf-8")
    cells = {}
    for line in md.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            parts = [c.strip() for c in line.strip().strip("|").split("|")]
            cells[tuple(parts[:2])] = parts
    checks, errors = 0, []

    def expect(what: str, got: str, want: str) -> None:
        nonlocal checks
        checks += 1
        if got != want:
            errors.append(f"{md_path}: {what}: the table says {got!r}, the files give {want!r}")

    per_arm = {arm: [] for arm in ARMS}
    per_se = {arm: [] for arm in ARMS}
    left_out = {arm: [] for arm in ARMS}
    per_diff = {arm: [] for arm in ARMS[1:]}
    seeds = sorted(int(p.stem[4:]) for p in (results / "kl_sweeps").glob("seed*.json"))
    listed = re.search(r"^Seeds: ([0-9, ]+);", md, re.M)
    expect("the seeds", listed.group(1) if listed else "(none)", ", ".join(map(str, seeds)))
    for seed in seeds:
        sweeps = json.loads((results / "kl_sweeps" / f"seed{seed}.json").read_text(encoding="utf-8"))
        num = sweeps["num_samples"]
        header = re.search(r"\), (\d+) samples a point; sampling seeds (\d+) \(sweep A\)", md)
        expect(
            f"seed {seed}: the samples a point and the sampling seed",
            "/".join(header.groups()) if header else "(no header)",
            f"{num}/{sweeps['sampling_seed']}",
        )
        for arm in TRAINED:
            digest = hashlib.sha256((results / f"seed{seed}" / arm / "results.json").read_bytes()).hexdigest()[:16]
            expect(f"seed {seed} {arm}: the sweeps' run key", sweeps["keys"][arm], digest)
        gaps = seed_gaps(sweeps)
        paper = gaps["paper"]
        for arm in ARMS:
            point, gap, se = gaps[arm]
            row = cells.get((str(seed), label(arm)))
            if row is None:
                errors.append(f"{md_path}: no per-seed row for seed {seed}, {label(arm)}")
                continue
            expect(f"seed {seed} {arm} NLL-oracle", row[2], f"{point['nll_oracle']:.3f} ± {point['nll_oracle_se']:.3f}")
            expect(f"seed {seed} {arm} NLL-test", row[3], f"{point['nll_test']:.3f}")
            expect(
                f"seed {seed} {arm} gap",
                row[4],
                "outside the curve's range" if gap is None else f"{s3(gap)} ± {se:.3f}",
            )
            if arm in TRAINED:
                cg = curve_gap(sweeps, arm)
                expect(
                    f"seed {seed} {arm} curve gap",
                    row[6],
                    "outside the curve's range" if cg is None else f"{s3(cg[0])} ± {cg[1]:.3f}",
                )
            else:
                p = point
                expect(
                    f"seed {seed} {arm} resampling line",
                    "present" if (
                        f"- seed {seed}, B = {arm.rsplit('_b', 1)[1]}: {p['distinct']} distinct of {num} draws; "
                        f"effective sample size of the pool's weights {p['ess']:.0f} of {p['pool']}; log Z-hat "
                        f"{p['log_z']:.3f} (independent pool of {p['z_pool_size']}), {p['log_z_pool']:.3f} (the "
                        f"resampling pool); NLL-test {p['nll_test']:.3f} ({p['nll_test_pool_z']:.3f} with the pool's "
                        "Z-hat)"
                    ) in md else "missing",
                    "present",
                )  # fmt: skip
            if gap is not None:
                per_arm[arm].append(gap)
                per_se[arm].append(se)
            else:
                left_out[arm].append(seed)
            if arm != "paper":
                if gap is None or paper[1] is None:
                    want = "outside the curve's range"
                else:
                    diff_se = math.hypot(point["nll_oracle_se"], paper[0]["nll_oracle_se"])
                    want = f"{s3(gap - paper[1])} ± {diff_se:.3f}"
                    per_diff[arm].append(gap - paper[1])
                expect(f"seed {seed} {arm} minus paper", row[5], want)
    below, above = [], []
    for arm in ARMS:
        row = next((parts for key, parts in cells.items() if key[0] == label(arm) and len(parts) >= 10), None)
        if row is None:
            errors.append(f"{md_path}: no summary row for {label(arm)}")
            continue
        st = summary(per_arm[arm])
        values = per_arm[arm]
        left = f" (left out: {', '.join(map(str, left_out[arm]))})" if left_out[arm] else ""
        expect(f"{arm}: seeds", row[1], f"{len(values)}{left}")
        if st is not None:
            expect(f"{arm}: mean gap", row[2], s3(st[0]))
            expect(f"{arm}: 95 % CI", row[3], f"[{s3(st[1])}, {s3(st[2])}]")
            expect(f"{arm}: t-test p", row[4], fmt_p(st[3]))
            wilcoxon = stats.wilcoxon(values).pvalue if any(v != 0 for v in values) else float("nan")
            expect(f"{arm}: Wilcoxon p", row[5], fmt_p(float(wilcoxon)))
            if st[2] < 0:
                below.append(arm)
            elif st[1] > 0:
                above.append(arm)
        else:  # one seed or none: its value (or n/a), no interval, no test
            expect(f"{arm}: mean gap", row[2], s3(values[0]) if values else "n/a")
            expect(f"{arm}: 95 % CI and p", f"{row[3]} {row[4]}", "[n/a, n/a] n/a")
        rms = math.sqrt(sum(x**2 for x in per_se[arm]) / len(per_se[arm])) if per_se[arm] else float("nan")
        expect(f"{arm}: a seed's s.e. (rms)", row[6], "n/a" if math.isnan(rms) else f"{rms:.3f}")
        if arm != "paper":
            d = summary(per_diff[arm])
            if d is not None:
                expect(f"{arm} - paper: mean", row[7], s3(d[0]))
                expect(f"{arm} - paper: 95 % CI", row[8], f"[{s3(d[1])}, {s3(d[2])}]")
                expect(f"{arm} - paper: paired p", row[9], fmt_p(d[3]))
    verdict = re.search(r"^\*\*(.*)\*\*$", md, re.M)
    if verdict is None:
        errors.append(f"{md_path}: no verdict line (**...**)")
        return checks, errors
    said = verdict.group(1)
    expect(
        "the verdict's head",
        said.split(" at the quick budget")[0],
        f"{len(below)} arm(s) below their tempered start" if below else "No arm is below its own tempered start",
    )
    for words, arms in (("below their own tempered start", below), ("above it", above)):
        named = re.search(rf"(?:: |; )([a-z_0-9., ]*?) {re.escape(words)}", said)
        expect(
            f"the arms the verdict calls {words}",
            ", ".join(sorted(named.group(1).split(", "))) if named else "(none)",
            ", ".join(sorted(arms)) if arms else "(none)",
        )
    return checks, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(ROOT / "results"), help="the results folder (holding kl/)")
    results = Path(parser.parse_args().results) / "kl"
    if not (results / "kl.md").is_file():
        print(f"all 0 kl figures: nothing to check ({results / 'kl.md'} does not exist yet)")
        return 0
    checks, errors = check(results)
    if errors:
        for e in errors:
            print(e)
        print(f"{len(errors)} of {checks} kl figures do not match their files")
        return 1
    print(f"all {checks} kl figures match their files ({results})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
