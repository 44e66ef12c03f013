"""The paper-budget run against the authors' published log: Figure 2's plot, the table at rounds
50/100/150/200, and the measured phase times with a projection of the whole run.

    python scripts/paper_run.py results/synthetic_paper/seed0

Reads RUN_DIR/metrics.jsonl and the run's log (RUN_DIR.log, the heartbeat lines), writes
RUN_DIR/figure2.png and prints markdown (also written to RUN_DIR/summary.md).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# NLL-oracle from the authors' log, LantaoYu/SeqGAN save/experiment-log.txt (commit 5f2c0a5):
# MLE pre-training epochs 0-115 every 5, then adversarial total_batch 0-150 every 5.
AUTHORS_PRETRAIN = [
    10.1716,
    9.42939,
    9.2388,
    9.11899,
    9.13099,
    9.14474,
    9.12539,
    9.13982,
    9.135,
    9.13081,
    9.10678,
    9.10694,
    9.10349,
    9.10403,
    9.07613,
    9.091,
    9.08909,
    9.0807,
    9.08434,
    9.08936,
    9.07443,
    9.08305,
    9.06973,
    9.07058,
]
AUTHORS_ADVERSARIAL = [
    9.08457,
    9.04511,
    9.03079,
    8.99239,
    8.96401,
    8.93864,
    8.91642,
    8.87761,
    8.88582,
    8.8592,
    8.83388,
    8.81342,
    8.80247,
    8.77778,
    8.7567,
    8.73002,
    8.72488,
    8.72233,
    8.71473,
    8.71163,
    8.70113,
    8.69879,
    8.69208,
    8.69291,
    8.68371,
    8.689,
    8.68989,
    8.68269,
    8.68647,
    8.68066,
    8.6832,
]
TABLE1 = {"MLE": 9.038, "SeqGAN": 8.736}  # the paper's Table 1, NLL-oracle
PRETRAIN_EPOCHS, D_SETS, ROUNDS = 120, 50, 200


def main(run_dir: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    log = Path(f"{run_dir}.log").read_text() if Path(f"{run_dir}.log").exists() else ""
    pre = [r for r in records if r["phase"] == "pretrain"]
    adv = [r for r in records if r["phase"] == "adversarial"]
    mle = [r for r in records if r["phase"] == "mle"]

    fig, ax = plt.subplots(figsize=(8, 4.8))
    ax.plot(
        [5 * i for i in range(len(AUTHORS_PRETRAIN))]
        + [PRETRAIN_EPOCHS + 5 * i for i in range(len(AUTHORS_ADVERSARIAL))],
        AUTHORS_PRETRAIN + AUTHORS_ADVERSARIAL,
        color="gray",
        ls="--",
        label="authors' log (SeqGAN)",
    )
    ax.plot(
        [r["step"] for r in pre + adv], [r["nll_oracle"] for r in pre + adv], color="tab:red", label="seqgan: SeqGAN"
    )
    if mle:
        ax.plot(
            [r["step"] for r in pre[-1:] + mle],
            [r["nll_oracle"] for r in pre[-1:] + mle],
            color="tab:blue",
            label="seqgan: MLE row",
        )
    for name, value in TABLE1.items():
        ax.axhline(value, color="black", lw=0.6, ls=":")
        ax.annotate(f"Table 1 {name} {value}", (0, value), textcoords="offset points", xytext=(2, 2), fontsize=8)
    ax.axvline(PRETRAIN_EPOCHS, color="black", lw=0.6)
    ax.set_xlabel(f"MLE epochs, then adversarial rounds (from {PRETRAIN_EPOCHS})")
    ax.set_ylabel("NLL-oracle")
    ax.set_ylim(8.5, 10.3)
    ax.set_title("The paper's synthetic protocol, seed 0, against the authors' log (Figure 2)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(run_dir / "figure2.png", dpi=120)
    plt.close(fig)

    by_round = {r["round"]: r for r in adv}
    mle_by_round = {r["round"]: r for r in mle}
    lines = [
        "| round | SeqGAN NLL-oracle | MLE row NLL-oracle | authors' log (SeqGAN) | Table 1 SeqGAN / MLE |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for rnd in (0, 10, 25, 50, 100, 150, 200):
        ours = f"{by_round[rnd]['nll_oracle']:.3f}" if rnd in by_round else "not reached"
        theirs_mle = (
            f"{mle_by_round[rnd]['nll_oracle']:.3f}"
            if rnd in mle_by_round
            else ("not reached" if rnd not in by_round else "")
        )
        authors = f"{AUTHORS_ADVERSARIAL[rnd // 5]:.3f}" if rnd // 5 < len(AUTHORS_ADVERSARIAL) else "(log ends at 150)"
        lines.append(f"| {rnd} | {ours} | {theirs_mle} | {authors} | {TABLE1['SeqGAN']} / {TABLE1['MLE']} |")

    # measured phase times: training seconds (across resumes) at the end of each phase
    t_pre = pre[-1]["seconds"] if len(pre) and pre[-1]["step"] == PRETRAIN_EPOCHS else None
    d_beats = [(int(m[1]), float(m[2])) for m in re.finditer(r"\[D pre-training (\d+)/\d+\].*\((\d+)s\)", log)]
    t_adv0 = adv[0]["seconds"] if adv else None
    phase = ["| phase | measured | seconds |", "| --- | --- | ---: |"]
    projection = None
    if t_pre is not None:
        phase.append(f"| MLE pre-training, {PRETRAIN_EPOCHS} epochs (evaluations included) | done | {t_pre:.0f} |")
    if d_beats:
        sets, t = d_beats[-1]
        d_time = (t_adv0 if t_adv0 else t) - (t_pre or 0)
        phase.append(f"| D pre-training | {sets}/{D_SETS} sets | {d_time:.0f} |")
    # rounds are evaluated every few rounds, but each one's end is a heartbeat line of the log:
    # the round reached is the later of the two
    round_beats = [(int(m[1]), float(m[2])) for m in re.finditer(r"\[adversarial round (\d+)/\d+\].*\((\d+)s\)", log)]
    if len(adv) >= 2:
        reached, t_reached = max([(adv[-1]["round"], adv[-1]["seconds"]), *round_beats])
        per_round = (t_reached - adv[0]["seconds"]) / (reached - adv[0]["round"])
        phase.append(f"| adversarial rounds | {reached}/{ROUNDS} | {per_round:.0f} a round |")
        projection = t_reached + per_round * (ROUNDS - reached)
    d_projection = ""
    if t_pre is not None and d_beats and not adv:
        sets, t = d_beats[-1]
        d_projection = (
            f"D pre-training at {(t - t_pre) / sets:.0f} s a set projects to "
            f"{(t - t_pre) / sets * D_SETS / 3600:.2f} h; "
            "the rounds' time is measured from two adversarial evaluations on."
        )
    done = max([r["seconds"] for r in records] + [t for _, t in d_beats] + [t for _, t in round_beats])
    text = "\n".join(
        [
            f"Training time so far: {done / 3600:.2f} h (sum over sessions, one thread; see the log for the machine).",
            "",
            *lines,
            "",
            *phase,
            "",
            f"Projected total: {projection / 3600:.1f} h of training."
            if projection
            else d_projection or "Projected total: after two adversarial evaluations.",
            "",
            "![Figure 2](figure2.png)",
            "",
        ]
    )
    (run_dir / "summary.md").write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    print(main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/synthetic_paper/seed0")))
