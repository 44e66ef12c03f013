"""scripts/check_results.py: the committed README's figures match the committed result files, and
an altered figure is caught, named with both values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_results.py"


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_committed_readme_matches_its_files():
    proc = check()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("all ") and "figures match their files" in proc.stdout


def test_an_altered_readme_figure_fails_naming_both_values(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("0.146 ± 0.074") == 1
    altered = tmp_path / "README.md"
    altered.write_text(readme.replace("0.146 ± 0.074", "0.146 ± 0.081"), encoding="utf-8")
    proc = check("--readme", str(altered))
    assert proc.returncode == 1
    mismatches = [line for line in proc.stdout.splitlines() if line.startswith("MISMATCH")]
    assert mismatches == [
        "MISMATCH SeqGAN below MLE, mean ± std over seeds: README.md says 0.146 ± 0.081, "
        "results/table1/seed*/results.json give 0.146 ± 0.074"
    ]


def test_a_figure_that_is_gone_fails(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    altered = tmp_path / "README.md"
    altered.write_text(readme.replace("| SS | 8.242 ± 0.010 |", "| SS | 8.24 |"), encoding="utf-8")
    proc = check("--readme", str(altered))
    assert proc.returncode == 1
    assert "MISMATCH Table 1 SS nll_oracle: README.md no longer has text matching" in proc.stdout


def test_altered_symmetric_and_real_data_figures_fail(tmp_path):
    """The symmetric tuning comparison (re-derived from every trial's sweep and the confirmation runs)
    and docs/real_data.md are checked too."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    real = (ROOT / "docs" / "real_data.md").read_text(encoding="utf-8")
    assert readme.count("in 8 of 8 the same") == 1 and real.count("| Obama (BLEU-4) | 0.175 | 0.186 |") == 1
    (tmp_path / "README.md").write_text(readme.replace("in 8 of 8 the same", "in 7 of 8 the same"), encoding="utf-8")
    (tmp_path / "real.md").write_text(real.replace("| 0.175 | 0.186 |", "| 0.175 | 0.196 |"), encoding="utf-8")
    proc = check("--readme", str(tmp_path / "README.md"), "--real-data-doc", str(tmp_path / "real.md"))
    assert proc.returncode == 1
    mismatches = sorted(line.split(":")[0] for line in proc.stdout.splitlines() if line.startswith("MISMATCH"))
    assert mismatches == ["MISMATCH one-seed real table", "MISMATCH symmetric"]
