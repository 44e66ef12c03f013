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
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from seqgan.experiments import welch_p  # noqa: E402


def cpu_model() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.machine()


def final_metrics(run_dir: Path) -> dict:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]
    last = [r for r in rows if r["phase"] == "adversarial"][-1]
    return {"nll_oracle": last["nll_oracle"], "nll_test": last["nll_test"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/synthetic_smoke.yaml")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to seqgan train")
    ap.add_argument("--out", default=str(ROOT / "results" / "precision"))
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    results: dict[str, dict[int, dict]] = {"fp32": {}, "bf16": {}}
    commands = []
    for seed in seeds:
        for precision in results:
            run_dir = out / f"{precision}-seed{seed}"
            cmd = [sys.executable, "-m", "seqgan.cli", "train", args.config, "--seed", str(seed), "--run-dir", str(run_dir),
                   "--set", f"discriminator.precision={precision}", *sum((["--set", kv] for kv in args.set), [])]
            shown = run_dir.resolve().relative_to(ROOT) if run_dir.resolve().is_relative_to(ROOT) else run_dir
            commands.append(" ".join(["seqgan", *cmd[3:8], str(shown), *cmd[9:]]))
            if not (run_dir / "metrics.jsonl").exists() or '"adversarial"' not in (run_dir / "metrics.jsonl").read_text():
                subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
            results[precision][seed] = final_metrics(run_dir)
            print(f"{precision} seed {seed}: {results[precision][seed]}", file=sys.stderr, flush=True)

    lines = [f"# bf16 against fp32 discriminator: `{args.config}`" + (f" with {' '.join(args.set)}" if args.set else ""), "",
             f"Seeds {args.seeds}; torch {torch.__version__}, {cpu_model()} (each run with its config's threads); "
             "`python bench/precision_check.py " + " ".join(sys.argv[1:]) + "`", "",
             "| metric | fp32 | bf16 | Welch p | bf16 - fp32, per seed |", "| --- | ---: | ---: | ---: | --- |"]
    for key in ("nll_oracle", "nll_test"):
        a = [results["fp32"][s][key] for s in seeds]
        b = [results["bf16"][s][key] for s in seeds]
        sd = (lambda x: statistics.stdev(x) if len(x) > 1 else 0.0)
        diffs = ", ".join(f"{y - x:+.3f}" for x, y in zip(a, b))
        p = welch_p(a, b) if len(seeds) > 1 else float("nan")
        lines.append(f"| {key} | {statistics.mean(a):.3f} +- {sd(a):.3f} | {statistics.mean(b):.3f} +- {sd(b):.3f} | "
                     f"{p:.3g} | {diffs} |")
    table = "\n".join(lines) + "\n\nRuns (from the repository root):\n\n" + "\n".join(f"    {c}" for c in commands) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(table)
    (out / "results.json").write_text(json.dumps({"config": args.config, "set": args.set, "results": results}, indent=2) + "\n")
    print(table)


if __name__ == "__main__":
    main()
