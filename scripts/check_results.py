"""Re-derive the headline figures of the README, docs/results.md, remedies.md and real_data.md from files.

Each check is (description, document, text pattern, function, format): the pattern is the text
around the figure as the document writes it, with the figure itself as one regex group ``(...)``;
the function computes the figure from files under ``results/``; the format writes it as the
document should. A mismatch, or a pattern the document no longer holds, is one line naming the
figure, the files and both values, and the exit status is 1.

    python scripts/check_results.py [--readme README.md] [--results-doc docs/results.md]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from seqgan.stats import format_p, mean_std, welch_p
from seqgan.studies.experiments import curve_at_nll_test
from seqgan.studies.own_start import gap_at, over_seeds, quality_branch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
TABLE1_SEEDS = (0, 1, 2)
CONFIRM_SEEDS = (3, 4, 5)
NUM = r"(−?[\d.]+)"  # a figure as the documents write it (a minus sign is U+2212)


def results(run: str) -> dict:
    return json.loads((RESULTS / run / "results.json").read_text(encoding="utf-8"))


def table1(row: str, metric: str) -> list[float]:
    return [results(f"table1/seed{s}")["rows"][row][metric] for s in TABLE1_SEEDS]


def confirmed(study: str, metric: str) -> list[float]:
    return [results(f"tuning/{study}/confirm/seed{s}")["rows"]["SeqGAN"][metric] for s in CONFIRM_SEEDS]


def table1_gap() -> list[float]:
    """MLE's NLL-oracle minus SeqGAN's, per seed."""
    return [m - g for m, g in zip(table1("MLE", "nll_oracle"), table1("SeqGAN", "nll_oracle"))]


def temperature_gaps() -> list[float]:
    """SeqGAN's T = 1 point below each run's tempered pre-trained curve, at equal NLL-test."""
    summary = json.loads((RESULTS / "temperature" / "temperature.json").read_text(encoding="utf-8"))
    gaps = []
    for run in summary["per_run"]:
        curve = [(p["nll_test"], p["nll_oracle"]) for p in run["curves"]["pretrained"]]
        t1 = next(p for p in run["curves"]["SeqGAN"] if p["temperature"] == 1.0)
        gaps.append(curve_at_nll_test(curve, t1["nll_test"]) - t1["nll_oracle"])
    return gaps


def front_undominated(study: str) -> tuple[int, int]:
    s = json.loads((RESULTS / "tuning" / "comparison.json").read_text(encoding="utf-8"))["studies"][study]
    return len(s["not_dominated_by_others"]), len(s["front"])


def trial_hours(study: str) -> float:
    runs = [p for p in (RESULTS / "tuning" / study).glob("trial-*/results.json") if ".unfinished" not in str(p)]
    return sum(json.loads(p.read_text(encoding="utf-8"))["seconds"] for p in runs) / 3600


OWN_START_SEEDS = (10, 11, 12, 13, 14)
OWN = "results/own_start/own_start_sweeps/seed*/{paper,tuned}/temperature.json"


def own_start_gaps(arm: str) -> list[float]:
    """Each seed's gap at T = 1 of ``arm`` ('paper', 'tuned' or 'tuned - paper'), from the committed
    sweeps: sweep A of the pre-trained G is the paper arm's sweep, B the tuned arm's."""
    gaps = []
    for s in OWN_START_SEEDS:
        sweeps = {
            a: json.loads((RESULTS / f"own_start/own_start_sweeps/seed{s}/{a}/temperature.json").read_text())[
                "per_run"
            ][0]
            for a in ("paper", "tuned")
        }
        refs = [quality_branch(sweeps[a]["curves"]["pretrained"]) for a in ("paper", "tuned")]
        gap = {
            a: gap_at((sweeps[a]["seqgan_t1"]["nll_test"], sweeps[a]["seqgan_t1"]["nll_oracle"]), refs) for a in sweeps
        }
        gaps.append(gap["tuned"] - gap["paper"] if arm == "tuned - paper" else gap[arm])
    return gaps


def own_start(arm: str, key: str) -> float:
    return over_seeds(own_start_gaps(arm))[key]


REAL = RESULTS / "real_seeds"
REAL_TASKS = ("poems", "obama", "nottingham", "coco")


def real_seeds(task: str) -> list[int]:
    return sorted(int(d.name[4:]) for d in (REAL / task).glob("seed*") if (d / "results.json").is_file())


def real_rows(task: str, row: str, metric: str) -> list[float]:
    return [results(f"real_seeds/{task}/seed{s}")["rows"][row][metric] for s in real_seeds(task)]


def real_vs_mle(task: str, metric: str) -> tuple[float, float]:
    """SeqGAN minus the MLE row over seeds: the mean difference and Welch's p."""
    seqgan, mle = real_rows(task, "SeqGAN", metric), real_rows(task, "MLE", metric)
    return statistics.fmean(seqgan) - statistics.fmean(mle), welch_p(seqgan, mle)


def real_vs_tempered(task: str, n: int, at_key: str = "nll_test") -> dict:
    """SeqGAN's BLEU-n minus the pre-trained generator's tempered curve at SeqGAN's NLL-test (or
    Self-BLEU-n: ``at_key``), per seed (each run's results.json and the study's committed sweep), over seeds."""
    from seqgan.studies.real import curve_at

    gaps = []
    for s in real_seeds(task):
        seqgan = results(f"real_seeds/{task}/seed{s}")["rows"]["SeqGAN"]
        sweep = json.loads((REAL / "real_sweeps" / task / f"seed{s}" / "sweep.json").read_text(encoding="utf-8"))
        at = curve_at(sweep["points"], at_key, f"bleu{n}", seqgan[at_key])
        if at is not None:
            gaps.append(seqgan[f"bleu{n}"] - at)
    return over_seeds(gaps)


def with_p(value: float, p: float) -> str:
    return f"{signed(value)} (p = {format_p(p)})"


def pm(values: list[float]) -> str:
    return "{:.3f} ± {:.3f}".format(*mean_std(values))


def signed(x: float) -> str:
    return f"{x:+.3f}".replace("-", "−")


def per_seed(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


R, D = "README.md", "docs/results.md"
T1 = "results/table1/seed*/results.json"
CHECKS = [
    # what we found
    (
        "SeqGAN below MLE, mean ± std over seeds",
        R,
        r"SeqGAN ends ([\d.]+ ± [\d.]+) nats below the MLE row",
        T1,
        table1_gap,
        pm,
    ),
    (
        "SeqGAN vs MLE, Welch p over seeds",
        R,
        r"\(seeds 0-2, Welch p = ([\d.]+), not significant\)",
        T1,
        lambda: welch_p(table1("MLE", "nll_oracle"), table1("SeqGAN", "nll_oracle")),
        format_p,
    ),
    (
        "SeqGAN at T = 1 below the tempered pre-trained curve, per seed",
        R,
        r"SeqGAN below it by (\S+, \S+, \S+) nats",
        "results/temperature/temperature.json",
        temperature_gaps,
        lambda g: ", ".join(map(signed, g)),
    ),
    (
        "SeqGAN front points undominated by MLE's front",
        R,
        r"(\d+ of \d+) SeqGAN front points undominated",
        "results/tuning/comparison.json",
        lambda: front_undominated("SeqGAN"),
        lambda c: f"{c[0]} of {c[1]}",
    ),
    (
        "trials a study",
        R,
        r"\((\d+ SeqGAN and \d+ MLE) trials;",
        "results/tuning/comparison.json",
        lambda: [
            json.loads((RESULTS / "tuning" / "comparison.json").read_text(encoding="utf-8"))["studies"][k]["trials"]
            for k in ("SeqGAN", "MLE")
        ],
        lambda n: f"{n[0]} SeqGAN and {n[1]} MLE",
    ),
    (
        "hours of MLE trials",
        R,
        r"([\d.]+) h of MLE trials",
        "results/tuning/mle/trial-*/results.json",
        lambda: trial_hours("mle"),
        "{:.1f}".format,
    ),
    (
        "hours of SeqGAN trials",
        R,
        r"against ([\d.]+) h of SeqGAN's",
        "results/tuning/seqgan/trial-*/results.json",
        lambda: trial_hours("seqgan"),
        "{:.1f}".format,
    ),
    (
        "tuned SeqGAN on fresh seeds, NLL-oracle",
        R,
        r"reach NLL-oracle ([\d.]+ ± [\d.]+)",
        "results/tuning/seqgan/confirm/seed*/results.json",
        lambda: confirmed("seqgan", "nll_oracle"),
        pm,
    ),
    (
        "tuned SeqGAN's gain over the untuned mean",
        R,
        r", ([\d.]+) below the untuned",
        T1 + ", confirm/seed*",
        lambda: statistics.mean(table1("SeqGAN", "nll_oracle")) - statistics.mean(confirmed("seqgan", "nll_oracle")),
        "{:.3f}".format,
    ),
    (
        "untuned SeqGAN, NLL-oracle",
        R,
        r"below the untuned ([\d.]+ ± [\d.]+)",
        T1,
        lambda: table1("SeqGAN", "nll_oracle"),
        pm,
    ),
    (
        "tuned vs untuned SeqGAN, Welch p",
        R,
        r"\(Welch p = ([\d.]+); Intel Xeon\)",
        T1 + ", confirm/seed*",
        lambda: welch_p(confirmed("seqgan", "nll_oracle"), table1("SeqGAN", "nll_oracle")),
        format_p,
    ),
    (
        "SeqGAN per seed",
        R,
        r"SeqGAN is below MLE on every seed \(([\d., ]+) against",
        T1,
        lambda: table1("SeqGAN", "nll_oracle"),
        per_seed,
    ),
    (
        "MLE per seed",
        R,
        r"SeqGAN is below MLE on every seed \([\d., ]+ against ([\d., ]+)\)",
        T1,
        lambda: table1("MLE", "nll_oracle"),
        per_seed,
    ),
    # docs/results.md
    (
        "SeqGAN below MLE per seed",
        D,
        r"by (\S+, \S+ and \S+) nats \(0\.146",
        T1,
        table1_gap,
        lambda g: "{:.3f}, {:.3f} and {:.3f}".format(*g),
    ),
    ("SeqGAN below MLE, mean ± std (docs)", D, r"nats \(([\d.]+ ± [\d.]+)\), but SeqGAN's own", T1, table1_gap, pm),
    (
        "SeqGAN's spread over seeds",
        D,
        r"SeqGAN's own spread over seeds is ([\d.]+)",
        T1,
        lambda: statistics.stdev(table1("SeqGAN", "nll_oracle")),
        "{:.3f}".format,
    ),
    (
        "MLE's confirmed best, NLL-oracle",
        D,
        r"fresh seeds 3-5 \(AMD EPYC, fp32\): NLL-oracle ([\d.]+ ± [\d.]+)",
        "results/tuning/mle/confirm/seed*/results.json",
        lambda: confirmed("mle", "nll_oracle"),
        pm,
    ),
    (
        "tuned vs untuned SeqGAN, NLL-test Welch p",
        D,
        r"lower in NLL-test \(p = ([\d.]+)\)",
        T1 + ", confirm/seed*",
        lambda: welch_p(confirmed("seqgan", "nll_test"), table1("SeqGAN", "nll_test")),
        format_p,
    ),
    # tuned SeqGAN against its own tempered start (README finding 5, docs/results.md)
    (
        "own start: tuned gap",
        R,
        r"at equal NLL-test it sits " + NUM + " nats",
        OWN,
        lambda: own_start("tuned", "mean"),
        signed,
    ),
    (
        "own start: tuned 95 % CI",
        R,
        r"\(95 % CI \[(−?[\d.+-]+, −?[\d.+-]+)\], p = [\d.]+\); with the paper",
        OWN,
        lambda: ", ".join(signed(x) for x in own_start("tuned", "ci95")),
        str,
    ),
    ("own start: tuned p", R, r"\], p = ([\d.]+)\); with the paper", OWN, lambda: own_start("tuned", "t_p"), format_p),
    ("own start: paper gap", R, r"ends above it \(([+\d.]+), p", OWN, lambda: own_start("paper", "mean"), signed),
    (
        "own start: paper p",
        R,
        r"ends above it \([+\d.]+, p = ([\d.]+)\)",
        OWN,
        lambda: own_start("paper", "t_p"),
        format_p,
    ),
    (
        "own start: tuned - paper",
        R,
        r"Tuning beats the paper's settings \((−?[-\d.]+), paired",
        OWN,
        lambda: own_start("tuned - paper", "mean"),
        signed,
    ),
    (
        "own start: tuned - paper p",
        R,
        r"paired p = ([\d.]+)\)",
        OWN,
        lambda: own_start("tuned - paper", "t_p"),
        format_p,
    ),
    (
        "Xeon-bf16 none arm, NLL-oracle",
        D.replace("results", "remedies"),
        r"It ends at NLL-oracle ([\d.]+ ± [\d.]+)",
        "results/penalty/xeon-bf16/none-seed*/results.json",
        lambda: [results(f"penalty/xeon-bf16/none-seed{s}")["rows"]["SeqGAN"]["nll_oracle"] for s in TABLE1_SEEDS],
        pm,
    ),
]
SYM_MLE = RESULTS / "tuning_symmetric" / "mle"
SYM_SEQGAN = RESULTS / "tuning_symmetric" / "seqgan"


def sym_mle_hours(key: str, study: Path = SYM_MLE) -> float:
    """A symmetric study's finished trials' ``cpu_seconds`` or wall ``seconds``, summed, in hours."""
    return sum(json.loads(f.read_text(encoding="utf-8"))[key] for f in study.glob("trial-*/results.json")) / 3600


def sym_mle_front() -> list[list[float]]:
    """The MLE study's Pareto front at T = 1 (NLL-oracle, NLL-test), from its summary.json."""
    summary = json.loads((SYM_MLE / "summary.json").read_text(encoding="utf-8"))
    return sorted(t["values"] for t in summary["trials"] if t["number"] in summary["pareto_front"])


SYM = "results/tuning_symmetric/mle"
CHECKS += [
    ("symmetric MLE study: CPU-h", D, r"40 trials, ([\d.]+) CPU-h of training", SYM,
     lambda: sym_mle_hours("cpu_seconds"),
     lambda h: f"{h:.2f}"),
    ("symmetric MLE study: wall h", D, r"training \(([\d.]+) h of wall time", SYM, lambda: sym_mle_hours("seconds"),
     lambda h: f"{h:.2f}"),
    ("symmetric SeqGAN study: trials", D, r"SeqGAN study, as committed, has (\d+) of its 20", SYM,
     lambda: len(list(SYM_SEQGAN.glob("trial-*/results.json"))), str),
    ("symmetric SeqGAN study: CPU-h", D, r"trials finished, ([\d.]+) CPU-h of training", SYM,
     lambda: sym_mle_hours("cpu_seconds", SYM_SEQGAN), lambda h: f"{h:.2f}"),
    ("symmetric MLE front: first", D, r"At T = 1 its front runs from NLL-oracle ([\d.]+ / NLL-test [\d.]+)", SYM,
     lambda: sym_mle_front()[0], lambda v: f"{v[0]:.3f} / NLL-test {v[1]:.3f}"),
    ("symmetric MLE front: last", D, r"lr 0.0050\) to ([\d.]+ / [\d.]+);", SYM,
     lambda: sym_mle_front()[-1], lambda v: f"{v[0]:.3f} / {v[1]:.3f}"),
]  # fmt: skip
SYM_DIR = RESULTS / "tuning_symmetric"
_symmetric: dict = {}


def symmetric() -> dict:
    """The symmetric comparison re-derived from every trial's results.json and sweep.json and the
    confirmation runs' sweeps (symmetric.json gives only its settings: grid, samples and seeds)."""
    if not _symmetric:
        from seqgan.studies import symmetric_tuning as st

        saved = json.loads((SYM_DIR / "symmetric.json").read_text(encoding="utf-8"))
        dirs = {label: ROOT / s["dir"] for label, s in saved["studies"].items()}
        args = (saved["temperatures"], saved["num_samples"], saved["sampling_seed"])
        trials = {label: st.study_trials(d, *args) for label, d in dirs.items()}
        compared = st.comparisons(trials)
        confirmation = st.confirm(
            dirs, st.claims(compared), saved["confirm_seeds"], saved["confirm_max"], 1, args[1], args[2], SYM_DIR,
            train_runs=lambda commands: None,
        )  # fmt: skip
        _symmetric.update(compared=compared, confirmation=confirmation, dirs=dirs)
    return _symmetric


def sym_comparison(name: str) -> dict:
    return next(v for k, v in symmetric()["compared"].items() if k.startswith(name))


def sym_claims(study: str) -> list[dict]:
    return [c for c in symmetric()["confirmation"] if c["study"] == study]


def sym_all_trials() -> str:
    r = sym_comparison("all trials")
    return "; ".join(f"{r[k]['trials']} {k} trials, {r[k]['cpu_hours']:.2f} CPU-h" for k in ("SeqGAN", "MLE"))


def sym_equal_compute() -> str:
    r = sym_comparison("equal compute")
    s = r["SeqGAN"]
    budget = f"{r['MLE']['cpu_hours']:.2f} CPU-h, {s['trials']} SeqGAN trials)"
    return f"{budget} {len(s['not_dominated'])} of SeqGAN's {len(s['front'])}"


def sym_held() -> str:
    def held(study):
        c = sym_claims(study)
        return sum(bool(x["holds"]) for x in c), len(c), sum(not x["retried"] for x in c)

    m, q = held("MLE"), held("SeqGAN")  # a retried claim that failed shows as fewer held than retried
    return f"{m[0]} of MLE's {m[1]} ({m[2]} not retried) and {q[0]} of SeqGAN's {q[1]}"


def sym_claim_trial() -> str:
    from seqgan.config import load_config

    described = []  # the docs say the claims come from one trial: a second one shows as a mismatch
    for trial in sorted({c["trial"] for c in sym_claims("SeqGAN")}):
        cfg = load_config(symmetric()["dirs"]["SeqGAN"] / f"trial-{trial:04d}" / "config.yaml")
        described.append(f"{cfg.train.pretrain_g_epochs} pre-training epochs, lr {cfg.generator.lr:.4f}")
    return "; ".join(described)


def sym_start(what: str) -> str:
    starts = [c for c in sym_claims("SeqGAN") if c["start"]]
    if what == "alone":
        return f"{sum(c['start']['covers_claim'] for c in starts)} of {len(starts)}"
    metric, stat = what.split(":") if ":" in what else ("nll_test", what)
    diffs = [c["start"][f"{metric}_diff"][stat] for c in starts]
    if stat == "mean":
        return f"{signed(min(diffs))} to {signed(max(diffs))}"
    return f"{format_p(min(diffs))} to {format_p(max(diffs))}"


SYMR = "results/tuning_symmetric/{seqgan,mle,confirm}"
CHECKS += [
    ("symmetric: trials and CPU-h", R,
     r"With all trials \((\d+ SeqGAN trials, [\d.]+ CPU-h; \d+ MLE trials, [\d.]+ CPU-h)\)", SYMR, sym_all_trials, str),
    ("symmetric: SeqGAN front undominated", R, r"interleave: (\d+ of SeqGAN's \d+) front points", SYMR,
     lambda: sym_comparison("all trials")["SeqGAN"],
     lambda s: f"{len(s['not_dominated'])} of SeqGAN's {len(s['front'])}"),
    ("symmetric: MLE front undominated", R, r"front points and (\d+ of MLE's \d+) are undominated", SYMR,
     lambda: sym_comparison("all trials")["MLE"], lambda s: f"{len(s['not_dominated'])} of MLE's {len(s['front'])}"),
    ("symmetric: equal compute", R, r"At equal compute \(([^)]+\) \d+ of SeqGAN's \d+) are", SYMR,
     sym_equal_compute, str),
    ("symmetric: retried claims", R, r"30-32 holds: (\d+ of MLE's \d+ \(\d+ not retried\) and \d+ of SeqGAN's \d+)",
     SYMR, sym_held, str),
    ("symmetric: SeqGAN claims' trial", R, r"come from one trial \(([^)]+)\)", SYMR, sym_claim_trial, str),
    ("symmetric: start alone", R, r"in (\d+ of \d+) the same seeds' pre-trained", SYMR,
     lambda: sym_start("alone"), str),
    ("symmetric: adversarial - start NLL-test", R, r"moves NLL-test by (\S+ to \S+) nats", SYMR,
     lambda: sym_start("mean"), str),
    ("symmetric: adversarial - start p", R, r"p from (\S+ to \S+)\)", SYMR, lambda: sym_start("p"), str),
]  # fmt: skip


def sym_lowest(study: str, key: str) -> str:
    p = min(sym_comparison("all trials")[study]["front"], key=lambda q: q[key])
    other = "nll_test" if key == "nll_oracle" else "nll_oracle"
    name = {"nll_oracle": "NLL-oracle", "nll_test": "NLL-test"}[other]
    return f"{p[key]:.3f} ({name} {p[other]:.3f}, T = {p['temperature']:g})"


def sym_equal_compute_dominated() -> str:
    r = sym_comparison("equal compute")
    s, m = r["SeqGAN"], r["MLE"]
    mle_dominated = len(m["front"]) - len(m["not_dominated"])
    return f"{len(s['front']) - len(s['not_dominated'])} of SeqGAN's {len(s['front'])} points**, and " + (
        f"none of MLE's {len(m['front'])}" if not mle_dominated else f"{mle_dominated} of MLE's {len(m['front'])}"
    )


def sym_retried() -> str:
    def trials(study, retried):
        return sorted({c["trial"] for c in sym_claims(study) if c["retried"] == retried})

    def names(ns):
        return ", ".join(map(str, ns[:-1])) + f" and {ns[-1]}" if len(ns) > 1 else str(ns[0])

    mle, seq = sym_claims("MLE"), sym_claims("SeqGAN")
    n_mle = sum(c["retried"] for c in mle)
    return (
        f"MLE trials {names(trials('MLE', True))} ({n_mle} claims; {len(mle) - n_mle} claims of trials "
        f"{names(trials('MLE', False))} not retried), SeqGAN trial {names(trials('SeqGAN', True))} "
        f"({sum(c['retried'] for c in seq)} claims)"
    )


def sym_unclaimed() -> str:
    """SeqGAN's undominated front points that made no claim: of the claiming trial, and of the others."""
    s = sym_comparison("all trials")["SeqGAN"]
    claimed = {(c["trial"], c["temperature"]) for c in sym_claims("SeqGAN")}
    trials = {c["trial"] for c in sym_claims("SeqGAN")}
    rest = [q for q in s["not_dominated"] if (q["trial"], q["temperature"]) not in claimed]
    others = sorted({q["trial"] for q in rest if q["trial"] not in trials})
    same = sum(q["trial"] in trials for q in rest)
    return f"{len(rest) - same} of trials {' and '.join(map(str, others))}, and {same} more of trial " + ", ".join(
        map(str, sorted(trials))
    )


def space_keys(name: str) -> int:
    text = (ROOT / "configs" / "tune" / f"symmetric_{name}.yaml").read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if re.match(r"[a-z_]+\.[a-z_.]+:", line))


SPACES = "configs/tune/symmetric_*.yaml"
CHECKS += [
    ("symmetric docs: MLE's lowest NLL-oracle", D, r"MLE's lowest NLL-oracle is ([^)]+\))", SYMR,
     lambda: sym_lowest("MLE", "nll_oracle"), str),
    ("symmetric docs: SeqGAN's lowest NLL-test", D, r"SeqGAN's lowest NLL-test ([^)]+\))", SYMR,
     lambda: sym_lowest("SeqGAN", "nll_test"), str),
    ("symmetric docs: equal compute", D,
     r"MLE's front dominates (\d+ of SeqGAN's \d+ points\*\*, and \w+ of MLE's \d+)", SYMR,
     sym_equal_compute_dominated, str),
    ("symmetric docs: retried trials", D, r"most points\): (MLE trials .*? claims\))\. - ", SYMR, sym_retried, str),
    ("symmetric docs: SeqGAN claims' trial", D, r"All \d+ come from trial \d+ \(([^)]+)\)", SYMR, sym_claim_trial, str),
    ("symmetric docs: start alone", D, r"does, in (\d+ of \d+)\. The", SYMR, lambda: sym_start("alone"), str),
    ("symmetric docs: NLL-test change", D, r"rounds change NLL-test by (\S+ to \S+) nats", SYMR,
     lambda: sym_start("mean"), str),
    ("symmetric docs: NLL-test p", D, r"3 seeds, p from (\S+ to \S+)\)", SYMR, lambda: sym_start("p"), str),
    ("symmetric docs: NLL-oracle change", D, r"and NLL-oracle by (\S+ to \S+) \(p", SYMR,
     lambda: sym_start("nll_oracle:mean"), str),
    ("symmetric docs: NLL-oracle p", D, r"NLL-oracle by \S+ to \S+ \(p from (\S+ to \S+)\)", SYMR,
     lambda: sym_start("nll_oracle:p"), str),
    ("symmetric docs: unclaimed points", D, r"undominated front points \((.*?)\) made no claim", SYMR,
     sym_unclaimed, str),
    ("symmetric docs: space keys", D, r"more thinly \((\d+ keys in \d+ trials against \d+ in \d+)\)", SPACES,
     lambda: f"{space_keys('seqgan')} keys in {sym_comparison('all trials')['SeqGAN']['trials']} trials against "
     f"{space_keys('mle')} in {sym_comparison('all trials')['MLE']['trials']}", str),
]  # fmt: skip
# docs/results.md's table of the symmetric comparisons: per comparison and study, trials, CPU-h, undominated
for row, name in (("all trials", "all trials"), ("the first 20 trials each", "the first"),
                  ("equal compute (≤ 0.81 CPU-h)", "equal compute")):  # fmt: skip
    for i, study in enumerate(("SeqGAN", "MLE")):
        cells = ["[^|]+", "[^|]+"]
        cells[i] = "([^|]+?)"
        CHECKS.append((
            f"symmetric table: {row}, {study}", D, rf"\| {re.escape(row)} \| {cells[0]} \| {cells[1]} \|", SYMR,
            lambda n=name, k=study: sym_comparison(n)[k],
            lambda s: f"{s['trials']}, {s['cpu_hours']:.2f}, {len(s['not_dominated'])} of {len(s['front'])}",
        ))  # fmt: skip
# the README's real-data table: per task, SeqGAN against the MLE row and against its tempered start
for task in REAL_TASKS:
    if (REAL / task).is_dir() and len(real_seeds(task)) >= 2:
        for i, (what, compute) in enumerate(
            (
                ("BLEU-4 SeqGAN - MLE", lambda t=task: with_p(*real_vs_mle(t, "bleu4"))),
                ("NLL-test SeqGAN - MLE", lambda t=task: with_p(*real_vs_mle(t, "nll_test"))),
                (
                    "BLEU-4 SeqGAN - tempered start at its NLL-test",
                    lambda t=task: with_p(real_vs_tempered(t, 4)["mean"], real_vs_tempered(t, 4)["t_p"]),
                ),
                (
                    "BLEU-4 SeqGAN - tempered start at its Self-BLEU-4",
                    lambda t=task: with_p(
                        real_vs_tempered(t, 4, "self_bleu4")["mean"], real_vs_tempered(t, 4, "self_bleu4")["t_p"]
                    ),
                ),
            )
        ):
            groups = ["[^|]+"] * 4
            groups[i] = "([^|]+?)"
            pattern = rf"\| {task} \| \d+ \| " + r" \| ".join(groups) + r" \|"
            CHECKS.append((f"real data {task}: {what}", R, pattern, f"results/real_seeds/{task}", compute, str))
        CHECKS.append(
            (
                f"real data {task}: seeds",
                R,
                rf"\| {task} \| (\d+) \|",
                f"results/real_seeds/{task}",
                lambda t=task: len(real_seeds(t)),
                str,
            )  # fmt: skip
        )

# docs/real_data.md: the one-seed table (results/real, old defaults) and the results over seeds
RD = "docs/real_data.md"


def real_one(task: str, row: str, metric: str) -> float:
    return results(f"real/{task}")["rows"][row][metric]


for label, task, metric, n in (
    ("poems (BLEU-2)", "poems", "bleu2", 2), ("Obama (BLEU-3)", "obama", "bleu3", 3),
    ("Obama (BLEU-4)", "obama", "bleu4", 4), ("Nottingham (BLEU-4)", "nottingham", "bleu4", 4),
    ("COCO (BLEU-2, Texygen)", "coco", "bleu2", 2), ("Nottingham (pitch MSE, ours)", "nottingham", "pitch_mse", 0),
):  # fmt: skip
    digits = 2 if metric == "pitch_mse" else 3
    for i, row in enumerate(("MLE", "SeqGAN")):
        cells = [r"[\d.]+", r"[\d.]+"]
        cells[i] = r"([\d.]+)"
        CHECKS.append((f"one-seed real table: {label} {row}", RD,
                       rf"\| {re.escape(label)} \| {cells[0]} \| {cells[1]} \|", f"results/real/{task}/results.json",
                       lambda t=task, r=row, m=metric: real_one(t, r, m), f"{{:.{digits}f}}".format))  # fmt: skip
    if n:
        CHECKS.append((f"one-seed real table: {label} Self-BLEU", RD,
                       rf"\| {re.escape(label)} \|[^|]+\|[^|]+\|[^|]+\| ([\d.]+ / [\d.]+) \|",
                       f"results/real/{task}/results.json",
                       lambda t=task, n=n: [real_one(t, r, f"self_bleu{n}") for r in ("MLE", "SeqGAN")],
                       lambda v: f"{v[0]:.3f} / {v[1]:.3f}"))  # fmt: skip
    if n and label != "Obama (BLEU-4)":
        CHECKS.append((f"one-seed real table: {label} NLL-test", RD,
                       rf"\| {re.escape(label)} \|[^|]+\|[^|]+\|[^|]+\|[^|]+\| ([\d.]+ / [\d.]+) \|",
                       f"results/real/{task}/results.json",
                       lambda t=task: [real_one(t, r, "nll_test") for r in ("MLE", "SeqGAN")],
                       lambda v: f"{v[0]:.2f} / {v[1]:.2f}"))  # fmt: skip


def real_range(values: list[float], fmt=signed) -> str:
    """A range as the prose gives it: from the value nearest zero to the farthest."""
    lo, hi = sorted(values, key=abs)[0], sorted(values, key=abs)[-1]
    return f"{fmt(lo)} to {fmt(hi)}"


def real_seed_tasks() -> list[str]:
    return [t for t in REAL_TASKS if (REAL / t).is_dir() and len(real_seeds(t)) >= 2]


def real_others_p() -> str:
    ps = [real_vs_mle(t, "bleu4")[1] for t in real_seed_tasks() if t != "coco"]
    return f"{format_p(min(ps))}-{format_p(max(ps))}"


def real_gaps(at_key: str) -> list[dict]:
    return [real_vs_tempered(t, 4, at_key) for t in real_seed_tasks()]


CHECKS += [
    ("one-seed COCO: pre-trained to MLE NLL-test", RD, r"captions \(NLL-test ([\d.]+ → [\d.]+)\)", "results/real/coco",
     lambda: [real_one("coco", r, "nll_test") for r in ("pretrained", "MLE")], lambda v: f"{v[0]:.2f} → {v[1]:.2f}"),
    ("real seeds: BLEU-4 SeqGAN - MLE range", RD, r"on all four tasks \((\S+ to \S+)\), with", "results/real_seeds",
     lambda: [real_vs_mle(t, "bleu4")[0] for t in real_seed_tasks()], real_range),
    ("real seeds: COCO Welch p", RD, r"with Welch p = (\S+) on COCO", "results/real_seeds",
     lambda: real_vs_mle("coco", "bleu4")[1], format_p),
    ("real seeds: other tasks' Welch p", RD, r"on COCO and (\S+) on the others", "results/real_seeds",
     real_others_p, str),
    ("real seeds: gap at Self-BLEU-4", RD, r"\(gaps (\S+ to \S+), p ≥ \S+\)", "results/real_seeds",
     lambda: sorted(g["mean"] for g in real_gaps("self_bleu4")), lambda v: f"{signed(v[0])} to {signed(v[-1])}"),
    ("real seeds: p at Self-BLEU-4", RD, r"p ≥ (\S+)\) and is below", "results/real_seeds",
     lambda: min(g["t_p"] for g in real_gaps("self_bleu4")), format_p),
    ("real seeds: gap at NLL-test", RD, r"NLL-test on all four \((\S+ to \S+), p ≤", "results/real_seeds",
     lambda: [g["mean"] for g in real_gaps("nll_test")], real_range),
    ("real seeds: p at NLL-test", RD, r"p ≤ (\S+)\)\. So on real data", "results/real_seeds",
     lambda: max(g["t_p"] for g in real_gaps("nll_test")), format_p),
    ("real seeds: COCO MLE overfits", RD, r"overfits \(NLL-test ([\d.]+ against the pre-trained [\d.]+)\)",
     "results/real_seeds/coco",
     lambda: [statistics.fmean(real_rows("coco", r, "nll_test")) for r in ("MLE", "pretrained")],
     lambda v: f"{v[0]:.3f} against the pre-trained {v[1]:.3f}"),
]  # fmt: skip

# the README's and docs/results.md's Table 1: every row's mean ± std and p from the runs' results.json
for doc in (R, D):
    for row in ("Random", "pretrained", "MLE", "SS", "PG-BLEU", "SeqGAN"):
        for i, metric in enumerate(("nll_oracle", "nll_test")):
            # NLL-oracle is the first cell; NLL-test follows it, after docs/results.md's per-seed cell
            figure = r"([\d.]+ ± [\d.]+)" if i == 0 else r"[\d.]+ ± [\d.]+ \|(?: [\d., ]+ \|)? ([\d.]+ ± [\d.]+)"
            cells = r"\| " + re.escape(row) + r" \| " + figure
            CHECKS.append((f"Table 1 {row} {metric}", doc, cells, T1, lambda r=row, m=metric: table1(r, m), pm))
        if row not in ("pretrained", "SeqGAN"):
            cells = r"\| " + re.escape(row) + r" \|[^|]*\|[^|]*\|(?:[^|]*\|)? ([\d.]+) \| \|"
            CHECKS.append(
                (
                    f"Table 1 {row} p vs SeqGAN",
                    doc,
                    cells,
                    T1,
                    lambda r=row: welch_p(table1(r, "nll_oracle"), table1("SeqGAN", "nll_oracle")),
                    format_p,
                )
            )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--readme", default=str(ROOT / "README.md"), help="the README to check (default: the repository's)")
    p.add_argument("--results-doc", default=str(ROOT / "docs" / "results.md"), help="docs/results.md to check")
    p.add_argument("--remedies-doc", default=str(ROOT / "docs" / "remedies.md"), help="docs/remedies.md to check")
    p.add_argument("--real-data-doc", default=str(ROOT / "docs" / "real_data.md"), help="docs/real_data.md to check")
    args = p.parse_args(argv)
    paths = {R: args.readme, D: args.results_doc, "docs/remedies.md": args.remedies_doc, RD: args.real_data_doc}
    # lines wrap anywhere in prose: match against each document with its runs of spaces and newlines as one space
    texts = {doc: re.sub(r"[ \n]+", " ", Path(path).read_text(encoding="utf-8")) for doc, path in paths.items()}
    failures = 0
    for description, doc, pattern, files, compute, fmt in CHECKS:
        expected = fmt(compute())
        found = re.search(pattern, texts[doc])
        if found is None:
            print(f"MISMATCH {description}: {doc} no longer has text matching {pattern!r} ({files}: {expected})")
            failures += 1
        elif found.group(1) != expected:
            print(f"MISMATCH {description}: {doc} says {found.group(1)}, {files} give {expected}")
            failures += 1
    if failures:
        print(f"{failures} of {len(CHECKS)} figures do not match their files")
        return 1
    print(
        f"all {len(CHECKS)} figures match their files (README.md, docs/results.md, docs/remedies.md, docs/real_data.md)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
