"""Texygen's real-data encoding (geek-ai/Texygen ``utils/text_process.py``), as its code runs it.

What Texygen's ``train_real`` does to a text file, and what this module does the same way:

* **Tokens.** ``nltk.word_tokenize(line.lower())``. ``word_tokenize`` splits a line into sentences
  with Punkt, whose English model has to be downloaded (this network cannot), then applies NLTK's
  word tokenizer to each sentence. Here that word tokenizer is applied to the whole line
  (``tokenize``). Punkt can only end a sentence after ``.``, ``?`` or ``!``; on a line where none of
  them stands before the last character the two are the same by construction
  (``split_points``: all but 52 training and 28 test captions of COCO, docs/benchmark.md).
* **Vocabulary.** The training file's words alone (``text_precess(data_loc)`` is called without a
  test file). Texygen orders them as Python's ``set`` happens to, which string hashing makes
  different in every process; here they are sorted, so a seed fixes the run.
* **Start token.** The generator's first input is id 0, which is also a word of the vocabulary
  (``start_token = 0`` beside ``get_dict``'s numbering from 0). Here id 0 is the first word in
  sorted order; in Texygen it is whichever word the set put first.
* **End code.** Every caption is padded to the sequence length with one more id, ``len(words)``
  (``text_to_code``'s ``eof_code``). It is an ordinary token: the MLE loss counts it, the generator
  may emit it anywhere, and decoding deletes it wherever it stands (``code_to_text``), so words
  after it are joined to the words before.
* **Sequence length.** The longest training caption, in tokens (no room for an end code).
* **Training batches.** ``DataLoader.create_batches``: the first ``N // batch_size`` batches of the
  file in order, never shuffled; the last ``N % batch_size`` captions are never trained on.

Shapes: N captions, T sequence length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

_SENTENCE_END = re.compile(r"[.?!]")


def tokenize(line: str, lowercase: bool = True) -> list[str]:
    """NLTK's word tokenizer (the one ``word_tokenize`` applies after sentence splitting) on one line."""
    from nltk.tokenize import NLTKWordTokenizer  # imported here: only this protocol needs NLTK

    return NLTKWordTokenizer().tokenize(line.lower() if lowercase else line)


def split_points(line: str) -> bool:
    """Whether Punkt could end a sentence inside ``line`` (a ``.``, ``?`` or ``!`` before its last
    character). Where it cannot, ``tokenize`` gives exactly ``nltk.word_tokenize``'s tokens."""
    return _SENTENCE_END.search(line.rstrip()[:-1]) is not None


def read_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 file, as Python's ``for line in file`` gives them, without line ends.
    A missing final newline does not add an empty line; an empty line is kept (Texygen keeps it)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


@dataclass
class TexygenCorpus:
    """A training file encoded as Texygen encodes it."""

    words: list[str]  # id -> word; the end code is id len(words)
    train: torch.Tensor  # (N, T) ids, end-code padded
    seq_len: int

    @property
    def end_code(self) -> int:
        return len(self.words)

    @property
    def vocab_size(self) -> int:
        """Words and the end code (``text_precess``'s ``len(word_index_dict) + 1``)."""
        return len(self.words) + 1

    def encode(self, token_lists: list[list[str]]) -> tuple[torch.Tensor, list[int]]:
        """(M, T) end-code-padded ids of the captions whose words are all known and which fit in T,
        and the indices of those captions (a test caption may hold a word the training file lacks)."""
        index = {w: i for i, w in enumerate(self.words)}
        rows, kept = [], []
        for i, tokens in enumerate(token_lists):
            if len(tokens) > self.seq_len or any(t not in index for t in tokens):
                continue
            rows.append([index[t] for t in tokens] + [self.end_code] * (self.seq_len - len(tokens)))
            kept.append(i)
        ids = torch.tensor(rows, dtype=torch.long) if rows else torch.empty(0, self.seq_len, dtype=torch.long)
        return ids, kept

    def decode(self, ids: torch.Tensor) -> list[str]:
        """Each row (N, T) as a line of words joined by spaces, the end code deleted wherever it is."""
        end = self.end_code
        return [" ".join(self.words[i] for i in row if i != end) for row in ids.tolist()]


def encode_training_file(token_lists: list[list[str]], where: str) -> TexygenCorpus:
    """Texygen's vocabulary, sequence length and codes for a training file's captions."""
    if not token_lists or not any(token_lists):
        raise ValueError(f"{where}: no tokens to train on")
    words = sorted({t for tokens in token_lists for t in tokens})
    seq_len = max(len(tokens) for tokens in token_lists)
    corpus = TexygenCorpus(words=words, train=torch.empty(0), seq_len=seq_len)
    corpus.train, kept = corpus.encode(token_lists)
    assert len(kept) == len(token_lists), "every training caption is in its own vocabulary and length"
    return corpus


def training_batches(data: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """``DataLoader.create_batches``: the file's first N // B batches, in order, every epoch the same."""
    num_batch = len(data) // batch_size
    return [data[i * batch_size : (i + 1) * batch_size] for i in range(num_batch)]


def d_call_rows(
    num_real: int, num_fake: int, batch_size: int, minibatches: int, generator: torch.Generator | None = None
) -> list[torch.Tensor]:
    """Which pool rows one of Texygen's D calls trains on, without building the pool.

    ``train_discriminator`` writes ``num_fake`` fresh samples, shuffles them with all ``num_real``
    training captions (``DisDataloader.load_train_data``: one permutation, cut into batches), then
    trains on ``minibatches`` batches, calling ``next_batch()`` once more before each: batches 1, 3,
    5, ... of the shuffled pool are trained on and 0, 2, 4, ... skipped. This draws the same
    permutation and returns those batches' pool indices (B,) each: below ``num_real`` a real caption,
    from ``num_real`` on a generated one. The generated samples are exchangeable, so drawing only the
    ones that land in a trained batch gives the same distribution as writing all ``num_fake``.
    """
    total = num_real + num_fake
    num_batch = total // batch_size
    if num_batch < 2 * minibatches and minibatches > 0:
        # the pointer wraps around (``% num_batch``); refuse rather than silently train on a skipped batch
        raise ValueError(
            f"a D call needs {2 * minibatches} batches of {batch_size} in its pool, but "
            f"{num_real} real + {num_fake} generated rows make {num_batch}"
        )
    order = torch.randperm(total, generator=generator)
    return [order[(2 * k + 1) * batch_size : (2 * k + 2) * batch_size] for k in range(minibatches)]
