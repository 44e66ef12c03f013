"""The real-data study (seqgan/studies/real.py): the tempered curve read at SeqGAN's point, and
scripts/real_seeds.sh plus ``seqgan experiment real`` on a tiny character corpus, two seeds and one
unfinished run, checked against SciPy and against BLEU computed again from the decoded samples."""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys

import pytest
from scipy import stats

from seqgan.bleu import mean_bleu
from seqgan.stats import format_p
from seqgan.studies.real import curve_at
from test_cli import REPO, assert_one_line_error, env, seqgan


def test_curve_at_interpolates_from_the_cold_end_and_stops_at_the_lowest_nll_test():
    # dyadic numbers, so that interpolation is exact in floating point
    points = [
        {"temperature": t, "nll_test": x, "bleu2": y, "self_bleu2": s}
        for t, x, y, s in [
            (0.5, 6.0, 0.75, 0.875),
            (1.0, 5.0, 0.5, 0.5),
            (1.5, 5.5, 0.25, 0.25),
            (0.75, 5.5, 0.625, 0.75),
        ]
    ]
    assert curve_at(points, "nll_test", "bleu2", 5.25) == 0.5625  # between T 0.75 and 1.0, not 1.0 and 1.5
    assert curve_at(points, "nll_test", "bleu2", 5.75) == 0.6875  # between T 0.5 and 0.75
    assert curve_at(points, "nll_test", "bleu2", 6.5) is None  # colder than the grid
    assert curve_at(points, "nll_test", "bleu2", 4.5) is None  # below the lowest NLL-test
    assert curve_at(points, "self_bleu2", "bleu2", 0.375) == 0.375  # between T 1.0 and 1.5: Self-BLEU falls on
    assert curve_at(points, "self_bleu2", "bleu2", 0.875) == 0.75  # at a point


def write_task(tmp_path):
    """A tiny character corpus with a test file of its own (so the references are known here), and
    configs/toy.yaml for scripts/real_seeds.sh: tiny models, 2 rounds."""
    rng = random.Random(0)
    words = ["abc", "bcd", "cde", "dab", "eab"]
    lines = [" ".join(rng.choice(words) for _ in range(2)) for _ in range(120)]
    (tmp_path / "train.txt").write_text("".join(x + "\n" for x in lines[:100]), encoding="utf-8")
    (tmp_path / "test.txt").write_text("".join(x + "\n" for x in lines[100:]), encoding="utf-8")
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "toy.yaml").write_text(
        f"""
data: {{source: text, train: {tmp_path / "train.txt"}, test: {tmp_path / "test.txt"}, tokenizer: chars, max_len: 8}}
generator: {{emb_dim: 8, hidden_dim: 8}}
discriminator: {{emb_dim: 8, filter_sizes: [1, 2], num_filters: [4, 4]}}
train: {{batch_size: 16, pretrain_g_epochs: 2, pretrain_d_steps: 1, pretrain_d_epochs: 1, num_negatives: 32,
        rounds: 2, rollout_num: 2, d_steps: 1, d_epochs: 1, pretrain_keep: last}}
rows: {{names: [mle]}}
eval: {{every: 2, num_samples: 40, self_bleu_samples: 20, checkpoint_every: 2, bleu_max_n: 3, tempered_start: false}}
""",
        encoding="utf-8",
    )
    return configs, [[c for c in line if not c.isspace()] for line in lines[100:]]  # 'chars': every character


def real_seeds(configs, out, seeds):
    return subprocess.run(
        ["bash", "scripts/real_seeds.sh", "toy", seeds, str(out)],
        cwd=REPO,
        env=env(PY=sys.executable, CONFIGS=str(configs), SEQGAN_DATA_DIR=None),
        capture_output=True,
        text=True,
        timeout=600,
    )


def cells(md: str, first: str) -> list[str]:
    line = next(x for x in md.splitlines() if x.startswith(f"| {first} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_real_study_on_two_tiny_seeds(tmp_path):
    configs, references = write_task(tmp_path)
    out = tmp_path / "out"
    proc = real_seeds(configs, out, "0,1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = (out / "toy" / "seed0.log").read_text()
    assert (out / "toy" / "seed1" / "results.json").is_file() and log
    # a re-run skips finished runs: nothing is trained or logged again
    stamp = (out / "toy" / "seed0" / "results.json").stat().st_mtime_ns
    assert real_seeds(configs, out, "0,1").returncode == 0
    assert (out / "toy" / "seed0" / "results.json").stat().st_mtime_ns == stamp
    assert (out / "toy" / "seed0.log").read_text() == log
    (out / "toy" / "seed2").mkdir()  # an unfinished run

    report = tmp_path / "report"
    args = ["experiment", "real", "--runs", out, "--temperatures", "0.5,1.0,2.0", "--num", "40", "--out", report]
    proc = seqgan(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("real: toy/seed2 skipped, unfinished (no results.json)") == 1
    md, result = (report / "real.md").read_text(), json.loads((report / "real.json").read_text())
    assert (report / "real.png").stat().st_size > 1000 and result["command"] in md
    toy = result["tasks"]["toy"]
    assert toy["seeds"] == [0, 1]
    finals = [json.loads((out / "toy" / f"seed{s}" / "results.json").read_text())["rows"] for s in (0, 1)]

    # the numbers in real.md are real.json's; Welch's p is SciPy's on the per-seed values of results.json
    assert set(toy["metrics"]) == {"nll_test", "bleu2", "bleu3", "self_bleu2", "self_bleu3"}
    label = {"nll_test": "NLL-test", "bleu2": "BLEU-2", "bleu3": "BLEU-3", "self_bleu2": "Self-BLEU-2"}
    for key, m in toy["metrics"].items():
        seqgan_vals, mle_vals = [f["SeqGAN"][key] for f in finals], [f["MLE"][key] for f in finals]
        assert m["SeqGAN_per_seed"] == seqgan_vals and m["MLE_per_seed"] == mle_vals
        p = stats.ttest_ind(seqgan_vals, mle_vals, equal_var=False).pvalue
        assert m["welch_p"] == pytest.approx(p, rel=1e-12) or (math.isnan(p) and math.isnan(m["welch_p"]))
        if key in label:
            row = cells(md, label[key])
            assert row[1:] == [
                f"{m['pretrained_mean']:.3f} ± {m['pretrained_std']:.3f}",
                f"{m['MLE_mean']:.3f} ± {m['MLE_std']:.3f}",
                f"{m['SeqGAN_mean']:.3f} ± {m['SeqGAN_std']:.3f}",
                f"{m['gap']:+.3f}",  # SeqGAN - MLE, BLEU as 1 - BLEU: negative is better
                format_p(m["welch_p"]),
                format_p(m["paired_p"]),
            ]
    for i, r in enumerate(toy["runs"]):
        sweep = r["sweep"]
        assert [p["temperature"] for p in sweep] == [0.5, 1.0, 2.0]
        # at T = 1 the sweep's NLL-test is the run's own for its pre-trained generator: the same model and test data
        assert sweep[1]["nll_test"] == pytest.approx(finals[i]["pretrained"]["nll_test"], rel=1e-12)
        # BLEU at T = 1 of the pre-trained sweep, computed again from its decoded samples and the test file
        t1 = sweep[1]
        text = (report / "real_sweeps" / "toy" / f"seed{r['seed']}" / t1["samples"]).read_text(encoding="utf-8")
        hyps = [line.split() for line in text.splitlines()]
        assert len(hyps) == 40
        again = mean_bleu(references, hyps, max_n=3)
        assert again["bleu2"] == pytest.approx(t1["bleu2"], abs=1e-12)
        assert again["bleu3"] == pytest.approx(t1["bleu3"], abs=1e-12)
        # and SeqGAN's and the MLE row's final BLEU from the decoded samples of their last evaluation
        run_dir = out / "toy" / f"seed{r['seed']}"
        for row, phase in (("SeqGAN", "adversarial"), ("MLE", "mle")):
            step = finals[i][row]["step"]
            text = (run_dir / "samples" / f"{phase}_{step:05d}.txt").read_text(encoding="utf-8")
            again = mean_bleu(references, [line.split() for line in text.splitlines()], max_n=3)
            assert again["bleu2"] == pytest.approx(finals[i][row]["bleu2"], abs=1e-12)
        for name in ("samples_text.txt", "samples_mle_text.txt"):
            assert len((run_dir / name).read_text().splitlines()) == 40
        # the gaps: SeqGAN minus the curve read at its point, in 1 - BLEU (so the curve's BLEU minus
        # SeqGAN's: negative is better), where the toy's curve reaches it; test_curve_at_... checks the reading
        for name, g in r["gaps"].items():
            bleu = name.split("@")[0]
            if g["curve"] is not None:
                assert g["gap"] == pytest.approx(g["curve"] - finals[i]["SeqGAN"][bleu], abs=1e-12)
        for key, m in result["tasks"]["toy"]["metrics"].items():  # SeqGAN - MLE, lower is better in every metric
            diff = m["SeqGAN_mean"] - m["MLE_mean"]
            assert m["gap"] == pytest.approx(-diff if key.startswith("bleu") else diff, abs=1e-12)
        # 2 rounds x (1 g-step) against 2 rounds x 1 epoch of ceil(100 / 16) = 7 minibatches
        assert r["updates"].items() >= {"seqgan_pg_batches": 2, "mle_epochs": 2, "mle_batches": 14}.items()
    assert "2 policy-gradient batches" in md and "14 minibatches" in md
    assert re.search(r"\| BLEU-2 \| NLL-test \| ", md) and re.search(r"\| BLEU-3 \| Self-BLEU \| ", md)

    # the decoded samples of the real runs' folder are not git-ignored; the checkpoints are
    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO).returncode == 0

    base = "results/real_seeds/poems/seed0"
    for kept in ("samples_text.txt", "samples_mle_text.txt", "samples/adversarial_00030.txt"):
        assert not ignored(f"{base}/{kept}"), kept
    assert not ignored("results/real_seeds/poems/seed0.log")
    assert not ignored("results/real_seeds/real_sweeps/poems/seed0/pretrained_T1.00.txt")
    assert ignored(f"{base}/checkpoint.pt")

    # a re-run reads the sweeps back and writes the same numbers
    sweep_file = report / "real_sweeps" / "toy" / "seed0" / "sweep.json"
    stamp = sweep_file.stat().st_mtime_ns
    assert seqgan(*args, cwd=tmp_path).returncode == 0
    assert sweep_file.stat().st_mtime_ns == stamp
    strip = lambda text: {k: v for k, v in json.loads(text).items() if k != "machine"}  # noqa: E731
    assert strip((report / "real.json").read_text()) == strip(json.dumps(result))


def test_real_argument_errors(tmp_path):
    assert_one_line_error(seqgan("experiment", "real", cwd=tmp_path), "--runs")
    assert_one_line_error(seqgan("experiment", "real", "--runs", tmp_path, cwd=tmp_path), "no finished")
    assert_one_line_error(
        seqgan("experiment", "real", "--runs", tmp_path, "--temperatures", "0.8,1.2", cwd=tmp_path), "hold 1.0"
    )
