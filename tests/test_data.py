"""Token files, the oracle corpus and minibatches."""

from __future__ import annotations

import pytest
import torch

from seqgan.data import batches, discriminator_set, oracle_corpus, read_token_file, write_token_file
from seqgan.oracle import Oracle


def test_write_then_read_round_trips(tmp_path):
    seqs = torch.randint(0, 5000, (17, 20), generator=torch.Generator().manual_seed(0))
    path = tmp_path / "samples.txt"
    write_token_file(path, seqs)
    assert read_token_file(path, vocab_size=5000) == seqs.tolist()
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") == 17 and text.endswith("\n")
    assert text.splitlines()[0] == " ".join(map(str, seqs[0].tolist()))  # the authors' format
    assert [p.name for p in tmp_path.iterdir()] == ["samples.txt"]  # no temporary file left
    write_token_file(path, seqs[:2])  # overwrites
    assert read_token_file(path) == seqs[:2].tolist()


def test_blank_lines_are_skipped_and_lengths_may_differ(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("\n1 2 3\n   \n\t4  5\n\n6\n", encoding="utf-8")
    assert read_token_file(path, vocab_size=7) == [[1, 2, 3], [4, 5], [6]]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_fails(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="empty.txt"):
        read_token_file(path)


def test_non_utf8_file_names_line_and_byte_offset(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"1 2 3\n4 \xff 5\n")
    with pytest.raises(ValueError) as info:
        read_token_file(path)
    msg = str(info.value)
    assert "latin.txt:2" in msg and "byte offset 8" in msg


@pytest.mark.parametrize("bad", ["x", "1.5", "3a", "--1"])
def test_non_integer_token_names_file_and_line(tmp_path, bad):
    path = tmp_path / "bad.txt"
    path.write_text(f"1 2\n\n3 {bad} 4\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_token_file(path)
    assert "bad.txt:3" in str(info.value) and bad in str(info.value)


@pytest.mark.parametrize("token", [7, 100, -1])
def test_token_outside_vocabulary_names_file_and_line(tmp_path, token):
    path = tmp_path / "oov.txt"
    path.write_text(f"1 2\n3 4\n5 {token}\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_token_file(path, vocab_size=7)
    assert "oov.txt:3" in str(info.value) and str(token) in str(info.value)
    if token >= 0:  # the same file is fine with a larger vocabulary
        assert read_token_file(path, vocab_size=200) == [[1, 2], [3, 4], [5, token]]


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ValueError, match="nothing.txt"):
        read_token_file(tmp_path / "nothing.txt")
    with pytest.raises(ValueError, match=str(tmp_path)):
        read_token_file(tmp_path)


def test_oracle_corpus_is_fixed_by_its_seed():
    oracle = Oracle.random(20, 4, 5, 6, seed=0)
    train_a, test_a = oracle_corpus(oracle, 30, 10, seed=1)
    train_b, test_b = oracle_corpus(oracle, 30, 10, seed=1)
    train_c, test_c = oracle_corpus(oracle, 30, 10, seed=2)
    assert train_a.shape == (30, 6) and test_a.shape == (10, 6)
    assert torch.equal(train_a, train_b) and torch.equal(test_a, test_b)
    assert not torch.equal(train_a, train_c)
    assert not torch.equal(train_a[:10], test_a)  # held-out data is a different draw
    # independent of the global torch RNG
    torch.manual_seed(123)
    assert torch.equal(oracle_corpus(oracle, 30, 10, seed=1)[0], train_a)


@pytest.mark.parametrize("n,batch_size", [(100, 32), (64, 64), (5, 8), (1, 1)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_batches_cover_every_row_once(n, batch_size, shuffle):
    data = torch.arange(n).unsqueeze(1).expand(-1, 3) * torch.tensor([1, 10, 100])
    torch.manual_seed(0)
    parts = list(batches(data, batch_size, shuffle=shuffle))
    assert all(len(p) == batch_size for p in parts[:-1]) and 0 < len(parts[-1]) <= batch_size
    rows = torch.cat(parts)
    assert sorted(rows[:, 0].tolist()) == list(range(n))
    assert torch.equal(rows[:, 1], rows[:, 0] * 10)  # rows stay whole
    if shuffle and n > 5:
        assert rows[:, 0].tolist() != list(range(n))
        torch.manual_seed(1)
        assert torch.cat(list(batches(data, batch_size)))[:, 0].tolist() != rows[:, 0].tolist()
    if not shuffle:
        assert rows[:, 0].tolist() == list(range(n))


def test_discriminator_set_labels():
    real = torch.zeros(3, 4, dtype=torch.long)
    fake = torch.ones(2, 4, dtype=torch.long)
    seqs, labels = discriminator_set(real, fake)
    assert seqs.shape == (5, 4)
    assert labels.tolist() == [1, 1, 1, 0, 0]
    assert torch.equal(seqs[labels == 1], real) and torch.equal(seqs[labels == 0], fake)


@pytest.mark.parametrize("bad", ["1_0", "\u0663"])
def test_only_plain_decimal_ids_are_tokens(tmp_path, bad):
    """Python's int() also reads '1_0' as 10 and Arabic-Indic digits as numbers; a file of token
    ids in the authors' format holds plain decimal digits, and anything else is a malformed token."""
    path = tmp_path / "odd.txt"
    path.write_text(f"1 2\n3 {bad}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="odd.txt:2"):
        read_token_file(path, vocab_size=5000)
