"""Texygen's real-data protocol (seqgan/texygen.py, texygen_data.py) and MaliGAN's rewards (maligan.py)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import write_tiny_captions
from seqgan import texygen, texygen_config, texygen_data
from seqgan.config import ConfigError
from seqgan.discriminator import Discriminator
from seqgan.maligan import log_odds, maligan_basic_rewards, maligan_rewards

ROOT = Path(__file__).resolve().parent.parent

# -- MaliGAN's rewards against hand computations -----------------------------------------------------


def test_maligan_basic_rewards_are_d_normalised_over_the_batch_minus_its_mean():
    d = torch.tensor([0.2, 0.5, 0.8])  # sum 1.5: D / sum = 2/15, 5/15, 8/15; their mean is 1/3
    rewards = maligan_basic_rewards(d, seq_len=4)
    expected = torch.tensor([2 / 15 - 1 / 3, 5 / 15 - 1 / 3, 8 / 15 - 1 / 3])  # -0.2, 0, +0.2
    assert rewards.shape == (3, 4)
    for t in range(4):  # every token of a sequence has its sequence's reward
        torch.testing.assert_close(rewards[:, t], expected, atol=1e-7, rtol=0)


def test_maligan_rewards_are_normalised_odds_minus_one_over_b():
    d = torch.tensor([0.2, 0.5, 0.8])  # D / (1 - D) = 0.25, 1, 4; sum 5.25
    odds = torch.log(d / (1 - d))
    rewards = maligan_rewards(odds, seq_len=2)
    expected = torch.tensor([0.25 / 5.25, 1 / 5.25, 4 / 5.25]) - 1 / 3
    torch.testing.assert_close(rewards[:, 0], expected, atol=1e-7, rtol=0)
    torch.testing.assert_close(rewards[:, 1], expected, atol=1e-7, rtol=0)
    assert abs(float(rewards[:, 0].sum())) < 1e-7  # the baseline 1/B is the weights' mean
    # where D is sure the softmax form stays finite, as D / (1 - D) in floating point would not
    sure = maligan_rewards(torch.tensor([200.0, 0.0]), seq_len=1)
    torch.testing.assert_close(sure[:, 0], torch.tensor([0.5, -0.5]))


def test_log_odds_are_log_d_over_one_minus_d_of_the_discriminator():
    torch.manual_seed(0)
    d = Discriminator(7, 5, emb_dim=4, filter_sizes=(2, 3), num_filters=(3, 4), dropout_keep=1.0)
    seqs = torch.randint(0, 7, (6, 5))
    p = d.prob_real(seqs).double()
    torch.testing.assert_close(log_odds(d, seqs).double(), torch.log(p / (1 - p)), atol=1e-5, rtol=0)
    assert d.training  # restored after scoring in eval mode


# -- D calls ----------------------------------------------------------------------------------------


def _texygen_d_call_batches(order: torch.Tensor, batch_size: int, minibatches: int) -> list[torch.Tensor]:
    """DisDataloader literally: cut the shuffled pool into batches, call next_batch() twice a minibatch."""
    num_batch = len(order) // batch_size
    batches = [order[i * batch_size : (i + 1) * batch_size] for i in range(num_batch)]
    pointer, trained = 0, []
    for _ in range(minibatches):
        pointer = (pointer + 1) % num_batch  # the skipped next_batch()
        trained.append(batches[pointer])
        pointer = (pointer + 1) % num_batch
    return trained


@pytest.mark.parametrize("num_real,num_fake,batch_size", [(10, 9, 3), (10_000, 9_984, 64), (13, 0, 2)])
def test_d_call_rows_are_the_trained_batches_of_texygens_shuffled_pool(num_real, num_fake, batch_size):
    ours = texygen_data.d_call_rows(num_real, num_fake, batch_size, 3, torch.Generator().manual_seed(5))
    order = torch.randperm(num_real + num_fake, generator=torch.Generator().manual_seed(5))
    literal = _texygen_d_call_batches(order, batch_size, 3)
    assert len(ours) == 3
    for a, b in zip(ours, literal):
        assert torch.equal(a, b)


def test_d_call_rows_refuse_a_pool_too_small_to_skip_and_train():
    with pytest.raises(ValueError, match="needs 6 batches of 4"):
        texygen_data.d_call_rows(10, 9, 4, 3)


def test_d_call_trains_d_on_real_captions_labelled_1_and_fresh_samples_labelled_0():
    torch.manual_seed(0)
    cfg = texygen_config.TexygenConfig(emb_dim=4, hidden_dim=4, d_emb_dim=4, num_filters=[2, 3])
    g, d = texygen.build_models(cfg, vocab_size=9, seq_len=5)
    real = torch.full((40, 5), 8)  # every real caption is all end codes; G's samples almost never are
    seen = []
    loss_fn = d.loss
    d.loss = lambda seqs, labels: (seen.append((seqs.clone(), labels.clone())), loss_fn(seqs, labels))[1]
    before = [p.detach().clone() for p in d.parameters()]
    texygen.d_call(d, texygen.TF1Adam(d.parameters(), lr=1e-3), g, real, num_fake=40, batch_size=8, minibatches=3)
    assert len(seen) == 3
    for seqs, labels in seen:
        assert seqs.shape == (8, 5)
        assert torch.equal((seqs[labels == 1] == 8).all(dim=1), torch.ones(int(labels.sum()), dtype=torch.bool))
    assert 0 < sum(int((lab == 0).sum()) for _, lab in seen) < 24  # both kinds, in proportion to the pool
    assert any(not torch.equal(a, b) for a, b in zip(before, d.parameters()))


# -- the encoding -----------------------------------------------------------------------------------


def test_encoding_pads_with_an_ordinary_end_code_and_starts_from_a_words_id():
    tokens = [["b", "a", "c"], ["a"], ["c", "c", "a", "b"]]
    corpus = texygen_data.encode_training_file(tokens, "train.txt")
    assert corpus.words == ["a", "b", "c"] and corpus.end_code == 3 and corpus.vocab_size == 4
    assert corpus.seq_len == 4  # the longest training caption, no room for an end code
    assert corpus.train.tolist() == [[1, 0, 2, 3], [0, 3, 3, 3], [2, 2, 0, 1]]
    # decoding deletes the end code wherever it is, joining what follows it to what precedes it
    assert corpus.decode(torch.tensor([[1, 3, 0, 3], [3, 3, 3, 3]])) == ["b a", ""]
    # a test caption with a word the training file lacks, or longer than T, is not encoded
    ids, kept = corpus.encode([["a", "b"], ["a", "zebra"], ["a", "a", "a", "a", "a"]])
    assert kept == [0] and ids.tolist() == [[0, 1, 3, 3]]
    g, _ = texygen.build_models(texygen_config.TexygenConfig(emb_dim=4, hidden_dim=4, num_filters=[2, 2]), 4, 4)
    assert g.start_token == 0 and g.eos_token is None  # id 0 is the word 'a'; every position is a token


def test_training_batches_are_the_files_whole_batches_in_order():
    data = torch.arange(23).view(23, 1)
    batches = texygen_data.training_batches(data, 5)
    assert [b.view(-1).tolist() for b in batches] == [list(range(i, i + 5)) for i in range(0, 20, 5)]


@pytest.mark.parametrize("epochs,every,column", [(80, 5, 76), (7, 5, 6), (1, 5, 1), (10, 1, 10)])
def test_the_mle_column_is_the_last_epoch_texygen_decodes(epochs, every, column):
    cfg = texygen_config.TexygenConfig(pretrain_epochs=epochs, eval_every=every)
    decoded = [e + 1 for e in range(epochs) if e % every == 0]  # Mle.train_real: `if epoch % 5 == 0`
    assert cfg.mle_column_epoch == decoded[-1] == column


def test_the_coco_preset_is_the_protocols_defaults():
    cfg = texygen_config.load_texygen_config(ROOT / "configs" / "texygen_coco.yaml")
    assert cfg == texygen_config.TexygenConfig()
    poems = texygen_config.load_texygen_config(ROOT / "configs" / "texygen_poems.yaml")
    assert poems.train == "poems/shi.txt" and poems.test == "" and poems.filter_sizes == [2, 3]


@pytest.mark.parametrize(
    "override,message",
    [
        ("columns=[mle, gan]", "key 'columns'"),
        ("filter_sizes=[2]", "keys 'filter_sizes' and 'num_filters'"),
        ("temperatures=[0.5, 0]", "key 'temperatures'"),
        ("colums=[mle]", "unknown key"),
        ("batch_size=0", "key 'batch_size'"),
    ],
)
def test_bad_settings_are_one_line_errors_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        texygen_config.load_texygen_config(None, [override])


@pytest.mark.parametrize(
    "text,message",
    [
        ("batch_size: 64\nemb_dim: [\n", r"bad\.yaml:3: not valid YAML"),
        ("- 1\n- 2\n", "expected a mapping"),
        ("batch_size: 64\nbatch_sise: 64\n", r"bad\.yaml:2: key 'batch_sise': unknown key"),
        (b"batch_size: \xff\n", "not UTF-8"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match=message):
        texygen_config.load_texygen_config(path)
    with pytest.raises(ConfigError, match="no such file"):
        texygen_config.load_texygen_config(tmp_path / "none.yaml")


# -- runs -----------------------------------------------------------------------------------------------


def _tiny_corpus(folder: Path) -> tuple[Path, Path]:
    words = ["a", "dog", "cat", "sits", "on", "the", "mat", "runs", "."]
    return write_tiny_captions(folder, 0, words, (2, 7), 120, 90)


TINY = [
    "pretrain_epochs=12",
    "pretrain_d_calls=11",
    "adversarial_epochs=11",
    "d_calls=2",
    "generate_num=96",
    "rollout_num=2",
    "fast_size=20",
    "temperatures=[0.7, 1.0]",
    "batch_size=8",
    "emb_dim=8",
    "hidden_dim=8",
    "num_filters=[4, 6]",
    "d_emb_dim=8",
    "threads=1",
]


def _comparable(run_dir: Path) -> dict:
    results = json.loads((run_dir / "results.json").read_text())
    for key in ("seconds", "cpu_seconds", "machine"):
        results.pop(key)
    return results


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    train, test = _tiny_corpus(tmp_path)
    cfg = texygen_config.load_texygen_config(None, [*TINY, f"train={train}", f"test={test}"])
    texygen.run_texygen(cfg, tmp_path / "whole", log=lambda line: None)

    calls = {"n": 0}

    def interrupt_at(n):
        def log(line):
            calls["n"] += 1
            if calls["n"] == n:
                raise KeyboardInterrupt

        return log

    # stopped twice: during D pre-training and inside SeqGAN's epochs, each after a checkpoint
    for n in (3, 12):
        calls["n"] = 0
        with pytest.raises(KeyboardInterrupt):
            texygen.run_texygen(cfg, tmp_path / "stopped", resume=(tmp_path / "stopped").exists(), log=interrupt_at(n))
        assert (tmp_path / "stopped" / "checkpoint.pt").exists()
    texygen.run_texygen(cfg, tmp_path / "stopped", resume=True, log=lambda line: None)
    assert _comparable(tmp_path / "whole") == _comparable(tmp_path / "stopped")
    for name in ("mle", "seqgan", "maligan_basic", "maligan", "mle_T0.7"):
        whole = (tmp_path / "whole" / "samples" / f"{name}.txt.gz").read_bytes()
        assert whole == (tmp_path / "stopped" / "samples" / f"{name}.txt.gz").read_bytes()
    assert not (tmp_path / "stopped" / "checkpoint.pt").exists()
    lines = [json.loads(x) for x in (tmp_path / "stopped" / "metrics.jsonl").read_text().splitlines()]
    assert lines == [json.loads(x) for x in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]


def test_a_run_scores_what_its_samples_file_holds(tmp_path):
    train, test = _tiny_corpus(tmp_path)
    cfg = texygen_config.load_texygen_config(None, [*TINY, f"train={train}", f"test={test}", "columns=[mle]"])
    results = texygen.run_texygen(cfg, tmp_path / "run", log=lambda line: None)
    column = results["columns"]["mle"]
    lines = gzip.decompress((tmp_path / "run" / column["samples"]).read_bytes()).decode().split("\n")[:-1]
    assert len(lines) == cfg.num_generated == 96 and column["epoch"] == 11
    from seqgan.bleu import mean_bleu, self_bleu

    refs = [line.split() for line in test.read_text().splitlines()]
    hyps = [texygen_data.tokenize(line, lowercase=False) for line in lines]
    assert column["bleu"]["4"] == pytest.approx(mean_bleu(refs, hyps, 4)["bleu4"], abs=1e-12)
    assert column["bleu_fast"]["3"] == pytest.approx(mean_bleu(refs[:20], hyps, 3)["bleu3"], abs=1e-12)
    assert column["self_bleu_fast"]["2"] == pytest.approx(self_bleu(hyps[:20], 2)["bleu2"], abs=1e-12)
    assert [s["temperature"] for s in results["sweep"]] == [0.7, 1.0]
    assert "seqgan" not in results["columns"] and results["test_captions"] == 30


def test_the_command_refuses_a_finished_run_dir_and_a_missing_file_in_one_line(tmp_path):
    train, test = _tiny_corpus(tmp_path)
    base = [sys.executable, "-m", "seqgan", "texygen", str(ROOT / "configs" / "texygen_coco.yaml")]
    sets = [a for s in [*TINY, f"train={train}", f"test={test}", "columns=[mle]"] for a in ("--set", s)]
    done = subprocess.run([*base, "--run-dir", str(tmp_path / "r"), *sets], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "mle " in done.stdout and "BLEU-2..5" in done.stdout
    again = subprocess.run([*base, "--run-dir", str(tmp_path / "r"), *sets], capture_output=True, text=True)
    assert again.returncode != 0 and "a finished run is there" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    missing = subprocess.run(
        [*base, "--run-dir", str(tmp_path / "m"), *sets, "--set", "train=nowhere.txt"], capture_output=True, text=True
    )
    assert missing.returncode != 0 and "nowhere.txt: no such file" in missing.stderr
    assert not (tmp_path / "m").exists()  # bad input leaves no run directory behind


# -- the tokenizer on the real files -------------------------------------------------------------------


def test_the_tokenizer_is_word_tokenizes_wherever_punkt_cannot_split_a_coco_caption(shared_data_dir):
    from nltk.tokenize.punkt import PunktLanguageVars, PunktSentenceTokenizer

    # word_tokenize = Punkt's sentences, then this tokenizer on each; Punkt ends sentences only here
    assert set(PunktLanguageVars.sent_end_chars) == {".", "?", "!"}
    untrained = PunktSentenceTokenizer()
    counts = {}
    for name in ("image_coco.txt", "test_coco.txt"):
        lines = texygen_data.read_lines(shared_data_dir / "coco" / name)
        assert len(lines) == 10_000
        splittable = [line for line in lines if texygen_data.split_points(line)]
        counts[name] = len(splittable)
        for line in lines:
            if line not in splittable:
                assert len(untrained.tokenize(line.lower())) <= 1, line
    assert counts == {"image_coco.txt": 52, "test_coco.txt": 28}
