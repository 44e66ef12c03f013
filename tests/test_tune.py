"""``seqgan tune``: the search-space file's one-line errors, two worker processes sharing one journal
study, a worker SIGKILLed mid-trial (its trial failed by the heartbeat and retried, resuming the
killed run), two workers against a real PostgreSQL server, the Pareto search with confirmation
seeds, and the message when Optuna is missing. Every study runs a handful of smoke trials."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from seqgan.config import ConfigError, load_config
from seqgan.tuning import search_space, tune

optuna = pytest.importorskip("optuna", reason="seqgan tune's tests need Optuna: pip install -e '.[test]'")

REPO = Path(__file__).resolve().parent.parent
SMOKE = REPO / "configs" / "synthetic_smoke.yaml"
SPACE = REPO / "configs" / "tune" / "smoke.yaml"
# a trial of a few seconds: no baseline rows, 3 rounds, evaluations every round
FAST = ["baselines.rows=[]", "train.rounds=3", "eval.every=1", "threads=1"]
FAST_SET = [a for o in FAST for a in ("--set", o)]


def env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def tune_cmd(study_dir: Path, *extra) -> list[str]:
    return [
        sys.executable,
        "-m",
        "seqgan.cli",
        "tune",
        str(SMOKE),
        "--space",
        str(SPACE),
        "--dir",
        str(study_dir),
        "--study",
        "smoke",
        *FAST_SET,
        *map(str, extra),
    ]


def journal_study(study_dir: Path, name: str = "smoke"):
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return optuna.load_study(
        study_name=name, storage=JournalStorage(JournalFileBackend(str(study_dir / "journal.log")))
    )


def counted(study) -> list:
    return [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]


# -- the search space --------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text,needle",
    [
        (
            "generator.lr: {low: 0.001, high: 0.1}\ntrain.roundz: {low: 1, high: 3}\n",
            ":2: key 'train.roundz': unknown config key",
        ),
        ("train.rounds: {low: 5, high: 3}\n", ":1: key 'train.rounds': empty range (low 5 >= high 3)"),
        ("train.rounds: {low: 1.5, high: 3}\n", ":1: key 'train.rounds': low 1.5 does not match the key's type (int)"),
        (
            "\n\ndiscriminator.gradient_penalty: {choices: [none, 3]}\n",
            ":3: key 'discriminator.gradient_penalty': choice 3 does not match",
        ),
        (
            "discriminator.gradient_penalty: [none, r2]\n",
            ":1: key 'discriminator.gradient_penalty': 'r2' is not a valid setting",
        ),
        ("generator.lr: {low: 0.0, high: 0.1, log: true}\n", ":1: key 'generator.lr': a log range needs low > 0"),
        ("generator.lr: {low: 0.01, hi: 0.1}\n", ":1: key 'generator.lr': unknown field(s) hi"),
        ("discriminator.filter_sizes: {choices: [1, 2]}\n", "only number, string and true/false keys"),
    ],
)
def test_bad_space_is_an_error_naming_file_and_line(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        search_space.load_space(path, str(SMOKE))
    assert str(e.value).startswith(f"space {path}"), str(e.value)
    assert needle in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_bad_space_from_the_command_line_is_one_line_on_stderr(tmp_path):
    path = write(tmp_path, "generator.lr: {low: 0.01, high: 0.1, log: true}\ntrain.rounds: {low: 4, high: 2}\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqgan.cli",
            "tune",
            str(SMOKE),
            "--space",
            str(path),
            "--trials",
            "2",
            "--dir",
            str(tmp_path / "study"),
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"seqgan: error: space {path}:2: key 'train.rounds': empty range (low 4 >= high 2)"
    ]
    assert not (tmp_path / "study").exists()


def test_report_of_a_study_that_never_ran_is_one_line(tmp_path):
    proc = subprocess.run(
        tune_cmd(tmp_path / "study", "--trials", 2, "--report"), env=env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"seqgan: error: tune --report: {tmp_path / 'study' / 'journal.log'} does not exist "
        f"(no study has run in {tmp_path / 'study'})"
    ]
    assert not (tmp_path / "study").exists()
    # a study whose workers are still on their first trials: nothing to tabulate yet, and it says so
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    (tmp_path / "study").mkdir()
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "study" / "journal.log")))
    optuna.create_study(study_name="smoke", storage=storage).ask()
    proc = subprocess.run(
        tune_cmd(tmp_path / "study", "--trials", 2, "--report"), env=env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "study smoke in " in proc.stdout and "no complete trial yet (" in proc.stdout and "1 running" in proc.stdout
    assert "0 complete" in proc.stdout and proc.stdout.rstrip().endswith("partial: 0 of 2 trials")
    assert not (tmp_path / "study" / "summary.json").exists()


def test_space_suggests_the_config_types():
    space = {p.key: p for p in search_space.load_space(SPACE, str(SMOKE))}
    trial = optuna.trial.FixedTrial(
        {
            "generator.lr": 0.01,
            "train.d_steps": 2,
            "train.rollout_update_rate": 0.4,
            "discriminator.gradient_penalty": "r1",
        }
    )
    assert space["generator.lr"].log and space["train.d_steps"].type is int
    assert [p.suggest(trial) for p in space.values()] == [0.01, 2, 0.4, "r1"]
    with pytest.raises(ValueError, match="unknown metric"):
        tune.parse_objectives("perplexity")
    assert tune.parse_objectives("nll_oracle,bleu4,self_bleu2:max") == [
        ("nll_oracle", "minimize"),
        ("bleu4", "maximize"),
        ("self_bleu2", "maximize"),
    ]


def test_missing_optuna_is_one_line(monkeypatch, capsys):
    from seqgan.cli import main

    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert main(["tune", str(SMOKE), "--space", str(SPACE), "--trials", "1"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "seqgan: error: seqgan tune needs Optuna: pip install 'seqgan[tune]' (or pip install optuna)"
    )


# -- studies ---------------------------------------------------------------------------------------


def test_two_workers_share_one_journal_study(tmp_path):
    study_dir = tmp_path / "study"
    proc = subprocess.run(
        tune_cmd(study_dir, "--trials", 4, "--workers", 2),
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = journal_study(study_dir)
    done = counted(study)
    assert 4 <= len(done) <= 5, [t.state for t in study.trials]  # a second worker may have started one more
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2  # both workers ran trials
    assert proc.stdout.count("[trial ") == len(study.trials)  # a progress line per finished trial
    for t in study.trials:
        run_dir = Path(t.user_attrs["run_dir"])
        assert run_dir.parent == study_dir and (run_dir / "checkpoint.pt").exists()
        if t.state == optuna.trial.TrialState.COMPLETE:  # an ordinary run: its results are the trial's value
            results = json.loads((run_dir / "results.json").read_text())
            assert results["rows"]["SeqGAN"]["nll_oracle"] == pytest.approx(t.value)
    best = min((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE), key=lambda t: t.value)
    cfg = load_config(study_dir / "best.yaml")  # seqgan train takes it as it is
    assert cfg.generator.lr == best.params["generator.lr"] and cfg.train.rounds == 3
    assert cfg.discriminator.gradient_penalty == best.params["discriminator.gradient_penalty"]
    assert f"| {best.number} | {best.value:.4f} |" in (study_dir / "best.md").read_text()
    from seqgan.runtime.hardware import machine

    complete = sorted(t.number for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    assert json.loads((study_dir / "summary.json").read_text())["machines"] == {machine(): complete}
    assert f"Trials ran on: {machine()} (trial" in (study_dir / "best.md").read_text()
    for png in ("history_nll_oracle.png", "importances.png"):
        assert (study_dir / png).stat().st_size > 1000, png
    # the same command again continues the study: it has its trials, so it only reports
    again = subprocess.run(
        tune_cmd(study_dir, "--trials", 4, "--workers", 2),
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert (
        again.returncode == 0
        and "[trial " not in again.stdout
        and len(journal_study(study_dir).trials) == len(study.trials)
    )


def signal_mid_trial(cmd: list[str], run_dir: Path, log_path: Path, sig: int) -> tuple[bool, subprocess.Popen]:
    """Start ``cmd`` and send ``sig`` once trial 0 (``run_dir``) has checkpointed its first adversarial
    rounds; whether it got there and was still running then, and the finished process. (The wait is
    sized for a loaded machine, where start-up and pre-training take several times as long; a run
    that never got there is stopped and reported as not alive, not taken for one signalled mid-trial.)"""
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, env=env(), stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent)
    deadline = time.monotonic() + 300
    reached = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            metrics = run_dir / "metrics.jsonl"
            if metrics.exists() and '"round": 2' in metrics.read_text():
                reached = True
                break
            time.sleep(0.05)
        alive = reached and proc.poll() is None
        proc.send_signal(sig)
        proc.wait(timeout=120)
    finally:
        log.close()
    return alive, proc


def test_sigkilled_worker_trial_is_failed_and_retried(tmp_path):
    study_dir = tmp_path / "study"
    cmd = tune_cmd(
        study_dir,
        "--trials",
        2,
        "--heartbeat",
        1,
        "--grace",
        2,
        "--pruner",
        "none",
        "--set",
        "train.rounds=12",
        "--set",
        "eval.checkpoint_every=1",
    )
    killed_dir = study_dir / "trial-0000"
    alive, proc = signal_mid_trial(cmd, killed_dir, tmp_path / "worker.log", signal.SIGKILL)
    assert alive, (tmp_path / "worker.log").read_text()[-3000:]
    assert not (killed_dir / "results.json").exists()
    assert journal_study(study_dir).trials[0].state == optuna.trial.TrialState.RUNNING  # nobody has noticed yet
    time.sleep(2.5)  # past the grace period
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    trials = journal_study(study_dir).trials
    assert trials[0].state == optuna.trial.TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == 0]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.COMPLETE, [
        (t.number, t.state) for t in trials
    ]
    assert retries[0].params == trials[0].params and retries[0].user_attrs["run_dir"] == str(killed_dir)
    assert len(counted(journal_study(study_dir))) == 2
    # the retry resumed the killed run: one metrics line per evaluation, none twice
    steps = [(r["phase"], r["step"]) for r in map(json.loads, (killed_dir / "metrics.jsonl").read_text().splitlines())]
    assert len(steps) == len(set(steps)) and ("adversarial", 4 + 12) in steps


def test_a_trial_stopped_by_sigterm_is_queued_again_and_resumed_by_the_same_command(tmp_path):
    study_dir = tmp_path / "study"
    cmd = tune_cmd(
        study_dir, "--trials", 1, "--pruner", "none", "--set", "train.rounds=12", "--set", "eval.checkpoint_every=1"
    )
    stopped_dir = study_dir / "trial-0000"
    # SIGTERM finishes the round, checkpoints and stops
    alive, proc = signal_mid_trial(cmd, stopped_dir, tmp_path / "worker.log", signal.SIGTERM)
    text = (tmp_path / "worker.log").read_text()
    assert alive and proc.returncode != 0, text[-3000:]
    assert "[trial 0] stopped with a checkpoint in" in text and not (stopped_dir / "results.json").exists()
    trials = journal_study(study_dir).trials
    assert [t.state for t in trials] == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.WAITING]
    assert trials[1].params == trials[0].params and trials[1].user_attrs["run_dir"] == str(stopped_dir)
    # the same command again: the queued trial resumes the stopped run, and the study is done
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    trials = journal_study(study_dir).trials
    assert len(trials) == 2 and trials[1].state == optuna.trial.TrialState.COMPLETE
    assert not list(study_dir.glob("trial-0001*"))  # no new run was started
    steps = [(r["phase"], r["step"]) for r in map(json.loads, (stopped_dir / "metrics.jsonl").read_text().splitlines())]
    assert len(steps) == len(set(steps)) and ("adversarial", 4 + 12) in steps
    assert trials[1].values[0] == json.loads((stopped_dir / "results.json").read_text())["rows"]["SeqGAN"]["nll_oracle"]


def test_a_continued_study_does_not_draw_its_start_up_points_again(tmp_path):
    study_dir = tmp_path / "study"
    for trials in (1, 2):  # the same command, asked for one trial more
        proc = subprocess.run(
            tune_cmd(study_dir, "--trials", trials, "--set", "train.rounds=1"),
            env=env(),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        if trials == 1:  # between the two: a report of the study as it stands runs no trial and says it is partial
            proc = subprocess.run(
                tune_cmd(study_dir, "--trials", 3, "--set", "train.rounds=1", "--report"),
                env=env(),
                capture_output=True,
                text=True,
                timeout=300,
                cwd=tmp_path,
            )
            assert proc.returncode == 0, proc.stderr[-3000:]
            summary = json.loads((study_dir / "summary.json").read_text())
            assert (summary["partial"], summary["counted_trials"], summary["target_trials"]) == (True, 1, 3)
            assert len(journal_study(study_dir).trials) == 1 and "--report" not in summary["command"]
            assert (
                "(partial: 1 of 3 trials)" in (study_dir / "best.md").read_text() and "partial: 1 of 3" in proc.stdout
            )
    first, second = journal_study(study_dir).trials
    assert first.params != second.params  # the seeded sampler restarted would draw trial 0's point again


def test_pareto_search_and_confirmation_seeds(tmp_path):
    study_dir = tmp_path / "study"
    proc = subprocess.run(
        tune_cmd(
            study_dir, "--trials", 2, "--workers", 2, "--objectives", "nll_oracle,nll_test", "--confirm-seeds", "7"
        ),
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    study = journal_study(study_dir)
    assert study.directions == [optuna.study.StudyDirection.MINIMIZE] * 2 and 2 <= len(counted(study)) <= 3
    front = {t.number for t in study.best_trials}
    best_md = (study_dir / "best.md").read_text()
    assert "(Pareto front)" in best_md and all(f"| {n} | " in best_md for n in front)
    assert (study_dir / "pareto.png").stat().st_size > 1000 and (study_dir / "history_nll_test.png").exists()
    confirm = json.loads((study_dir / "confirm" / "seed7" / "results.json").read_text())
    summary = json.loads((study_dir / "summary.json").read_text())
    assert summary["confirmation"]["nll_oracle"]["values"] == [confirm["rows"]["SeqGAN"]["nll_oracle"]]
    assert load_config(study_dir / "confirm" / "seed7" / "config.yaml").seed == 7
    # a report of the finished study keeps its confirmation (same best trial) and is not partial
    proc = subprocess.run(
        tune_cmd(study_dir, "--trials", 2, "--objectives", "nll_oracle,nll_test", "--report"),
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    reported = json.loads((study_dir / "summary.json").read_text())
    assert reported["confirmation"] == summary["confirmation"] and reported["partial"] is False
    assert (study_dir / "best.md").read_text().endswith(
        (study_dir / "confirm.md").read_text()
    ) and "partial" not in proc.stdout


# -- PostgreSQL ------------------------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url(system_package):
    """A throwaway PostgreSQL server on a local port, run as a non-root user, for this module."""
    pytest.importorskip("psycopg", reason="the PostgreSQL test needs psycopg: pip install -e '.[test]'")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    system_package(bool(initdb and pg_ctl), "PostgreSQL's server (initdb, pg_ctl)", "postgresql")
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="seqgan-pg-")
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = None
        system_package(user is not None, "PostgreSQL's 'postgres' user (the server refuses root)", "postgresql")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = os.path.join(root, "data"), _free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)  # noqa: E731
    init = run(initdb, "-D", data, "-A", "trust", "-U", "seqgan", "--no-sync")
    started = (
        init.returncode == 0
        and run(
            pg_ctl,
            "-D",
            data,
            "-l",
            os.path.join(root, "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F",
            "start",
        ).returncode
        == 0
    )
    if not started:
        log = Path(root, "log").read_text() if Path(root, "log").exists() else init.stderr
        shutil.rmtree(root, ignore_errors=True)
        system_package(False, "PostgreSQL", "postgresql", f"did not start: {log.strip()[-300:]}")
    try:
        yield f"postgresql://seqgan@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_share_a_postgresql_study(tmp_path, postgres_url):
    study_dir = tmp_path / "study"
    proc = subprocess.run(
        tune_cmd(study_dir, "--trials", 3, "--workers", 2, "--storage", postgres_url),
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (study_dir / "journal.log").exists()  # the database holds the study
    study = optuna.load_study(study_name="smoke", storage=postgres_url)
    assert 3 <= len(counted(study)) <= 4 and len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert (study_dir / "best.yaml").exists()


# -- the comparison's pieces -------------------------------------------------------------------------


def test_comparison_finds_front_points_no_other_front_dominates(tmp_path):
    from seqgan.studies import tuning_comparison

    def study(name: str, points: list[tuple[float, float]], front: list[int]) -> Path:
        d = tmp_path / name
        d.mkdir()
        trials = [{"number": i, "values": list(p), "params": {}, "run_dir": ""} for i, p in enumerate(points)]
        (d / "summary.json").write_text(
            json.dumps(
                {
                    "objectives": [["nll_oracle", "minimize"], ["nll_test", "minimize"]],
                    "trials": trials,
                    "pareto_front": front,
                    "command": f"seqgan tune {name}",
                }
            )
        )
        return d

    gan = study("gan", [(8.0, 7.0), (9.0, 6.5), (9.5, 9.0)], [0, 1])
    summary = json.loads((gan / "summary.json").read_text())
    (gan / "summary.json").write_text(
        json.dumps({**summary, "partial": True, "target_trials": 20})
    )  # seqgan tune --report
    mle = study("mle", [(8.5, 6.0), (7.5, 7.5)], [0, 1])
    # the machines each study's trials ran on come from their run directories' results.json
    summary = json.loads((mle / "summary.json").read_text())
    for t, cpu in zip(summary["trials"], ["cpu A", "cpu B"]):
        (tmp_path / f"mle-trial{t['number']}").mkdir()
        (tmp_path / f"mle-trial{t['number']}" / "results.json").write_text(json.dumps({"machine": cpu}))
        t["run_dir"] = str(tmp_path / f"mle-trial{t['number']}")
    (mle / "summary.json").write_text(json.dumps(summary))
    untuned = tmp_path / "untuned"
    untuned.mkdir()
    (untuned / "results.json").write_text(json.dumps({"rows": {"SeqGAN": {"nll_oracle": 9.1, "nll_test": 7.2}}}))
    result = tuning_comparison.run({"seqgan": gan, "mle": mle}, untuned, tmp_path / "out")
    # (8, 7) beats (8.5, 6)? no; (7.5, 7.5)? no: it stands. (9, 6.5) is dominated by (8.5, 6).
    assert result["studies"]["seqgan"]["not_dominated_by_others"] == [[8.0, 7.0]] or result["studies"]["seqgan"][
        "not_dominated_by_others"
    ] == [(8.0, 7.0)]
    assert len(result["studies"]["mle"]["not_dominated_by_others"]) == 2
    assert result["untuned"]["point"] == (9.1, 7.2)
    assert (tmp_path / "out" / "pareto_fronts.png").stat().st_size > 1000
    comparison_md = (tmp_path / "out" / "comparison.md").read_text()
    assert "| seqgan | 3 (partial: of 20) | 2 | 1 |" in comparison_md and "| mle | 2 | 2 | 2 |" in comparison_md
    assert "**Partial:** seqgan has not yet" in comparison_md
    assert result["studies"]["mle"]["machines"] == {"cpu A": [0], "cpu B": [1]}
    assert "- mle trials ran on: cpu A (trial 0); cpu B (trial 1)" in comparison_md
    assert "- seqgan trials ran on: unknown (trials 0-2)" in comparison_md


def test_describe_machines_names_spans_of_trials():
    from seqgan.tuning.tune import describe_machines

    assert describe_machines({"A": [0, 1, 2, 3, 5, 7, 8], "B": [4, 6]}) == "A (trials 0-3, 5, 7-8); B (trials 4, 6)"
    assert describe_machines({"A": [9]}) == "A (trial 9)"


def test_eval_temperature_scores_the_tempered_generator(tmp_path):
    """The MLE side of the comparison tunes eval.temperature: a run's NLL-test is its generator's at
    that temperature, the figure `seqgan evaluate --temperature` gives."""
    run_dir = tmp_path / "run"
    base = [sys.executable, "-m", "seqgan.cli"]
    proc = subprocess.run(
        [
            *base,
            "train",
            str(SMOKE),
            "--run-dir",
            str(run_dir),
            "--set",
            "baselines.rows=[]",
            "--set",
            "train.rounds=0",
            "--set",
            "train.pretrain_d_steps=0",
            "--set",
            "eval.temperature=0.7",
            "--set",
            "threads=1",
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads((run_dir / "results.json").read_text())["rows"]["SeqGAN"]["nll_test"]
    ev = subprocess.run(
        [*base, "evaluate", str(run_dir / "checkpoint.pt"), "--temperature", "0.7"],
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ev.returncode == 0, ev.stderr[-2000:]
    assert json.loads(ev.stdout)["nll_test"] == pytest.approx(got, rel=1e-6)
    ev1 = subprocess.run(
        [*base, "evaluate", str(run_dir / "checkpoint.pt")], env=env(), capture_output=True, text=True, timeout=300
    )
    assert json.loads(ev1.stdout)["nll_test"] != pytest.approx(got, rel=1e-3)  # the temperature mattered


def test_a_trial_that_lost_its_checkpoint_starts_again(tmp_path):
    """A study continued from a committed journal on another machine: a retried trial whose run
    directory came without its checkpoint is set aside and run afresh, not refused."""
    from types import SimpleNamespace

    from seqgan.tuning.tune import trial_dir

    study = SimpleNamespace(study_dir=tmp_path)
    stale = tmp_path / "trial-0000"
    stale.mkdir()
    (stale / "metrics.jsonl").write_text("{}\n")
    retried = SimpleNamespace(number=7, user_attrs={"run_dir": str(stale)})
    assert trial_dir(study, retried) == (stale, False)
    assert not stale.exists() and (tmp_path / "trial-0000.unfinished" / "metrics.jsonl").exists()
    stale.mkdir()
    (stale / "checkpoint.pt").write_bytes(b"x")
    assert trial_dir(study, retried) == (stale, True)  # a checkpoint: resumed, left in place
    assert trial_dir(study, SimpleNamespace(number=3, user_attrs={})) == (tmp_path / "trial-0003", False)


def test_trials_share_one_mle_pretraining_and_end_where_they_would_from_scratch(tmp_path):
    space = write(
        tmp_path,
        "train.d_steps: {low: 1, high: 3}\ntrain.rollout_update_rate: {low: 0.0, high: 0.8, step: 0.2}\n"
        "discriminator.gradient_penalty: {choices: [none, r1]}\n",
    )
    study_dir = tmp_path / "study"
    cmd = [
        sys.executable,
        "-m",
        "seqgan.cli",
        "tune",
        str(SMOKE),
        "--space",
        str(space),
        "--dir",
        str(study_dir),
        "--study",
        "shared",
        *FAST_SET,
        "--trials",
        "2",
        "--workers",
        "2",
        "--share-pretraining",
    ]
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("shared MLE pre-training in") == 1  # trained once; the workers found it done
    shared = study_dir / "pretraining"
    pretrain_lines = (shared / "metrics.jsonl").read_text().splitlines()
    assert pretrain_lines and {json.loads(line)["phase"] for line in pretrain_lines} == {"pretrain"}
    study = journal_study(study_dir, "shared")
    trial = next(t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    run_dir = Path(trial.user_attrs["run_dir"])
    assert (run_dir / "metrics.jsonl").read_text().splitlines()[: len(pretrain_lines)] == pretrain_lines
    # the trial is the run its settings give from scratch
    scratch = tmp_path / "scratch"
    sets = [a for k, v in trial.params.items() for a in ("--set", f"{k}={v}")]
    proc = subprocess.run(
        [sys.executable, "-m", "seqgan.cli", "train", str(SMOKE), "--run-dir", str(scratch), *FAST_SET, *sets],
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ours, theirs = (
        json.loads((run_dir / "results.json").read_text()),
        json.loads((scratch / "results.json").read_text()),
    )
    assert ours["rows"] == theirs["rows"] and trial.values[0] == theirs["rows"]["SeqGAN"]["nll_oracle"]
    # the same study with another setting that pre-training reads: refused up front, naming the run and key
    changed = subprocess.run(
        [*cmd, "--set", "generator.grad_clip=1.0"], env=env(), capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert changed.returncode == 2 and len(changed.stderr.strip().splitlines()) == 1, changed.stderr
    assert str(shared) in changed.stderr and "key 'generator.grad_clip'" in changed.stderr
    # a space that searches a key MLE pre-training reads cannot share it
    bad = subprocess.run(
        tune_cmd(tmp_path / "bad", "--trials", 1, "--share-pretraining"),
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert (
        "--share-pretraining: key 'generator.lr' is read by MLE pre-training" in bad.stderr and str(SPACE) in bad.stderr
    )
