"""``seqgan experiment tuning``: tuned SeqGAN against tuned, tempered MLE, on one figure.

Reads finished ``seqgan tune --objectives nll_oracle,nll_test`` studies (their ``summary.json``:
every complete trial, the Pareto front, the confirmation on fresh seeds) and an untuned run (the
paper's settings), and plots each study's trials and Pareto front of NLL-oracle (quality) against
NLL-test (coverage), with the untuned SeqGAN as a point. The question it answers is whether tuned
SeqGAN reaches a point that tuned, tempered MLE does not (Caccia et al., "Language GANs Falling
Short", ICLR 2020).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..runtime.hardware import machine
from ..tuning.tune import describe_machines, trial_machines

AXES = ("nll_oracle", "nll_test")


def _load(study_dir: Path) -> dict:
    path = study_dir / "summary.json"
    if not path.exists():
        raise ValueError(f"{study_dir}: no summary.json (run seqgan tune there first)")
    summary = json.loads(path.read_text())
    if [m for m, _ in summary["objectives"]] != list(AXES):
        raise ValueError(f"{path}: the study's objectives are {summary['objectives']}, not nll_oracle,nll_test")
    return summary


def dominated_by(point: tuple[float, float], front: list[tuple[float, float]]) -> bool:
    """Whether some front point is at least as good in both (lower) and better in one."""
    return any(f[0] <= point[0] and f[1] <= point[1] and f != point for f in front)


def run(studies: dict[str, Path], untuned: Path | None, out: Path) -> dict:
    summaries = {label: _load(d) for label, d in studies.items()}
    fronts = {
        label: sorted(tuple(t["values"]) for t in s["trials"] if t["number"] in s["pareto_front"])
        for label, s in summaries.items()
    }
    untuned_point = None
    if untuned is not None:
        row = json.loads((untuned / "results.json").read_text())["rows"]["SeqGAN"]
        untuned_point = (row["nll_oracle"], row["nll_test"])
    # each front point of each study, against the other studies' fronts
    beyond = {
        label: [p for p in front if not any(dominated_by(p, other) for o, other in fronts.items() if o != label)]
        for label, front in fronts.items()
    }
    result = {
        "studies": {
            label: {
                "dir": str(studies[label]),
                "command": s.get("command"),
                "trials": len(s["trials"]),
                "partial": bool(s.get("partial")),
                "target_trials": s.get("target_trials"),
                "front": fronts[label],
                "not_dominated_by_others": beyond[label],
                "confirmation": s.get("confirmation"),
                "machines": s.get("machines") or trial_machines(s["trials"]),
            }
            for label, s in summaries.items()
        },
        "untuned": {"run": str(untuned), "point": untuned_point} if untuned else None,
        "machine": machine(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "comparison.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    _plot(summaries, fronts, untuned_point, out / "pareto_fronts.png")
    partial = [label for label, r in result["studies"].items() if r["partial"]]
    lines = [
        "# Tuned SeqGAN against tuned MLE: Pareto fronts of NLL-oracle against NLL-test",
        "",
        *(
            [f"**Partial:** {', '.join(partial)} has not yet run all its trials; these fronts are not the answer.", ""]
            if partial
            else []
        ),
        *(f"- {label} trials ran on: {describe_machines(r['machines'])}" for label, r in result["studies"].items()),
        f"- this comparison was written on: {result['machine']}",
        "",
        "| study | trials | front points | front points no other front dominates | "
        "confirmed NLL-oracle | confirmed NLL-test |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in result["studies"].items():
        conf = r["confirmation"] or {}
        cells = [
            f"{conf[m]['mean']:.3f} ± {conf[m]['std']:.3f} (seeds {', '.join(map(str, conf['seeds']))})"
            if m in conf
            else "-"
            for m in AXES
        ]
        trials = f"{r['trials']} (partial: of {r['target_trials']})" if r["partial"] else str(r["trials"])
        lines.append(
            f"| {label} | {trials} | {len(r['front'])} | {len(r['not_dominated_by_others'])} | "
            + " | ".join(cells)
            + " |"
        )
    if untuned_point:
        lines += [
            "",
            f"Untuned SeqGAN ({untuned}): NLL-oracle {untuned_point[0]:.3f}, NLL-test {untuned_point[1]:.3f}.",
        ]
    lines += ["", "![fronts](pareto_fronts.png)", "", "Commands:", ""]
    lines += [f"    {r['command']}" for r in result["studies"].values() if r["command"]]
    (out / "comparison.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return result


def _plot(summaries: dict, fronts: dict, untuned_point, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for (label, s), color in zip(summaries.items(), ["tab:red", "tab:blue", "tab:green", "tab:purple"]):
        points = [t["values"] for t in s["trials"]]
        ax.scatter([p[0] for p in points], [p[1] for p in points], color=color, alpha=0.25, s=14)
        front = fronts[label]
        ax.plot(
            [p[0] for p in front],
            [p[1] for p in front],
            color=color,
            marker="o",
            drawstyle="steps-post",
            label=f"{label}: Pareto front ({len(points)}"
            + (f" of {s['target_trials']} trials, partial)" if s.get("partial") else " trials)"),
        )
        conf = s.get("confirmation")
        if conf:
            ax.errorbar(
                conf["nll_oracle"]["mean"],
                conf["nll_test"]["mean"],
                xerr=conf["nll_oracle"]["std"] or 0,
                yerr=conf["nll_test"]["std"] or 0,
                color=color,
                marker="*",
                markersize=12,
                linestyle="none",
                label=f"{label}: best, fresh seeds",
            )
    if untuned_point:
        ax.scatter(
            [untuned_point[0]], [untuned_point[1]], color="black", marker="X", s=80, label="SeqGAN, paper settings"
        )
    ax.set_xlabel("NLL-oracle (quality; lower is better)")
    ax.set_ylabel("NLL-test (coverage; lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
