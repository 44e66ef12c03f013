"""Re-derive every figure of the Texygen benchmark (results/benchmark/TASK) from the committed files,
sharing no code with the study (seqgan/studies/benchmark.py) or with seqgan's BLEU.

For each task folder with a benchmark.json:

1. every run entry of benchmark.json against its run's raw results.json (and the real captions');
2. BLEU-2..5 (full and fast) and Self-BLEU-2..5 (fast; full with --all-samples) recomputed from the
   decoded samples with this file's own BLEU, for the columns of the first seed (every seed and
   every sweep point with --all-samples), against the results.json value;
3. the Texygen-layout figures (mean, std, 95% t-interval over seeds, published figure inside or
   out) and the gaps to tempered MLE (own interpolation, one-sample t-test) recomputed from the
   results.json files, against benchmark.json and against the figures printed in benchmark.md.

Usage: python scripts/check_benchmark.py [--results DIR] [--all-samples]; exits 1 naming each mismatch.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import sys
from collections import Counter
from pathlib import Path

import yaml
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
ORDERS = (2, 3, 4, 5)
# the published tables, typed here from the sources again (Texygen's README; the SeqGAN paper's Table 3)
PUBLISHED = {
    "coco": {
        ("seqgan", "bleu"): (0.745, 0.498, 0.294, 0.180),
        ("seqgan", "self_bleu"): (0.950, 0.840, 0.670, 0.489),
        ("maligan_basic", "bleu"): (0.673, 0.432, 0.257, 0.159),
        ("maligan_basic", "self_bleu"): (0.918, 0.781, 0.606, 0.437),
        ("mle", "bleu"): (0.731, 0.497, 0.305, 0.189),
        ("mle", "self_bleu"): (0.916, 0.769, 0.583, 0.408),
    },
    "poems": {("seqgan", "bleu"): (0.7390,), ("mle", "bleu"): (0.6670,)},
}


# -- BLEU, written again: NLTK's sentence_bleu, uniform weights, smoothing method1, mean over sentences


def grams(tokens: tuple, n: int) -> Counter:
    return Counter(tokens[i : i + n] for i in range(len(tokens) - n + 1))


def bleu_from(hyp_len: int, matched: list[int], totals: list[int], ref_len: int, n: int) -> float:
    if hyp_len == 0 or matched[0] == 0:
        return 0.0
    logs = []
    for k in range(n):
        denominator = max(1, totals[k])
        numerator = matched[k] if matched[k] > 0 else 0.1  # method1: epsilon 0.1 on a zero count
        logs.append(math.log(numerator / denominator))
    bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return bp * math.exp(math.fsum(lg / n for lg in logs))


def closest(lengths: list[int], hyp_len: int) -> int:
    return min(lengths, key=lambda r: (abs(r - hyp_len), r))


def mean_bleu(refs: list[tuple], hyps: list[tuple]) -> dict[int, float]:
    best: dict[tuple, int] = {}
    for ref in refs:
        for n in range(1, 6):
            for g, c in grams(ref, n).items():
                if c > best.get(g, 0):
                    best[g] = c
    lengths = sorted({len(r) for r in refs})
    sums = dict.fromkeys(ORDERS, 0.0)
    for hyp in hyps:
        counts = [grams(hyp, n) for n in range(1, 6)]
        matched = [sum(min(c, best.get(g, 0)) for g, c in counts[k].items()) for k in range(5)]
        totals = [sum(counts[k].values()) for k in range(5)]
        ref_len = closest(lengths, len(hyp))
        for n in ORDERS:
            sums[n] += bleu_from(len(hyp), matched, totals, ref_len, n)
    return {n: sums[n] / len(hyps) for n in ORDERS}


def mean_self_bleu(hyps: list[tuple]) -> dict[int, float]:
    """Each hypothesis against all the others: per n-gram the counts of every sentence, sorted once."""
    per_gram: dict[tuple, list[int]] = {}
    for hyp in hyps:
        for n in range(1, 6):
            for g, c in grams(hyp, n).items():
                per_gram.setdefault(g, []).append(c)
    for counts in per_gram.values():
        counts.sort(reverse=True)
    length_count = Counter(len(h) for h in hyps)
    sums = dict.fromkeys(ORDERS, 0.0)
    for hyp in hyps:
        counts = [grams(hyp, n) for n in range(1, 6)]
        matched = []
        for k in range(5):
            total = 0
            for g, c in counts[k].items():
                ranked = per_gram[g]  # every sentence's count of g, this one's included, largest first
                other = (ranked[1] if len(ranked) > 1 else 0) if ranked[0] == c else ranked[0]
                total += min(c, other)
            matched.append(total)
        totals = [sum(counts[k].values()) for k in range(5)]
        others = [length for length, m in length_count.items() if length != len(hyp) or m > 1]
        ref_len = closest(others, len(hyp))
        for n in ORDERS:
            sums[n] += bleu_from(len(hyp), matched, totals, ref_len, n)
    return {n: sums[n] / len(hyps) for n in ORDERS}


# -- the checks ------------------------------------------------------------------------------------------


def have_samples(folder: Path, seed: int) -> bool:
    return (folder / f"seed{seed}" / "samples").is_dir()


class Checker:
    def __init__(self):
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.checked = 0
        self.derived: dict[str, dict] = {}  # dataset -> the figures this file re-derived, for the README's finding

    def same(self, what: str, expected, got, tol: float = 1e-9) -> None:
        self.checked += 1
        if expected is None or got is None:
            if expected is not got:
                self.failures.append(f"{what}: recomputed {expected!r}, committed {got!r}")
            return
        if isinstance(expected, bool) or isinstance(expected, str):
            ok = expected == got
        else:
            ok = math.isclose(float(expected), float(got), rel_tol=0, abs_tol=tol)
        if not ok:
            self.failures.append(f"{what}: recomputed {expected!r}, committed {got!r}")


def tokenize(line: str) -> tuple:
    from nltk.tokenize import NLTKWordTokenizer

    return tuple(NLTKWordTokenizer().tokenize(line))


def read_gz(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")[:-1]


def interval(values: list[float]) -> tuple[float, float, float, float]:
    n = len(values)
    mean = math.fsum(values) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * std / math.sqrt(n)
    return mean, std, mean - half, mean + half


def on_polyline(points: list[tuple[float, float]], x: float) -> float | None:
    for i in range(len(points) - 1):
        (xa, ya), (xb, yb) = points[i], points[i + 1]
        if xa <= x <= xb or xb <= x <= xa:
            return ya if xa == xb else ya + (x - xa) / (xb - xa) * (yb - ya)
    return None


def check_task(folder: Path, repo: Path, all_samples: bool, check: Checker, references) -> None:
    summary = json.loads((folder / "benchmark.json").read_text())
    runs = {int(p.parent.name[4:]): json.loads(p.read_text()) for p in sorted(folder.glob("seed*/results.json"))}
    dataset = summary["dataset"]
    check.same(f"{folder}: seeds", str(sorted(runs)), str(sorted(summary["seeds"])))
    derived = check.derived.setdefault(dataset, {"seeds": len(runs)})

    # 1. benchmark.json's run entries are the runs' own numbers
    by_key = {(e["model"], e["seed"], e["temperature"]): e for e in summary["runs"]}
    for seed, r in runs.items():
        for model, col in [*r["columns"].items(), *(("mle_tempered", s) for s in r["sweep"])]:
            entry = by_key.get((model, seed, col["temperature"]))
            if entry is None:
                check.failures.append(
                    f"{folder}/benchmark.json: no entry for {model} seed {seed} T {col['temperature']}"
                )
                continue
            for metric in ("bleu", "self_bleu", "bleu_fast", "self_bleu_fast"):
                for n in ORDERS:
                    check.same(
                        f"{folder}/benchmark.json {model} seed {seed} {metric}-{n}",
                        col[metric][str(n)],
                        entry[metric][str(n)],
                    )
            # the entry names the file its figures came from, as a path in the repository
            own = f"seed{seed}/{col['samples']}"
            check.checked += 1
            if not entry["samples"].endswith(own) or (have_samples(folder, seed) and not (folder / own).is_file()):
                check.failures.append(f"{folder}/benchmark.json {model} seed {seed}: samples {entry['samples']!r}")

    # 2. BLEU and Self-BLEU from the samples, with this file's BLEU
    refs = references(folder)
    fast_size = yaml.safe_load((folder / f"seed{min(runs)}" / "config.yaml").read_text())["fast_size"]
    if refs is not None:
        for seed, r in runs.items():
            if not all_samples and seed != min(runs):
                continue
            if not have_samples(folder, seed):  # a copy without the decoded samples: nothing to recompute from
                check.notes.append(f"{folder}/seed{seed}: no samples folder, BLEU not recomputed from samples")
                continue
            items = list(r["columns"].items()) + (
                [(f"T{s['temperature']:g}", s) for s in r["sweep"]] if all_samples else []
            )
            for model, col in items:
                hyps = [tokenize(line) for line in read_gz(folder / f"seed{seed}" / col["samples"])]
                where = f"{folder}/seed{seed} {model}"
                full, fast = mean_bleu(refs, hyps), mean_bleu(refs[:fast_size], hyps)
                self_fast = mean_self_bleu(hyps[:fast_size])
                self_full = mean_self_bleu(hyps) if all_samples else None
                for n in ORDERS:
                    check.same(f"{where} BLEU-{n} (full) from its samples", full[n], col["bleu"][str(n)])
                    check.same(f"{where} BLEU-{n} (fast) from its samples", fast[n], col["bleu_fast"][str(n)])
                    check.same(
                        f"{where} Self-BLEU-{n} (fast) from its samples", self_fast[n], col["self_bleu_fast"][str(n)]
                    )
                    if self_full is not None:
                        check.same(
                            f"{where} Self-BLEU-{n} (full) from its samples", self_full[n], col["self_bleu"][str(n)]
                        )

    # 3. the tables, from the raw runs
    md = (folder / "benchmark.md").read_text()
    published = PUBLISHED.get(dataset, {})
    rows = {(row["column"], row["metric"], row["n"]): row for row in summary["texygen_layout"]}
    for column in ("seqgan", "maligan_basic", "maligan", "mle"):
        if not all(column in r["columns"] for r in runs.values()):
            continue
        for metric in ("bleu", "self_bleu"):
            for n in ORDERS:
                row = rows.get((column, metric, n))
                if row is None:
                    check.failures.append(f"{folder}/benchmark.json: no {column} {metric}-{n} row")
                    continue
                figures = published.get((column, metric), ())
                pub = figures[n - 2] if n - 2 < len(figures) else None
                check.same(f"{folder} published {column} {metric}-{n}", pub, row["published"])
                for form, key in (("full", metric), ("fast", f"{metric}_fast")):
                    mean, std, lo, hi = interval([r["columns"][column][key][str(n)] for r in runs.values()])
                    what = f"{folder} {column} {metric}-{n} ({form})"
                    check.same(f"{what} mean", mean, row[form]["mean"])
                    check.same(f"{what} std", std, row[form]["std"])
                    check.same(f"{what} 95% low", lo, row[form]["ci95"][0])
                    check.same(f"{what} 95% high", hi, row[form]["ci95"][1])
                    # one run's figure against the prediction interval of one run (t, sqrt(1 + 1/n)), and
                    # against the interval of the mean
                    values = [r["columns"][column][key][str(n)] for r in runs.values()]
                    k = len(values)
                    half_one = stats.t.ppf(0.975, k - 1) * std * math.sqrt(1 + 1 / k)
                    one_lo, one_hi = mean - half_one, mean + half_one
                    check.same(f"{what} one-run low", one_lo, row[form]["pi95"][0])
                    check.same(f"{what} one-run high", one_hi, row[form]["pi95"][1])
                    inside = None if pub is None else one_lo <= pub <= one_hi
                    inside_mean = None if pub is None else lo <= pub <= hi
                    check.same(f"{what} published inside", inside, row[form]["published_inside"])
                    check.same(f"{what} published inside the mean's", inside_mean, row[form]["published_inside_ci95"])
                    derived[(column, metric, n, form)] = {
                        "mean": mean,
                        "published": pub,
                        "inside": inside,
                        "inside_mean": inside_mean,
                    }
                    flags = "" if pub is None else " / ".join("in" if x else "OUT" for x in (inside, inside_mean))
                    shown_one = f"[{one_lo:.3f}, {one_hi:.3f}] | {flags} |"
                    check.checked += 1
                    if f"{mean:.3f} ± {std:.3f} [{lo:.3f}, {hi:.3f}] | {shown_one}" not in md:
                        check.failures.append(f"{folder}/benchmark.md: {what} one run should read {shown_one}")
                    shown = f"{mean:.3f} ± {std:.3f} [{lo:.3f}, {hi:.3f}]"
                    check.checked += 1
                    if shown not in md:
                        check.failures.append(f"{folder}/benchmark.md: {what} should read {shown}")
    for column, by_where in summary["honest"]["gaps"].items():
        for where in ("at_self_bleu4", "at_nll_test"):
            gaps = []
            for seed, r in runs.items():
                col = r["columns"][column]
                sweep = sorted(r["sweep"], key=lambda s: s["temperature"])
                if where == "at_self_bleu4":
                    points = [(s["self_bleu"]["4"], s["bleu"]["4"]) for s in sweep]
                    curve = on_polyline(points, col["self_bleu"]["4"])
                else:
                    lowest = min(range(len(sweep)), key=lambda i: sweep[i]["nll_test"])
                    points = [(s["nll_test"], s["bleu"]["4"]) for s in sweep[: lowest + 1]]
                    curve = on_polyline(points, col["nll_test"])
                gap = None if curve is None else (1 - col["bleu"]["4"]) - (1 - curve)  # column minus control
                check.same(
                    f"{folder} {column} gap {where} seed {seed}", gap, by_where[where]["per_seed"][str(seed)], 1e-12
                )
                if gap is not None:
                    gaps.append(gap)
            g = by_where[where]
            if len(gaps) >= 2:
                mean, std, lo, hi = interval(gaps)
                check.same(f"{folder} {column} gap {where} mean", mean, g["mean"])
                check.same(f"{folder} {column} gap {where} 95% low", lo, g["ci95"][0])
                check.same(f"{folder} {column} gap {where} 95% high", hi, g["ci95"][1])
                p = stats.ttest_1samp(gaps, 0.0).pvalue
                check.same(f"{folder} {column} gap {where} p", p, g["p"], 1e-9)
                derived[("gap", column, where)] = {"mean": mean, "lo": lo, "hi": hi, "p": p}
                # the words: the reading printed beside the interval
                reading = (
                    "better than tempered MLE"
                    if hi < 0
                    else "worse than tempered MLE"
                    if lo > 0
                    else "not shown to differ"
                )
                sign = lambda v: f"{v:+.3f}".replace("-", "−")  # noqa: E731
                label = "Self-BLEU-4" if where == "at_self_bleu4" else "NLL-test"
                pattern = (
                    re.escape(f"| {label} | {sign(mean)} ± {std:.3f} | [{sign(lo)}, {sign(hi)}] |")
                    + r"[^\n]*\| "
                    + re.escape(reading)
                    + r" \|"
                )
                check.checked += 1
                if not re.search(pattern, md):
                    check.failures.append(
                        f"{folder}/benchmark.md: {column} gap {where} should read "
                        f"{sign(mean)} [{sign(lo)}, {sign(hi)}], '{reading}'"
                    )


def reference_reader(data_dir: Path):
    """BLEU's references as Texygen reads them: every line of the runs' test file, word-tokenized, not
    lower-cased; None where the runs hold out a seeded split of the training file (not re-derived here)."""
    cache: dict[str, list[tuple] | None] = {}

    def read(folder: Path) -> list[tuple] | None:
        configs = sorted(folder.glob("seed*/config.yaml"))
        test = yaml.safe_load(configs[0].read_text())["test"] if configs else ""
        if not test:
            return None
        path = Path(test) if Path(test).is_absolute() else data_dir / test
        if test not in cache:
            lines = path.read_text(encoding="utf-8").split("\n")
            lines = lines[:-1] if lines[-1] == "" else lines
            cache[test] = [tokenize(line) for line in lines]
        return cache[test]

    return read


SIGNED = r"([+−-]\d\.\d{3})"


def check_readme(readme: Path, folders: list[Path], check: Checker) -> None:
    """The README's finding on the benchmark states the figures this file re-derived: each labelled figure
    below (the seeds, how many published figures lie inside the intervals, SeqGAN's BLEU-4 and Self-BLEU-4,
    its gap to tempered MLE at equal Self-BLEU-4 and at equal NLL-test, with intervals and p) against its
    own computation; and every other three-decimal figure of the finding must stand in a benchmark.md."""
    text = readme.read_text(encoding="utf-8")
    found = re.search(r"^\d+\. \*\*[^\n]*(?:Texygen|benchmark)[^\n]*\n(?:(?!\n\n).)*", text, re.M | re.S)
    if found is None:
        return
    finding = " ".join(found.group(0).split())  # one line: the labels may wrap anywhere
    coco = check.derived.get("coco")
    num = lambda x: float(x.replace("−", "-"))  # noqa: E731

    def labelled(what: str, pattern: str, *wanted: float | int | str) -> None:
        check.checked += 1
        match = re.search(pattern, finding)
        if match is None:
            check.failures.append(f"{readme}: the benchmark finding no longer says {what} (pattern {pattern!r})")
            return
        for got, want in zip(match.groups(), wanted):
            ok = got == want if isinstance(want, str) else math.isclose(num(got), want, abs_tol=0.0005 + 1e-12)
            if not ok:
                check.failures.append(f"{readme}: the benchmark finding's {what} is {got}, the files give {want}")

    if coco is not None:
        figures = {k: v for k, v in coco.items() if isinstance(k, tuple) and len(k) == 4 and v["published"] is not None}
        inside = {form: sum(bool(v["inside"]) for k, v in figures.items() if k[3] == form) for form in ("full", "fast")}
        inside_mean = sum(bool(v["inside_mean"]) for k, v in figures.items() if k[3] == "full")
        total = len(figures) // 2  # each published figure once in each form
        labelled("the number of seeds", r"COCO, (\d+) seeds", coco["seeds"])
        labelled(
            "the published figures inside our intervals",
            r"(\d+) of (\d+) published figures lie inside our 95% prediction intervals of one run in the full "
            r"metric forms, (\d+) of (\d+) in the fast",
            inside["full"], total, inside["fast"], total,
        )  # fmt: skip
        labelled(
            "the published figures inside the interval of our mean",
            r"(\d+) of (\d+) lie inside the narrower interval of our mean",
            inside_mean,
            total,
        )
        mle4 = coco[("mle", "bleu", 4, "full")]
        labelled(
            "the MLE column's BLEU-4 against the published",
            r"the MLE's BLEU-4 (\d\.\d{3}) against (\.\d{3})",
            mle4["mean"],
            f"{mle4['published']:.3f}"[1:],
        )
        b4, sb4 = coco[("seqgan", "bleu", 4, "full")], coco[("seqgan", "self_bleu", 4, "full")]
        labelled(
            "SeqGAN's BLEU-4 and Self-BLEU-4",
            r"SeqGAN's BLEU-4 is (\d\.\d{3}) \(published (\.\d{3})\) at Self-BLEU-4 (\d\.\d{3}) \((\.\d{3})\)",
            b4["mean"], f"{b4['published']:.3f}"[1:], sb4["mean"], f"{sb4['published']:.3f}"[1:],
        )  # fmt: skip
        for where, label in (("at_self_bleu4", "Self-BLEU-4"), ("at_nll_test", "NLL-test")):
            g = coco.get(("gap", "seqgan", where))
            if g is None:
                continue
            pattern = (
                rf"SeqGAN's gap to it is {SIGNED}, 95% interval \[{SIGNED}, {SIGNED}\] "
                r"\(negative better; p = ([0-9.e-]+)"
                if where == "at_self_bleu4"
                else rf"and {SIGNED} \[{SIGNED}, {SIGNED}\] at equal NLL-test"
            )
            wanted = [g["mean"], g["lo"], g["hi"]] + ([f"{g['p']:.2g}"] if where == "at_self_bleu4" else [])
            labelled(f"SeqGAN's gap to tempered MLE at equal {label}", pattern, *wanted)
    tables = " ".join(f.joinpath("benchmark.md").read_text(encoding="utf-8") for f in folders).replace("−", "-")
    for number in re.findall(r"[+−-]?\d\.\d{3}", found.group(0)):
        check.checked += 1
        plain = number.replace("−", "-")
        if plain.lstrip("+") not in tables and plain not in tables:
            check.failures.append(f"{readme}: the benchmark finding's {number} is in no benchmark.md table")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(ROOT / "results"), help="the results folder (default: the repo's)")
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("SEQGAN_DATA_DIR") or str(ROOT.parent / "shared" / "data"),
        help="where the runs' test files are (default: $SEQGAN_DATA_DIR, else ../shared/data)",
    )
    parser.add_argument("--all-samples", action="store_true", help="every seed's and sweep point's samples (minutes)")
    args = parser.parse_args(argv)
    check = Checker()
    folders = sorted(p.parent for p in Path(args.results).glob("benchmark/*/benchmark.json"))
    references = reference_reader(Path(args.data_dir))
    for folder in folders:
        check_task(folder, ROOT, args.all_samples, check, references)
    readme = Path(args.results).resolve().parent / "README.md"
    if folders and readme.exists():
        check_readme(readme, folders, check)
    for failure in check.failures:
        print(f"MISMATCH {failure}")
    for note in check.notes:
        print(f"note: {note}")
    print(f"check_benchmark: {len(folders)} task(s), {check.checked} figures, {len(check.failures)} mismatches")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
