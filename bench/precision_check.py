"""Does bf16 autocast in D change where SeqGAN ends up? fp32 and bf16 runs of one config over seeds.

    .venv/bin/python bench/precision_check.py [--config configs/synthetic_smoke.yaml] [--seeds 0,1,2,3,4]
        [--set KEY=VALUE ...] [--out results/precision]

Each (precision, seed) is an ordinary ``seqgan train`` run; the final SeqGAN NLL-oracle and
NLL-test of each are compared as mean +- std over seeds, with Welch's t-test, and per seed (the
same seed starts both precisions from the same weights, so the paired difference is the effect of
precision alone, plus the different random draws it leads to). Writes table.md and results.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqgan.config import load_config  # noqa: E402
from seqgan.jobs import run_all, train_command  # noqa: E402
from seqgan.runtime.hardware import machine  # noqa: E402
from seqgan.stats import mean_std, welch_p  # noqa: E402

PRECISIONS = ("fp32", "bf16")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/synthetic_smoke.yaml")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to seqgan train")
    ap.add_argument("--jobs", type=int, default=1, help="runs side by side")
    ap.add_argument("--out", default=str(ROOT / "results" / "precision"))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    load_config(args.config, args.set)  # fail here, not in every run
    runs = {(prec, seed): out / f"{prec}-seed{seed}" for prec in PRECISIONS for seed in seeds}
    commands = [
        (run_dir, train_command(args.config, run_dir, seed, [*args.set, f"discriminator.precision={prec}"]))
        for (prec, seed), run_dir in runs.items()
    ]
    run_all(commands, args.jobs, quiet=True)  # finished runs are reused, interrupted ones resumed
    results = {
        prec: {seed: json.loads((runs[prec, seed] / "results.json").read_text())["rows"]["SeqGAN"] for seed in seeds}
        for prec in PRECISIONS
    }

    lines = [
        f"# bf16 against fp32 discriminator: `{args.config}`" + (f" with {' '.join(args.set)}" if args.set else ""),
        "",
        f"Seeds {args.seeds}; {machine()}; `python bench/precision_check.py " + " ".join(sys.argv[1:]) + "`",
        "",
        "| metric | fp32 | bf16 | Welch p | bf16 - fp32, per seed |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for key in ("nll_oracle", "nll_test"):
        a, b = ([results[prec][s][key] for s in seeds] for prec in PRECISIONS)
        (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
        diffs = ", ".join(f"{y - x:+.3f}" for x, y in zip(a, b))
        lines.append(f"| {key} | {ma:.3f} +- {sa:.3f} | {mb:.3f} +- {sb:.3f} | {welch_p(a, b):.3g} | {diffs} |")
    shown = lambda path: path.resolve().relative_to(ROOT) if path.resolve().is_relative_to(ROOT) else path  # noqa: E731
    table = (
        "\n".join(lines)
        + "\n\nRuns (from the repository root):\n\n"
        + "\n".join(
            "    "
            + " ".join(train_command(args.config, shown(run_dir), seed, [*args.set, f"discriminator.precision={prec}"]))
            for (prec, seed), run_dir in runs.items()
        )
        + "\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(table)
    (out / "results.json").write_text(
        json.dumps({"config": args.config, "set": args.set, "results": results}, indent=2) + "\n"
    )
    print(table)


if __name__ == "__main__":
    main()
