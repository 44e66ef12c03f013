"""The scripts/ tools that turn finished runs into tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_run(path: Path, seed: int, nll_oracle: float, nll_test: float) -> Path:
    path.mkdir(parents=True)
    (path / "results.json").write_text(json.dumps({"seed": seed, "rows": {"SeqGAN": {"nll_oracle": nll_oracle, "nll_test": nll_test}}}))
    return path


def test_ablation_table_has_each_arms_mean_std_and_welchs_p(tmp_path, capsys):
    from scipy import stats

    ablation = load_script("ablation")
    a = [fake_run(tmp_path / f"a{s}", s, o, t) for s, o, t in [(0, 7.0, 7.5), (1, 7.2, 7.6), (2, 7.4, 7.7)]]
    b = [fake_run(tmp_path / f"b{s}", s, o, t) for s, o, t in [(0, 8.0, 7.5), (1, 8.1, 7.9), (2, 8.5, 7.6)]]
    out = tmp_path / "table.md"
    ablation.main(["--title", "T", "--arm", "A", *map(str, a), "--arm", "B", *map(str, b), "--out", str(out)])
    text = out.read_text()
    assert "| A | 0, 1, 2 | 7.200 ± 0.200 | 7.000, 7.200, 7.400 | 7.600 ± 0.100 |" in text
    p = stats.ttest_ind([7.0, 7.2, 7.4], [8.0, 8.1, 8.5], equal_var=False).pvalue
    assert f"NLL-oracle {p:.3g}," in text
    assert "--arm A" in text and capsys.readouterr().out == text + "\n"


def test_ablation_names_an_unfinished_run(tmp_path):
    ablation = load_script("ablation")
    done = fake_run(tmp_path / "done", 0, 7.0, 7.0)
    (tmp_path / "running").mkdir()
    with pytest.raises(SystemExit, match="running/results.json: no such file"):
        ablation.main(["--title", "T", "--arm", "A", str(done), "--arm", "B", str(tmp_path / "running"), "--out", str(tmp_path / "t.md")])


def test_d_output_l2_takes_the_papers_l2_term_out_of_ds_logged_training_loss(tmp_path):
    import torch

    from seqgan.checkpoint import FORMAT

    d_output_l2 = load_script("d_output_l2")
    run = tmp_path / "run"
    run.mkdir()
    state = {"format": FORMAT, "config": {"discriminator": {"l2_reg": 0.2}},
             "discriminator": {"out.weight": torch.tensor([[1.0, 2.0], [3.0, 0.0]]), "out.bias": torch.tensor([1.0, 0.0])}}
    torch.save(state, run / "checkpoint.pt")
    records = [{"phase": "adversarial", "round": 1, "d_train_loss": 2.0}, {"phase": "adversarial", "round": 2, "d_train_loss": 1.75},
               {"phase": "mle", "round": 2}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    # 0.2 * 0.5 * (1 + 4 + 9 + 0 + 1 + 0) = 1.5, from the last logged loss 1.75
    assert d_output_l2.output_l2_term(run) == (pytest.approx(1.5), 1.75)
    assert f"| {run} | 1.7500 | 1.5000 | 0.2500 |" in d_output_l2.main([str(run)])
    with pytest.raises(SystemExit, match="no such checkpoint"):
        d_output_l2.main([str(tmp_path / "missing")])
