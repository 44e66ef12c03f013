"""The roll-out update rate ablation: SeqGAN's final NLL-oracle and NLL-test at r = 0 (the paper's
G_beta = G_theta) against r = 0.8 (the delayed update the authors wrote but never ran), over seeds.

    python scripts/rollout_ablation.py --r0 results/table1/seed{0,1,2} --r08 results/rollout_ablation/r0.8-seed{0,1,2}

Prints markdown (mean +- std, per seed, Welch's p over seeds) and writes results/rollout_ablation/table.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seqgan.experiments import machine, mean_std, welch_p


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--r0", nargs="+", required=True, type=Path)
    parser.add_argument("--r08", nargs="+", required=True, type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/rollout_ablation/table.md"))
    args = parser.parse_args()
    arms = {"r = 0 (paper)": args.r0, "r = 0.8": args.r08}
    values = {}
    for arm, dirs in arms.items():
        results = [json.loads((d / "results.json").read_text()) for d in dirs]
        values[arm] = {key: [r["rows"]["SeqGAN"][key] for r in results] for key in ("nll_oracle", "nll_test")}
        values[arm]["seeds"] = [r["seed"] for r in results]
    lines = ["| roll-out update rate | seeds | NLL-oracle (mean ± std) | per seed | NLL-test (mean ± std) | per seed |",
             "| --- | --- | ---: | --- | ---: | --- |"]
    for arm, v in values.items():
        cells = []
        for key in ("nll_oracle", "nll_test"):
            m, s = mean_std(v[key])
            cells += [f"{m:.3f} ± {s:.3f}", ", ".join(f"{x:.3f}" for x in v[key])]
        lines.append(f"| {arm} | {', '.join(map(str, v['seeds']))} | " + " | ".join(cells) + " |")
    a, b = values.values()
    p_lines = [f"Welch's p over seeds, r = 0 against r = 0.8: NLL-oracle {welch_p(a['nll_oracle'], b['nll_oracle']):.3g}, "
               f"NLL-test {welch_p(a['nll_test'], b['nll_test']):.3g}."]
    text = "\n".join([
        "# Roll-out update rate: r = 0 against r = 0.8 (SeqGAN row, quick budget)", "",
        "Command: `python scripts/rollout_ablation.py --r0 " + " ".join(map(str, args.r0)) + " --r08 " + " ".join(map(str, args.r08)) + "`  ",
        f"Machine: {machine()}", "", *lines, "", *p_lines, "",
    ])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
