"""The Texygen benchmark study (seqgan/studies/benchmark.py) and its independent checker
(scripts/check_benchmark.py)."""

from __future__ import annotations

import gzip
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write_tiny_captions
from seqgan.studies import benchmark

ROOT = Path(__file__).resolve().parent.parent


def _sweep(points):
    return [
        {"temperature": t, "bleu": dict.fromkeys("2345", b), "self_bleu": dict.fromkeys("2345", s), "nll_test": nll}
        for t, b, s, nll in points
    ]


def test_the_curve_is_read_between_the_temperatures_that_bracket_the_value():
    sweep = _sweep([(1.0, 0.20, 0.50, 2.0), (0.5, 0.40, 0.90, 3.0), (0.8, 0.30, 0.70, 2.2), (1.2, 0.15, 0.40, 2.1)])
    assert benchmark.curve_at_self_bleu(sweep, 0.80) == pytest.approx(0.35)  # between T 0.5 and 0.8
    assert benchmark.curve_at_self_bleu(sweep, 0.45) == pytest.approx(0.175)  # between T 1.0 and 1.2
    assert benchmark.curve_at_self_bleu(sweep, 0.95) is None  # colder than the sweep reaches
    # NLL-test on the cold branch only: T up to the lowest NLL-test (1.0 here), never the hot side
    assert benchmark.curve_at_nll_test(sweep, 2.1) == pytest.approx(0.25)  # between T 0.8 (2.2) and 1.0 (2.0)
    assert benchmark.curve_at_nll_test(sweep, 1.9) is None  # below the curve's lowest NLL-test


def test_a_gap_is_the_column_minus_tempered_mle_in_bleu4_error_negative_better():
    sweep = _sweep([(0.5, 0.40, 0.90, 3.0), (1.0, 0.20, 0.50, 2.0)])
    column = {"bleu": {"4": 0.33}, "self_bleu": {"4": 0.70}, "nll_test": 2.5}
    runs = {s: {"columns": {"seqgan": column}, "sweep": sweep} for s in (0, 1)}
    runs[1] = {"columns": {"seqgan": {**column, "bleu": {"4": 0.25}}}, "sweep": sweep}
    gaps = benchmark.honest_table(runs)["gaps"]["seqgan"]["at_self_bleu4"]
    # the curve gives 0.30 at Self-BLEU-4 0.70: (1 - 0.33) - (1 - 0.30) = -0.03 (better), then +0.05 (worse)
    assert gaps["per_seed"] == {"0": pytest.approx(-0.03), "1": pytest.approx(0.05)}
    assert gaps["mean"] == pytest.approx(0.01) and gaps["ci95"][0] < 0 < gaps["ci95"][1]
    assert benchmark.verdict(gaps) == "not shown to differ"
    assert benchmark.verdict({"ci95": [-0.05, -0.01]}) == "better than tempered MLE"
    assert benchmark.verdict({"ci95": [0.01, 0.05]}) == "worse than tempered MLE"


def _tiny_corpus(folder: Path) -> tuple[Path, Path]:
    words = ["a", "man", "dog", "rides", "on", "the", "street", "near", "bus", "."]
    return write_tiny_captions(folder, 1, words, (3, 8), 110, 80)


TINY = [
    "pretrain_epochs=6",
    "pretrain_d_calls=2",
    "adversarial_epochs=3",
    "d_calls=1",
    "generate_num=64",
    "rollout_num=2",
    "fast_size=10",
    "temperatures=[0.5, 0.8, 1.0, 1.5]",
    "batch_size=8",
    "emb_dim=8",
    "hidden_dim=8",
    "num_filters=[4, 6]",
    "d_emb_dim=8",
]


@pytest.fixture(scope="module")
def finished_benchmark(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    train, test = _tiny_corpus(folder)
    out = folder / "results" / "benchmark" / "tiny"
    sets = [a for s in [*TINY, f"train={train}", f"test={test}"] for a in ("--set", s)]
    cmd = [
        sys.executable,
        "-m",
        "seqgan",
        "experiment",
        "benchmark",
        "--config",
        str(ROOT / "configs" / "texygen_coco.yaml"),
        "--seeds",
        "0,1",
        "--jobs",
        "2",
        "--out",
        str(out),
    ]
    done = subprocess.run([*cmd, *sets], capture_output=True, text=True, cwd=folder)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return folder, out, done.stdout


def _check(results: Path) -> subprocess.CompletedProcess:
    script = ROOT / "scripts" / "check_benchmark.py"
    return subprocess.run(
        [sys.executable, str(script), "--results", str(results), "--all-samples"], capture_output=True, text=True
    )


def test_the_command_writes_both_tables_the_runs_and_the_plot(finished_benchmark):
    folder, out, stdout = finished_benchmark
    md = (out / "benchmark.md").read_text()
    assert "## In Texygen's layout" in md and "## Against tempered MLE" in md and "negative is better" in md
    assert "# Texygen's protocol on train, 2 seeds" in stdout  # the tables are printed too
    summary = json.loads((out / "benchmark.json").read_text())
    models = {(e["model"], e["seed"]) for e in summary["runs"]}
    for seed in (0, 1):
        assert {("mle", seed), ("seqgan", seed), ("maligan_basic", seed), ("maligan", seed)} <= models
    tempered = [e for e in summary["runs"] if e["model"] == "mle_tempered"]
    assert sorted({e["temperature"] for e in tempered}) == [0.5, 0.8, 1.0, 1.5] and len(tempered) == 8
    for e in summary["runs"]:
        assert (
            (folder / e["samples"]).is_file() if not Path(e["samples"]).is_absolute() else Path(e["samples"]).is_file()
        )
        assert set(e["bleu"]) == set(e["self_bleu"]) == {"2", "3", "4", "5"}
    assert (out / "quality_diversity.png").stat().st_size > 10_000
    assert (out / "real" / "results.json").exists()


def test_the_checker_passes_the_study_and_names_an_altered_result_and_an_altered_sample(finished_benchmark, tmp_path):
    _, out, _ = finished_benchmark
    results = tmp_path / "results"
    shutil.copytree(out, results / "benchmark" / "tiny")
    ok = _check(results)
    assert ok.returncode == 0, ok.stdout[-3000:]
    assert "0 mismatches" in ok.stdout
    # one results.json value and one line of one decoded samples file
    run = results / "benchmark" / "tiny" / "seed1" / "results.json"
    data = json.loads(run.read_text())
    data["columns"]["seqgan"]["self_bleu_fast"]["3"] += 0.01
    run.write_text(json.dumps(data))
    samples = results / "benchmark" / "tiny" / "seed0" / "samples" / "maligan.txt.gz"
    lines = gzip.decompress(samples.read_bytes()).decode().split("\n")
    lines[0] = "the man rides the bus near the street ."
    samples.write_bytes(gzip.compress("\n".join(lines).encode()))
    bad = _check(results)
    assert bad.returncode == 1
    assert "seqgan seed 1 self_bleu_fast-3" in bad.stdout  # benchmark.json no longer the run's figure
    assert "seed0 maligan BLEU-2 (full) from its samples" in bad.stdout


def test_a_finished_run_with_other_settings_is_not_reused(finished_benchmark):
    folder, out, _ = finished_benchmark
    train, test = folder / "train.txt", folder / "test.txt"
    cmd = benchmark.texygen_command(
        "configs/texygen_coco.yaml", out / "seed0", 0, [*TINY, f"train={train}", f"test={test}", "rollout_num=3"]
    )
    cmd[2] = str(ROOT / "configs" / "texygen_coco.yaml")
    with pytest.raises(ValueError, match="rollout_num: 2, but this benchmark sets 3"):
        benchmark.check_finished_texygen_run(out / "seed0", cmd)


def test_the_readmes_benchmark_finding_is_checked_figure_by_figure(tmp_path):
    """check_benchmark.py re-derives the finding's labelled figures (the seeds, the published figures inside
    the intervals, SeqGAN's BLEU-4, its gaps to tempered MLE): on a copy of the committed results (without
    the decoded samples), the README as committed passes and each altered label is named."""
    shutil.copytree(
        ROOT / "results" / "benchmark", tmp_path / "results" / "benchmark", ignore=shutil.ignore_patterns("samples")
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    script = [sys.executable, str(ROOT / "scripts" / "check_benchmark.py"), "--results", str(tmp_path / "results")]
    proc = subprocess.run(script, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    alterations = {
        "the number of seeds": (r"COCO,(\s+)(\d+) seeds", lambda m: f"COCO,{m[1]}{int(m[2]) + 1} seeds"),
        "SeqGAN's BLEU-4 and Self-BLEU-4": (
            r"SeqGAN's BLEU-4 is (\d\.\d{3})",
            lambda m: f"SeqGAN's BLEU-4 is {float(m[1]) + 0.002:.3f}",
        ),
        "the published figures inside the interval of our mean": (
            r"(\d+) of 24(\s+)lie(\s+)inside(\s+)the",
            lambda m: f"{int(m[1]) - 1} of 24{m[2]}lie{m[3]}inside{m[4]}the",
        ),
        "the MLE column's BLEU-4 against the published": (
            r"MLE's(\s+)BLEU-4(\s+)(\d\.\d{3})",
            lambda m: f"MLE's{m[1]}BLEU-4{m[2]}{float(m[3]) - 0.002:.3f}",
        ),
        "the published figures inside our intervals": (
            r"(\d+) of 24(\s+)published figures",
            lambda m: f"{int(m[1]) - 1} of 24{m[2]}published figures",
        ),
        "SeqGAN's gap to tempered MLE at equal NLL-test": (
            r"and ([+−-]\d\.\d{3})(\s+)\[",
            lambda m: f"and {float(m[1].replace('−', '-')) + 0.003:+.3f}{m[2]}[",
        ),
    }
    for what, (pattern, change) in alterations.items():
        altered, count = re.subn(pattern, change, readme, count=1)
        assert count == 1, what
        (tmp_path / "README.md").write_text(altered, encoding="utf-8")
        proc = subprocess.run(script, capture_output=True, text=True)
        assert proc.returncode == 1 and f"the benchmark finding's {what} is" in proc.stdout, (what, proc.stdout)


def test_the_prediction_interval_of_one_run_by_hand():
    # values 1, 2, 3: mean 2, std 1; one more run lies within 2 ± t(0.975, 2) sqrt(1 + 1/3) (t = 4.302653)
    lo, hi = benchmark.prediction_interval([1.0, 2.0, 3.0])
    half = 4.302652729749464 * math.sqrt(4 / 3)
    assert lo == pytest.approx(2 - half, abs=1e-9) and hi == pytest.approx(2 + half, abs=1e-9)
    mean_lo, mean_hi = benchmark.t_interval([1.0, 2.0, 3.0])[2:]
    assert hi - lo == pytest.approx((mean_hi - mean_lo) * math.sqrt(3 + 1), abs=1e-9)  # sqrt(1 + 1/n) / sqrt(1/n)
