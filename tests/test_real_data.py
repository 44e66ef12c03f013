"""Training on real data: end tokens and padding through the losses, sampling and rollouts, and a
whole run on a small text corpus from the command line (decoded samples, BLEU, vocabulary)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from seqgan.corpus import EOS, PAD, Vocab, tokenize
from seqgan.generator import Generator
from seqgan.rollout import RolloutPolicy
from test_cli import assert_one_line_error, seqgan

SENTENCES = [
    "a man rides a horse on the beach .",
    "a dog runs on the grass .",
    "two people ride bikes down the street .",
    "a cat sleeps on a red couch .",
    "a woman holds an umbrella in the rain .",
    "a plate of food on a wooden table .",
    "a train stops at the station .",
    "a boy throws a ball in the park .",
]


def real_generator(vocab: int = 9, seq_len: int = 7, seed: int = 0, init_std: float = 0.1) -> Generator:
    torch.manual_seed(seed)
    return Generator(
        vocab, seq_len, emb_dim=6, hidden_dim=8, start_token=PAD, eos_token=EOS, pad_token=PAD, init_std=init_std
    )


def test_token_mask_counts_up_to_the_first_end_token():
    g = real_generator()
    seqs = torch.tensor([[4, 5, EOS, PAD, PAD, PAD, PAD], [4, 5, 6, 7, 8, 3, 4], [EOS, PAD, PAD, PAD, PAD, PAD, PAD]])
    expected = torch.tensor([[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0, 0]], dtype=torch.float)
    assert torch.equal(g.token_mask(seqs), expected)
    # the synthetic task has no end token: token 1 is an ordinary token there
    synthetic = Generator(9, 7, emb_dim=6, hidden_dim=8)
    assert torch.equal(synthetic.token_mask(seqs), torch.ones(3, 7))


def test_losses_ignore_what_follows_the_end_token():
    g = real_generator()
    a = torch.tensor([[4, 5, EOS, PAD, PAD, PAD, PAD], [6, 7, 8, EOS, PAD, PAD, PAD]])
    b = torch.tensor([[4, 5, EOS, 7, 8, 3, 3], [6, 7, 8, EOS, 4, 4, 4]])  # garbage after the end
    torch.testing.assert_close(g.mle_loss(a), g.mle_loss(b))
    rewards = torch.rand(2, 7)
    torch.testing.assert_close(g.pg_loss(a, rewards), g.pg_loss(b, rewards))
    assert g.nll(a) == pytest.approx(g.nll(b), abs=1e-6)
    # the mean runs over the counted tokens only: 3 + 4 of them
    logp = torch.log_softmax(g(a), dim=-1).gather(2, a.unsqueeze(2)).squeeze(2)
    mask = g.token_mask(a)
    torch.testing.assert_close(g.mle_loss(a), -(logp * mask).sum() / 7)
    # and a gradient reaches no padding position: rewards there change nothing
    rewards_b = rewards.clone()
    rewards_b[0, 3:] = 100.0
    torch.testing.assert_close(g.pg_loss(a, rewards), g.pg_loss(a, rewards_b))


def test_samples_and_rollouts_are_padded_after_the_end_token():
    g = real_generator(vocab=4, seq_len=8, init_std=1.0)  # EOS is likely among 4 tokens
    samples = g.sample(300)
    ended = (samples == EOS).any(dim=1)
    assert ended.sum() > 50
    for row in samples[ended].tolist():
        end = row.index(EOS)
        assert all(t == PAD for t in row[end + 1 :]), row
    completions = RolloutPolicy(g, 0.8).complete(samples[:20], rollout_num=3)  # (T-1, N, B, T)
    flat = completions.reshape(-1, 8).tolist()
    for row in flat:
        if EOS in row:
            assert all(t == PAD for t in row[row.index(EOS) + 1 :]), row


def test_vocab_decode_stops_at_the_end_token():
    vocab = Vocab.build([s.split() for s in SENTENCES])
    ids = vocab.encode("a dog runs".split()) + [EOS, vocab.encode(["cat"])[0], PAD]
    assert vocab.decode(ids) == ["a", "dog", "runs"]


# -- a whole run from the command line ------------------------------------------------------------


def write_corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "captions.txt"
    corpus.write_text("".join(s + "\n" for s in SENTENCES * 8), encoding="utf-8")
    config = tmp_path / "text_smoke.yaml"
    config.write_text(
        f"""
threads: 1
data: {{source: text, train: {corpus}, tokenizer: words, max_len: 12, test_fraction: 0.25}}
generator: {{emb_dim: 8, hidden_dim: 8}}
discriminator: {{emb_dim: 8, filter_sizes: [1, 2, 3], num_filters: [4, 4, 4]}}
train: {{batch_size: 16, pretrain_g_epochs: 4, pretrain_d_steps: 1, pretrain_d_epochs: 1, num_negatives: 32,
        rounds: 2, rollout_num: 2, d_steps: 1, d_epochs: 1}}
rows: {{names: [mle]}}
eval: {{every: 2, num_samples: 40, checkpoint_every: 2, bleu_max_n: 3}}
""",
        encoding="utf-8",
    )
    return corpus, config


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("text")
    _, config = write_corpus(tmp)
    run_dir = tmp / "run"
    proc = seqgan("train", config, "--run-dir", run_dir, cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    return tmp, run_dir, proc


def test_text_run_writes_vocab_decoded_samples_and_bleu(text_run):
    tmp, run_dir, proc = text_run
    vocab = Vocab.load(run_dir / "vocab.json")
    assert "horse" in vocab.stoi and vocab.itos[:3] == ["<pad>", "<eos>", "<unk>"]
    words = {w for s in SENTENCES for w in s.split()}
    for name in ("samples_text.txt", "samples_mle_text.txt"):
        lines = (run_dir / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) == 40
        tokens = [w for line in lines for w in tokenize(line.replace("<unk>", ""), "words")]
        assert tokens and all(w in words for w in tokens), name
    # decoded samples at every evaluation, for reading progress
    assert {p.name for p in (run_dir / "samples").iterdir()} >= {
        "pretrain_00002.txt",
        "pretrain_00004.txt",
        "adversarial_00006.txt",
        "mle_00006.txt",
    }
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for r in records:
        assert "nll_oracle" not in r
        assert {"nll_test", "bleu2", "bleu3", "self_bleu2", "self_bleu3"} <= r.keys(), r
        assert 0.0 <= r["bleu2"] <= 1.0 and 0.0 <= r["self_bleu2"] <= 1.0
    results = json.loads((run_dir / "results.json").read_text())
    assert {"pretrained", "MLE", "SeqGAN"} <= results["rows"].keys()
    assert "BLEU-2" in proc.stdout and "Self-BLEU-2" in proc.stdout
    assert (run_dir / "nll_test.png").is_file()


def test_text_run_learns_the_corpus(text_run):
    """Eight sentences repeated: after MLE, held-out NLL falls and BLEU against them rises."""
    _, run_dir, _ = text_run
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    pre = [r for r in records if r["phase"] == "pretrain"]
    assert pre[-1]["nll_test"] < pre[0]["nll_test"]


def test_sample_and_evaluate_decode_with_the_runs_vocabulary(text_run):
    tmp, run_dir, _ = text_run
    proc = seqgan("sample", run_dir, "--num", "5", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5 and not any(line.split() and line.split()[0].isdigit() for line in lines)
    ids = seqgan("sample", run_dir, "--num", "5", "--ids", cwd=tmp)
    assert all(len(line.split()) == 12 for line in ids.stdout.splitlines())
    proc = seqgan("evaluate", run_dir, "--num", "20", "--row", "mle", cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["row"] == "mle" and {"nll_test", "bleu2", "bleu3", "self_bleu2"} <= result.keys()
    missing = seqgan("sample", run_dir, "--row", "pg_bleu", cwd=tmp)
    assert_one_line_error(missing, "no 'pg_bleu' row")


@pytest.mark.parametrize("content,needle", [(b"", "no sequences"), (b"ok line\n\xff\xfe bad\n", "byte offset")])
def test_bad_corpus_is_one_line_error_and_leaves_no_run_dir(tmp_path, content, needle):
    corpus, config = write_corpus(tmp_path)
    corpus.write_bytes(content)
    run_dir = tmp_path / "run"
    proc = seqgan("train", config, "--run-dir", run_dir, cwd=tmp_path)
    assert_one_line_error(proc, str(corpus), needle)
    assert not run_dir.exists()


def test_missing_corpus_names_the_file(tmp_path):
    _, config = write_corpus(tmp_path)
    proc = seqgan("train", config, "--run-dir", tmp_path / "run", "--set", "data.train=nowhere.txt", cwd=tmp_path)
    assert_one_line_error(proc, "nowhere.txt")


def test_music_run_writes_midi_files(tmp_path, shared_data_dir):
    """A few Nottingham melodies in, MIDI files out that read back as the decoded samples."""
    from seqgan.midi import read_melody

    src = Path(shared_data_dir) / "nottingham" / "midi_melody"
    folder = tmp_path / "tunes"
    folder.mkdir()
    for f in sorted(src.glob("*.mid"))[:30]:
        (folder / f.name).write_bytes(f.read_bytes())
    config = tmp_path / "music.yaml"
    config.write_text(
        f"""
threads: 1
data: {{source: midi, train: {folder}, max_len: 16, overflow: split, test_fraction: 0.2}}
generator: {{emb_dim: 8, hidden_dim: 8}}
discriminator: {{emb_dim: 8, filter_sizes: [1, 2, 3], num_filters: [4, 4, 4]}}
train: {{batch_size: 16, pretrain_g_epochs: 2, pretrain_d_steps: 1, pretrain_d_epochs: 1, num_negatives: 32,
        rounds: 1, rollout_num: 2, d_steps: 1, d_epochs: 1}}
eval: {{every: 1, num_samples: 20, midi_files: 3}}
""",
        encoding="utf-8",
    )
    run_dir = tmp_path / "run"
    proc = seqgan("train", config, "--run-dir", run_dir, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert all("pitch_mse" in r for r in records)
    # each evaluation's BLEU-4 is NLTK's mean sentence BLEU-4 (smoothing method1) of its decoded samples
    # against the test melodies, cut to length as the run cuts them
    bleu_score = pytest.importorskip("nltk.translate.bleu_score")
    from seqgan.config import load_config
    from seqgan.corpus import cut_sequences, load_corpus

    data_cfg = load_config(config).data
    references = cut_sequences(load_corpus(data_cfg, None).test_tokens, data_cfg.max_len, data_cfg.overflow)
    method1 = bleu_score.SmoothingFunction().method1
    for r in records:
        samples = run_dir / "samples" / f"{r['phase']}_{r['step']:05d}.txt"
        hypotheses = [line.split() for line in samples.read_text().splitlines()]
        nltk_bleu4 = [
            bleu_score.sentence_bleu(references, h, (0.25,) * 4, smoothing_function=method1) for h in hypotheses
        ]
        assert r["bleu4"] == pytest.approx(sum(nltk_bleu4) / len(nltk_bleu4), abs=1e-9), (r["phase"], r["step"])
    mids = sorted((run_dir / "midi").glob("seqgan_*.mid"))
    assert len(mids) == 3 and len(list((run_dir / "midi").glob("mle_*.mid"))) == 3
    # the MIDI files are the first samples; leading and trailing rests are not written as notes, the
    # sounding part reads back exactly
    decoded = (run_dir / "samples_text.txt").read_text().splitlines()[:3]
    checked = 0
    for line, mid in zip(decoded, mids):
        pitches = [int(t) for t in line.split()]
        while pitches and pitches[-1] == 0:
            pitches.pop()
        while pitches and pitches[0] == 0:
            pitches.pop(0)
        if pitches:
            assert read_melody(mid, step=0.4) == pitches
            checked += 1
    assert checked >= 1, decoded
