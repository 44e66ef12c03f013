"""Your own corpus, honestly (issue 36): a text run's final table carries its tempered start and
SeqGAN's gaps to it, pre-training keeps its best epoch on a validation split, a log file gets a
line per epoch and per minute, and Ctrl-C inside an MLE epoch checkpoints at a batch boundary and
resumes to exactly the end of an uninterrupted run."""

from __future__ import annotations

import contextlib
import io
import json
import random
import signal
from pathlib import Path

import pytest
import torch

from seqgan import reporting
from seqgan import train as recipe
from seqgan.best_epoch import BestEpoch
from seqgan.config import Config, ConfigError, DataConfig, config_from_dict, load_config
from seqgan.corpus import load_corpus
from seqgan.generator import Generator
from seqgan.lifecycle import TrainingStopped
from seqgan.runtime.checkpoint import load_checkpoint
from seqgan.tempered import curve_at, gap, read_at

WORDS = (
    "a man dog cat rides runs sleeps on the beach grass street red couch holds umbrella in rain plate of food "
    "wooden table train stops at station boy throws ball park two people ride bikes down woman"
).split()
PRETRAIN_EPOCHS, ROUNDS = 12, 4


def write_corpus(folder: Path, lines: int = 300) -> Path:
    """Random sentences of 40 words: a 32-unit G memorises them in a few epochs, and held-out NLL rises."""
    rng = random.Random(0)
    path = folder / "corpus.txt"
    text = "".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))) + " .\n" for _ in range(lines))
    path.write_text(text, encoding="utf-8")
    return path


def text_config(folder: Path, *overrides: str) -> Config:
    corpus = write_corpus(folder)
    path = folder / "own.yaml"
    path.write_text(
        f"""
threads: 1
data: {{source: text, train: {corpus}, tokenizer: words, max_len: 12, test_fraction: 0.2}}
generator: {{emb_dim: 16, hidden_dim: 32, lr: 0.05}}
discriminator: {{emb_dim: 8, filter_sizes: [1, 2, 3], num_filters: [4, 4, 4]}}
train: {{batch_size: 16, pretrain_g_epochs: {PRETRAIN_EPOCHS}, pretrain_d_steps: 1, pretrain_d_epochs: 1,
        num_negatives: 32, rounds: {ROUNDS}, rollout_num: 2, d_steps: 1, d_epochs: 1}}
rows: {{names: [mle]}}
eval: {{every: 2, num_samples: 60, checkpoint_every: 2, bleu_max_n: 4}}
""",
        encoding="utf-8",
    )
    return load_config(path, list(overrides))


def quietly(fn, *args, **kwargs):
    """``fn`` with stdout and stderr captured (neither a terminal, as in a log file): (result, output)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        return fn(*args, **kwargs), out.getvalue()


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]


def without_seconds(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted text run with every new default, a progress line at every minibatch."""
    tmp = tmp_path_factory.mktemp("own")
    cfg = text_config(tmp)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reporting, "HEARTBEAT_SECONDS", 0.0)
        results, out = quietly(recipe.train, cfg, tmp / "run")
    return tmp, tmp / "run", results, out


# -- pre-training keeps its best epoch -------------------------------------------------------------


def tiny_generator(seed: int) -> Generator:
    torch.manual_seed(seed)
    return Generator(7, 5, emb_dim=4, hidden_dim=6)


def test_best_epoch_keeps_the_lowest_warns_once_and_spends_its_patience():
    g = tiny_generator(0)
    opt = torch.optim.Adam(g.parameters(), lr=0.1)
    best = BestEpoch(patience=3, warn_after=2)
    data = torch.randint(0, 7, (8, 5))
    kept = None
    warnings = []
    for epoch, nll in zip(range(1, 7), [3.0, 2.5, 2.7, 2.8, 2.6, 2.4]):
        opt.zero_grad()
        g.mle_loss(data).backward()
        opt.step()  # G and its Adam state move at every epoch
        if epoch == 2:
            kept = ({k: v.clone() for k, v in g.state_dict().items()}, opt.state_dict()["state"][0]["exp_avg"].clone())
        warnings.append(best.see(epoch, nll, g, opt))
        assert best.patience_spent is (epoch == 5), epoch
        if epoch == 5:
            break
    assert best.epoch == 2 and best.nll == 2.5 and best.since == 3 and best.last_epoch == 5
    # one warning, when validation NLL had stayed above its lowest for warn_after = 2 evaluations
    assert [w is not None for w in warnings] == [False, False, False, True, False]
    assert "risen for 2 evaluations" in warnings[3] and "epoch 2" in warnings[3] and "\n" not in warnings[3]
    best.restore(g, opt)
    for name, value in kept[0].items():
        assert torch.equal(g.state_dict()[name], value), name
    assert torch.equal(opt.state_dict()["state"][0]["exp_avg"], kept[1])
    # the kept state is a copy: training on from the restored G leaves it as it was
    opt.zero_grad()
    g.mle_loss(data).backward()
    opt.step()
    assert torch.equal(best.optimizer["state"][0]["exp_avg"], kept[1])
    again = BestEpoch(3, 2)
    again.load_state_dict(best.state_dict())
    assert (
        again.summary()
        == best.summary()
        == {
            "kept_epoch": 2,
            "nll_valid": 2.5,
            "last_epoch": 5,
            "last_nll_valid": 2.6,
            "stopped_early": True,
        }
    )


def test_the_validation_split_is_seeded_held_out_of_training_and_leaves_ids_and_test_alone(tmp_path):
    path = write_corpus(tmp_path)
    cfg = DataConfig(source="text", train=str(path), max_len=12, test_fraction=0.2)
    plain = load_corpus(cfg, None)
    held = load_corpus(cfg, None, valid_fraction=0.25)
    assert held.vocab.itos == plain.vocab.itos and torch.equal(held.test, plain.test)
    assert held.test_tokens == plain.test_tokens
    assert len(held.valid_tokens) == round(len(plain.train_tokens) * 0.25)
    assert sorted(held.train_tokens + held.valid_tokens) == sorted(plain.train_tokens)
    assert sorted(map(tuple, torch.cat([held.train, held.valid]).tolist())) == sorted(map(tuple, plain.train.tolist()))
    assert torch.equal(load_corpus(cfg, None, valid_fraction=0.25).valid, held.valid)  # seeded
    other = load_corpus(
        DataConfig(source="text", train=str(path), max_len=12, test_fraction=0.2, split_seed=1), None, 0.25
    )
    assert other.valid_tokens != held.valid_tokens


def test_new_keys_default_on_for_text_only_stay_off_for_old_runs_and_check_their_values():
    assert not Config().keeps_best_pretrained and not Config().sweeps_tempered_start  # the synthetic task: the paper
    text = load_config(None, ["data.source=text", "data.train=x.txt"])
    assert text.keeps_best_pretrained and text.sweeps_tempered_start
    assert not load_config(None, ["data.source=midi", "data.train=x"]).keeps_best_pretrained
    assert load_config(None, ["train.pretrain_keep=best"]).keeps_best_pretrained  # the option, on the oracle too
    # a run saved before these keys existed keeps the last epoch and ends without the sweep
    saved = text.to_dict()
    del saved["train"]["pretrain_keep"], saved["eval"]["tempered_start"]
    old = config_from_dict(saved)
    assert not old.keeps_best_pretrained and not old.sweeps_tempered_start
    for override, key in [
        ("train.pretrain_keep=first", "train.pretrain_keep"),
        ("train.pretrain_patience=-1", "train.pretrain_patience"),
        ("train.pretrain_warn_after=0", "train.pretrain_warn_after"),
        ("data.valid_fraction=1.0", "data.valid_fraction"),
        ("eval.tempered_temperatures=[1.0]", "eval.tempered_temperatures"),
        ("eval.tempered_temperatures=[1.0,0.8]", "eval.tempered_temperatures"),
        ("eval.tempered_temperatures=[0,1]", "eval.tempered_temperatures"),
        ("eval.tempered_start=3", "eval.tempered_start"),
    ]:
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as e:
            load_config(None, [override])
        assert "\n" not in str(e.value)


# -- the tempered start ----------------------------------------------------------------------------

POINTS = [  # a cold-to-hot curve: NLL-test lowest at T 1.0, Self-BLEU falling, BLEU falling
    {"temperature": 0.6, "nll_test": 5.0, "bleu4": 0.30, "self_bleu4": 0.40, "samples": "a"},
    {"temperature": 0.8, "nll_test": 4.6, "bleu4": 0.25, "self_bleu4": 0.30, "samples": "b"},
    {"temperature": 1.0, "nll_test": 4.4, "bleu4": 0.20, "self_bleu4": 0.20, "samples": "c"},
    {"temperature": 1.2, "nll_test": 4.5, "bleu4": 0.15, "self_bleu4": 0.10, "samples": "d"},
]


def test_the_curve_is_read_where_it_matches_the_model_and_a_gap_is_negative_when_better():
    at = read_at(POINTS, "self_bleu4", 0.25)  # halfway between T 0.8 and 1.0
    assert at == pytest.approx({"temperature": 0.9, "nll_test": 4.5, "bleu4": 0.225, "self_bleu4": 0.25})
    at = read_at(POINTS, "nll_test", 4.5)  # on the cold branch (T <= 1.0), not at T 1.2
    assert at["temperature"] == pytest.approx(0.9)
    assert read_at(POINTS, "nll_test", 4.3) is None and read_at(POINTS, "self_bleu4", 0.5) is None
    # the real-data study reads its curves with this same function (one definition, in the library)
    from seqgan.studies import real

    assert real.curve_at is curve_at and real.gap is gap
    # BLEU is higher-better: a model above the curve has a negative gap; NLL and Self-BLEU as they are
    assert gap("bleu4", 0.26, 0.225) == pytest.approx(-0.035)
    assert gap("nll_test", 4.7, 4.5) == pytest.approx(0.2) and gap("self_bleu4", 0.2, 0.25) == pytest.approx(-0.05)


def test_the_final_table_carries_the_tempered_rows_their_gaps_and_the_sign_convention():
    seqgan = {"nll_test": 4.7, "bleu4": 0.26, "self_bleu4": 0.25}
    at = {"self_bleu4": read_at(POINTS, "self_bleu4", 0.25), "nll_test": None}
    results = {
        "rows": {"pretrained": {"nll_test": 4.4, "bleu4": 0.2, "self_bleu4": 0.2}, "SeqGAN": seqgan},
        "tempered_start": {
            "generator": "pretrained (epoch 4)",
            "temperatures": [0.6, 0.8, 1.0, 1.2],
            "num_samples": 100,
            "seconds": 12.3,
            "at": at,
            "gaps": {"self_bleu4": {k: gap(k, seqgan[k], at["self_bleu4"][k]) for k in seqgan}, "nll_test": None},
        },
        "pretrain": {"kept_epoch": 4, "nll_valid": 3.1, "last_epoch": 10, "last_nll_valid": 3.4, "stopped_early": False}
        | {"epochs": 10},
    }
    text = reporting.results_table(results)
    lines = text.splitlines()
    assert "negative better" in lines[0] and "1 − BLEU" in lines[0]  # the table's header says the sign
    assert "| tempered start at SeqGAN's Self-BLEU-4 (T 0.90) | 4.500 | 0.225 | 0.250 |" in lines
    assert "| gap: SeqGAN − tempered start at SeqGAN's Self-BLEU-4 | +0.200 | -0.035 | +0.000 |" in lines
    assert any(line.startswith("| tempered start at SeqGAN's NLL-test: not reached at T 0.6..1.2 |") for line in lines)
    assert "took 12 s" in text and "from epoch 4" in text


# -- whole runs, in process ------------------------------------------------------------------------


def test_a_text_run_starts_from_its_best_epoch_and_ends_with_its_tempered_start(reference):
    _, run_dir, results, out = reference
    recs = records(run_dir)
    pre = [r for r in recs if r["phase"] == "pretrain"]
    assert [r["step"] for r in pre] == list(range(2, PRETRAIN_EPOCHS + 1, 2))
    best = min(pre, key=lambda r: r["nll_valid"])
    assert best["step"] < PRETRAIN_EPOCHS, "the test corpus should overfit: validation NLL lowest before the end"
    assert results["pretrain"]["kept_epoch"] == best["step"] and results["pretrain"]["nll_valid"] == best["nll_valid"]
    # adversarial training started from that epoch's G: the same NLL-test, to the bit
    start = next(r for r in recs if r["phase"] == "adversarial" and r["round"] == 0)
    assert start["step"] == PRETRAIN_EPOCHS and start["nll_test"] == best["nll_test"]
    assert results["rows"]["pretrained"]["step"] == best["step"]
    assert results["rows"]["pretrained"]["nll_test"] == best["nll_test"]
    assert f"starts from epoch {best['step']}" in out and "seqgan: warning: validation NLL has risen" in out
    stats = json.loads((run_dir / "data_stats.json").read_text())
    assert stats["valid"]["rows"][0] > 0 and stats["valid"]["valid_fraction"] == 0.1
    # the tempered start: every temperature of the grid, SeqGAN's gaps where the curve reaches it
    swept = results["tempered_start"]
    assert [p["temperature"] for p in swept["points"]] == Config().eval.tempered_temperatures
    assert swept["seconds"] >= 0 and swept["generator"] == f"pretrained (epoch {best['step']})"
    seqgan = results["rows"]["SeqGAN"]
    for x_key, control in swept["at"].items():
        assert x_key in ("self_bleu4", "nll_test")
        if control is not None:
            assert control[x_key] == pytest.approx(seqgan[x_key])
            assert swept["gaps"][x_key]["bleu4"] == pytest.approx(control["bleu4"] - seqgan["bleu4"])
    point = swept["points"][Config().eval.tempered_temperatures.index(1.0)]
    assert (run_dir / point["samples"]).read_text(encoding="utf-8").count("\n") == 60
    # the pre-trained G at T = 1 is the pretrained row's generator: the same NLL-test
    assert point["nll_test"] == pytest.approx(best["nll_test"], abs=1e-12)
    assert json.loads((run_dir / "results.json").read_text())["tempered_start"] == swept


def test_a_log_file_gets_a_line_per_epoch_and_one_inside_a_long_epoch(reference):
    _, _, _, out = reference
    epochs = [line for line in out.splitlines() if line.startswith("[MLE pre-training ") and "mle_loss=" in line]
    assert len(epochs) == PRETRAIN_EPOCHS and epochs[-1].startswith(f"[MLE pre-training {PRETRAIN_EPOCHS}/")
    # HEARTBEAT_SECONDS = 0: a line at each minibatch of pre-training's and the MLE row's epochs
    assert f"[MLE pre-training epoch 1/{PRETRAIN_EPOCHS}] batch 1/" in out
    assert f"[mle epoch, adversarial round {ROUNDS}/{ROUNDS}] batch 1/" in out


def test_patience_ends_pre_training_early_and_says_so(tmp_path):
    cfg = text_config(tmp_path, "train.pretrain_patience=1", "train.rounds=1", "eval.tempered_start=false")
    results, out = quietly(recipe.train, cfg, tmp_path / "run")
    recs = records(tmp_path / "run")
    pre = [r for r in recs if r["phase"] == "pretrain"]
    assert len(pre) < PRETRAIN_EPOCHS // 2 and pre[-1]["nll_valid"] > min(r["nll_valid"] for r in pre)
    assert results["pretrain"]["stopped_early"] and results["pretrain"]["last_epoch"] == pre[-1]["step"]
    assert f"stopped early at epoch {pre[-1]['step']}" in out
    assert "tempered_start" not in results
    start = next(r for r in recs if r["phase"] == "adversarial")
    kept = next(r for r in pre if r["step"] == results["pretrain"]["kept_epoch"])
    assert start["step"] == PRETRAIN_EPOCHS and start["nll_test"] == kept["nll_test"]


def interrupting(at_call: int, after_batches: int):
    """``train.mle_epoch`` that sends this process SIGINT (a real Ctrl-C) after minibatch ``after_batches``
    of its ``at_call``-th call, before the run looks for a stop request."""
    calls = {"n": 0}
    real = recipe.mle_epoch

    def mle_epoch(*args, after_batch=None, **kwargs):
        calls["n"] += 1

        def hook(position):
            if calls["n"] == at_call and len(position.losses) == after_batches:
                signal.raise_signal(signal.SIGINT)
            after_batch(position)

        return real(*args, after_batch=hook, **kwargs)

    return mle_epoch


def test_ctrl_c_inside_an_mle_epoch_checkpoints_there_and_resumes_to_the_uninterrupted_end(reference, monkeypatch):
    tmp, ref_dir, ref_results, _ = reference
    cfg = text_config(tmp)
    run_dir = tmp / "interrupted"
    # Ctrl-C in the 4th pre-training epoch (evaluated: its mean loss is in metrics.jsonl), after its 2nd minibatch
    monkeypatch.setattr(recipe, "mle_epoch", interrupting(at_call=4, after_batches=2))
    with pytest.raises(TrainingStopped, match="after minibatch 2 of an MLE epoch"):
        quietly(recipe.train, cfg, run_dir)
    state = load_checkpoint(run_dir / "checkpoint.pt")
    assert state["progress"]["g_epoch"] == 3 and state["position"]["losses"].shape == (2,)
    # resumed, then Ctrl-C in the MLE row's epoch of round 2: the 9 pre-training epochs left, round 1's, round 2's
    monkeypatch.setattr(recipe, "mle_epoch", interrupting(at_call=PRETRAIN_EPOCHS - 3 + 2, after_batches=3))
    with pytest.raises(TrainingStopped, match="after minibatch 3"):
        quietly(recipe.train, cfg, run_dir, resume=True)
    state = load_checkpoint(run_dir / "checkpoint.pt")
    p = state["progress"]
    assert (p["g_epoch"], p["round"], p["round_units"]) == (PRETRAIN_EPOCHS, 1, 1) and p["round_stats"]["d_loss"] > 0
    assert state["position"]["losses"].shape == (3,)
    # resumed to the end: the run that was never stopped, to the bit
    monkeypatch.setattr(recipe, "mle_epoch", interrupting(at_call=0, after_batches=0))
    results, _ = quietly(recipe.train, cfg, run_dir, resume=True)
    assert without_seconds(records(run_dir)) == without_seconds(records(ref_dir))
    assert results["rows"] == ref_results["rows"] and results["pretrain"] == ref_results["pretrain"]
    assert results["tempered_start"]["points"] == ref_results["tempered_start"]["points"]
    assert results["tempered_start"]["gaps"] == ref_results["tempered_start"]["gaps"]
    final, ref = load_checkpoint(run_dir / "checkpoint.pt"), load_checkpoint(ref_dir / "checkpoint.pt")
    assert final["progress"] == ref["progress"] and final["position"] is None
    for key in ("generator", "discriminator", "rollout_policy", "pretrained"):
        for name, value in ref[key].items():
            assert torch.equal(final[key][name], value), f"{key}.{name} differs after two stops and resumes"
    for name, value in ref["baselines"]["mle"]["generator"].items():
        assert torch.equal(final["baselines"]["mle"]["generator"][name], value), f"mle row: {name}"
    for name, value in ref["best_pretrain"]["weights"].items():
        assert torch.equal(final["best_pretrain"]["weights"][name], value), f"best epoch: {name}"
    assert (run_dir / "samples.txt").read_bytes() == (ref_dir / "samples.txt").read_bytes()
