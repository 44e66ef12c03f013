"""Exact, fast sentence BLEU, corpus-mean BLEU and Self-BLEU, as SeqGAN and Texygen report them.

What this follows
-----------------
The score of one hypothesis is exactly NLTK's (``nltk.translate.bleu_score``, checked against
nltk 3.9/3.10)::

    sentence_bleu(references, hypothesis, weights=(1/n,) * n,
                  smoothing_function=SmoothingFunction().method1)

the form used by Texygen (Zhu et al., "Texygen: A Benchmarking Platform for Text Generation
Models", SIGIR 2018) and by the SeqGAN/LeakGAN/RelGAN line of papers for BLEU-n and Self-BLEU-n.
NLTK's definitions, reproduced here term by term:

* modified precision of order k: ``p_k = sum_g min(c_h(g), max_r c_r(g)) / max(1, sum_g c_h(g))``
  over the hypothesis' k-grams ``g``; ``max_r`` is over single references (clipping by the largest
  count of ``g`` in any one reference), and the denominator is clamped to 1, so a hypothesis with
  fewer than k tokens has ``p_k = 0 / 1``;
* if no unigram matches at all (this includes the empty hypothesis) the score is 0, whatever the
  smoothing;
* smoothing method1: a precision whose numerator is 0 becomes ``(0 + 0.1) / denominator``
  (a float); nonzero precisions are kept as the exact ratio, and ``math.log`` of it equals
  ``math.log(numerator / denominator)``;
* brevity penalty with the closest reference length ``r`` (ties go to the shorter reference):
  1 if ``len(h) > r``, else ``exp(1 - r / len(h))``;
* ``BLEU-n = bp * exp(math.fsum(w * log(p_k) for k in 1..n))`` with ``w = 1.0 / n``. Because
  ``math.fsum`` is exact, the result is bit-for-bit NLTK's when the same ``w * log(p_k)`` terms
  are summed.

What is different is only the cost. NLTK rebuilds every reference's n-gram counts for every
hypothesis (O(total reference length) per hypothesis); here everything that depends only on the
references is computed once (:class:`BleuReference`), so scoring a hypothesis costs time
proportional to its own length. Self-BLEU (Zhu et al. 2018: each hypothesis against all the
*other* hypotheses) keeps, per n-gram, the largest count, how many hypotheses reach it, and the
second largest, so that leaving hypothesis ``i`` out is O(len(hypothesis i)) as well.

"BLEU-n" of a set of hypotheses is the mean of their sentence BLEU-n scores (what SeqGAN and
Texygen report), not NLTK's ``corpus_bleu`` (which pools the counts before dividing).

Tokens may be any hashable values (str, int, ...); a hypothesis or a reference is any sequence.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence

__all__ = [
    "EPSILON",
    "BleuReference",
    "sentence_bleu",
    "mean_bleu",
    "self_bleu",
    "self_bleu_scores",
]

#: NLTK's ``SmoothingFunction().method1`` default epsilon, added to a zero numerator.
EPSILON = 0.1

Tokens = Sequence[Hashable]


def _ngram_counts(tokens: tuple, n: int) -> Counter:
    """Counts of the n-grams (as tuples) of ``tokens``; empty when ``len(tokens) < n``."""
    if len(tokens) < n:
        return Counter()
    return Counter(zip(*[tokens[k:] for k in range(n)]))


def _closest_length(lengths: list[int], hyp_len: int, skip: int | None = None) -> int:
    """The length in sorted, distinct ``lengths`` closest to ``hyp_len``; ties go to the shorter.

    ``skip``, if given, is a length to treat as absent (for leave-one-out).
    Equivalent to NLTK's ``min(ref_lens, key=lambda r: (abs(r - hyp_len), r))``.
    """
    pos = bisect_left(lengths, hyp_len)
    below = pos - 1
    if below >= 0 and lengths[below] == skip:
        below -= 1
    above = pos
    if above < len(lengths) and lengths[above] == skip:
        above += 1
    if below < 0:
        if above >= len(lengths):
            raise ValueError("no reference lengths to choose from")
        return lengths[above]
    if above >= len(lengths):
        return lengths[below]
    lo, hi = lengths[below], lengths[above]
    # lo < hyp_len <= hi: the shorter one wins a tie.
    return lo if hyp_len - lo <= hi - hyp_len else hi


def _bleu_from_counts(hyp_len: int, matches: list[int], ref_len: int, orders: Iterable[int]) -> dict[int, float]:
    """BLEU-n for each n in ``orders`` from the clipped match counts ``matches[k-1]`` of order k.

    ``orders`` must not exceed ``len(matches)``. Follows NLTK's corpus_bleu for one sentence.
    """
    orders = list(orders)
    if hyp_len == 0 or matches[0] == 0:
        # NLTK returns (int) 0 when no unigram matches, before smoothing or brevity penalty.
        return {n: 0.0 for n in orders}
    logs = []
    for k, num in enumerate(matches, start=1):
        den = max(1, hyp_len - k + 1)
        p = num / den if num != 0 else (0 + EPSILON) / den
        logs.append(math.log(p))
    if hyp_len > ref_len:
        bp = 1.0
    else:
        bp = math.exp(1 - ref_len / hyp_len)
    out = {}
    for n in orders:
        w = 1.0 / n
        out[n] = bp * math.exp(math.fsum(w * logs[k] for k in range(n)))
    return out


def _as_tokens(seq: Tokens) -> tuple:
    if isinstance(seq, tuple):
        return seq
    return tuple(seq)


class BleuReference:
    """A reference set, preprocessed once, against which hypotheses are scored.

    ``BleuReference(references, max_n=4)`` keeps, for each order k = 1..max_n, a dict from every
    k-gram of the references to its largest count in any single reference, and the sorted
    distinct reference lengths. :meth:`score` and :meth:`scores` then cost O(len(hypothesis)).
    """

    def __init__(self, references: Iterable[Tokens], max_n: int = 4):
        if max_n < 1:
            raise ValueError(f"max_n must be >= 1, got {max_n}")
        self.max_n = int(max_n)
        self.max_counts: list[dict[tuple, int]] = [{} for _ in range(self.max_n)]
        lengths: set[int] = set()
        count = 0
        for ref in references:
            ref = _as_tokens(ref)
            count += 1
            lengths.add(len(ref))
            for k in range(1, min(self.max_n, len(ref)) + 1):
                table = self.max_counts[k - 1]
                for gram, c in _ngram_counts(ref, k).items():
                    if c > table.get(gram, 0):
                        table[gram] = c
        if count == 0:
            raise ValueError("BLEU needs at least one reference")
        self.num_references = count
        self.lengths: list[int] = sorted(lengths)

    def closest_length(self, hyp_len: int) -> int:
        """The reference length closest to ``hyp_len`` (ties go to the shorter one)."""
        return _closest_length(self.lengths, hyp_len)

    def _matches(self, hyp: tuple, max_order: int) -> list[int]:
        matches = []
        for k in range(1, max_order + 1):
            table = self.max_counts[k - 1]
            total = 0
            for gram, c in _ngram_counts(hyp, k).items():
                m = table.get(gram, 0)
                total += c if c < m else m
            matches.append(total)
        return matches

    def _check_order(self, n: int) -> None:
        if not 1 <= n <= self.max_n:
            raise ValueError(f"order n must be in 1..{self.max_n}, got {n}")

    def score(self, hypothesis: Tokens, n: int = 4) -> float:
        """Sentence BLEU-n of ``hypothesis`` (uniform weights 1/n, NLTK smoothing method1)."""
        self._check_order(n)
        hyp = _as_tokens(hypothesis)
        matches = self._matches(hyp, n)
        return _bleu_from_counts(len(hyp), matches, self.closest_length(len(hyp)), [n])[n]

    def scores(self, hypothesis: Tokens) -> dict[int, float]:
        """``{n: BLEU-n}`` for n = 2..max_n, counting the hypothesis' n-grams once."""
        hyp = _as_tokens(hypothesis)
        matches = self._matches(hyp, self.max_n)
        return _bleu_from_counts(len(hyp), matches, self.closest_length(len(hyp)), range(2, self.max_n + 1))

    def mean_scores(self, hypotheses: Iterable[Tokens]) -> dict[str, float]:
        """Mean sentence BLEU-2..max_n over ``hypotheses``: ``{"bleu2": ..., ...}``."""
        _check_max_n(self.max_n)
        per_hyp = [self.scores(h) for h in hypotheses]
        if not per_hyp:
            raise ValueError("BLEU needs at least one hypothesis")
        return _mean_dict(per_hyp, self.max_n)


def sentence_bleu(references: Iterable[Tokens], hypothesis: Tokens, n: int = 4) -> float:
    """One-off sentence BLEU-n; equal to NLTK's ``sentence_bleu(..., (1/n,)*n, method1)``.

    To score many hypotheses against the same references, build a :class:`BleuReference` once.
    """
    return BleuReference(references, max_n=n).score(hypothesis, n)


def _check_max_n(max_n: int) -> None:
    if max_n < 2:
        raise ValueError(f"max_n must be >= 2 (BLEU-2..BLEU-max_n), got {max_n}")


def _mean_dict(per_hyp: list[dict[int, float]], max_n: int) -> dict[str, float]:
    return {f"bleu{n}": math.fsum(s[n] for s in per_hyp) / len(per_hyp) for n in range(2, max_n + 1)}


def mean_bleu(references: Iterable[Tokens], hypotheses: Iterable[Tokens], max_n: int = 4) -> dict[str, float]:
    """Mean sentence BLEU-n over ``hypotheses``, each against all ``references``.

    Returns ``{"bleu2": ..., ..., f"bleu{max_n}": ...}``. This is the BLEU of SeqGAN/Texygen
    (a mean of sentence scores), not NLTK's corpus_bleu.
    """
    _check_max_n(max_n)
    return BleuReference(references, max_n=max_n).mean_scores(hypotheses)


class _LeaveOneOutTable:
    """N-gram count maxima over a set of sentences, from which any one sentence can be removed.

    For each order k and k-gram g: ``(m1, c1, m2)`` = the largest count of g in one sentence, how
    many sentences have that count, and the largest count below m1 (0 if none). Without sentence
    i (whose count of g is c > 0) the maximum is m2 if ``c == m1 and c1 == 1``, else m1.
    """

    def __init__(self, sentences: list[tuple], max_n: int):
        self.max_n = max_n
        self.tables: list[dict[tuple, list[int]]] = [{} for _ in range(max_n)]
        for sent in sentences:
            for k in range(1, min(max_n, len(sent)) + 1):
                table = self.tables[k - 1]
                for gram, c in _ngram_counts(sent, k).items():
                    entry = table.get(gram)
                    if entry is None:
                        table[gram] = [c, 1, 0]
                    elif c > entry[0]:
                        entry[2] = entry[0]
                        entry[0] = c
                        entry[1] = 1
                    elif c == entry[0]:
                        entry[1] += 1
                    elif c > entry[2]:
                        entry[2] = c
        self.length_counts = Counter(len(s) for s in sentences)
        self.lengths = sorted(self.length_counts)

    def matches_without(self, sent: tuple) -> list[int]:
        """Clipped match counts of ``sent`` (a member) against all the other sentences."""
        matches = []
        for k in range(1, self.max_n + 1):
            table = self.tables[k - 1]
            total = 0
            for gram, c in _ngram_counts(sent, k).items():
                m1, c1, m2 = table[gram]
                m = m2 if (c == m1 and c1 == 1) else m1
                total += c if c < m else m
            matches.append(total)
        return matches

    def closest_length_without(self, hyp_len: int) -> int:
        skip = hyp_len if self.length_counts[hyp_len] == 1 else None
        return _closest_length(self.lengths, hyp_len, skip=skip)


def self_bleu_scores(hypotheses: Iterable[Tokens], max_n: int = 4) -> list[dict[int, float]]:
    """Per-hypothesis Self-BLEU: ``[{n: BLEU-n of h_i against the others} for each i]``.

    For hypothesis i the references are exactly ``hypotheses[:i] + hypotheses[i+1:]``.
    """
    _check_max_n(max_n)
    sents = [_as_tokens(h) for h in hypotheses]
    if len(sents) < 2:
        raise ValueError("Self-BLEU needs at least two hypotheses")
    table = _LeaveOneOutTable(sents, max_n)
    orders = range(2, max_n + 1)
    out = []
    for sent in sents:
        matches = table.matches_without(sent)
        ref_len = table.closest_length_without(len(sent))
        out.append(_bleu_from_counts(len(sent), matches, ref_len, orders))
    return out


def self_bleu(hypotheses: Iterable[Tokens], max_n: int = 4) -> dict[str, float]:
    """Self-BLEU-n (Zhu et al. 2018): mean BLEU-n of each hypothesis against all the others.

    Returns ``{"bleu2": ..., ..., f"bleu{max_n}": ...}`` (the same keys as :func:`mean_bleu`).
    Texygen's default scores only the first 500 sentences (its ``sample_size``); pass
    ``hypotheses[:500]`` to reproduce that.
    """
    return _mean_dict(self_bleu_scores(hypotheses, max_n), max_n)
