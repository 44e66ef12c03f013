"""How much of D's logged training loss is the paper's L2 term, from each finished run's checkpoint.

D's training loss (``d_train_loss`` in metrics.jsonl) is its cross-entropy plus ``l2_reg`` times
half the sum of squares of the output layer (seqgan/discriminator.py). Its held-out ``d_loss`` is
cross-entropy alone, so a memorisation gap read off the two needs the L2 term taken out. The term
is computed from the run's final D; subtracted from the last logged training loss it gives D's
training cross-entropy at the end, to within the drift of the weights over that last epoch.

    python scripts/d_output_l2.py results/penalty/none-seed0 results/penalty/r1-seed0
"""

from __future__ import annotations

import sys
from pathlib import Path

from seqgan.discriminator import output_l2
from seqgan.metrics import read_metrics
from seqgan.runtime.checkpoint import load_checkpoint


def output_l2_term(run_dir: Path) -> tuple[float, float]:
    """(l2_reg * 0.5 * sum of squares of D's output weight and bias, the last logged d_train_loss)."""
    state = load_checkpoint(run_dir)
    weights = state["discriminator"]
    term = float(
        output_l2(
            weights["out.weight"].double(), weights["out.bias"].double(), state["config"]["discriminator"]["l2_reg"]
        )
    )
    logged = [r["d_train_loss"] for r in read_metrics(run_dir / "metrics.jsonl") if r.get("d_train_loss") is not None]
    if not logged:
        raise ValueError(f"{run_dir / 'metrics.jsonl'}: no d_train_loss logged (no adversarial round finished)")
    return term, logged[-1]


def main(argv: list[str]) -> str:
    if not argv:
        raise SystemExit(__doc__)
    lines = [
        "| run | D train loss (last) | output-layer L2 term (end) | D train cross-entropy (difference) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for arg in argv:
        try:
            term, loss = output_l2_term(Path(arg))
        except ValueError as e:
            raise SystemExit(f"d_output_l2: {e}") from None
        lines.append(f"| {arg} | {loss:.4f} | {term:.4f} | {loss - term:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(sys.argv[1:]))
