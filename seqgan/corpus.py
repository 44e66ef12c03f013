"""Real corpora: tokenizers, the vocabulary, padded (N, T) id tensors, train/test splits, statistics.

The paper's real-data tasks (Yu et al. 2017, "Real-world Scenarios"): Chinese quatrains (BLEU-2
against the whole test set), Obama's speeches (BLEU-3/4), Nottingham melodies (``midi.py``); plus
the COCO captions of the Texygen benchmark and any user's own text file, one sequence a line.

A row of a corpus tensor is one sequence of at most T = max_len ids: its tokens, then ``EOS``, then
``PAD`` up to T. ``EOS`` marks a real end: a row cut from a longer sequence fills all T positions
and has no ``EOS`` (see ``encode_sequences``). The special ids are fixed, so code that masks or
stops at them needs no vocabulary: ``PAD`` = 0, ``EOS`` = 1, ``UNK`` = 2.

Shapes: N, M train and test rows, B batch, T sequence length (max_len).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .data import numbered_lines
from .midi import REST, MidiError, read_melody
from .runtime.files import atomic_write_text

if TYPE_CHECKING:  # only for the annotation: the corpus reads the data section's fields, nothing else
    from .config import DataConfig

PAD, EOS, UNK = 0, 1, 2
SPECIALS = ("<pad>", "<eos>", "<unk>")  # their ids are their positions

# -- tokenizers -----------------------------------------------------------------------------------

# A word: letters/digits with apostrophes or hyphens inside ("don't", "o'clock", "middle-class");
# a number with decimal points or thousands separators ("4.5", "10,000"); else any single
# non-space character (punctuation, symbols) is a token of its own.
_WORD = re.compile(r"\d+(?:[.,]\d+)+|\w+(?:['-]\w+)*|[^\w\s]")
# typographic quotes as ASCII ones, so "we’re" and "we're" are one word (the Obama file has both)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_NO_SPACE_BEFORE = frozenset(".,!?;:%)]}")
_NO_SPACE_AFTER = frozenset("([{$")


def _normalize(line: str, lowercase: bool) -> str:
    """NFC (composes accents written as combining marks) and without invisible format characters
    (soft hyphens, zero-width spaces, a byte-order mark), which would otherwise become tokens."""
    line = unicodedata.normalize("NFC", line)
    line = "".join(c for c in line if unicodedata.category(c) != "Cf")
    return line.lower() if lowercase else line


def tokenize(line: str, kind: str, lowercase: bool = False) -> list[str]:
    """Tokens of one line of text.

    Args:
        line: the text of one sequence.
        kind: 'chars': every non-space character is a token (the poems file is already characters
            separated by spaces; both forms give the same tokens). 'words': words, numbers and each
            punctuation mark ("Hello, world!" -> Hello , world !); apostrophes and hyphens inside
            a word stay in it ("don't", "middle-class"); curly quotes become straight ones.
            'ids': whitespace-separated non-negative integers, kept as strings ("007" -> "7").
        lowercase: lower-case first ('chars' and 'words').
    Raises:
        ValueError: an 'ids' token that is not a non-negative integer (the message names it; the
            caller adds file and line).
    """
    if kind == "ids":
        tokens = line.split()
        for token in tokens:
            if not (token.isascii() and token.isdigit()):
                raise ValueError(f"{token!r} is not a token id (a non-negative decimal integer)")
        return [str(int(token)) for token in tokens]
    line = _normalize(line, lowercase)
    if kind == "chars":
        return [c for c in line if not c.isspace()]
    if kind == "words":
        return _WORD.findall(line.translate(_QUOTES))
    raise ValueError(f"tokenizer: 'chars', 'words' or 'ids', got {kind!r}")


def detokenize(tokens: list[str], kind: str) -> str:
    """Text of a token sequence; ``tokenize(detokenize(t, kind), kind) == t`` for tokens that came
    from ``tokenize``.

    'chars' and 'ids' join with spaces: the poems file's own format, and what ``seqgan bleu`` (which
    splits on whitespace) reads back. 'words' join with spaces except before closing punctuation
    (. , ! ? ; : % ) ] }) and after opening brackets and $: "hello, world!".
    """
    if kind != "words":
        return " ".join(tokens)
    out = []
    for i, token in enumerate(tokens):
        if i > 0 and token not in _NO_SPACE_BEFORE and tokens[i - 1] not in _NO_SPACE_AFTER:
            out.append(" ")
        out.append(token)
    return "".join(out)


# -- vocabulary -----------------------------------------------------------------------------------


class Vocab:
    """Token <-> id. Ids 0, 1, 2 are ``<pad>``, ``<eos>``, ``<unk>``; then the corpus's tokens."""

    def __init__(self, tokens: list[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"vocabulary: the first tokens must be {list(SPECIALS)}, got {tokens[: len(SPECIALS)]}")
        if len(set(tokens)) != len(tokens):
            dup = next(t for t, n in Counter(tokens).items() if n > 1)
            raise ValueError(f"vocabulary: token {dup!r} appears more than once")
        self.itos = tokens
        self.stoi = {t: i for i, t in enumerate(tokens)}

    @classmethod
    def build(cls, token_lists: list[list[str]], min_freq: int = 1) -> Vocab:
        """The tokens seen at least ``min_freq`` times, most frequent first, ties in lexical order
        (so the same data always gives the same ids). Build it from the training split only."""
        counts = Counter(t for tokens in token_lists for t in tokens)
        kept = [t for t, n in counts.items() if n >= min_freq and t not in SPECIALS]
        kept.sort(key=lambda t: (-counts[t], t))
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: list[str]) -> list[int]:
        """Ids of ``tokens``; a token outside the vocabulary is ``UNK``."""
        return [self.stoi.get(t, UNK) for t in tokens]

    def decode(self, ids) -> list[str]:
        """Tokens of ``ids`` (a list or a 1-D tensor) up to the first ``EOS``, without ``PAD``."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        out = []
        for i in ids:
            if i == EOS:
                break
            if i == PAD:
                continue
            if not 0 <= i < len(self.itos):
                raise ValueError(f"vocabulary: id {i} is outside [0, {len(self.itos)})")
            out.append(self.itos[i])
        return out

    def to_dict(self) -> dict:
        """Plain lists and strings, for a checkpoint that ``torch.load(weights_only=True)`` reads."""
        return {"tokens": list(self.itos)}

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        if (
            not isinstance(d, dict)
            or not isinstance(d.get("tokens"), list)
            or not all(isinstance(t, str) for t in d["tokens"])
        ):
            raise ValueError("vocabulary: expected {'tokens': [str, ...]}")
        return cls(d["tokens"])

    def save(self, path: str | Path) -> None:
        """Write as JSON, atomically."""
        atomic_write_text(path, json.dumps(self.to_dict(), ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{path}: no such file") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: not a vocabulary file ({type(e).__name__})") from None
        try:
            return cls.from_dict(d)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None


# -- tensors --------------------------------------------------------------------------------------


def encode_sequences(
    token_lists: list[list[str]], vocab: Vocab, max_len: int, overflow: str
) -> tuple[torch.Tensor, dict]:
    """Sequences as a padded id tensor: tokens, ``EOS``, then ``PAD`` up to ``max_len``.

    A sequence of ``max_len`` tokens or more has no room for its ``EOS``. ``overflow`` says what
    happens to it:

    - 'truncate': one row of its first ``max_len`` tokens, without ``EOS`` (the sequence did not
      end there, so the model should not learn that it did);
    - 'split': consecutive rows of ``max_len`` tokens, none of them dropped and none with ``EOS``,
      then a last row with the remaining tokens and ``EOS`` (no such row when the length is a
      multiple of ``max_len``). For music these are the paper's fixed-length windows (T = 32 pitches)
      plus each tune's ending; for text, paragraphs become sentence-agnostic chunks;
    - 'drop': no row.

    Args:
        token_lists: sequences of tokens, without ``EOS``.
        vocab: maps tokens to ids (unknown ones to ``UNK``).
        max_len: T, counting the end token.
        overflow: 'truncate', 'split' or 'drop'.
    Returns:
        (R, T) int64 ids, and counts: sequences_in, sequences_out (R), and how many sequences were
        truncated, split and dropped.
    """
    assert max_len >= 2, f"max_len must be at least 2, got {max_len}"
    if overflow not in ("truncate", "split", "drop"):
        raise ValueError(f"overflow: 'truncate', 'split' or 'drop', got {overflow!r}")
    rows: list[list[int]] = []
    counts = {"sequences_in": len(token_lists), "sequences_out": 0, "truncated": 0, "split": 0, "dropped": 0}
    for tokens in token_lists:
        ids = vocab.encode(tokens)
        if len(ids) < max_len:
            rows.append(ids + [EOS])
        elif overflow == "truncate":
            rows.append(ids[:max_len])
            counts["truncated"] += 1
        elif overflow == "split":
            pieces = [ids[i : i + max_len] for i in range(0, len(ids), max_len)]
            if len(pieces[-1]) < max_len:
                pieces[-1] = pieces[-1] + [EOS]
            rows.extend(pieces)
            counts["split"] += 1
        else:
            counts["dropped"] += 1
    counts["sequences_out"] = len(rows)
    out = torch.full((len(rows), max_len), PAD, dtype=torch.long)  # (R, T)
    for r, row in enumerate(rows):
        out[r, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out, counts


def cut_sequences(token_lists: list[list[str]], max_len: int, overflow: str) -> list[list[str]]:
    """The tokens of the rows ``encode_sequences`` makes, without ``EOS``: BLEU's references, cut
    exactly as the model's data is (a sample of T tokens is compared with pieces of T tokens)."""
    out = []
    for tokens in token_lists:
        if len(tokens) < max_len:
            out.append(list(tokens))
        elif overflow == "truncate":
            out.append(list(tokens[:max_len]))
        elif overflow == "split":
            out.extend(list(tokens[i : i + max_len]) for i in range(0, len(tokens), max_len))
    return out


def padding_mask(seqs: torch.Tensor) -> torch.Tensor:
    """True at the positions that belong to a sequence: up to and including its first ``EOS``
    (every position of a row without one); False for what follows it (the padding).

    Args:
        seqs: (B, T) ids.
    Returns:
        (B, T) bool.
    """
    is_eos = (seqs == EOS).long()  # (B, T)
    eos_before = is_eos.cumsum(dim=1) - is_eos  # (B, T): EOS tokens strictly before each position
    return eos_before == 0


# -- loading --------------------------------------------------------------------------------------


@dataclass
class Corpus:
    """A real data set, encoded: what training needs and what evaluation compares against."""

    train: torch.Tensor
    """(N, T) ids of the training split."""
    test: torch.Tensor
    """(M, T) ids of the test split."""
    vocab: Vocab
    """Built from the training split."""
    train_tokens: list[list[str]]
    """The training sequences as read (before UNK, truncation or splitting)."""
    test_tokens: list[list[str]]
    """The test sequences as read: BLEU's references (the paper uses the whole test set)."""
    stats: dict = field(default_factory=dict)
    """What loading recorded: files, settings, encoding counts, skipped MIDI files."""
    valid: torch.Tensor | None = None
    """(N_valid, T) ids of the validation split held out of the training split, if one was asked for."""
    valid_tokens: list[list[str]] = field(default_factory=list)
    """The validation sequences as read."""


def resolve_path(path: str, data_dir: str | None) -> Path:
    """``path`` as given if it exists, else (when relative) inside ``data_dir``."""
    given = Path(path).expanduser()
    if given.exists():
        return given
    if given.is_absolute():
        raise ValueError(f"{path}: no such file or folder")
    if not data_dir:
        raise ValueError(
            f"{path}: no such file or folder (and no data directory to look in: pass --data-dir or set SEQGAN_DATA_DIR)"
        )
    inside = Path(data_dir) / given
    if not inside.exists():
        raise ValueError(f"{path}: no such file or folder, neither as given nor as {inside} in the data directory")
    return inside


def read_text_sequences(path: str | Path, kind: str, lowercase: bool = False) -> list[list[str]]:
    """Tokens of each non-blank line of a UTF-8 file.

    Raises ValueError naming the file: missing, empty, not UTF-8 (with line and byte offset), or
    (with the line) an 'ids' token that is not an integer.
    """
    seqs = []
    for number, fields in numbered_lines(path):
        try:
            tokens = tokenize(" ".join(fields), kind, lowercase)
        except ValueError as e:
            raise ValueError(f"{path}:{number}: {e}") from None
        if tokens:  # a line of only invisible characters (say a lone byte-order mark) is blank too
            seqs.append(tokens)
    if not seqs:
        raise ValueError(f"{path}: no sequences (the file is empty)")
    return seqs


def read_midi_folder(path: str | Path, step: float) -> tuple[list[list[str]], list[dict]]:
    """Melodies of the *.mid / *.midi files of a folder (not its subfolders), in name order, as
    pitch-number strings; and the files skipped, each {"file", "reason"}."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path}: is a file, expected a folder of MIDI files")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".mid", ".midi"))
    if not files:
        raise ValueError(f"{path}: no sequences (no .mid or .midi files in the folder)")
    seqs, skipped = [], []
    for file in files:
        try:
            seqs.append([str(p) for p in read_melody(file, step)])
        except MidiError as e:  # recorded in the stats; the caller decides what to print
            skipped.append({"file": str(file), "reason": str(e).removeprefix(f"{file}: ")})
    if not seqs:
        raise ValueError(
            f"{path}: no sequences (none of its {len(files)} MIDI files could be read; first: {skipped[0]['reason']})"
        )
    return seqs, skipped


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """A seeded train/test split of n sequences: (train, test) indices, each in file order.

    The test split holds round(n * test_fraction) sequences, at least one and at most n - 1. The
    shuffle is numpy's legacy RandomState, whose stream is frozen across numpy versions, so a seed
    names the same split on every install.
    """
    if n < 2:
        raise ValueError(f"a train/test split needs at least 2 sequences, got {n}")
    num_test = min(max(round(n * test_fraction), 1), n - 1)
    order = np.random.RandomState(seed).permutation(n)
    return sorted(order[num_test:].tolist()), sorted(order[:num_test].tolist())


def load_corpus(data_cfg: DataConfig, data_dir: str | None, valid_fraction: float = 0.0) -> Corpus:
    """Read, split, tokenize and encode the real data set that ``data_cfg`` names.

    Sequences are split before they are cut to length, so the pieces of one paragraph or tune
    never land on both sides. The vocabulary comes from the training split alone.

    ``valid_fraction`` > 0 holds that share of the training split's sequences out as a validation
    split (seeded by ``split_seed``), after the vocabulary is built: the ids, the test split and
    BLEU's references are the same with or without one, so a study that loads the corpus again
    without it reads the run's ids.

    Args:
        data_cfg: the config's data section (source 'text' or 'midi').
        data_dir: where relative paths that do not exist as given are looked up.
        valid_fraction: share of the training split held out for validation; 0 holds none.
    Returns:
        The corpus; ``corpus_stats`` summarises it.
    Raises:
        ValueError: a missing, empty or unreadable file or folder, a bad id, or a test split that
            shares no token with the training split.
    """
    d = data_cfg
    if d.source not in ("text", "midi"):
        raise ValueError(f"data.source {d.source!r} has no corpus to load (expected 'text' or 'midi')")
    midi_info: dict = {}

    def read(path_str: str) -> tuple[Path, list[list[str]]]:
        path = resolve_path(path_str, data_dir)
        if d.source == "text":
            return path, read_text_sequences(path, d.tokenizer, d.lowercase)
        seqs, skipped = read_midi_folder(path, d.midi_step)
        midi_info["files_read"] = midi_info.get("files_read", 0) + len(seqs)
        midi_info.setdefault("skipped", []).extend(skipped)
        return path, seqs

    train_path, train_tokens = read(d.train)
    if d.test:
        test_path, test_tokens = read(d.test)
        test_name = str(test_path)
    else:
        train_idx, test_idx = split_indices(len(train_tokens), d.test_fraction, d.split_seed)
        test_tokens = [train_tokens[i] for i in test_idx]
        train_tokens = [train_tokens[i] for i in train_idx]
        test_path, test_name = None, f"the test split of {train_path}"

    vocab = Vocab.build(train_tokens, d.min_freq)
    num_test_tokens = sum(len(t) for t in test_tokens)
    if all(vocab.encode(t).count(UNK) == len(t) for t in test_tokens):
        raise ValueError(
            f"{test_name}: none of its {num_test_tokens} tokens is in the training vocabulary "
            f"(built from {train_path} with tokenizer {d.tokenizer!r}, min_freq {d.min_freq})"
        )
    valid, valid_tokens, valid_counts = None, [], None
    if valid_fraction > 0:  # after the vocabulary: the ids do not depend on it
        kept_idx, valid_idx = split_indices(len(train_tokens), valid_fraction, d.split_seed)
        valid_tokens = [train_tokens[i] for i in valid_idx]
        train_tokens = [train_tokens[i] for i in kept_idx]
        valid, valid_counts = encode_sequences(valid_tokens, vocab, d.max_len, d.overflow)
    train, train_counts = encode_sequences(train_tokens, vocab, d.max_len, d.overflow)
    test, test_counts = encode_sequences(test_tokens, vocab, d.max_len, d.overflow)
    for name, counts in (("training", train_counts), ("test", test_counts), ("validation", valid_counts)):
        if counts is not None and counts["sequences_out"] == 0:
            raise ValueError(
                f"no {name} sequences fit in data.max_len={d.max_len} "
                f"(all {counts['dropped']} dropped; overflow 'drop')"
            )

    stats = {
        "source": d.source,
        "train_path": str(train_path),
        "test_path": str(test_path) if test_path else None,
        "split": None if test_path else {"test_fraction": d.test_fraction, "split_seed": d.split_seed},
        "tokenizer": "midi pitches" if d.source == "midi" else d.tokenizer,
        "lowercase": d.lowercase,
        "min_freq": d.min_freq,
        "max_len": d.max_len,
        "overflow": d.overflow,
        "train_counts": train_counts,
        "test_counts": test_counts,
    }
    if valid is not None:
        stats["valid"] = {"valid_fraction": valid_fraction, "split_seed": d.split_seed, "counts": valid_counts}
    if d.source == "midi":
        skipped = midi_info.get("skipped", [])
        stats["midi"] = {
            "step": d.midi_step,
            "rest_token": str(REST),
            "files_read": midi_info.get("files_read", 0),
            "files_skipped": len(skipped),
            "skipped": skipped,
        }
    return Corpus(
        train=train,
        test=test,
        vocab=vocab,
        train_tokens=train_tokens,
        test_tokens=test_tokens,
        stats=stats,
        valid=valid,
        valid_tokens=valid_tokens,
    )


# -- statistics -----------------------------------------------------------------------------------


def _lengths(token_lists: list[list[str]], max_len: int) -> dict:
    lengths = np.array([len(t) for t in token_lists], dtype=np.float64)
    p = [round(float(v), 2) for v in np.percentile(lengths, [10, 50, 90, 95, 99])]
    return {
        "min": int(lengths.min()),
        "p10": p[0],
        "median": p[1],
        "mean": round(float(lengths.mean()), 2),
        "p90": p[2],
        "p95": p[3],
        "p99": p[4],
        "max": int(lengths.max()),
        "fit": round(float((lengths < max_len).mean()), 4),  # share that fits with its EOS in max_len
    }


def corpus_stats(corpus: Corpus) -> dict:
    """A JSON-able summary: files, sequences before and after cutting to length, vocabulary size
    (with the 3 specials), unknown-token rates, token-count distributions (before EOS; "fit" is the
    share that needs no truncating or splitting), and for MIDI the files read and skipped."""
    s = corpus.stats
    vocab = corpus.vocab
    train_types = Counter(t for tokens in corpus.train_tokens for t in tokens)
    train_total = sum(train_types.values())
    train_unk = sum(n for t, n in train_types.items() if t not in vocab.stoi)
    test_total = sum(len(t) for t in corpus.test_tokens)
    test_unk = sum(1 for tokens in corpus.test_tokens for t in tokens if t not in vocab.stoi)
    out = {
        key: s[key]
        for key in (
            "source",
            "train_path",
            "test_path",
            "split",
            "tokenizer",
            "lowercase",
            "min_freq",
            "max_len",
            "overflow",
        )
    }
    out["vocab"] = {
        "size": len(vocab),
        "train_types": len(train_types),
        "types_below_min_freq": sum(1 for t in train_types if t not in vocab.stoi),
    }
    out["train"] = {
        **s["train_counts"],
        "rows": list(corpus.train.shape),
        "tokens": train_total,
        "unk_rate": round(train_unk / max(train_total, 1), 5),
        "length": _lengths(corpus.train_tokens, s["max_len"]),
    }
    out["test"] = {
        **s["test_counts"],
        "rows": list(corpus.test.shape),
        "tokens": test_total,
        "unk_tokens": test_unk,
        "unk_rate": round(test_unk / max(test_total, 1), 5),
        "length": _lengths(corpus.test_tokens, s["max_len"]),
    }
    if corpus.valid is not None:  # held out of the training split above, for pre-training's best epoch
        out["valid"] = {
            **s["valid"]["counts"],
            "rows": list(corpus.valid.shape),
            "tokens": sum(len(t) for t in corpus.valid_tokens),
            "valid_fraction": s["valid"]["valid_fraction"],
            "split_seed": s["valid"]["split_seed"],
        }
    if "midi" in s:
        out["midi"] = s["midi"]
    return out
