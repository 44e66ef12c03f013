"""``seqgan experiment penalty``: what D's gradient penalty does, against the paper's ``none``.

Ordinary ``seqgan train`` runs (seqgan/jobs.py's ``run_all``: side by side, reused when
finished, resumed when interrupted), one per penalty and seed, and a summary over seeds of:

* D's memorisation gap over training: its training loss (the last epoch of each round's d-steps,
  ``d_train_loss``) against its held-out loss (held-out real against fresh generated sequences,
  ``d_loss`` of each evaluation);
* the mean reward of the g-steps over the rounds;
* the final NLL-oracle and NLL-test.

The penalties are seqgan/penalty.py's (Mescheder et al. 2018; Thanh-Tung et al. 2019; Gulrajani
et al. 2017), at ``discriminator.gp_weight``.
"""

from __future__ import annotations

import json
import math
import shlex
import time
from pathlib import Path

from .. import metrics
from ..config import load_config
from ..jobs import budget_overrides, run_all, train_command, wall_time
from ..runtime.hardware import machine
from ..stats import format_p, mean_std, welch_p

FINAL = ("nll_oracle", "nll_test", "d_train_loss", "d_loss", "gap", "d_acc", "mean_reward")


def _curves(run_dir: Path) -> dict:
    """Per adversarial evaluation: round, D's training and held-out loss, mean reward, NLL-oracle."""
    adv = [r for r in metrics.read_metrics(run_dir / "metrics.jsonl") if r["phase"] == "adversarial"]
    keys = ("round", "d_train_loss", "d_loss", "d_acc", "mean_reward", "nll_oracle", "nll_test")
    return {k: [r.get(k) for r in adv] for k in keys}


def run(
    config: str, penalties: list[str], seeds: list[int], budget: float, out: Path, jobs: int, overrides: list[str]
) -> dict:
    cfg = load_config(config, overrides)
    extra = [*overrides, *budget_overrides(cfg, budget)]
    commands = []
    for kind in penalties:
        for s in seeds:
            run_extra = [*extra, f"discriminator.gradient_penalty={kind}"]
            load_config(config, run_extra)  # fail here, not in every subprocess
            run_dir = out / f"{kind}-seed{s}"
            commands.append((run_dir, train_command(config, run_dir, s, run_extra)))
    started = time.time()
    ran = run_all(commands, jobs)
    wall = wall_time(time.time() - started, ran, out / "penalty.json")
    curves = {kind: {s: _curves(out / f"{kind}-seed{s}") for s in seeds} for kind in penalties}
    table = {}
    for kind in penalties:
        finals: dict[str, list[float]] = {k: [] for k in FINAL}
        for s in seeds:
            c = curves[kind][s]
            finals["nll_oracle"].append(c["nll_oracle"][-1])
            finals["nll_test"].append(c["nll_test"][-1])
            finals["d_train_loss"].append(c["d_train_loss"][-1])
            finals["d_loss"].append(c["d_loss"][-1])
            finals["gap"].append(c["d_loss"][-1] - c["d_train_loss"][-1])
            finals["d_acc"].append(c["d_acc"][-1])
            finals["mean_reward"].append(c["mean_reward"][-1])
        # each run's own training time (results.json), so a table of reused runs still shows the penalty's cost
        finals["minutes"] = [
            json.loads((out / f"{kind}-seed{s}" / "results.json").read_text())["seconds"] / 60 for s in seeds
        ]
        table[kind] = {k: {"values": v, "mean": mean_std(v)[0], "std": mean_std(v)[1]} for k, v in finals.items()}
    if "none" in table:  # Welch's p over seeds of each penalty's final NLLs against the paper's none
        for kind in penalties:
            for k in ("nll_oracle", "nll_test"):
                table[kind][k]["p_vs_none"] = (
                    None if kind == "none" else welch_p(table[kind][k]["values"], table["none"][k]["values"])
                )
    final_cfg = load_config(config, extra)
    summary = {
        "command": f"seqgan experiment penalty --config {config} --penalties {','.join(penalties)} "
        f"--seeds {','.join(map(str, seeds))} --budget {budget}" + "".join(f" --set {o}" for o in overrides),
        "seeds": seeds,
        "penalties": penalties,
        "gp_weight": final_cfg.discriminator.gp_weight,
        "budget": budget,
        "rounds": final_cfg.train.rounds,
        "machine": machine(),
        "wall_seconds": round(wall, 1),
        "runs_trained": ran,
        "table": table,
        "curves": curves,
        "run_commands": [shlex.join(cmd) for _, cmd in commands],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "penalty.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _plot(summary, out / "penalty.png")
    _write_markdown(summary, out / "penalty.md")
    return summary


def _cell(stat: dict, digits: int = 3) -> str:
    return f"{stat['mean']:.{digits}f}" + ("" if math.isnan(stat["std"]) else f" ± {stat['std']:.{digits}f}")


def _write_markdown(summary: dict, path: Path) -> None:
    n = len(summary["seeds"])
    lines = [
        "| penalty | NLL-oracle | NLL-test | D train loss | D held-out loss | gap (held-out − train) "
        "| D held-out accuracy | mean reward |",
        "| --- |" + " ---: |" * len(FINAL),
    ]
    for kind, row in summary["table"].items():
        lines.append(f"| {kind} | " + " | ".join(_cell(row[k]) for k in FINAL) + " |")
    costs = ["| penalty | minutes a run | Welch p vs none: NLL-oracle | NLL-test |", "| --- | ---: | ---: | ---: |"]
    for kind, row in summary["table"].items():
        ps = [row[k].get("p_vs_none") for k in ("nll_oracle", "nll_test")]
        costs.append(
            f"| {kind} | {_cell(row['minutes'], 1)} | "
            + " | ".join("" if p is None else format_p(p) for p in ps)
            + " |"
        )
    path.write_text(
        "\n".join(
            [
                "# D's gradient penalty against none",
                "",
                f"Command: `{summary['command']}`  ",
                f"Seeds: {', '.join(map(str, summary['seeds']))} (mean ± std over {n}); weight {summary['gp_weight']}; "
                f"{summary['rounds']} adversarial rounds; machine: {summary['machine']}; "
                f"wall time {summary['wall_seconds'] / 60:.1f} min "
                f"({summary['runs_trained']} of {len(summary['run_commands'])} runs trained by this invocation, "
                "the rest reused)",
                "",
                "Values at the last evaluation. D's training loss is the mean over the last epoch of the last "
                "d-step, with dropout on: its cross-entropy plus the paper's L2 term on the output layer "
                "(0.2 × half the sum of "
                "squares), without the gradient penalty. Its held-out loss (cross-entropy alone) and accuracy are on "
                "held-out real against fresh generated sequences, in eval mode; ln 2 = 0.693 and 0.5 are a D that says "
                "0.5 to everything.",
                "",
                *lines,
                "",
                "Each run's training time (its results.json, one thread) and Welch's p over seeds of the final "
                "NLLs against `none`:",
                "",
                *costs,
                "",
                "![penalty](penalty.png)",
                "",
                "Runs:",
                "",
                *[f"    {c}" for c in summary["run_commands"]],
                "",
            ]
        ),
        encoding="utf-8",
    )


def _plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    colors = dict(zip(summary["penalties"], ["tab:gray", "tab:blue", "tab:green", "tab:red"]))
    for kind, per_seed in summary["curves"].items():
        for i, c in enumerate(per_seed.values()):
            label = kind if i == 0 else None
            rounds = c["round"]
            train = [(r, v) for r, v in zip(rounds, c["d_train_loss"]) if v is not None]
            axes[0].plot(
                [r for r, _ in train],
                [v for _, v in train],
                color=colors[kind],
                alpha=0.8,
                label=label and f"{kind} train",
            )
            axes[0].plot(
                rounds, c["d_loss"], color=colors[kind], linestyle="--", alpha=0.8, label=label and f"{kind} held-out"
            )
            reward = [(r, v) for r, v in zip(rounds, c["mean_reward"]) if v is not None]
            axes[1].plot([r for r, _ in reward], [v for _, v in reward], color=colors[kind], alpha=0.8, label=label)
            axes[2].plot(rounds, c["nll_oracle"], color=colors[kind], alpha=0.8, label=label)
    for ax, title in zip(
        axes, ["D loss: train (solid), held-out (dashed)", "mean reward of the g-steps", "NLL-oracle"]
    ):
        ax.set_title(title)
        ax.set_xlabel("adversarial round")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
