"""``seqgan experiment NAME``: each experiment's sub-parser takes exactly its own flags, refuses
another's (argparse, exit 2), and its --help names only its own; the argument checks that run
before any training keep their one-line errors."""

from __future__ import annotations

import os
import re

import pytest

from seqgan import cli
from test_cli import assert_one_line_error, seqgan

JOBS = max(1, min(4, os.cpu_count() or 1))
SWEEP_DEFAULTS = {"budget": 1.0, "jobs": JOBS, "set": None, "data_dir": None}

# name -> (a command line giving every flag of the experiment, the values it parses to,
#          the values with no flag given)
EXPERIMENTS = {
    "table1": (
        [
            "--config",
            "c.yaml",
            "--seeds",
            "0,1",
            "--budget",
            "0.5",
            "--jobs",
            "3",
            "--set",
            "a=1",
            "--set",
            "b=2",
            "--data-dir",
            "d",
            "--device",
            "cuda",
            "--out",
            "o",
        ],
        {
            "config": "c.yaml",
            "seeds": "0,1",
            "budget": 0.5,
            "jobs": 3,
            "set": ["a=1", "b=2"],
            "data_dir": "d",
            "device": "cuda",
            "out": "o",
        },
        {**SWEEP_DEFAULTS, "config": None, "seeds": "3", "device": None, "out": "results/table1"},
    ),
    "strategies": (
        [
            "--config",
            "c.yaml",
            "--seed",
            "4",
            "--budget",
            "0.2",
            "--updates",
            "50",
            "--jobs",
            "1",
            "--set",
            "a=1",
            "--data-dir",
            "d",
            "--out",
            "o",
        ],
        {
            "config": "c.yaml",
            "seed": 4,
            "budget": 0.2,
            "updates": 50,
            "jobs": 1,
            "set": ["a=1"],
            "data_dir": "d",
            "out": "o",
        },
        {
            **SWEEP_DEFAULTS,
            "config": "configs/synthetic_quick.yaml",
            "seed": 0,
            "updates": 200,
            "out": "results/strategies",
        },
    ),
    "temperature": (
        ["--runs", "r1", "r2", "--temperatures", "0.7,1.0", "--num", "100", "--seed", "3", "--out", "o"],
        {"runs": ["r1", "r2"], "temperatures": "0.7,1.0", "num": 100, "seed": 3, "out": "o"},
        {"runs": None, "temperatures": None, "num": 2000, "seed": 0, "out": "results/temperature"},
    ),
    "own-start": (
        ["--runs", "r", "--temperatures", "0.8,1.0", "--num", "100", "--seed", "3", "--out", "o"],
        {"runs": "r", "temperatures": "0.8,1.0", "num": 100, "seed": 3, "out": "o"},
        {"runs": None, "temperatures": None, "num": 2000, "seed": 0, "out": None},
    ),
    "real": (
        ["--runs", "r", "--temperatures", "0.8,1.0", "--num", "100", "--seed", "3", "--out", "o"],
        {"runs": "r", "temperatures": "0.8,1.0", "num": 100, "seed": 3, "out": "o"},
        {"runs": None, "temperatures": None, "num": 1000, "seed": 0, "out": None},
    ),
    "rewards": (
        [
            "--run",
            "r",
            "--reference",
            "32",
            "--repeats",
            "2",
            "--batches",
            "4",
            "--fit-batches",
            "5",
            "--batch",
            "16",
            "--seed",
            "2",
            "--set",
            "a=1",
            "--out",
            "o",
        ],
        {
            "run": "r",
            "reference": 32,
            "repeats": 2,
            "batches": 4,
            "fit_batches": 5,
            "batch": 16,
            "seed": 2,
            "set": ["a=1"],
            "out": "o",
        },
        {
            "run": None,
            "reference": 1024,
            "repeats": 8,
            "batches": 32,
            "fit_batches": 32,
            "batch": 0,
            "seed": 0,
            "set": None,
            "out": "results/rewards",
        },
    ),
    "rewards-train": (
        [
            "--config",
            "c.yaml",
            "--seeds",
            "2",
            "--budget",
            "0.3",
            "--jobs",
            "2",
            "--set",
            "a=1",
            "--data-dir",
            "d",
            "--settings",
            "mc,td",
            "--num",
            "300",
            "--out",
            "o",
        ],
        {
            "config": "c.yaml",
            "seeds": "2",
            "budget": 0.3,
            "jobs": 2,
            "set": ["a=1"],
            "data_dir": "d",
            "settings": "mc,td",
            "num": 300,
            "out": "o",
        },
        {
            **SWEEP_DEFAULTS,
            "config": "configs/synthetic_quick.yaml",
            "seeds": "3",
            "settings": None,
            "num": 2000,
            "out": "results/rewards/train",
        },
    ),
    "penalty": (
        [
            "--config",
            "c.yaml",
            "--penalties",
            "none,r1",
            "--seeds",
            "1",
            "--budget",
            "0.3",
            "--jobs",
            "2",
            "--set",
            "a=1",
            "--data-dir",
            "d",
            "--out",
            "o",
        ],
        {
            "config": "c.yaml",
            "penalties": "none,r1",
            "seeds": "1",
            "budget": 0.3,
            "jobs": 2,
            "set": ["a=1"],
            "data_dir": "d",
            "out": "o",
        },
        {
            **SWEEP_DEFAULTS,
            "config": "configs/synthetic_quick.yaml",
            "penalties": "none,r1,zero_gp,wgan_gp",
            "seeds": "3",
            "out": "results/penalty",
        },
    ),
    "tuning": (
        ["--studies", "A=x", "B=y", "--untuned", "u", "--out", "o"],
        {"studies": ["A=x", "B=y"], "untuned": "u", "out": "o"},
        {"studies": None, "untuned": None, "out": "results/tuning"},
    ),
    "tuning-symmetric": (
        [
            "--studies",
            "A=x",
            "B=y",
            "--temperatures",
            "0.9,1",
            "--num",
            "50",
            "--seed",
            "4",
            "--confirm-seeds",
            "7,8",
            "--confirm-max",
            "1",
            "--jobs",
            "1",
            "--data-dir",
            "d",
            "--out",
            "o",
        ],
        {
            "studies": ["A=x", "B=y"],
            "temperatures": "0.9,1",
            "num": 50,
            "seed": 4,
            "confirm_seeds": "7,8",
            "confirm_max": 1,
            "jobs": 1,
            "data_dir": "d",
            "out": "o",
        },
        {
            "studies": None,
            "temperatures": None,
            "num": 2000,
            "seed": 0,
            "confirm_seeds": None,
            "confirm_max": 3,
            "jobs": 2,
            "data_dir": None,
            "out": "results/tuning_symmetric",
        },
    ),
    "benchmark": (
        ["--config", "c.yaml", "--seeds", "0,1", "--jobs", "2", "--set", "a=1", "--data-dir", "d", "--out", "o"],
        {"config": "c.yaml", "seeds": "0,1", "jobs": 2, "set": ["a=1"], "data_dir": "d", "out": "o"},
        {
            "config": "configs/texygen_coco.yaml",
            "seeds": "0,1,2,3,4",
            "jobs": 1,
            "set": None,
            "data_dir": None,
            "out": None,
        },
    ),
    "kl": (
        [
            "--config", "c.yaml", "--seeds", "40,41", "--jobs", "1", "--num", "50", "--seed", "4", "--set", "a=1",
            "--data-dir", "d", "--out", "o", "--report-only",
        ],
        {
            "config": "c.yaml", "seeds": "40,41", "jobs": 1, "num": 50, "seed": 4, "set": ["a=1"],
            "data_dir": "d", "report_only": True, "out": "o",
        },
        {
            "config": "configs/synthetic_quick.yaml", "seeds": None, "jobs": 2, "num": 2000, "seed": 0, "set": None,
            "data_dir": None, "report_only": False, "out": "results/kl",
        },
    ),
}  # fmt: skip
# one value of each flag, for giving it to an experiment that does not take it
FLAG_VALUES = {a: b for argv, _, _ in EXPERIMENTS.values() for a, b in zip(argv, argv[1:]) if a.startswith("--")}


def flags(name: str) -> set[str]:
    return {a for a in EXPERIMENTS[name][0] if a.startswith("--")}


def parse(*argv: str) -> dict:
    args = vars(cli.build_parser().parse_args(["experiment", *argv]))
    assert (args.pop("command"), args.pop("name")) == ("experiment", argv[0])
    return args


def test_the_experiments_are_the_clis():
    assert list(EXPERIMENTS) == list(cli.EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_each_experiment_parses_exactly_its_own_flags(name):
    argv, given, defaults = EXPERIMENTS[name]
    args = parse(name, *argv)
    assert args.pop("func") is getattr(cli, "_experiment_" + name.replace("-", "_"))
    assert args == given
    args = parse(name)
    args.pop("func")
    assert args == defaults


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_another_experiments_flag_is_an_argparse_error(name, capsys):
    foreign = sorted(set(FLAG_VALUES) - flags(name))
    assert foreign
    for flag in foreign:
        with pytest.raises(SystemExit) as exit_:
            parse(name, flag, FLAG_VALUES[flag])
        assert exit_.value.code == 2, flag
        assert f"unrecognized arguments: {flag}" in capsys.readouterr().err


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_an_experiments_help_names_only_its_own_flags(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(name, "--help")
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert cli.EXPERIMENTS[name] in " ".join(text.split())
    named = set(re.findall(r"--[a-z][a-z-]*", text)) - {"--help"}
    assert flags(name) <= named
    assert not named & (set(FLAG_VALUES) - flags(name)), named - flags(name)


def test_experiment_help_lists_each_experiment_on_one_line(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "60")  # narrower than the lines: they must not wrap
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["experiment", "--help"])
    lines = capsys.readouterr().out.splitlines()
    for name, line in cli.EXPERIMENTS.items():
        assert [s for s in lines if s.split()[:1] == [name]] == [f"  {name:<14} {line}"]
    assert not any(f in " ".join(lines) for f in FLAG_VALUES)


def test_a_foreign_flag_fails_the_command_with_exit_2(tmp_path):
    proc = seqgan("experiment", "table1", "--runs", "x", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "seqgan: error: unrecognized arguments: --runs x"


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["table1", "--jobs", "0"], "--jobs must be at least 1, got 0"),
        (["strategies", "--jobs", "0"], "--jobs must be at least 1, got 0"),
        (["rewards-train", "--jobs", "0"], "--jobs must be at least 1, got 0"),
        (["penalty", "--jobs", "0"], "--jobs must be at least 1, got 0"),
        (["temperature", "--runs", "r", "--temperatures", "1.0,0"], "--temperatures must be positive, got 1.0,0"),
        (["tuning"], "experiment tuning needs --studies"),
        (["tuning", "--studies", "a"], "--studies: give LABEL=STUDY_DIR, got a"),
    ],
)
def test_argument_checks_are_one_line_errors(argv, needle, tmp_path):
    assert_one_line_error(seqgan("experiment", *argv, cwd=tmp_path), needle)
