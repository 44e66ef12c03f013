"""Real corpora: tokenizers, the vocabulary, padding and overflow, seeded splits, bad input as
one-line errors, the shipped configs on the real data (skipped without it), and ``seqgan data``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqgan.config import DataConfig, load_config
from seqgan.corpus import (
    EOS,
    PAD,
    SPECIALS,
    UNK,
    Vocab,
    corpus_stats,
    detokenize,
    encode_sequences,
    load_corpus,
    padding_mask,
    split_indices,
    tokenize,
)

REPO = Path(__file__).resolve().parent.parent


def text_cfg(train: str, **changes) -> DataConfig:
    return DataConfig(source="text", train=str(train), **changes)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- tokenizers -----------------------------------------------------------------------------------


def test_words_split_off_punctuation():
    assert tokenize("Hello, world!", "words", lowercase=True) == ["hello", ",", "world", "!"]
    assert tokenize("Hello, world!", "words", lowercase=False) == ["Hello", ",", "world", "!"]


def test_words_keep_apostrophes_hyphens_and_numbers_inside():
    line = "Don't stop: it's 4.5 or 10,000 -- a middle-class (U.S.) job?"
    assert tokenize(line, "words", lowercase=True) == [
        "don't",
        "stop",
        ":",
        "it's",
        "4.5",
        "or",
        "10,000",
        "-",
        "-",
        "a",
        "middle-class",
        "(",
        "u",
        ".",
        "s",
        ".",
        ")",
        "job",
        "?",
    ]
    assert tokenize("'quoted' word", "words") == ["'", "quoted", "'", "word"]  # quotes around a word are not in it


def test_words_normalize_quotes_invisible_characters_and_accents():
    assert tokenize("We\u2019re \u201chere\u201d", "words", lowercase=True) == ["we're", '"', "here", '"']
    assert tokenize("co\u00adoperate\u200b now", "words") == ["cooperate", "now"]  # soft hyphen, zero-width space
    assert tokenize("\ufeffJose\u0301", "words") == ["Jos\u00e9"]  # byte-order mark; accent composed


def test_chars_ignore_spaces_so_both_poem_forms_agree():
    spaced = "秦 川 雄 帝 宅 ，"
    assert tokenize(spaced, "chars") == tokenize("秦川雄帝宅，", "chars") == ["秦", "川", "雄", "帝", "宅", "，"]
    assert tokenize("Ab C", "chars", lowercase=True) == ["a", "b", "c"]


def test_ids_are_canonical_strings_and_reject_non_integers():
    assert tokenize("3 007  12", "ids") == ["3", "7", "12"]
    for bad in ("3 x 4", "-1", "1.5"):
        with pytest.raises(ValueError, match="is not a token id"):
            tokenize(bad, "ids")
    with pytest.raises(ValueError, match="tokenizer"):
        tokenize("a", "bytes")


@pytest.mark.parametrize(
    "kind, line",
    [
        ("words", "Hello, world! (It's $5.) Isn't it -- really?"),
        ("words", '"Yes," she said; 100% sure: [ok] {fine}.'),
        ("chars", "秦 川 雄 帝 宅 ， 函 谷 壮 皇 居 。"),
        ("ids", "4 8 15 16 23 42"),
    ],
)
def test_detokenize_then_tokenize_round_trips(kind, line):
    tokens = tokenize(line, kind)
    assert tokenize(detokenize(tokens, kind), kind) == tokens


def test_detokenize_spacing():
    assert detokenize(["hello", ",", "world", "!"], "words") == "hello, world!"
    assert detokenize(["(", "a", ")", "costs", "$", "5", "%"], "words") == "(a) costs $5%"
    assert detokenize(["秦", "川", "。"], "chars") == "秦 川 。"  # the poems file's format, readable by `seqgan bleu`


# -- vocabulary -----------------------------------------------------------------------------------


def test_vocab_orders_by_frequency_then_lexically():
    vocab = Vocab.build([["b", "a", "b"], ["c", "a", "b"], ["e", "d"]])
    assert vocab.itos == [*SPECIALS, "b", "a", "c", "d", "e"]
    assert len(vocab) == 8
    assert (vocab.stoi["<pad>"], vocab.stoi["<eos>"], vocab.stoi["<unk>"]) == (PAD, EOS, UNK) == (0, 1, 2)


def test_min_freq_makes_rare_tokens_unknown():
    vocab = Vocab.build([["a", "a", "b"], ["a", "c", "c"]], min_freq=2)
    assert vocab.itos == [*SPECIALS, "a", "c"]
    assert vocab.encode(["a", "b", "c", "never"]) == [3, UNK, 4, UNK]


def test_specials_in_the_data_map_to_their_fixed_ids():
    vocab = Vocab.build([["<unk>", "x", "<unk>"]])
    assert vocab.itos == [*SPECIALS, "x"]
    assert vocab.encode(["<unk>", "x"]) == [UNK, 3]


def test_encode_decode_round_trip_stops_at_eos_and_drops_pad():
    vocab = Vocab.build([["the", "cat", "sat"]])
    ids = vocab.encode(["the", "cat", "sat"])
    assert vocab.decode(ids) == ["the", "cat", "sat"]
    assert vocab.decode([PAD, *ids[:2], EOS, *ids]) == ["the", "cat"]
    assert vocab.decode(torch.tensor([*ids, EOS, PAD, PAD])) == ["the", "cat", "sat"]
    assert vocab.decode([UNK]) == ["<unk>"]
    with pytest.raises(ValueError, match="outside"):
        vocab.decode([len(vocab)])


def test_vocab_dict_survives_a_weights_only_checkpoint(tmp_path):
    vocab = Vocab.build([["秦", "川", "a"], ["a"]])
    d = vocab.to_dict()
    assert json.loads(json.dumps(d)) == d
    torch.save({"vocab": d}, tmp_path / "ckpt.pt")
    loaded = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert Vocab.from_dict(loaded["vocab"]).itos == vocab.itos


def test_vocab_save_load(tmp_path):
    vocab = Vocab.build([["x", "y", "y", "秦"]])
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert Vocab.load(path).itos == vocab.itos
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temporary file left
    write(path, '{"tokens": ["a", "b"]}')
    with pytest.raises(ValueError, match="vocab.json.*<pad>"):
        Vocab.load(path)
    write(path, "not json")
    with pytest.raises(ValueError, match="vocab.json: not a vocabulary file"):
        Vocab.load(path)
    with pytest.raises(ValueError, match="more than once"):
        Vocab([*SPECIALS, "a", "a"])


# -- tensors --------------------------------------------------------------------------------------


@pytest.fixture
def letters() -> Vocab:
    return Vocab.build([list("abcdefghij")])


def test_short_sequences_get_eos_then_padding(letters):
    seqs, counts = encode_sequences([list("ab"), list("abc")], letters, max_len=4, overflow="truncate")
    a, b, c = letters.encode(list("abc"))
    assert seqs.dtype == torch.long and seqs.shape == (2, 4)
    assert seqs.tolist() == [[a, b, EOS, PAD], [a, b, c, EOS]]  # 3 tokens + EOS fill max_len 4 exactly
    assert counts == {"sequences_in": 2, "sequences_out": 2, "truncated": 0, "split": 0, "dropped": 0}


def test_truncate_keeps_the_first_max_len_tokens_without_eos(letters):
    seqs, counts = encode_sequences([list("abcdef"), list("abcd"), list("a")], letters, max_len=4, overflow="truncate")
    assert seqs.tolist()[:2] == [letters.encode(list("abcd"))] * 2  # 4 tokens: no room for EOS either
    assert EOS not in seqs[0].tolist()
    assert counts == {"sequences_in": 3, "sequences_out": 3, "truncated": 2, "split": 0, "dropped": 0}


def test_split_cuts_full_windows_and_ends_the_last_piece_with_eos(letters):
    seqs, counts = encode_sequences(
        [list("abcdefghi"), list("abcdefgh"), list("ab")], letters, max_len=4, overflow="split"
    )
    ids = letters.encode(list("abcdefghi"))
    assert (
        seqs.tolist()
        == [
            ids[0:4],
            ids[4:8],
            [ids[8], EOS, PAD, PAD],  # 9 tokens: two full windows, then the end
            ids[0:4],
            ids[4:8],  # 8 tokens: a multiple of max_len, no row of a lone EOS
            [ids[0], ids[1], EOS, PAD],
        ]
    )
    assert counts == {"sequences_in": 3, "sequences_out": 6, "truncated": 0, "split": 2, "dropped": 0}


def test_drop_removes_sequences_that_do_not_fit(letters):
    seqs, counts = encode_sequences(
        [list("abcd"), list("abc"), list("abcdefghij")], letters, max_len=4, overflow="drop"
    )
    assert seqs.tolist() == [letters.encode(list("abc")) + [EOS]]
    assert counts == {"sequences_in": 3, "sequences_out": 1, "truncated": 0, "split": 0, "dropped": 2}
    with pytest.raises(ValueError, match="overflow"):
        encode_sequences([list("a")], letters, max_len=4, overflow="wrap")


def test_padding_mask_covers_tokens_through_the_first_eos():
    seqs = torch.tensor(
        [
            [5, 6, EOS, PAD, PAD],
            [5, EOS, 7, EOS, PAD],
            [5, 6, 7, 8, 9],
            [EOS, PAD, PAD, PAD, PAD],
            [5, PAD, 6, EOS, PAD],  # a sampled PAD before the end is a token of the sequence
        ]
    )
    mask = padding_mask(seqs)
    assert mask.dtype == torch.bool and mask.shape == seqs.shape
    assert mask.int().tolist() == [
        [1, 1, 1, 0, 0],
        [1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1],
        [1, 0, 0, 0, 0],
        [1, 1, 1, 1, 0],
    ]


def test_padding_mask_counts_tokens_plus_eos(letters):
    token_lists = [list("a"), list("abc"), list("abcdefg"), list("abcdefghij")]
    seqs, _ = encode_sequences(token_lists, letters, max_len=8, overflow="truncate")
    assert padding_mask(seqs).sum(dim=1).tolist() == [2, 4, 8, 8]  # truncated rows: all 8 positions


# -- splitting ------------------------------------------------------------------------------------


def test_seeded_split_is_reproducible_and_a_partition():
    train, test = split_indices(100, 0.1, seed=3)
    assert (train, test) == split_indices(100, 0.1, seed=3)
    assert len(test) == 10 and len(train) == 90
    assert sorted(train + test) == list(range(100))
    assert train == sorted(train) and test == sorted(test)  # file order kept on each side
    assert split_indices(100, 0.1, seed=4)[1] != test
    assert split_indices(3, 0.01, seed=0)[1] and split_indices(3, 0.99, seed=0)[0]  # never an empty side
    with pytest.raises(ValueError, match="at least 2"):
        split_indices(1, 0.1, seed=0)


def test_load_corpus_split_by_seed(tmp_path):
    path = write(tmp_path / "c.txt", "".join(f"line {i} word{i % 7}\n" for i in range(50)))
    first = load_corpus(text_cfg(path, test_fraction=0.2, split_seed=5), None)
    again = load_corpus(text_cfg(path, test_fraction=0.2, split_seed=5), None)
    other = load_corpus(text_cfg(path, test_fraction=0.2, split_seed=6), None)
    assert first.test_tokens == again.test_tokens and torch.equal(first.train, again.train)
    assert first.test_tokens != other.test_tokens
    assert len(first.test_tokens) == 10 and len(first.train_tokens) == 40
    lines = {tuple(t) for t in first.train_tokens} | {tuple(t) for t in first.test_tokens}
    assert len(lines) == 50  # a partition of the 50 distinct lines


# -- loading and statistics -----------------------------------------------------------------------


def test_load_corpus_with_a_test_file(tmp_path):
    train = write(tmp_path / "train.txt", "The cat sat.\nthe dog sat on the mat.\n\n   \nA cat!\n")
    test = write(tmp_path / "test.txt", "the cat ran.\nzebra\n")
    corpus = load_corpus(text_cfg(train, test=str(test), lowercase=True, max_len=6, overflow="truncate"), None)
    assert corpus.train_tokens[1] == ["the", "dog", "sat", "on", "the", "mat", "."]
    assert corpus.train.shape == (3, 6) and corpus.test.shape == (2, 6)
    assert "ran" not in corpus.vocab.stoi and "zebra" not in corpus.vocab.stoi  # from the training split only
    assert corpus.vocab.decode(corpus.test[0]) == ["the", "cat", "<unk>", "."]
    stats = corpus_stats(corpus)
    json.dumps(stats)
    assert stats["vocab"]["size"] == 3 + len({"the", "cat", "sat", ".", "dog", "on", "mat", "a", "!"})
    assert stats["test"]["tokens"] == 5 and stats["test"]["unk_tokens"] == 2
    assert stats["test"]["unk_rate"] == pytest.approx(2 / 5, abs=1e-5)
    assert stats["train"]["truncated"] == 1 and stats["train"]["sequences_out"] == 3
    assert stats["train"]["length"]["min"] == 3 and stats["train"]["length"]["max"] == 7
    assert stats["train"]["length"]["fit"] == pytest.approx(2 / 3, abs=1e-4)
    assert stats["split"] is None and stats["test_path"] == str(test)


def test_min_freq_unknown_rate_in_stats(tmp_path):
    path = write(tmp_path / "t.txt", "a a b\na c\n")
    corpus = load_corpus(text_cfg(path, test=str(path), min_freq=2), None)
    stats = corpus_stats(corpus)
    assert stats["vocab"] == {"size": 4, "train_types": 3, "types_below_min_freq": 2}
    assert stats["train"]["unk_rate"] == pytest.approx(2 / 5, abs=1e-5)


def test_relative_paths_are_looked_up_in_the_data_dir(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    (data_dir / "sub").mkdir(parents=True)
    write(data_dir / "sub" / "c.txt", "a b\nb c\nc a\n")
    monkeypatch.chdir(tmp_path)
    corpus = load_corpus(text_cfg("sub/c.txt"), str(data_dir))
    assert len(corpus.train_tokens) + len(corpus.test_tokens) == 3
    assert corpus.stats["train_path"] == str(data_dir / "sub" / "c.txt")
    write(tmp_path / "local.txt", "x y\ny x\n")  # a path that exists as given wins
    assert load_corpus(text_cfg("local.txt"), str(data_dir)).stats["train_path"] == "local.txt"
    with pytest.raises(ValueError, match=r"nope\.txt: no such file.*data/nope\.txt"):
        load_corpus(text_cfg("nope.txt"), str(data_dir))
    with pytest.raises(ValueError, match="--data-dir"):
        load_corpus(text_cfg("nope.txt"), None)
    with pytest.raises(ValueError, match="no such file"):
        load_corpus(text_cfg(str(tmp_path / "absent.txt")), str(data_dir))


@pytest.mark.parametrize("content", ["", "\n  \n\t\n", "\ufeff\n"])
def test_empty_file_fails(tmp_path, content):
    path = write(tmp_path / "empty.txt", content)
    with pytest.raises(ValueError, match=r"empty\.txt: no sequences"):
        load_corpus(text_cfg(path), None)


def test_empty_test_file_fails(tmp_path):
    train = write(tmp_path / "train.txt", "a b\n")
    test = write(tmp_path / "test.txt", "")
    with pytest.raises(ValueError, match=r"test\.txt: no sequences"):
        load_corpus(text_cfg(train, test=str(test)), None)


def test_non_utf8_names_file_line_and_byte_offset(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("good line\ncaf\xe9 ok\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin\.txt:2: not UTF-8 text \(byte offset 13\)"):
        load_corpus(text_cfg(path), None)


def test_no_vocabulary_overlap_names_the_test_file(tmp_path):
    train = write(tmp_path / "train.txt", "a b c\nb c a\n")
    test = write(tmp_path / "other.txt", "x y\nz\n")
    with pytest.raises(ValueError, match=r"other\.txt: none of its 3 tokens is in the training vocabulary"):
        load_corpus(text_cfg(train, test=str(test)), None)
    path = write(tmp_path / "four.txt", "a a\na a\na a\nz z\n")
    seed = next(s for s in range(100) if split_indices(4, 0.25, s)[1] == [3])  # the split whose test line is "z z"
    with pytest.raises(ValueError, match=r"the test split of .*four\.txt: none of its 2 tokens"):
        load_corpus(text_cfg(path, test_fraction=0.25, split_seed=seed), None)


def test_bad_id_names_file_and_line(tmp_path):
    path = write(tmp_path / "ids.txt", "1 2 3\n\n4 five 6\n")
    with pytest.raises(ValueError, match=r"ids\.txt:3: 'five' is not a token id"):
        load_corpus(text_cfg(path, tokenizer="ids"), None)


def test_ids_corpus(tmp_path):
    path = write(tmp_path / "ids.txt", "1 2 3\n3 2 1\n07 7 7\n")
    corpus = load_corpus(text_cfg(path, test=str(path), tokenizer="ids", max_len=4), None)
    assert corpus.train_tokens[2] == ["7", "7", "7"]
    assert corpus.vocab.itos[3] == "7"  # the most frequent id string


def test_missing_file_and_directory_fail(tmp_path):
    with pytest.raises(ValueError, match=r"missing\.txt: no such file"):
        load_corpus(text_cfg(tmp_path / "missing.txt"), None)
    with pytest.raises(ValueError, match="is a directory"):
        load_corpus(text_cfg(tmp_path), None)
    with pytest.raises(ValueError, match="no corpus"):
        load_corpus(DataConfig(source="oracle"), None)


def test_nothing_fits_fails(tmp_path):
    path = write(tmp_path / "long.txt", "a b c d e\nb c d e f\na b c d e f\n")
    with pytest.raises(ValueError, match="no training sequences fit in data.max_len=3"):
        load_corpus(text_cfg(path, max_len=3, overflow="drop"), None)


# -- the shipped configs on the real data ---------------------------------------------------------


def real(shared_data_dir: Path, config: str):
    cfg = load_config(REPO / "configs" / config)
    path = shared_data_dir / cfg.data.train
    if not path.exists():
        pytest.skip(f"{path} does not exist")
    return corpus_stats(load_corpus(cfg.data, str(shared_data_dir))), cfg


def test_poems(shared_data_dir):
    stats, cfg = real(shared_data_dir, "poems.yaml")
    assert stats["train"]["sequences_in"] + stats["test"]["sequences_in"] == 16_394  # the paper's count
    assert stats["test"]["sequences_in"] == round(16_394 * cfg.data.test_fraction)
    for side in ("train", "test"):
        assert stats[side]["length"]["min"] == stats[side]["length"]["max"] == 24  # 4 lines x (5 + mark)
        assert stats[side]["truncated"] == stats[side]["split"] == stats[side]["dropped"] == 0
    assert stats["train"]["rows"] == [stats["train"]["sequences_in"], 25]
    assert 4000 < stats["vocab"]["size"] < 6000
    assert stats["test"]["unk_rate"] < 0.01


def test_coco(shared_data_dir):
    stats, _ = real(shared_data_dir, "coco.yaml")
    assert stats["train"]["sequences_in"] == stats["test"]["sequences_in"] == 10_000
    assert stats["train"]["rows"] == stats["test"]["rows"] == [10_000, 25]
    assert 0 < stats["train"]["truncated"] < 100 and 0 < stats["test"]["truncated"] < 100
    assert stats["train"]["unk_rate"] == 0 and 0 < stats["test"]["unk_rate"] < 0.06


def test_obama(shared_data_dir):
    stats, _ = real(shared_data_dir, "obama.yaml")
    assert stats["train"]["sequences_in"] + stats["test"]["sequences_in"] == 6_932  # non-empty paragraphs
    assert stats["train"]["sequences_out"] > 2 * stats["train"]["sequences_in"]  # paragraphs cut into rows of 40
    assert stats["train"]["rows"][1] == 40
    assert stats["vocab"]["size"] < 6000 and stats["test"]["unk_rate"] < 0.06


# -- the `seqgan data` command --------------------------------------------------------------------


def run_data(*args, cwd: Path, environ: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ if environ is None else environ, OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "seqgan.cli", "data", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqgan: error: "), proc.stderr
    return lines[0]


def test_cli_data_prints_stats_of_a_user_corpus(tmp_path):
    text = "".join(f"Sentence number {i}, {'with many words ' * 12}.\n" for i in range(40))
    corpus = write(tmp_path / "mine.txt", text)
    proc = run_data(REPO / "configs" / "text.yaml", "--set", f"data.train={corpus}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    stats = json.loads(proc.stdout)
    assert stats["train"]["sequences_in"] == 32 and stats["test"]["sequences_in"] == 4
    # text.yaml keeps pre-training's best epoch: 10% of the training split is held out to choose it
    assert stats["valid"]["sequences_in"] == 4 and stats["valid"]["valid_fraction"] == 0.1
    assert stats["train"]["length"]["min"] == stats["train"]["length"]["max"] == 41
    assert stats["train"]["split"] == 32  # 41 tokens each: a row of 32, then a row of 9 and EOS
    assert stats["train"]["rows"] == [64, 32] and stats["valid"]["rows"] == [8, 32]
    assert stats["vocab"]["size"] == 3 + 7  # the numbers are seen once each: below text.yaml's min_freq 2


def test_cli_data_errors_are_one_line(tmp_path):
    line = one_line_error(run_data(REPO / "configs" / "text.yaml", cwd=tmp_path))
    assert "YOUR_CORPUS.txt: no such file or folder" in line  # the placeholder: --set data.train=PATH
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\n\xff\xfe\n")
    line = one_line_error(run_data(REPO / "configs" / "text.yaml", "--set", f"data.train={bad}", cwd=tmp_path))
    assert "bad.txt:2: not UTF-8 text (byte offset 5)" in line
    line = one_line_error(run_data(REPO / "configs" / "coco.yaml", "--data-dir", tmp_path / "nowhere", cwd=tmp_path))
    assert "coco/image_coco.txt: no such file" in line and "nowhere" in line


def test_cli_data_on_the_oracle_config(tmp_path):
    proc = run_data(REPO / "configs" / "synthetic_smoke.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["source"] == "oracle" and out["num_train"] > 0


def test_cli_data_on_the_poems(tmp_path, shared_data_dir):
    if not (shared_data_dir / "poems" / "shi.txt").is_file():
        pytest.skip(f"{shared_data_dir / 'poems' / 'shi.txt'} does not exist")
    environ = {k: v for k, v in os.environ.items() if k != "SEQGAN_DATA_DIR"}
    proc = run_data(REPO / "configs" / "poems.yaml", "--data-dir", shared_data_dir, cwd=tmp_path, environ=environ)
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["train"]["sequences_in"] + stats["test"]["sequences_in"] == 16_394
