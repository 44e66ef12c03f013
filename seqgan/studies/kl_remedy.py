"""The KL-regularised remedy against its own tempered start (issue 32, item 3): does the KL g-step, or
the training-free resampling it rests on, land below the pre-trained generator's tempered curve?

The design was written down before any run (docs/remedies.md, "The KL-regularised remedy"). Per fresh
seed, at the quick synthetic budget, one MLE pre-training and every arm started from it:

* ``paper``: SeqGAN with the paper's settings, the reference;
* ``kl_frozen_bB``: the KL g-step (``train.objective=kl``: reward log D/(1-D), Monte Carlo roll-outs,
  PPO with 4 epochs a batch and clip 0.2, the mean baseline) with D frozen after its pre-training
  against p_0, the identity p* = p_0 exp(r / B) / Z's own setting;
* ``kl_trained_bB``: the same with D trained on, as Algorithm 1 does;
* ``resample_bB``: no training. 2,000 draws resampled from 20,000 of the pre-trained G with weights
  (D/(1-D))^(1/B), D the ``kl_frozen_bB`` run's (frozen after its pre-training against that G): the
  tilted distribution that the KL g-step at B aims at, reached by sampling. Its NLL-test is that of
  p_0 exp(r / B) / Z-hat (``kl.tilted_nll``), Z-hat from an independent pool of 200,000 (``resampled_point``);

for B in ``BETAS`` = 0.1, 1, 10, fixed before the runs: a decade either side of the identity's B = 1.

Per seed, as the own-start study measures (``own_start``: Caccia et al., ICLR 2020): the pre-trained
generator is swept over ``TEMPERATURES`` twice with two sampling seeds (A and B: the curve's own noise);
each trained arm is swept once (its T = 1 point is the model as used); an arm's gap is its NLL-oracle at
T = 1 minus the mean of A and B at its NLL-test, the model minus its control, so negative is below
(better than) its own tempered start; each gap has its sampling standard error. Over seeds (the unit is
the seed): each arm's mean gap, 95 % t-interval, t-test and Wilcoxon, and each arm minus the paper arm
(paired). An arm is called below its tempered start only when its whole interval is below 0.

Once a seed's sweeps exist (``kl_sweeps/seedS.json``, keyed on each arm's results.json) nothing reads a
checkpoint: ``seqgan experiment kl --report-only`` on a fresh clone writes kl.md again byte for byte.
"""

from __future__ import annotations

import json
import math
import shlex
import time
from pathlib import Path

import torch

from ..jobs import check_finished_run, run_all, train_command
from ..runtime.hardware import machine
from ..stats import format_p
from .experiments import curve_at_nll_test, run_key, sweep
from .own_start import cell, cell_pm, gap_at, mean_over, mean_vertical_gap, over_seeds, quality_branch, se_branch

BETAS = (0.1, 1.0, 10.0)
# 0.5, 0.55, ..., 1.5: own-start's grid reached down to 0.7; a KL arm at a small B may sharpen further
TEMPERATURES = [round(0.5 + 0.05 * i, 2) for i in range(21)]
POOL_FACTOR = 10  # resampling draws from 10 x the samples it returns
KINDS = ("kl_frozen", "kl_trained", "resample")
KIND_NAMES = {
    "paper": "SeqGAN, paper settings",
    "kl_frozen": "KL g-step, D frozen",
    "kl_trained": "KL g-step, D trained",
    "resample": "resampling p_0 by (D/(1-D))^(1/B)",
}
# every run shares these: the Table 1 rows off (the arms share one pre-training), D in fp32
COMMON = ["rows.names=[]", "discriminator.precision=fp32"]


def beta_name(beta: float) -> str:
    return f"{beta:g}"


def trained_arms() -> list[str]:
    return ["paper"] + [f"{kind}_b{beta_name(b)}" for kind in ("kl_frozen", "kl_trained") for b in BETAS]


def resample_arms() -> list[str]:
    return [f"resample_b{beta_name(b)}" for b in BETAS]


def all_arms() -> list[str]:
    return trained_arms() + resample_arms()


def arm_kind(arm: str) -> str:
    return arm if arm == "paper" else arm.rsplit("_b", 1)[0]


def arm_beta(arm: str) -> float | None:
    return None if arm == "paper" else float(arm.rsplit("_b", 1)[1])


def arm_overrides(arm: str) -> list[str]:
    """The --set overrides of a trained arm beyond ``COMMON``: the KL g-step's as the design fixes them."""
    if arm == "paper":
        return []
    kind, beta = arm_kind(arm), arm_beta(arm)
    return [
        "train.objective=kl",
        f"train.kl_beta={beta_name(beta)}",
        "train.kl_reward=logit",
        "train.rewards=mc",
        "train.baseline=mean",
        "train.ppo_epochs=4",
        "train.ppo_clip=0.2",
        f"train.freeze_d={'true' if kind == 'kl_frozen' else 'false'}",
    ]


# -- the runs -------------------------------------------------------------------------------------------


def seed_finished(seed_dir: Path) -> bool:
    return all((seed_dir / arm / "results.json").is_file() for arm in trained_arms())


def train_seeds(config: str, seeds: list[int], jobs: int, out: Path, overrides: list[str]) -> list[str]:
    """Seed by seed (so that finished seeds accumulate), its pre-training, then its arms, ``jobs`` runs at
    a time; finished runs are reused (if they are the runs these commands make) and interrupted ones
    resumed. Returns the commands."""
    common = COMMON + overrides
    plan = []
    for s in seeds:
        base = out / f"seed{s}"
        pretraining = base / "pretraining"
        pretrain_cmd = train_command(config, pretraining, s, common) + ["--stop-after-pretraining"]
        arms = []
        for arm in trained_arms():
            cmd = train_command(config, base / arm, s, common + arm_overrides(arm))
            arms.append((base / arm, cmd + ["--start-from", str(pretraining)]))
        plan.append((pretraining, pretrain_cmd, arms))
    for _, _, arms in plan:  # a finished arm that this command would not have made stops it before anything runs
        for run_dir, cmd in arms:
            if (run_dir / "results.json").is_file():
                check_finished_run(run_dir, cmd)
    for pretraining, pretrain_cmd, arms in plan:
        if seed_finished(pretraining.parent):
            continue
        if not (pretraining / ".pretrained").is_file():
            run_all([(pretraining, pretrain_cmd)], jobs)
            (pretraining / ".pretrained").write_text("stopped after MLE pre-training\n", encoding="utf-8")
        run_all(arms, jobs)
    return [shlex.join(cmd) for _, pretrain_cmd, arms in plan for cmd in [pretrain_cmd, *(c for _, c in arms)]]


# -- one seed's sweeps and points --------------------------------------------------------------------------


def _load(run_dir: Path, row: str):
    from ..lifecycle import load_run_models

    return load_run_models(run_dir, row=row)


@torch.no_grad()
def resampled_point(g0, scorer, oracle, test: torch.Tensor, beta: float, num: int) -> dict:
    """Resampling's point at ``beta``: ``num`` draws resampled from a pool of POOL_FACTOR x ``num`` of p_0
    with weights exp(r / beta), their NLL-oracle, and NLL-test under p_0 exp(r / beta) / Z-hat.

    Z-hat is taken from an independent pool ten times larger, not from the resampling pool: a pool's
    log Z-hat is low on average (Jensen), more so the fewer draws carry the weight, and a low log Z-hat
    lowers the NLL-test, in the arm's favour. The resampling pool's own log Z-hat is kept beside it: where
    the two differ, the NLL-test may still be biased low by about the difference over the sequence length.
    The draws' standard error counts the pool's effective sample size (Kish), not the draws: at a small
    beta the weight sits on few sequences, drawn again and again."""
    from ..kl import resample, tilted_nll

    pool_size = POOL_FACTOR * num
    pool = g0.sample(pool_size)  # (M, T)
    log_odds = scorer(pool).double()  # (M,) log D / (1 - D)
    r = log_odds / beta  # (M,) log weights
    m = torch.tensor(float(pool_size), dtype=torch.float64)
    log_z_pool = float(torch.logsumexp(r, 0) - torch.log(m))
    ess = float(torch.exp(2 * torch.logsumexp(r, 0) - torch.logsumexp(2 * r, 0)))
    samples = pool[resample(log_odds, beta, num).to(pool.device)]
    chunks = [torch.logsumexp(scorer(g0.sample(pool_size)).double() / beta, 0) for _ in range(POOL_FACTOR)]
    log_z = float(torch.logsumexp(torch.stack(chunks), 0) - torch.log(m * POOL_FACTOR))
    seq_nll = oracle.token_nll(samples.cpu()).mean(dim=1)  # (num,)
    return {
        "beta": beta,
        "pool": pool_size,
        "ess": ess,
        "distinct": len({tuple(row) for row in samples.tolist()}),
        "log_z": log_z,
        "log_z_pool": log_z_pool,
        "z_pool_size": POOL_FACTOR * pool_size,
        "nll_oracle": seq_nll.mean().item(),
        "nll_oracle_se": (seq_nll.std() / min(num, ess) ** 0.5).item(),
        "nll_test": tilted_nll(g0, scorer, test, beta, log_z),
        "nll_test_pool_z": tilted_nll(g0, scorer, test, beta, log_z_pool),
    }


def make_sweeps(seed_dir: Path, num_samples: int, sampling_seed: int) -> dict:
    """The pre-trained G swept twice (seeds s and s + 1), each trained arm swept once (s + 2), and each
    resampling point (s + 2): needs the arms' checkpoints. The arms must share one pre-trained G."""
    from ..build import build_discriminator
    from ..data import oracle_corpus
    from ..kl import log_odds_scorer

    ckpt, cfg, oracle, _, g0 = _load(seed_dir / "paper", "pretrained")
    if oracle is None:
        raise ValueError(f"{seed_dir}: a real-data run; this study needs the synthetic oracle")
    _, test = oracle_corpus(oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
    reference = g0.state_dict()
    curves = {
        "pretrained_A": sweep(g0, oracle, test, TEMPERATURES, num_samples, sampling_seed),
        "pretrained_B": sweep(g0, oracle, test, TEMPERATURES, num_samples, sampling_seed + 1),
    }
    resampled = {}
    for arm in trained_arms():
        arm_ckpt, arm_cfg, _, _, g_pre = _load(seed_dir / arm, "pretrained")
        if any(not torch.equal(v, reference[k]) for k, v in g_pre.state_dict().items()):
            raise ValueError(f"{seed_dir / arm}: its pre-trained generator is not the paper arm's; arms must share one")
        g = _load(seed_dir / arm, "seqgan")[4]
        curves[arm] = sweep(g, oracle, test, TEMPERATURES, num_samples, sampling_seed + 2)
        if arm_kind(arm) == "kl_frozen":  # its D is D as pre-training against p_0 left it: resample with it
            d = build_discriminator(arm_cfg, g0.vocab_size)
            d.load_state_dict(arm_ckpt["discriminator"])
            torch.manual_seed(sampling_seed + 2)
            resampled[f"resample_b{beta_name(arm_beta(arm))}"] = resampled_point(
                g0, log_odds_scorer(d), oracle, test, arm_beta(arm), num_samples
            )
    return {"curves": curves, "resample": resampled}


def seed_sweeps(seed_dir: Path, num_samples: int, sampling_seed: int, path: Path) -> dict:
    """``path`` (kl_sweeps/seedS.json) when it was written from these runs (each arm's results.json key)
    with this grid, sample count and sampling seed; else the sweeps are made and written there."""
    keys = {arm: run_key(seed_dir / arm) for arm in trained_arms()}
    setting = {
        "temperatures": TEMPERATURES,
        "num_samples": num_samples,
        "sampling_seed": sampling_seed,
        "betas": list(BETAS),
        "pool_factor": POOL_FACTOR,
        "keys": keys,
    }
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if {k: saved.get(k) for k in setting} == setting:
            return saved
    started = time.perf_counter()
    made = make_sweeps(seed_dir, num_samples, sampling_seed)
    saved = {**setting, "machine": machine(), "seconds": round(time.perf_counter() - started, 1), **made}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    return saved


def t1_of(points: list[dict]) -> dict:
    return next(p for p in points if abs(p["temperature"] - 1.0) < 1e-9)


def seed_result(seed_dir: Path, saved: dict) -> dict:
    """One seed's gaps: every arm's point against the mean of sweeps A and B at its NLL-test, with its
    sampling standard error; the trained arms' curve gaps; every arm minus the paper arm."""
    curves, resampled = saved["curves"], saved["resample"]
    ref = [quality_branch(curves["pretrained_A"]), quality_branch(curves["pretrained_B"])]
    ref_se = [se_branch(curves["pretrained_A"]), se_branch(curves["pretrained_B"])]
    arms = {}
    for arm in all_arms():
        point = t1_of(curves[arm]) if arm in curves else resampled[arm]
        gap = gap_at((point["nll_test"], point["nll_oracle"]), ref)
        se_at = [curve_at_nll_test(c, point["nll_test"]) for c in ref_se]
        entry = {
            "nll_oracle": point["nll_oracle"],
            "nll_oracle_se": point["nll_oracle_se"],
            "nll_test": point["nll_test"],
            "gap": gap,
            "gap_se": None if gap is None else math.sqrt(point["nll_oracle_se"] ** 2 + sum(x**2 for x in se_at) / 4),
        }
        if arm in curves:
            curve = mean_vertical_gap(quality_branch(curves[arm]), ref)
            entry["gap_curve"] = None if curve is None else curve["gap"]
            entry["curve_range"] = None if curve is None else curve["nll_test_range"]
            if curve is not None:  # a curve's points share one draw: the s.e. of fully correlated errors
                lo, hi = curve["nll_test_range"]
                means = [mean_over(c, lo, hi) for c in (se_branch(curves[arm]), *ref_se)]
                entry["gap_curve_se"] = math.sqrt(means[0] ** 2 + (means[1] ** 2 + means[2] ** 2) / 4)
            else:
                entry["gap_curve_se"] = None
        else:
            entry.update(
                {
                    k: resampled[arm][k]
                    for k in ("beta", "log_z", "log_z_pool", "ess", "distinct", "pool", "nll_test_pool_z")
                }
            )
        arms[arm] = entry
    paper = arms["paper"]
    minus_paper = {}
    # every arm's points are drawn with one sampling seed (common random numbers: their errors correlate
    # positively), so the root sum of squares below is a conservative s.e.; the tempered start, read nearby, cancels
    for arm in all_arms()[1:]:
        a = arms[arm]
        ok = a["gap"] is not None and paper["gap"] is not None
        minus_paper[arm] = {
            "gap": a["gap"] - paper["gap"] if ok else None,
            "gap_se": math.hypot(a["nll_oracle_se"], paper["nll_oracle_se"]) if ok else None,
        }
    runs = {}
    for arm in trained_arms():
        results = json.loads((seed_dir / arm / "results.json").read_text(encoding="utf-8"))
        runs[arm] = {k: results.get(k) for k in ("machine", "seconds")}
    noise = mean_vertical_gap(ref[0], [ref[1]])
    return {
        "seed": int(seed_dir.name[4:]),
        "runs": runs,
        "swept_on": saved["machine"],
        "arms": arms,
        "minus_paper": minus_paper,
        "curve_noise": None if noise is None else noise["gap"],
    }


# -- over seeds ----------------------------------------------------------------------------------------------


def summarize(seeds: list[dict]) -> dict:
    """Per arm, its gap over seeds and (but for the paper arm) its gap minus the paper arm's, paired."""
    summary = {}
    for arm in all_arms():
        for label in ("gap", "minus_paper"):
            if label == "minus_paper" and arm == "paper":
                continue
            per = [(s["seed"], s["arms"][arm] if label == "gap" else s["minus_paper"][arm]) for s in seeds]
            values = [p["gap"] for _, p in per if p["gap"] is not None]
            ses = [p["gap_se"] for _, p in per if p["gap_se"] is not None]
            stats = over_seeds(values)
            summary[f"{label}/{arm}"] = {
                **stats,
                "seeds_left_out": [seed for seed, p in per if p["gap"] is None],
                "se_rms": math.sqrt(sum(x**2 for x in ses) / len(ses)) if ses else float("nan"),
            }
    return summary


def verdict(summary: dict) -> str:
    """One plain sentence from the rule fixed before the runs: an arm is below its own tempered start
    when its gap's whole 95 % interval is below 0, above when it is above 0."""
    below, above, unclear = [], [], []
    for arm in all_arms():
        st = summary[f"gap/{arm}"]
        if st["n"] < 2:
            unclear.append(arm)
        elif st["ci95"][1] < 0:
            below.append(arm)
        elif st["ci95"][0] > 0:
            above.append(arm)
        else:
            unclear.append(arm)
    n = max(summary[f"gap/{arm}"]["n"] for arm in all_arms())
    parts = [
        ("below their own tempered start", below),
        ("above it", above),
        ("not distinguished from it (the interval holds 0, or fewer than 2 seeds)", unclear),
    ]
    said = "; ".join(f"{', '.join(arms)} {words}" for words, arms in parts if arms)
    head = "No arm is below its own tempered start" if not below else f"{len(below)} arm(s) below their tempered start"
    return f"{head} at the quick budget ({n} seeds, 95 % t-intervals of the gap at equal NLL-test): {said}."


def run(
    seeds: list[int] | None,
    num_samples: int,
    sampling_seed: int,
    out: Path,
    config: str = "configs/synthetic_quick.yaml",
    jobs: int = 2,
    overrides: list[str] = (),
    report_only: bool = False,
) -> dict:
    """Train what is missing (unless ``report_only``), then write kl.{md,json,png} and kl_gaps.png to
    ``out`` from the seeds whose arms have all finished."""
    if num_samples < 2:
        raise ValueError(f"--num must be at least 2 (a point's standard error), got {num_samples}")
    commands = []
    if not report_only:
        if not seeds:
            raise ValueError("--seeds: give the seeds to train (fresh ones: the design names 40-44)")
        commands = train_seeds(config, seeds, jobs, out, list(overrides))
    if not out.is_dir():
        raise ValueError(f"--out {out}: not a directory of seedS runs")
    folders = sorted(
        (d for d in out.glob("seed*") if d.is_dir() and d.name[4:].isdigit()), key=lambda d: int(d.name[4:])
    )
    if seeds:
        folders = [d for d in folders if int(d.name[4:]) in seeds]
    done = []
    for d in folders:
        if seed_finished(d):
            done.append(d)
        else:
            missing = [a for a in trained_arms() if not (d / a / "results.json").is_file()]
            print(f"kl: {d.name} left out, unfinished (no results.json in {', '.join(missing)})", flush=True)
    if not done:
        raise ValueError(f"--out {out}: no seedS folder with every arm finished ({', '.join(trained_arms())})")
    per_seed = [
        seed_result(d, seed_sweeps(d, num_samples, sampling_seed, out / "kl_sweeps" / f"{d.name}.json")) for d in done
    ]
    seed_list = ",".join(str(s["seed"]) for s in per_seed)
    summary = {
        "command": f"seqgan experiment kl --seeds {seed_list} --num {num_samples} --seed {sampling_seed} --out {out}"
        + (f" --config {config}" if config != "configs/synthetic_quick.yaml" else "")
        + "".join(f" --set {o}" for o in overrides),
        "seeds": [s["seed"] for s in per_seed],
        "betas": list(BETAS),
        "temperatures": TEMPERATURES,
        "num_samples": num_samples,
        "sampling_seed": sampling_seed,
        "machine": "; ".join(dict.fromkeys(s["swept_on"] for s in per_seed)),
        "per_seed": per_seed,
        "summary": summarize(per_seed),
    }
    summary["verdict"] = verdict(summary["summary"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "kl.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "kl.md").write_text(markdown(summary), encoding="utf-8")
    sweeps = {s["seed"]: json.loads((out / "kl_sweeps" / f"seed{s['seed']}.json").read_text()) for s in per_seed}
    _plot_curves(per_seed, sweeps, out / "kl.png")
    _plot_gaps(summary, out / "kl_gaps.png")
    if commands:
        (out / "commands.txt").write_text("\n".join(commands) + "\n", encoding="utf-8")
    return summary


# -- the report ---------------------------------------------------------------------------------------------


def _arm_label(arm: str) -> str:
    beta = arm_beta(arm)
    return KIND_NAMES[arm_kind(arm)] + ("" if beta is None else f", B = {beta_name(beta)}")


def markdown(summary: dict) -> str:
    n = len(summary["seeds"])
    stat_lines = [
        "| arm | seeds | gap, arm - tempered start (negative: better) | 95 % CI | t-test p | Wilcoxon p | "
        "a seed's s.e. (rms) | arm - paper SeqGAN | 95 % CI | paired t p |",
        "| --- | ---: |" + " ---: |" * 8,
    ]
    for arm in all_arms():
        st = summary["summary"][f"gap/{arm}"]
        left = f" (left out: {', '.join(map(str, st['seeds_left_out']))})" if st["seeds_left_out"] else ""
        cells = [
            f"{st['n']}{left}",
            cell(st["mean"]),
            f"[{cell(st['ci95'][0])}, {cell(st['ci95'][1])}]",
            format_p(st["t_p"]),
            format_p(st["wilcoxon_p"]),
            cell(st["se_rms"], False),
        ]
        if arm == "paper":
            cells += ["(the control)", "", ""]
        else:
            d = summary["summary"][f"minus_paper/{arm}"]
            cells += [cell(d["mean"]), f"[{cell(d['ci95'][0])}, {cell(d['ci95'][1])}]", format_p(d["t_p"])]
        stat_lines.append(f"| {_arm_label(arm)} | " + " | ".join(cells) + " |")
    seed_lines = [
        "| seed | arm | NLL-oracle ± s.e. | NLL-test | gap ± s.e. | arm - paper ± s.e. | curve gap ± s.e. |",
        "| ---: | --- |" + " ---: |" * 5,
    ]
    for s in summary["per_seed"]:
        for arm in all_arms():
            a = s["arms"][arm]
            d = s["minus_paper"].get(arm)
            curve = cell_pm(a["gap_curve"], a["gap_curve_se"]) if "gap_curve" in a else "(a point)"
            seed_lines.append(
                f"| {s['seed']} | {_arm_label(arm)} | {a['nll_oracle']:.3f} ± {a['nll_oracle_se']:.3f} | "
                f"{a['nll_test']:.3f} | {cell_pm(a['gap'], a['gap_se'])} | "
                f"{'' if d is None else cell_pm(d['gap'], d['gap_se'])} | {curve} |"
            )
    resample_lines = [
        f"- seed {s['seed']}, B = {beta_name(s['arms'][a]['beta'])}: {s['arms'][a]['distinct']} distinct of "
        f"{summary['num_samples']} draws; effective sample size of the pool's weights {s['arms'][a]['ess']:.0f} of "
        f"{s['arms'][a]['pool']}; log Z-hat {s['arms'][a]['log_z']:.3f} (independent pool of "
        f"{POOL_FACTOR * s['arms'][a]['pool']}), {s['arms'][a]['log_z_pool']:.3f} (the resampling pool); NLL-test "
        f"{s['arms'][a]['nll_test']:.3f} ({s['arms'][a]['nll_test_pool_z']:.3f} with the pool's Z-hat)"
        for s in summary["per_seed"]
        for a in resample_arms()
    ]
    machines = [
        f"- seed {s['seed']} {arm}: {s['runs'][arm]['machine'] or 'not recorded'}, "
        f"{(s['runs'][arm]['seconds'] or 0):.0f} s"
        for s in summary["per_seed"]
        for arm in trained_arms()
    ]
    temps = summary["temperatures"]
    return "\n".join(
        [
            "# The KL-regularised remedy against its own tempered start",
            "",
            f"Command: `{summary['command']}`  ",
            f"Seeds: {', '.join(map(str, summary['seeds']))}; B in {', '.join(map(beta_name, summary['betas']))} "
            f"(fixed before the runs); temperatures {temps[0]:g}..{temps[-1]:g} ({len(temps)} points), "
            f"{summary['num_samples']} samples a point; sampling seeds {summary['sampling_seed']} (sweep A), "
            f"{summary['sampling_seed'] + 1} (sweep B), {summary['sampling_seed'] + 2} (every arm); "
            f"sweeps made on: {summary['machine']}",
            "",
            f"**{summary['verdict']}**",
            "",
            "Gap: an arm's NLL-oracle (at T = 1; for resampling, of the resampled draws) minus the pre-trained "
            "generator's tempered curve at the same NLL-test (the mean of sweeps A and B, linear interpolation along "
            "NLL-test on the branch T <= the temperature of lowest NLL-test): the model minus its control, so "
            "negative is better, below its own tempered start. Resampling's NLL-test is that of p_0 exp(r / B) / "
            "Z-hat, Z-hat the mean of exp(r / B) over an independent pool of p_0. Arm - paper: the arm's gap "
            "minus the paper SeqGAN arm's, paired by seed. Over seeds (the unit is the seed): 95 % t-interval; "
            "p two-sided, one-sample "
            "t-test against 0 (arm - paper: the paired t-test), Wilcoxon's signed-rank test as a check (exact; with "
            f"{n} seeds it cannot go below 2 / 2^{n} = {2 / 2**n:.3g}).",
            "",
            *stat_lines,
            "",
            "![gaps](kl_gaps.png)",
            "",
            "Per seed (s.e.: sampling standard errors, from the points each gap is read from; a curve gap is the "
            "arm's whole tempered curve minus the tempered start, averaged over the NLL-test range they share):",
            "",
            *seed_lines,
            "",
            "![curves](kl.png)",
            "",
            "Resampling's draws. Z-hat comes from an independent pool ten times the resampling pool: a pool's "
            "log Z-hat is low on average, more so at a small effective sample size, and a low one lowers the "
            "NLL-test in the arm's favour. Where the two log Z-hats differ, the NLL-test may still be low by "
            "about their difference over the sequence length; the draws' s.e. counts the effective sample size:",
            "",
            *resample_lines,
            "",
            "Machines of the runs (from each run's results.json):",
            "",
            *machines,
            "",
            "Each seed's sweeps and resampled points: `kl_sweeps/seedS.json`.",
            "",
        ]
    )


def _plot_curves(per_seed: list[dict], sweeps: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = ["paper", *KINDS]
    fig, axes = plt.subplots(len(per_seed), len(kinds), figsize=(4.4 * len(kinds), 3.6 * len(per_seed)), squeeze=False)
    colors = {0.1: "tab:red", 1.0: "tab:purple", 10.0: "tab:blue"}
    for row, s in zip(axes, per_seed):
        curves = sweeps[s["seed"]]["curves"]
        for ax, kind in zip(row, kinds):
            for name, style in (("pretrained_A", "-"), ("pretrained_B", "--")):  # the branch the gaps read
                ax.plot(
                    *zip(*quality_branch(curves[name])),
                    style,
                    color="tab:green",
                    lw=1,
                    label=f"pre-trained, {name[-1]}",
                )
            if kind == "resample":
                pts = [(s["arms"][a]["nll_test"], s["arms"][a]["nll_oracle"], arm_beta(a)) for a in resample_arms()]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], ":", color="gray")
                for x, y, beta in pts:
                    ax.plot(x, y, "*", ms=12, color=colors[beta], mec="black", label=f"B = {beta_name(beta)}")
            else:
                arms = ["paper"] if kind == "paper" else [f"{kind}_b{beta_name(b)}" for b in BETAS]
                for arm in arms:
                    color = "black" if arm == "paper" else colors[arm_beta(arm)]
                    label = "SeqGAN" if arm == "paper" else f"B = {beta_name(arm_beta(arm))}"
                    ax.plot(*zip(*quality_branch(curves[arm])), "-", color=color, lw=0.8, alpha=0.7)
                    t1 = s["arms"][arm]
                    ax.plot(t1["nll_test"], t1["nll_oracle"], "*", ms=12, color=color, mec="black", label=label)
            ax.set_title(f"seed {s['seed']}: {KIND_NAMES[kind]}", fontsize=9)
            ax.set_xlabel("NLL-test (coverage; lower is better)", fontsize=8)
            ax.set_ylabel("NLL-oracle (quality; lower is better)", fontsize=8)
            if s is per_seed[0]:
                ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _plot_gaps(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = all_arms()
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(arms) + 1.2))
    for i, arm in enumerate(arms):
        st = summary["summary"][f"gap/{arm}"]
        if math.isnan(st["mean"]):
            continue
        lo, hi = st["ci95"]
        if not math.isnan(lo):
            ax.plot([lo, hi], [i, i], "-", color="tab:blue")
        ax.plot(st["mean"], i, "o", color="tab:blue")
        for s in summary["per_seed"]:
            g = s["arms"][arm]["gap"]
            if g is not None:
                ax.plot(g, i, ".", color="gray", alpha=0.6)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(arms)), [_arm_label(a) for a in arms], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("gap at equal NLL-test, arm - tempered start (nats; negative: better)")
    ax.set_title(f"mean and 95 % interval over {len(summary['seeds'])} seeds (dots: seeds)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
