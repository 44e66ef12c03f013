"""The benchmark: it runs end to end, and its public-code stand-ins compute what seqgan computes.

The bench's side-by-side ratios mean something only if bench/public_style.py does the same work
as the library on the same weights, just along the public code's paths.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import public_style  # noqa: E402

from seqgan.discriminator import Discriminator  # noqa: E402
from seqgan.generator import Generator  # noqa: E402


def test_public_discriminator_scores_and_gradients_equal_ours():
    torch.manual_seed(0)
    d = Discriminator(50, 12, emb_dim=8, filter_sizes=(1, 3, 12), num_filters=(4, 5, 6))
    pub = public_style.PublicDiscriminator(d)
    seqs = torch.randint(0, 50, (9, 12))
    labels = torch.randint(0, 2, (9,))
    d.eval(), pub.eval()  # no dropout: the two must match exactly
    torch.testing.assert_close(pub.prob_real(seqs), d.prob_real(seqs), rtol=1e-5, atol=1e-6)
    d.loss(seqs, labels).backward()
    pub.loss(seqs, labels).backward()
    # shared modules accumulated both gradients; the convolutions' own copies must match D's
    for conv, conv2 in zip(d.convs, pub.convs):
        torch.testing.assert_close(
            conv2.weight.grad.squeeze(1).permute(0, 2, 1), conv.weight.grad, rtol=1e-4, atol=1e-6
        )
        torch.testing.assert_close(conv2.bias.grad, conv.bias.grad, rtol=1e-4, atol=1e-6)


def test_public_mle_loss_equals_ours():
    torch.manual_seed(0)
    g = Generator(30, 7, emb_dim=4, hidden_dim=5, init_std=0.5)
    seqs = torch.randint(0, 30, (6, 7))
    public = F.cross_entropy(g(seqs).reshape(-1, 30), seqs.reshape(-1))
    torch.testing.assert_close(public, g.mle_loss(seqs))


def test_public_rewards_last_column_is_d_of_the_samples():
    torch.manual_seed(0)
    g = Generator(20, 6, emb_dim=4, hidden_dim=5, init_std=0.5)
    d = Discriminator(20, 6, emb_dim=4, filter_sizes=(1, 2), num_filters=(3, 3))
    pub = public_style.PublicDiscriminator(d)
    samples = g.sample(5)
    q = public_style.rewards(g, pub, samples, rollout_num=3)
    assert q.shape == (5, 6) and bool(((q > 0) & (q < 1)).all())
    torch.testing.assert_close(q[:, -1], d.prob_real(samples), rtol=1e-5, atol=1e-6)


def test_bench_smoke_runs_every_unit_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench.py"),
            "--smoke",
            "--threads",
            "1",
            "--cpu-time",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    for unit in (
        "g_step",
        "d_epoch.fp32",
        "mle_epoch",
        "sample_10k",
        "rewards_looped",
        "eval_unit",
        "public.d_epoch",
        "public.g_step",
        "public.mle_epoch",
        "public.sample_10k",
        "d_step.none",
        "d_step.r1",
        "d_step.zero_gp",
        "d_step.wgan_gp",
    ):
        assert math.isfinite(report["results"][unit]["estimate"]) and report["results"][unit]["estimate"] > 0, unit
    assert set(report["projection_seconds"]) == {"fp32", "bf16", "public-style"}
    assert "public / ours" in proc.stdout and "Projected full paper protocol" in proc.stdout
    assert report["clock"].startswith("CPU time")
    # the D step: the paper's D is 5.19 GFLOP a training step at batch 64 (13.5 M MACs a sequence, x 2 x 3)
    precisions = {"fp32", "bf16"} if report["machine"]["cpu_native_bf16"] else {"fp32"}
    assert set(report["d_step"]) == precisions
    for r in report["d_step"].values():
        assert abs(r["gflops"] * r["step_s"] - 5.19) < 0.01
        assert r["gemm_floor_s"] > 0 and r["peak_gflops"] > 0
        assert len(r["profile"]) == 8 and 0 < sum(share for _, share, _ in r["profile"]) <= 1
    assert "### The D training step" in proc.stdout and "top operators by self time" in proc.stdout
    assert "gradient penalty r1" in proc.stdout


def test_precision_check_runs_both_precisions_and_tabulates(tmp_path):
    out = tmp_path / "precision"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "precision_check.py"),
            "--seeds",
            "0",
            "--out",
            str(out),
            "--set",
            "train.rounds=1",
            "--set",
            "train.pretrain_g_epochs=1",
            "--set",
            "baselines.rows=[]",
            "--set",
            "eval.num_samples=64",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())["results"]
    for precision in ("fp32", "bf16"):
        assert math.isfinite(results[precision]["0"]["nll_oracle"])
        cfg = (out / f"{precision}-seed0" / "config.yaml").read_text()
        assert f"precision: {precision}" in cfg
    assert "| nll_oracle |" in (out / "table.md").read_text()


def test_micro_benchmarks_run():
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "micro.py"),
            "gemm",
            "sampler",
            "dstep",
            "bf16",
            "windows",
            "gen",
            "profile",
            "--repeats",
            "1",
            "--threads",
            "1",
            "--cpu-time",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for line in (
        "matrix products of one D training step",
        "softmax (ours)",
        "D training step, library",
        "bf16 + weight copies, library",
        "widths 1-10 merged",
        "shifted adds",
        "### bf16",
        "CPU time",
        "MLE output-layer product",
    ):
        assert line in proc.stdout, line


def test_thread_settings_bench_runs_its_children_and_tabulates():
    bench = str(ROOT / "bench" / "threads.py")
    proc = subprocess.run(
        [sys.executable, bench, "--steps", "1", "--rounds", "1", "--variants", "1,glibc-keep"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("| 1 |", "| glibc-keep |"))]
    assert len(rows) == 2 and rows[0].split("|")[2].strip() == "1", proc.stdout
    ms = float(rows[0].split("|")[3])
    assert ms > 0 and math.isfinite(ms)
    bad = subprocess.run([sys.executable, bench, "--variants", "1,turbo"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "unknown turbo" in bad.stderr


def test_text_sizes_bench_smoke_writes_a_row_per_size_and_width(tmp_path):
    # bench/bench_text_sizes.py on its tiny corpus: pre-training to the best validation epoch for each G size,
    # then the D widths' costs; the table and JSON a preset's sizes are chosen from
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_text_sizes.py"), "--smoke", "--threads", "1", "--out", tmp_path],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "text_sizes.json").read_text())
    assert report["machine"] and [r["hidden"] for r in report["rows"]] == [8, 16]
    for r in report["rows"]:
        assert 1 <= r["best_epoch"] <= r["epochs_run"] == len(r["curve"])
        best = min(r["curve"], key=lambda p: p["nll_valid"])
        assert (best["epoch"], best["nll_test"]) == (r["best_epoch"], r["nll_test_at_best"])
        assert 0 <= r["d_accuracy"] <= 1 and r["cpu_seconds_per_epoch"] > 0 and r["projected_minutes"] > 0
    md = (tmp_path / "text_sizes.md").read_text()
    assert md.count("| smoke.txt |") == 2 and report["command"] in md
    # run again (as after an interruption): the sizes measured before are kept, not measured again
    again = subprocess.run(proc.args, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("kept from") == 2
    assert json.loads((tmp_path / "text_sizes.json").read_text())["rows"] == report["rows"]
