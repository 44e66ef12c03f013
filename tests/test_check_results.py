"""scripts/check_results.py: the committed documents' figures match the committed result files; an altered
figure, an altered result file, a claim word its figures contradict and a sign against the convention are
caught and named; and the checker is an independent reading, sharing no code with the studies."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_results.py"


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def lines(proc: subprocess.CompletedProcess, kind: str = "MISMATCH") -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith(kind)]


def test_the_committed_documents_match_their_files():
    proc = check()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("all ") and "figures match their files and every claim word holds" in proc.stdout


def test_the_checker_shares_no_code_with_the_studies_and_reads_no_study_summary():
    """It imports nothing of seqgan, and no string in its code (its docstring aside) names a summary a
    study wrote: it re-derives from runs, sweeps and configs."""
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in imported if m and m.split(".")[0] == "seqgan"], imported
    docstring = tree.body[0].value.value  # the module's docstring names them, to say it does not read them
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    summaries = ("comparison.json", "symmetric.json", "own_start.json", "real.json", "summary.json", "table1.json")
    assert not [s for s in strings if s != docstring and any(name in s for name in summaries)]


def test_an_altered_readme_figure_fails_naming_both_values(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("−0.146 ± 0.074") == 1
    altered = tmp_path / "README.md"
    altered.write_text(readme.replace("−0.146 ± 0.074", "−0.146 ± 0.081"), encoding="utf-8")
    proc = check("--readme", str(altered))
    assert proc.returncode == 1
    assert lines(proc) == [
        "MISMATCH SeqGAN - MLE, mean ± std over seeds: README.md says −0.146 ± 0.081, "
        "results/table1/seed*/results.json give −0.146 ± 0.074"
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
    held = "(3 of 8 of its points;"
    assert readme.count(held) == 1 and real.count("| Obama (BLEU-4) | 0.175 | 0.186 |") == 1
    (tmp_path / "README.md").write_text(readme.replace(held, "(8 of 8 of its points;"), encoding="utf-8")
    (tmp_path / "real.md").write_text(real.replace("| 0.175 | 0.186 |", "| 0.175 | 0.196 |"), encoding="utf-8")
    proc = check("--readme", str(tmp_path / "README.md"), "--real-data-doc", str(tmp_path / "real.md"))
    assert proc.returncode == 1
    assert sorted(line.split(":")[0] for line in lines(proc)) == [
        "MISMATCH one-seed real table",
        "MISMATCH symmetric",
    ]


def test_altered_result_files_fail_naming_both_figures(tmp_path):
    """A copy of results/ with one results.json value and one sweep point altered: the checker, pointed at
    it with --results, names the figures each one feeds, and a claim word the altered value contradicts."""
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results", results, ignore=shutil.ignore_patterns("checkpoint.pt", "*.png", "samples*"))
    # Table 1, seed 1: SeqGAN's NLL-oracle above the MLE row's (7.937), so "below MLE on every seed" is false
    run = results / "table1" / "seed1" / "results.json"
    saved = json.loads(run.read_text())
    saved["rows"]["SeqGAN"]["nll_oracle"] = 7.950
    run.write_text(json.dumps(saved))
    # the own-start sweep of seed 10's tuned arm: its SeqGAN generator's T = 1 point
    sweep = results / "own_start" / "own_start_sweeps" / "seed10" / "tuned" / "temperature.json"
    saved = json.loads(sweep.read_text())
    t1 = next(p for p in saved["per_run"][0]["curves"]["SeqGAN"] if p["temperature"] == 1.0)
    t1["nll_oracle"] += 0.1
    sweep.write_text(json.dumps(saved))
    proc = check("--results", str(results))
    assert proc.returncode == 1
    mismatches = lines(proc)

    def named(description: str) -> bool:
        return any(line.startswith(f"MISMATCH {description}: ") for line in mismatches)

    assert named("SeqGAN - MLE, mean ± std over seeds")  # from the results.json
    assert named("SeqGAN per seed") and named("Table 1 SeqGAN nll_oracle")
    assert named("own start: tuned gap")  # from the sweep point
    assert named("own start: tuned - paper NLL-oracle at T = 1")
    assert any("'every seed'" in line and "fails on seed 1" in line for line in lines(proc, "WORDS"))
    # the untouched studies still match
    assert not [line for line in mismatches if "symmetric" in line or "real data" in line]
    # and the same copy, unaltered, passes
    shutil.rmtree(results)
    shutil.copytree(ROOT / "results", results, ignore=shutil.ignore_patterns("checkpoint.pt", "*.png", "samples*"))
    assert check("--results", str(results)).returncode == 0


def test_claim_words_against_their_figures_fail(tmp_path):
    """A "not significant" beside p < 0.05, a "significant" without its test, an "every seed" no check
    verifies, and a difference written control - model are each one failing line."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    extra = (
        "\n\nOn Obama the NLL-test gap is not significant (Welch p = 0.0092).\n\n"
        "On COCO it is significant (p = 0.014).\n\n"
        "SeqGAN's Self-BLEU-4 is higher on every seed (Welch p = 0.16).\n\n"
        "MLE − SeqGAN is +0.146 in NLL-oracle (Welch p = 0.092).\n"
    )
    (tmp_path / "README.md").write_text(readme + extra, encoding="utf-8")
    proc = check("--readme", str(tmp_path / "README.md"))
    assert proc.returncode == 1 and not lines(proc)
    words = lines(proc, "WORDS")
    assert len(words) == 4, words
    assert "'not significant' beside p = 0.0092 < 0.05" in words[0]
    assert "names neither Welch's nor the paired test" in words[1]
    assert "'every seed' is not verified seed by seed" in words[2]
    assert "a sign against the convention" in words[3] and "MLE − SeqGAN" in words[3]
