"""Data: the oracle's synthetic corpus, minibatches (and where an epoch of them stands), and files of token ids.

The synthetic corpus is what the authors' code writes to ``save/real_data.txt``: sequences sampled
from the oracle, fixed by the oracle's seed. Files of token ids use the authors' format: one
sequence a line, ids separated by whitespace.

Shapes: B batch, T sequence length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .oracle import Oracle
from .runtime import distributed
from .runtime.files import atomic_write_text


def oracle_corpus(oracle: Oracle, num_train: int, num_test: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Train (num_train, T) and test (num_test, T) samples of the oracle, fixed by ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    train = oracle.sample(num_train, generator=gen)
    test = oracle.sample(num_test, generator=gen)
    return train, test


def batches(data: torch.Tensor, batch_size: int, shuffle: bool = True) -> Iterator[torch.Tensor]:
    """Minibatches of the rows of ``data`` (one permutation, no per-row Python work)."""
    order = torch.randperm(len(data), device=data.device) if shuffle else torch.arange(len(data), device=data.device)
    order = distributed.same_on_all_ranks(order)  # under torchrun: rank 0's order, so ranks shard the same batches
    for i in range(0, len(data), batch_size):
        yield data[order[i : i + batch_size]]


@dataclass
class EpochPosition:
    """Where a shuffled epoch of minibatches stands: what a checkpoint keeps of an epoch stopped at a
    batch boundary, so that ``--resume`` continues it with the same minibatches and the same mean loss.

    ``order`` is the epoch's permutation (N,), drawn as ``batches`` draws it; ``losses`` holds the
    loss of each minibatch done, so ``len(losses)`` minibatches are done.
    """

    order: torch.Tensor
    losses: list[torch.Tensor] = field(default_factory=list)

    @classmethod
    def start(cls, data: torch.Tensor) -> EpochPosition:
        """A new epoch over the rows of ``data``: the same ``randperm`` from the same RNG as ``batches``."""
        order = distributed.same_on_all_ranks(torch.randperm(len(data), device=data.device))
        return cls(order)

    def remaining(self, data: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
        """The minibatches (B, T) of the epoch not done yet, in order."""
        for i in range(len(self.losses) * batch_size, len(data), batch_size):
            yield data[self.order[i : i + batch_size]]

    def state_dict(self) -> dict:
        return {"order": self.order.cpu(), "losses": torch.stack(self.losses).cpu() if self.losses else None}

    @classmethod
    def from_state(cls, state: dict, device: torch.device) -> EpochPosition:
        losses = [] if state["losses"] is None else list(state["losses"].to(device).unbind())
        return cls(state["order"].to(device), losses)


def discriminator_set(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and generated sequences with labels 1 and 0: (P + Q, T), (P + Q,)."""
    seqs = torch.cat([real, fake.to(real.device)])
    labels = torch.cat(
        [
            torch.ones(len(real), dtype=torch.long, device=real.device),
            torch.zeros(len(fake), dtype=torch.long, device=real.device),
        ]
    )
    return seqs, labels


def numbered_lines(path: str | Path) -> list[tuple[int, list[str]]]:
    """(line number, whitespace-split fields) of each non-blank line of a UTF-8 file.

    Raises ValueError naming the file (and line and byte offset of a bad byte), or saying it is empty.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a directory, expected a text file") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ValueError(f"{path}:{line}: not UTF-8 text (byte offset {e.start})") from None
    lines = [(number, line.split()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise ValueError(f"{path}: no sequences (the file is empty)")
    return lines


def read_text_lines(path: str | Path) -> list[list[str]]:
    """Whitespace-tokenised non-blank lines of a UTF-8 text file."""
    return [fields for _, fields in numbered_lines(path)]


def read_token_file(path: str | Path, vocab_size: int | None = None) -> list[list[int]]:
    """Sequences of token ids from a file, one sequence a line; blank lines are skipped.

    Raises ValueError naming the file and line for anything that is not a valid id.
    """
    seqs = []
    for number, fields in numbered_lines(path):
        ids = []
        for token in fields:
            if not (token.isascii() and token.isdigit()):
                raise ValueError(f"{path}:{number}: {token!r} is not a token id (a non-negative decimal integer)")
            ids.append(int(token))
            if vocab_size is not None and ids[-1] >= vocab_size:
                raise ValueError(f"{path}:{number}: token id {ids[-1]} is outside the vocabulary [0, {vocab_size})")
        seqs.append(ids)
    return seqs


def write_token_file(path: str | Path, seqs: torch.Tensor) -> None:
    """Write (B, T) token ids in the authors' format, atomically."""
    atomic_write_text(path, "".join(" ".join(map(str, row)) + "\n" for row in seqs.tolist()))
