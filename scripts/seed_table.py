"""Mean ± std over seeds of the final rows of several runs: python scripts/seed_table.py runs/quick-seed*"""

import json
import statistics
import sys
from pathlib import Path

runs = [Path(p) for p in sys.argv[1:]]
results = [json.loads((r / "results.json").read_text()) for r in runs]
print(
    f"{len(runs)} runs: "
    + ", ".join(f"{r.name} (seed {res['seed']}, {res['seconds']:.0f} s)" for r, res in zip(runs, results))
)
print()
print("| model | NLL-oracle | NLL-test |")
print("| --- | ---: | ---: |")
for name in results[0]["rows"]:
    cells = []
    for key in ("nll_oracle", "nll_test"):
        values = [res["rows"][name][key] for res in results]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        cells.append(f"{statistics.mean(values):.3f} ± {std:.3f}")
    print(f"| {name} | {cells[0]} | {cells[1]} |")
wins = sum(res["rows"]["SeqGAN"]["nll_oracle"] < res["rows"]["MLE"]["nll_oracle"] for res in results)
print(f"\nSeqGAN below MLE in NLL-oracle in {wins} of {len(results)} runs")
