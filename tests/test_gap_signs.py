"""One sign for every gap (docs/results.md, "Gaps"): a model minus its control, negative better. Where two
committed files give the same gap, they give it with the same sign: a study's .json against its .md, one
study's sweep against another study that reads it, and the results against the README and the docs.

A gap that rounds to 0.000 has no sign to compare. Two readings of one gap from different sweeps (a
single sweep's curve against the mean of two) are compared where both lie beyond their sampling noise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
OWN_START_SEEDS = (10, 11, 12, 13, 14)


def number(text: str) -> float:
    """A figure as the files write it: an ASCII hyphen or U+2212 for minus, a ± tail dropped."""
    return float(text.split("±")[0].strip().replace("\u2212", "-"))


def sign(value: float, noise: float = 0.0005) -> int:
    """+1, -1, or 0 where the value lies within ``noise`` of zero (0.0005: it rounds to 0.000)."""
    return 0 if abs(value) < noise else (1 if value > 0 else -1)


def same_sign(readings: dict[str, float], noise: float = 0.0005) -> None:
    signs = {where: sign(v, noise) for where, v in readings.items()}
    assert len({s for s in signs.values() if s}) <= 1, f"one gap, two signs: {readings}"


def table_rows(text: str, first_cell: str) -> list[list[str]]:
    """The cells of each markdown table row whose first cell is ``first_cell``."""
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith(f"| {first_cell} |")
    ]


def test_the_temperature_study_json_md_docs_and_readme_agree():
    summary = json.loads((RESULTS / "temperature" / "temperature.json").read_text())
    md = (RESULTS / "temperature" / "temperature.md").read_text()
    docs = (ROOT / "docs" / "results.md").read_text()
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text())
    per_seed = re.search(r"SeqGAN − that curve is (\S+), (\S+) and (\S+) nats", readme).groups()
    for i, run in enumerate(summary["per_run"]):
        (md_row,) = table_rows(md, run["run"])
        (docs_row,) = table_rows(docs, f"seed {i}")
        for j, label in enumerate(("pretrained", "MLE")):
            readings = {
                "temperature.json": run["gap"][label],
                "temperature.md": number(md_row[3 + j]),
                "docs/results.md": number(docs_row[2 + j]),
            }
            if label == "pretrained":
                readings["README.md"] = number(per_seed[i])
            same_sign(readings)


def test_the_own_start_sweeps_json_md_and_docs_agree():
    summary = json.loads((RESULTS / "own_start" / "own_start.json").read_text())
    md = (RESULTS / "own_start" / "own_start.md").read_text()
    for s in summary["per_seed"]:
        rows = {r[1]: r for r in table_rows(md, str(s["seed"]))}
        for arm in ("paper", "tuned"):
            a = s["arms"][arm]
            same_sign({"own_start.json": a["gap_t1"], "own_start.md": number(rows[arm][6])})
            # the arm's own sweep (temperature.json, written by the temperature study) reads the same gap
            # from sweep A or B alone, over the whole curve: compared beyond the gap's sampling noise
            path = RESULTS / "own_start" / "own_start_sweeps" / f"seed{s['seed']}" / arm / "temperature.json"
            sweep = json.loads(path.read_text())["per_run"][0]["gap"]["pretrained"]
            same_sign({"own_start.json": a["gap_t1"], str(path.relative_to(ROOT)): sweep}, noise=a["gap_t1_se"])
        same_sign(
            {"own_start.json": s["tuned_minus_paper"]["gap_t1"], "own_start.md": number(rows["tuned - paper"][6])}
        )
    docs = (ROOT / "docs" / "results.md").read_text()
    for label, key in (("paper settings, T = 1", "gap_t1/paper"), ("tuned settings, T = 1", "gap_t1/tuned"),
                       ("tuned - paper (paired), T = 1", "gap_t1/tuned - paper"),
                       ("paper settings, whole tempered curve", "gap_curve/paper"),
                       ("tuned settings, whole tempered curve", "gap_curve/tuned")):  # fmt: skip
        (docs_row,) = table_rows(docs, label)
        (md_row,) = [r for r in table_rows(md, key.split("/")[0].replace("gap_t1", "gap at T = 1").replace(
            "gap_curve", "mean gap of the tempered curve")) if r[1] == key.split("/")[1]]  # fmt: skip
        same_sign(
            {
                "own_start.json": summary["summary"][key]["mean"],
                "own_start.md": number(md_row[3]),
                "docs/results.md": number(docs_row[1]),
            }  # fmt: skip
        )


@pytest.mark.parametrize("task", ["poems", "obama", "nottingham", "coco"])
def test_the_real_study_json_md_and_readme_agree(task):
    summary = json.loads((RESULTS / "real_seeds" / "real.json").read_text())["tasks"][task]
    md = (RESULTS / "real_seeds" / "real.md").read_text()
    section = md[md.index(f"## {task}\n") :].split("\n## ")[0]
    readme_row = next(r for r in table_rows((ROOT / "README.md").read_text(), task))
    bleu4 = next(r for r in table_rows(section, "BLEU-4") if len(r) == 7)
    same_sign({"real.json": summary["metrics"]["bleu4"]["gap"], "real.md": number(bleu4[4]),
               "README.md": number(readme_row[2].split("(")[0])})  # fmt: skip
    nll = next(r for r in table_rows(section, "NLL-test") if len(r) == 7)
    same_sign({"real.json": summary["metrics"]["nll_test"]["gap"], "real.md": number(nll[4]),
               "README.md": number(readme_row[3].split("(")[0])})  # fmt: skip
    for base, column, label in (("nll_test", 4, "NLL-test"), ("self_bleu", 5, "Self-BLEU")):
        gap = summary["gaps"][f"bleu4@{base}"]
        (md_row,) = [r for r in table_rows(section, "BLEU-4") if r[1] == label]
        same_sign({"real.json": gap["mean"], "real.md": number(md_row[5]),
                   "README.md": number(readme_row[column].split("(")[0].split("[")[0])})  # fmt: skip
        for seed, value in gap["per_seed"].items():  # per seed, against the run's own figures
            run = json.loads((RESULTS / "real_seeds" / task / f"seed{seed}" / "results.json").read_text())
            curve = next(r for r in summary["runs"] if r["seed"] == int(seed))["gaps"][f"bleu4@{base}"]["curve"]
            if value is not None:
                same_sign(
                    {"real.json": value, "control minus SeqGAN in BLEU-4": curve - run["rows"]["SeqGAN"]["bleu4"]}
                )


def test_the_symmetric_study_json_and_md_agree():
    summary = json.loads((RESULTS / "tuning_symmetric" / "symmetric.json").read_text())
    md = (RESULTS / "tuning_symmetric" / "symmetric.md").read_text()
    starts = [c for c in summary["confirmation"] if c.get("start")]
    assert starts
    for c in starts:
        (row,) = [
            r
            for r in table_rows(md, c["study"])
            if len(r) == 8 and r[1:3] == [str(c["trial"]), f"{c['temperature']:g}"]
        ]
        for k, column in (("nll_oracle", 5), ("nll_test", 6)):
            fresh = [p[0 if k == "nll_oracle" else 1] for p in c["fresh"]]
            start = [p[0 if k == "nll_oracle" else 1] for p in c["start"]["fresh"]]
            same_sign(
                {
                    "symmetric.json": c["start"][f"{k}_diff"]["mean"],
                    "symmetric.md": number(row[column].split("(")[0]),
                    "adversarial minus start, from the fresh points": sum(fresh) / 3 - sum(start) / 3,
                }  # fmt: skip
            )
