"""seqgan.bleu against NLTK's sentence_bleu (smoothing method1), and hand-worked examples.

NLTK is a test-only dependency: the tests that compare with it are skipped when it is missing;
the hand-worked ones run without it.
"""

from __future__ import annotations

import ast
import math
import os
import random
from pathlib import Path

import pytest

from seqgan.bleu import BleuReference, mean_bleu, self_bleu, self_bleu_scores, sentence_bleu

TOL = 1e-12
BLEU_PY = Path(__file__).resolve().parents[1] / "seqgan" / "bleu.py"


@pytest.fixture(scope="module")
def nltk_bleu():
    """``nltk_bleu(references, hypothesis, n)``: NLTK's sentence BLEU-n the way Texygen calls it."""
    bleu_score = pytest.importorskip("nltk.translate.bleu_score", reason="nltk is not installed (test-only dependency)")
    method1 = bleu_score.SmoothingFunction().method1

    def score(references, hypothesis, n):
        weights = tuple(1.0 / n for _ in range(n))
        return bleu_score.sentence_bleu(references, hypothesis, weights, smoothing_function=method1)

    return score


def coco_file(name: str) -> Path:
    data_dir = os.environ.get("SEQGAN_DATA_DIR")
    if not data_dir:
        pytest.skip(f"SEQGAN_DATA_DIR is not set: the real captions (coco/{name}) are unavailable")
    path = Path(data_dir) / "coco" / name
    if not path.is_file():
        pytest.skip(f"{path} does not exist (SEQGAN_DATA_DIR={data_dir})")
    return path


def read_lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines()]


def random_sentence(rng: random.Random, vocab: int, max_len: int) -> list[int]:
    return [rng.randrange(vocab) for _ in range(rng.randint(0, max_len))]


# --------------------------------------------------------------------------------------------
# Without NLTK: values worked out by hand from the definition.
# --------------------------------------------------------------------------------------------


def test_module_imports_only_the_standard_library():
    tree = ast.parse(BLEU_PY.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "math", "bisect", "collections"}, imported


def test_hypothesis_identical_to_a_reference_scores_one():
    refs = [["a", "cat", "sat", "on", "the", "mat"], ["the", "dog", "ran"]]
    ref = BleuReference(refs, max_n=5)
    assert ref.scores(refs[0]) == {2: 1.0, 3: 1.0, 4: 1.0, 5: 1.0}
    assert ref.score(refs[0], 1) == 1.0
    # the 3-token reference: orders up to 3 are perfect
    assert ref.score(refs[1], 3) == 1.0


def test_hand_worked_counts_and_closest_length_tie():
    refs = [[1, 2, 3, 1, 2], [2, 3, 4]]
    hyp = [1, 2, 2, 3]
    # unigrams 1:1 2:2 3:1; largest count in one reference: 1->2, 2->2, 3->1: clipped 4 of 4
    p1 = 4 / 4
    # bigrams (1,2) (2,2) (2,3); (1,2) and (2,3) occur in ref 0, (2,2) nowhere: 2 of 3
    p2 = 2 / 3
    # trigrams (1,2,2) (2,2,3): no match, method1 gives (0 + 0.1) / 2
    p3 = 0.1 / 2
    # the single 4-gram does not match: 0.1 / 1
    p4 = 0.1 / 1
    # reference lengths 5 and 3 are both 1 away from 4: the shorter (3) wins; 4 > 3 so bp = 1
    ref = BleuReference(refs, max_n=4)
    assert ref.closest_length(4) == 3
    expected = {
        2: math.exp(0.5 * math.log(p1) + 0.5 * math.log(p2)),
        3: math.exp((math.log(p1) + math.log(p2) + math.log(p3)) / 3),
        4: math.exp((math.log(p1) + math.log(p2) + math.log(p3) + math.log(p4)) / 4),
    }
    got = ref.scores(hyp)
    for n in (2, 3, 4):
        assert got[n] == pytest.approx(expected[n], rel=TOL, abs=TOL)
        assert ref.score(hyp, n) == got[n]
        assert sentence_bleu(refs, hyp, n) == got[n]
    assert expected[2] == pytest.approx(math.sqrt(2 / 3), rel=TOL)


def test_brevity_penalty_and_short_hypotheses():
    # hypothesis of 2 tokens, closest reference 3 tokens: bp = exp(1 - 3/2); p1 = p2 = 1
    assert sentence_bleu([[1, 2, 3], [1, 2, 3, 4, 5, 6]], [1, 2], 2) == pytest.approx(math.exp(1 - 3 / 2), rel=TOL)
    # a 1-token hypothesis has no bigram: NLTK's denominator is clamped to 1 and method1 gives
    # p2 = 0.1, so even an exact match of a 1-token reference scores sqrt(0.1), not 1
    assert sentence_bleu([[7]], [7], 2) == pytest.approx(math.sqrt(0.1), rel=TOL)
    # equal lengths: bp = exp(0) = 1
    assert sentence_bleu([[1, 9]], [1, 2], 2) == pytest.approx(math.sqrt(0.5 * 0.1), rel=TOL)


def test_zero_cases():
    ref = BleuReference([[1, 2, 3]], max_n=4)
    assert ref.scores([]) == {2: 0.0, 3: 0.0, 4: 0.0}  # empty hypothesis
    assert ref.scores([8, 9]) == {2: 0.0, 3: 0.0, 4: 0.0}  # no unigram match: 0, no smoothing


def test_self_bleu_hand_worked():
    # two copies and a stranger: each copy finds the other (1.0), the stranger matches nothing (0)
    per = self_bleu_scores([[1, 2], [1, 2], [3, 4]], max_n=2)
    assert per == [{2: 1.0}, {2: 1.0}, {2: 0.0}]
    assert self_bleu([[1, 2], [1, 2], [3, 4]], max_n=2)["bleu2"] == pytest.approx(2 / 3, rel=TOL)

    # the largest count of a unigram is reached by one hypothesis only: leaving it out clips to
    # the second largest. h0 = 5 5 5 against {5}, {5 6}: unigram 1/3, bigram (5,5) x2 unmatched
    # -> 0.1/2; lengths 1 and 2, closest to 3 is 2, bp = 1
    per = self_bleu_scores([[5, 5, 5], [5], [5, 6]], max_n=2)
    assert per[0][2] == pytest.approx(math.sqrt((1 / 3) * (0.1 / 2)), rel=TOL)
    # h1 = 5 against {5 5 5}, {5 6}: p1 = 1, no bigram -> 0.1/1; of the lengths 3 and 2 the
    # closest to 1 is 2, bp = exp(1 - 2/1)
    assert per[1][2] == pytest.approx(math.exp(1 - 2) * math.sqrt(0.1), rel=TOL)

    # the largest count is reached by two hypotheses: leaving one out keeps it
    per = self_bleu_scores([[5, 5, 5], [5, 5, 5], [5]], max_n=2)
    assert per[0][2] == 1.0 and per[1][2] == 1.0
    # h2 = 5 against two copies of 5 5 5: p1 = 1, p2 = 0.1, length 3 -> bp = exp(1 - 3)
    assert per[2][2] == pytest.approx(math.exp(1 - 3) * math.sqrt(0.1), rel=TOL)


def test_leave_one_out_reference_length():
    # h0 = 1 2 3 4 against {1 2 3 4 5}, {7}: p1 = p2 = 1. Its own length (4) is not available,
    # so the closest reference length is 5 and bp = exp(1 - 5/4)
    hyps = [[1, 2, 3, 4], [1, 2, 3, 4, 5], [7]]
    assert self_bleu_scores(hyps, max_n=2)[0][2] == pytest.approx(math.exp(1 - 5 / 4), rel=TOL)
    # another hypothesis of length 4 makes 4 the closest length: bp = exp(1 - 4/4) = 1
    assert self_bleu_scores(hyps + [[9, 9, 9, 9]], max_n=2)[0][2] == 1.0


def test_errors():
    with pytest.raises(ValueError):
        BleuReference([], max_n=4)
    with pytest.raises(ValueError):
        BleuReference([[1]], max_n=2).score([1], 3)
    with pytest.raises(ValueError):
        self_bleu([[1, 2]])
    with pytest.raises(ValueError):
        mean_bleu([[1, 2]], [])
    with pytest.raises(ValueError):
        mean_bleu([[1, 2]], [[1, 2]], max_n=1)


# --------------------------------------------------------------------------------------------
# Against NLTK.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_random_small_cases_match_nltk(nltk_bleu, seed):
    rng = random.Random(seed)
    max_n = 5
    checked = 0
    short_hyps = set()
    for _ in range(300):
        vocab = rng.randint(2, 6)
        refs = [random_sentence(rng, vocab, 10) for _ in range(rng.randint(1, 6))]
        ref = BleuReference(refs, max_n=max_n)
        hyps = [random_sentence(rng, vocab, 12) for _ in range(3)]
        hyps += [[rng.randrange(vocab) for _ in range(k)] for k in (0, 1, 2, 3)]
        for hyp in hyps:
            if len(hyp) <= 3:
                short_hyps.add(len(hyp))
            got = ref.scores(hyp)
            assert sorted(got) == list(range(2, max_n + 1))
            for n in range(1, max_n + 1):
                want = nltk_bleu(refs, hyp, n)
                one = ref.score(hyp, n)
                assert abs(one - want) <= TOL, (refs, hyp, n, one, want)
                if n >= 2:
                    assert got[n] == one
                checked += 1
    assert short_hyps == {0, 1, 2, 3}
    assert checked == 300 * 7 * max_n


def test_string_tokens_and_length_ties_match_nltk(nltk_bleu):
    rng = random.Random(123)
    words = ["a", "the", "cat", "dog", "sat", "on"]
    for _ in range(300):
        # reference lengths spaced by 2 so that many hypotheses sit exactly between two of them
        base = rng.randint(1, 6)
        refs = [[rng.choice(words) for _ in range(base + 2 * j)] for j in range(rng.randint(1, 4))]
        hyp = [rng.choice(words) for _ in range(rng.randint(0, base + 8))]
        ref = BleuReference(refs, max_n=4)
        expected_len = min((len(r) for r in refs), key=lambda r: (abs(r - len(hyp)), r))
        assert ref.closest_length(len(hyp)) == expected_len
        for n in (2, 3, 4):
            assert abs(ref.score(hyp, n) - nltk_bleu(refs, hyp, n)) <= TOL


def test_real_captions_match_nltk(nltk_bleu):
    lines = read_lines(coco_file("test_coco.txt"))
    refs, hyps = lines[:200], lines[200:230]
    ref = BleuReference(refs, max_n=5)
    nonzero = 0
    for hyp in hyps:
        got = ref.scores(hyp)
        for n in range(2, 6):
            want = nltk_bleu(refs, hyp, n)
            assert abs(got[n] - want) <= TOL, (hyp, n, got[n], want)
            nonzero += want > 0.2
    assert nonzero > 30  # real overlaps, not just smoothed zeros
    means = mean_bleu(refs, hyps, max_n=5)
    for n in range(2, 6):
        want = math.fsum(nltk_bleu(refs, h, n) for h in hyps) / len(hyps)
        assert abs(means[f"bleu{n}"] - want) <= TOL


def brute_force_self_bleu(nltk_bleu, hyps, n):
    return [nltk_bleu(hyps[:i] + hyps[i + 1 :], hyps[i], n) for i in range(len(hyps))]


@pytest.mark.parametrize("seed", range(3))
def test_self_bleu_matches_brute_force_nltk(nltk_bleu, seed):
    rng = random.Random(1000 + seed)
    hyps = [random_sentence(rng, 5, 24) for _ in range(30)]  # some lengths occur once
    # duplicates (the max count reached twice) and a unique long one (its own length excluded)
    hyps[3] = list(hyps[7])
    hyps[11] = [0] * 15
    per = self_bleu_scores(hyps, max_n=4)
    means = self_bleu(hyps, max_n=4)
    for n in (2, 3, 4):
        want = brute_force_self_bleu(nltk_bleu, hyps, n)
        for i in range(len(hyps)):
            assert abs(per[i][n] - want[i]) <= TOL, (i, n, per[i][n], want[i])
        assert abs(means[f"bleu{n}"] - math.fsum(want) / len(want)) <= TOL


def test_self_bleu_real_captions_match_brute_force_nltk(nltk_bleu):
    hyps = read_lines(coco_file("test_coco.txt"))[300:330]
    means = self_bleu(hyps, max_n=4)
    for n in (2, 3, 4):
        want = brute_force_self_bleu(nltk_bleu, hyps, n)
        assert abs(means[f"bleu{n}"] - math.fsum(want) / len(want)) <= TOL


def test_mean_bleu_matches_mean_of_nltk(nltk_bleu):
    rng = random.Random(7)
    refs = [random_sentence(rng, 8, 14) for _ in range(40)]
    hyps = [random_sentence(rng, 8, 14) for _ in range(60)]
    got = mean_bleu(refs, hyps, max_n=4)
    assert sorted(got) == ["bleu2", "bleu3", "bleu4"]
    for n in (2, 3, 4):
        want = sum(nltk_bleu(refs, h, n) for h in hyps) / len(hyps)
        assert abs(got[f"bleu{n}"] - want) <= TOL


def test_cli_bleu_matches_nltk_and_reports_bad_files(tmp_path, capsys):
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    import json

    from seqgan.cli import main

    refs = ["a b c d e", "a b x d", "c d e f g h", "b c d"]
    hyps = ["a b c d", "c d e f", "x y"]
    (tmp_path / "refs.txt").write_text("\n".join(refs) + "\n", encoding="utf-8")
    (tmp_path / "hyps.txt").write_text("\n".join(hyps) + "\n\n", encoding="utf-8")
    assert (
        main(
            [
                "bleu",
                "--references",
                str(tmp_path / "refs.txt"),
                "--hypotheses",
                str(tmp_path / "hyps.txt"),
                "--max-n",
                "3",
                "--self",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    smooth = nltk_bleu.SmoothingFunction().method1
    r = [x.split() for x in refs]
    h = [x.split() for x in hyps]
    for n in (2, 3):
        w = (1.0 / n,) * n
        expected = sum(nltk_bleu.sentence_bleu(r, y, w, smoothing_function=smooth) for y in h) / len(h)
        assert abs(out[f"bleu{n}"] - expected) < 1e-12
        expected_self = sum(
            nltk_bleu.sentence_bleu(h[:i] + h[i + 1 :], y, w, smoothing_function=smooth) for i, y in enumerate(h)
        ) / len(h)
        assert abs(out[f"self_bleu{n}"] - expected_self) < 1e-12
    assert out["num_hypotheses"] == 3 and out["num_references"] == 4

    (tmp_path / "bad.txt").write_bytes(b"a b\n\xff c\n")
    assert main(["bleu", "--references", str(tmp_path / "refs.txt"), "--hypotheses", str(tmp_path / "bad.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.txt:2" in err and "byte offset 4" in err
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    assert main(["bleu", "--self", "--hypotheses", str(tmp_path / "empty.txt")]) == 2
    assert "empty" in capsys.readouterr().err
