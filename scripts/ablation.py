"""A two-arm ablation over seeds: the SeqGAN row's final NLL-oracle and NLL-test of finished runs
that differ in one setting, mean +- std, per seed and Welch's p over seeds.

    python scripts/ablation.py --title "Roll-out update rate (SeqGAN row, quick budget)" \
        --arm "r = 0 (paper)" results/table1/seed{0,1,2} --arm "r = 0.8" results/rollout_ablation/r0.8-seed{0,1,2} \
        --out results/rollout_ablation/table.md

Prints the markdown and writes it to --out.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from seqgan.runtime.hardware import machine
from seqgan.stats import mean_std, welch_p

KEYS = ("nll_oracle", "nll_test")


def read_arm(dirs: list[Path]) -> dict:
    values: dict = {key: [] for key in KEYS}
    values["seeds"] = []
    for d in dirs:
        path = d / "results.json"
        if not path.exists():
            raise SystemExit(f"ablation: {path}: no such file (is the run finished?)")
        result = json.loads(path.read_text(encoding="utf-8"))
        for key in KEYS:
            values[key].append(result["rows"]["SeqGAN"][key])
        values["seeds"].append(result["seed"])
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--arm",
        nargs="+",
        action="append",
        required=True,
        metavar=("LABEL", "RUN_DIR"),
        help="a label and the finished run directories of that arm; give exactly two",
    )
    parser.add_argument("--title", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if len(args.arm) != 2 or any(len(arm) < 2 for arm in args.arm):
        parser.error("give --arm LABEL RUN_DIR [RUN_DIR ...] exactly twice")
    values = {arm[0]: read_arm([Path(d) for d in arm[1:]]) for arm in args.arm}
    lines = [
        "| arm | seeds | NLL-oracle (mean ± std) | per seed | NLL-test (mean ± std) | per seed |",
        "| --- | --- | ---: | --- | ---: | --- |",
    ]
    for label, v in values.items():
        cells = []
        for key in KEYS:
            m, s = mean_std(v[key])
            cells += [f"{m:.3f} ± {s:.3f}", ", ".join(f"{x:.3f}" for x in v[key])]
        lines.append(f"| {label} | {', '.join(map(str, v['seeds']))} | " + " | ".join(cells) + " |")
    (la, a), (lb, b) = values.items()
    p_line = (
        f"Welch's p over seeds, {la} against {lb}: NLL-oracle {welch_p(a['nll_oracle'], b['nll_oracle']):.3g}, "
        f"NLL-test {welch_p(a['nll_test'], b['nll_test']):.3g}."
    )
    command = shlex.join(["python", "scripts/ablation.py", *(argv if argv is not None else sys.argv[1:])])
    text = "\n".join(
        [f"# {args.title}", "", f"Command: `{command}`  ", f"Machine: {machine()}", "", *lines, "", p_line, ""]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
