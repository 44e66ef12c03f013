"""``seqgan tune``: hyperparameter search on Optuna, its workers sharing one study.

It follows Optuna's own examples (optuna/optuna-examples, ``pytorch/pytorch_simple.py``): the
objective is a plain function that builds a config from ``trial.suggest_*``, calls the same
``train()`` as ``seqgan train`` and reports the intermediate evaluations, so that a pruner (median
or Hyperband) can stop a trial that is behind. A trial is an ordinary run directory inside the
study's folder: ``seqgan sample``, ``evaluate`` and ``--resume`` work on it.

Storage is Optuna's: a journal file in the study's folder (processes on one machine, or machines
sharing a file system), or any database URL Optuna takes (PostgreSQL: several machines). Workers
given the same storage and study name share the study. A worker killed mid-trial stops its
heartbeat; the next worker to start a trial marks it failed and queues it again (Optuna's
heartbeat and ``RetryFailedTrialCallback``), and the retry resumes the killed run from its last
checkpoint. Optuna's RDB storage has the heartbeat built in; for the journal file,
``JournalHeartbeatStorage`` adds it through Optuna's ``BaseHeartbeat`` interface.

The search space is a YAML file of dotted config keys (``seqgan/search_space.py``).

Optuna is an optional dependency: ``pip install 'seqgan[tune]'``.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..config import Config, load_config
from ..runtime.checkpoint import set_aside_unresumable
from ..runtime.files import flat_keys
from ..tuning.search_space import Param, load_space

JOURNAL = "journal.log"
METRIC_DIRECTIONS = {"nll_oracle": "minimize", "nll_test": "minimize", "pitch_mse": "minimize"}  # bleuN: maximize
RESULT_ROW = "SeqGAN"  # results.json's row the objectives read


def import_optuna():
    """Optuna, or a one-line error saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise ValueError("seqgan tune needs Optuna: pip install 'seqgan[tune]' (or pip install optuna)") from None
    return optuna


# -- storage -----------------------------------------------------------------------------------------


def _retry_callback(optuna, max_retry: int):
    """Optuna's callback that queues a heartbeat-stale trial again (renamed in Optuna 4.9)."""
    import warnings

    warnings.filterwarnings(
        "ignore", category=optuna.exceptions.ExperimentalWarning
    )  # heartbeat: experimental since 2.8
    cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or optuna.storages.RetryFailedTrialCallback
    return cls(max_retry=max_retry)


def journal_heartbeat_storage(optuna, path: Path, heartbeat: int, grace: int, max_retry: int):
    """Optuna's journal file with the heartbeat that its RDB storage has: a running trial writes the
    time into a system attribute every ``heartbeat`` seconds, and one silent for ``grace`` seconds
    is stale (Optuna's ``BaseHeartbeat`` interface; ``fail_stale_trials`` does the rest)."""
    from optuna.storages._heartbeat import BaseHeartbeat
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    callback = _retry_callback(optuna, max_retry)

    class JournalHeartbeatStorage(JournalStorage, BaseHeartbeat):
        def record_heartbeat(self, trial_id: int) -> None:
            try:
                self.set_trial_system_attr(trial_id, "heartbeat", time.time())
            except optuna.exceptions.UpdateFinishedTrialError:
                return  # failed as stale by another worker meanwhile: its retry is queued already

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            now = time.time()
            running = self.get_all_trials(study_id, deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
            # a retried trial inherits the failed one's heartbeat attribute: its start counts too
            return [
                t._trial_id
                for t in running
                if now - max(t.system_attrs.get("heartbeat", 0.0), t.datetime_start.timestamp()) > grace
            ]

        def get_heartbeat_interval(self) -> int:
            return heartbeat

        def get_heartbeat_stale_trial_callback(self):
            return callback

        def get_failed_trial_callback(self):  # the name before Optuna 4.9
            return callback

    return JournalHeartbeatStorage(JournalFileBackend(str(path)))


def open_storage(optuna, url: str | None, study_dir: Path, heartbeat: int, grace: int, max_retry: int = 3):
    """The journal file in the study's folder (``url`` None), or an RDB URL, both with heartbeat."""
    if url is None:
        study_dir.mkdir(parents=True, exist_ok=True)
        return journal_heartbeat_storage(optuna, study_dir / JOURNAL, heartbeat, grace, max_retry)
    import inspect

    callback = _retry_callback(optuna, max_retry)
    params = inspect.signature(optuna.storages.RDBStorage.__init__).parameters
    key = "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in params else "failed_trial_callback"
    try:
        return optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat, grace_period=grace, **{key: callback})
    except ImportError as e:  # SQLAlchemy imports the database's driver on first use
        raise ValueError(
            f"--storage {url}: Python lacks this database's driver ({e}); for PostgreSQL: pip install 'psycopg[binary]'"
        ) from None


# -- objectives ----------------------------------------------------------------------------------------


def parse_objectives(text: str) -> list[tuple[str, str]]:
    """'nll_oracle' or 'nll_oracle,nll_test' or 'bleu4:max' -> [(metric, 'minimize'|'maximize'), ...]."""
    out = []
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        metric, _, direction = item.partition(":")
        if direction:
            if direction not in ("min", "max"):
                raise ValueError(f"objective {item!r}: the direction is min or max, got {direction!r}")
            out.append((metric, "minimize" if direction == "min" else "maximize"))
        elif metric in METRIC_DIRECTIONS or metric.startswith("self_bleu"):
            out.append((metric, "minimize"))
        elif metric.startswith("bleu"):
            out.append((metric, "maximize"))
        else:
            raise ValueError(f"objective {metric!r}: unknown metric; say its direction, e.g. {metric}:min")
    if not out:
        raise ValueError("give at least one objective, e.g. nll_oracle")
    return out


def make_pruner(optuna, name: str):
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"--pruner: median, hyperband or none, got {name!r}")


@dataclass
class Study:
    """What every worker needs to run trials of one study."""

    config: str
    overrides: list[str]
    space: list[Param]
    objectives: list[tuple[str, str]]
    study_dir: Path
    threads: int = 0  # torch threads of each trial when the config leaves it at 0 (workers share the cores)
    pretraining: Path | None = None  # --share-pretraining: the run every trial starts from


def trial_dir(study: Study, trial) -> tuple[Path, bool]:
    """A trial's run directory, and whether to resume it: a retried trial inherits the failed one's
    user attributes (RetryFailedTrialCallback), its run directory among them, and continues that run."""
    run_dir = Path(trial.user_attrs.get("run_dir") or study.study_dir / f"trial-{trial.number:04d}")
    resume = (run_dir / "checkpoint.pt").exists()
    if not resume and (aside := set_aside_unresumable(run_dir)) is not None:  # its checkpoint was lost: start again
        print(
            f"note: {run_dir} held an unfinished run without a checkpoint; kept as {aside}, starting it again",
            flush=True,
        )
    return run_dir, resume


def objective(trial, study: Study) -> float | tuple[float, ...]:
    """Optuna's objective: a config from trial.suggest_*, seqgan's own train(), the run's final metrics."""
    import optuna

    from ..lifecycle import TrainingStopped
    from ..train import train

    values = {p.key: p.suggest(trial) for p in study.space}
    cfg = load_config(study.config, [*study.overrides, *(f"{k}={json.dumps(v)}" for k, v in values.items())])
    cfg.threads = cfg.threads or study.threads
    run_dir, resume = trial_dir(study, trial)
    trial.set_user_attr("run_dir", str(run_dir))
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    metric, reported = study.objectives[0][0], set()

    def report(step: int, record: dict) -> None:  # Optuna prunes on the intermediate evaluations
        # (pre-training's last evaluation and round 0 share a step: the same generator)
        if len(study.objectives) == 1 and metric in record and step not in reported:
            reported.add(step)
            trial.report(record[metric], step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {step}: {metric} {record[metric]:.4f}")

    try:
        results = train(cfg, run_dir, resume=resume, report=report, start_from=None if resume else study.pretraining)
    except TrainingStopped:  # Ctrl-C or SIGTERM: the run checkpointed; Optuna fails the trial and does not retry it
        requeue(trial)
        raise
    row = results["rows"][RESULT_ROW]
    missing = [m for m, _ in study.objectives if m not in row]
    if missing:
        raise ValueError(f"objective {', '.join(missing)}: the run has no such final metric (it has: {', '.join(row)})")
    scores = tuple(float(row[m]) for m, _ in study.objectives)
    return scores[0] if len(scores) == 1 else scores


def shared_pretraining(study: Study, space_file: str) -> Path:
    """``--share-pretraining``: the study's one MLE pre-training, in STUDY_DIR/pretraining, that every
    trial starts from instead of pre-training G again (train's ``start_from``: the trial then ends
    exactly where it would from scratch). Only a space of keys read after pre-training
    (``train.SHAREABLE_KEYS``) allows it. Commands on one machine take turns on a lock: the first
    trains (or resumes) it, the others find it done."""
    import fcntl

    from ..lifecycle import CHECKPOINT, SHAREABLE_KEYS, pretraining_checkpoint
    from ..runtime.checkpoint import load_checkpoint
    from ..train import train

    for param in study.space:
        if param.key not in SHAREABLE_KEYS:
            raise ValueError(
                f"{space_file}: --share-pretraining: key '{param.key}' is read by MLE pre-training, so trials "
                "that search it cannot share one"
            )
    run_dir = study.study_dir / "pretraining"
    study.study_dir.mkdir(parents=True, exist_ok=True)
    with open(study.study_dir / "pretraining.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cfg = load_config(study.config, study.overrides)
        cfg.threads = cfg.threads or os.cpu_count() or 1  # it runs alone, before the workers
        ckpt = run_dir / CHECKPOINT
        if ckpt.exists() and load_checkpoint(ckpt)["progress"]["g_epoch"] == cfg.train.pretrain_g_epochs:
            pretraining_checkpoint(run_dir, cfg)  # this command's settings must be the ones it was trained with
            return run_dir
        if not ckpt.exists() and (aside := set_aside_unresumable(run_dir)) is not None:
            print(f"note: {run_dir} held an unfinished pre-training without a checkpoint; kept as {aside}", flush=True)
        print(
            f"shared MLE pre-training in {run_dir} ({cfg.train.pretrain_g_epochs} epochs); every trial starts from it",
            flush=True,
        )
        try:
            train(cfg, run_dir, resume=ckpt.exists(), stop_after_pretraining=True)
        except ValueError as e:  # its resume refused this command's settings: say which run
            raise ValueError(f"{run_dir}: {e}") from None
    return run_dir


def requeue(trial) -> None:
    """Queue a trial stopped on request again, with its run directory, so that the next worker (this
    command run again) resumes its run from the checkpoint instead of starting a new trial over.
    As the heartbeat's retry does for a killed worker, but without a cap: a long trial may be stopped
    at the end of many sessions."""
    import optuna

    optuna_trial = trial.study.get_trials(deepcopy=False)[trial.number]
    _retry_callback(optuna, max_retry=None)(trial.study, optuna_trial)  # the heartbeat's retry, uncapped
    print(
        f"[trial {trial.number}] stopped with a checkpoint in {optuna_trial.user_attrs.get('run_dir')}; queued again: "
        "the same command resumes it",
        flush=True,
    )


def progress_line(study, trial) -> None:
    """One line per finished trial (Optuna calls this after each trial of this worker)."""
    done = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    values = "" if trial.values is None else " ".join(f"{v:.4f}" for v in trial.values)
    params = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
    seconds = trial.duration.total_seconds() if trial.duration else 0.0
    print(
        f"[trial {trial.number}] {trial.state.name.lower()} {values} ({seconds:.0f}s; {done} finished) {params}",
        flush=True,
    )


def work(study: Study, storage, name: str, trials: int, seed: int, pruner: str) -> None:
    """One worker: run trials until the study has ``trials`` complete or pruned ones."""
    optuna = import_optuna()
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # a study continued by running the command again must not draw its random start-up points again:
    # the sampler's seed moves on with the trials the study already holds (a fresh study: ``seed``)
    held = len(optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False))
    opt_study = optuna.load_study(
        study_name=name,
        storage=storage,
        sampler=optuna.samplers.TPESampler(seed=seed + 100_003 * held),
        pruner=make_pruner(optuna, pruner),
    )
    counted = (TrialState.COMPLETE, TrialState.PRUNED)
    if len(opt_study.get_trials(deepcopy=False, states=counted)) >= trials:
        return
    opt_study.optimize(
        lambda trial: objective(trial, study),
        n_trials=trials,
        callbacks=[MaxTrialsCallback(trials, states=counted), progress_line],
        catch=(
            RuntimeError,
            ValueError,
        ),  # a setting that breaks training (e.g. NaN) fails its trial; the study goes on
    )


# -- the command --------------------------------------------------------------------------------------


def run(args) -> int:
    """``seqgan tune``: set up the study, run the workers, write the summary and confirm the best."""
    optuna = import_optuna()
    objectives = parse_objectives(args.objectives or args.objective)
    overrides = list(args.set or [])
    base = load_config(args.config, overrides)
    name = args.study or Path(args.config).stem
    study_dir = Path(args.dir or Path("runs") / f"tune-{name}")
    space = load_space(args.space, args.config, overrides)
    if args.trials < 1 or args.workers < 1:
        raise ValueError(f"--trials and --workers must be at least 1, got {args.trials} and {args.workers}")
    if args.report:
        return report(optuna, args, name, study_dir, space, objectives, overrides, base)
    storage = open_storage(optuna, args.storage, study_dir, args.heartbeat, args.grace)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name=name, storage=storage, load_if_exists=True, directions=[d for _, d in objectives])
    study = Study(
        args.config, overrides, space, objectives, study_dir, threads=max(1, (os.cpu_count() or 1) // args.workers)
    )
    if args.share_pretraining:
        study.pretraining = shared_pretraining(study, args.space)
    if args.workers == 1:
        work(study, storage, name, args.trials, args.seed, args.pruner)
    else:
        _spawn_workers(args, study_dir)
    if args.worker:
        return 0
    summary = summarise(optuna, optuna.load_study(study_name=name, storage=storage), study, base, args.trials)
    if args.confirm_seeds:
        summary["confirmation"] = confirm(study, args.confirm_seeds, max(1, args.workers))
        (study_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print((study_dir / "best.md").read_text(encoding="utf-8"))
    return 0


def report(optuna, args, name: str, study_dir: Path, space, objectives, overrides: list[str], base: Config) -> int:
    """``seqgan tune --report``: the tables, plots and summary of a study as it stands, running no
    trial; for a study that spans sessions, or to look in while its workers run (they share the
    journal safely). A study short of ``--trials`` is marked partial; no confirmation is run, and a
    confirmation already made of the same best trial is kept."""
    where = args.storage or study_dir / JOURNAL
    if args.storage is None and not (study_dir / JOURNAL).exists():
        raise ValueError(f"tune --report: {study_dir / JOURNAL} does not exist (no study has run in {study_dir})")
    sqlite_path = args.storage[len("sqlite:///") :] if args.storage and args.storage.startswith("sqlite:///") else None
    if sqlite_path and not Path(sqlite_path).exists():  # opening it would create an empty database
        raise ValueError(f"tune --report: {sqlite_path} does not exist (no study has run in --storage {args.storage})")
    storage = open_storage(optuna, args.storage, study_dir, args.heartbeat, args.grace)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        opt_study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise ValueError(f"tune --report: no study named {name!r} in {where}") from None
    states = trial_states(opt_study)
    if not states["complete"]:  # its workers are on their first trials
        counts = ", ".join(f"{n} {state}" for state, n in states.items())
        print(f"study {name} in {where}: no complete trial yet ({counts}); partial: 0 of {args.trials} trials")
        return 0
    old_path = study_dir / "summary.json"
    old = json.loads(old_path.read_text(encoding="utf-8")) if old_path.exists() else {}
    study_dir.mkdir(parents=True, exist_ok=True)
    study = Study(args.config, overrides, space, objectives, study_dir, threads=1)
    summary = summarise(optuna, opt_study, study, base, args.trials)
    if old.get("confirmation"):
        if old["best"][0]["number"] == summary["best"][0]["number"] and (study_dir / "confirm.md").exists():
            summary["confirmation"] = old["confirmation"]
            old_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            with open(study_dir / "best.md", "a", encoding="utf-8") as f:
                f.write("\n" + (study_dir / "confirm.md").read_text(encoding="utf-8"))
        else:
            print(
                f"note: the confirmation in {study_dir / 'confirm'} was of trial {old['best'][0]['number']}, "
                "no longer the best; the same command without --report confirms trial "
                f"{summary['best'][0]['number']}"
            )
    print((study_dir / "best.md").read_text(encoding="utf-8"))
    if summary["partial"]:
        print(
            f"partial: {summary['counted_trials']} of {args.trials} trials; "
            "the same command without --report continues it"
        )
    return 0


def _spawn_workers(args, study_dir: Path) -> None:
    """W worker processes of this same command (``--workers 1 --worker``), each seeded apart."""
    procs = []
    study_dir.mkdir(parents=True, exist_ok=True)
    base = [
        sys.executable,
        "-m",
        "seqgan",
        "tune",
        args.config,
        "--space",
        args.space,
        "--trials",
        str(args.trials),
        "--objective",
        args.objectives or args.objective,
        "--study",
        args.study or Path(args.config).stem,
        "--dir",
        str(study_dir),
        "--pruner",
        args.pruner,
        "--heartbeat",
        str(args.heartbeat),
        "--grace",
        str(args.grace),
        "--workers",
        "1",
        "--worker",
    ]
    if args.storage:
        base += ["--storage", args.storage]
    if args.share_pretraining:
        base += ["--share-pretraining"]
    for o in args.set or []:
        base += ["--set", o]
    if load_config(args.config, list(args.set or [])).threads == 0:
        base += ["--set", f"threads={max(1, (os.cpu_count() or 1) // args.workers)}"]
    threads = max(1, (os.cpu_count() or 1) // args.workers)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    try:
        for i in range(args.workers):
            procs.append(subprocess.Popen([*base, "--seed", str(args.seed + i)], env=env))
        codes = [p.wait() for p in procs]
    finally:  # interrupted: the workers stop too (their trials end failed, checkpointed); running again continues
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
    if any(codes):
        raise ValueError(f"tune: worker exit codes {codes}: {shlex.join(base)}")


def best_config_yaml(cfg: Config, header: str) -> str:
    """The keys of ``cfg`` that differ from the defaults, as a YAML config ``seqgan train`` takes."""
    default, now = flat_keys(Config().to_dict()), flat_keys(cfg.to_dict())
    nested: dict = {}
    for key, value in now.items():
        if default.get(key) != value and key != "data_dir":  # no machine's path in a config others run
            cursor = nested
            *parents, last = key.split(".")
            for part in parents:
                cursor = cursor.setdefault(part, {})
            cursor[last] = value
    return header + yaml.safe_dump(nested, sort_keys=False, default_flow_style=None)


def trial_states(opt_study) -> dict[str, int]:
    """How many of the study's trials are in each state: {'running': 1, 'complete': 4, ...}."""
    from optuna.trial import TrialState

    trials = opt_study.get_trials(deepcopy=False)
    return {s.name.lower(): sum(t.state == s for t in trials) for s in TrialState}


def trial_machines(trials: list[dict]) -> dict[str, list[int]]:
    """The machines a study's trials ran on, from each trial's ``RUN_DIR/results.json``: a study that
    continues on another machine (a new session, a second box sharing PostgreSQL) mixes CPUs, and
    its figures should say which. Maps machine -> trial numbers; a run without results.json counts
    as "unknown"."""
    machines: dict[str, list[int]] = {}
    for t in trials:
        results = Path(t.get("run_dir") or "") / "results.json"
        name = (
            json.loads(results.read_text()).get("machine", "unknown")
            if t.get("run_dir") and results.exists()
            else "unknown"
        )
        machines.setdefault(name, []).append(t["number"])
    return machines


def describe_machines(machines: dict[str, list[int]]) -> str:
    """ "AMD EPYC, ... (trials 0-5, 7); Intel ... (trials 9-12)": one line for best.md and comparison.md."""

    def spans(numbers: list[int]) -> str:
        numbers, parts, start = sorted(numbers), [], None
        for i, n in enumerate(numbers):
            start = n if start is None else start
            if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
                parts.append(str(n) if start == n else f"{start}-{n}")
                start = None
        return ", ".join(parts)

    return "; ".join(f"{m} (trial{'s' if len(ns) > 1 else ''} {spans(ns)})" for m, ns in machines.items())


def summarise(optuna, opt_study, study: Study, base: Config, target: int) -> dict:
    """best.md (the best trials), best.yaml (the best settings as a config), summary.json and plots;
    ``target`` is the study's --trials (complete or pruned), so a study short of it says so."""
    from optuna.trial import TrialState

    out, names = study.study_dir, [m for m, _ in study.objectives]
    complete = [t for t in opt_study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    states = trial_states(opt_study)
    if not complete:
        raise ValueError(
            f"tune: no trial of study {opt_study.study_name!r} completed ({states}); see the trial folders in {out}"
        )
    if len(names) == 1:
        sign = 1 if study.objectives[0][1] == "minimize" else -1
        best = sorted(complete, key=lambda t: sign * t.value)[:10]
        chosen = best[0]
    else:  # the Pareto front; the settings written out are the front's best in the first objective
        best = sorted(
            opt_study.best_trials, key=lambda t: t.values[0] * (1 if study.objectives[0][1] == "minimize" else -1)
        )
        chosen = best[0]
    keys = [p.key for p in study.space]
    counted_trials = len(complete) + states.get("pruned", 0)
    partial = counted_trials < target
    lines = [
        f"# seqgan tune: study {opt_study.study_name}"
        + (f" (partial: {counted_trials} of {target} trials)" if partial else ""),
        "",
        f"{len(complete)} complete, {states.get('pruned', 0)} pruned, {states.get('fail', 0)} failed trials; "
        f"objectives: {', '.join(f'{m} ({d[:3]})' for m, d in study.objectives)}"
        + (" (Pareto front)" if len(names) > 1 else ""),
        "",
        "| trial | " + " | ".join(names) + " | " + " | ".join(keys) + " | run directory |",
        "| ---: |" + " ---: |" * len(names) + " --- |" * len(keys) + " --- |",
    ]
    for t in best:
        cells = [f"{v:.4f}" for v in t.values] + [
            f"{t.params[k]:.4g}" if isinstance(t.params.get(k), float) else str(t.params.get(k)) for k in keys
        ]
        lines.append(f"| {t.number} | " + " | ".join(cells) + f" | {t.user_attrs.get('run_dir', '')} |")
    cfg = load_config(study.config, [*study.overrides, *(f"{k}={json.dumps(v)}" for k, v in chosen.params.items())])
    header = (
        f"# The best settings of seqgan tune study '{opt_study.study_name}' (trial {chosen.number}: "
        f"{', '.join(f'{m} {v:.4f}' for m, v in zip(names, chosen.values))}).\n"
        f"#   seqgan train {out / 'best.yaml'}\n"
    )
    (out / "best.yaml").write_text(best_config_yaml(cfg, header), encoding="utf-8")
    row = lambda t: {"number": t.number, "values": t.values, "params": t.params, "run_dir": t.user_attrs.get("run_dir")}  # noqa: E731
    machines = trial_machines([row(t) for t in complete])
    lines += [
        "",
        f"Best settings (trial {chosen.number}) as a config: `seqgan train {out / 'best.yaml'}`",
        "",
        f"Trials ran on: {describe_machines(machines)}",
    ]
    (out / "best.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plot_study(optuna, opt_study, study.objectives, out)
    from ..runtime.hardware import machine

    # the command that runs the study: a --report (or an abbreviation argparse took for it) left out
    command = ["seqgan", *(a for a in sys.argv[1:] if not (a.startswith("--rep") and "--report".startswith(a)))]
    summary = {
        "study": opt_study.study_name,
        "command": shlex.join(command),
        "machine": machine(),
        "machines": machines,
        "objectives": study.objectives,
        "states": states,
        "target_trials": target,
        "counted_trials": counted_trials,
        "partial": partial,
        "best": [row(t) for t in best],
        "pareto_front": [t.number for t in opt_study.best_trials] if len(names) > 1 else [chosen.number],
        "trials": [row(t) for t in complete],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def plot_study(optuna, opt_study, objectives: list[tuple[str, str]], out: Path) -> list[Path]:
    """Optuna's matplotlib plots: history (per objective), parameter importances, Pareto front."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as vis

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    names = [m for m, _ in objectives]
    complete = [t for t in opt_study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    written = []

    def save(ax, name: str) -> None:
        fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        written.append(out / name)

    for i, metric in enumerate(names):
        target = None if len(names) == 1 else (lambda t, i=i: t.values[i])
        save(vis.plot_optimization_history(opt_study, target=target, target_name=metric), f"history_{metric}.png")
    varied = {k for t in complete for k in t.params if len({str(u.params.get(k)) for u in complete}) > 1}
    if len(complete) >= 2 and varied:  # PED-ANOVA ranks by how a parameter moves the target low
        sign = 1.0 if objectives[0][1] == "minimize" else -1.0
        warnings.filterwarnings("ignore", message="PedAnovaImportanceEvaluator computes the importances")
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
        save(
            vis.plot_param_importances(
                opt_study,
                evaluator=evaluator,
                target=lambda t: sign * t.values[0],
                target_name=names[0] if sign > 0 else f"-{names[0]}",
            ),
            "importances.png",
        )
    if len(names) > 1:
        save(vis.plot_pareto_front(opt_study, target_names=names), "pareto.png")
    return written


def confirm(study: Study, seeds: list[int], jobs: int) -> dict:
    """Re-run best.yaml on fresh seeds (ordinary ``seqgan train`` runs) so the reported figure is not
    the maximum over tuning noise; writes confirm.md."""
    from ..jobs import run_all
    from ..stats import mean_std

    out = study.study_dir
    commands = [
        (
            out / "confirm" / f"seed{s}",
            [
                "seqgan",
                "train",
                str(out / "best.yaml"),
                "--seed",
                str(s),
                "--run-dir",
                str(out / "confirm" / f"seed{s}"),
            ],
        )
        for s in seeds
    ]
    run_all(commands, jobs)
    rows = {s: json.loads((d / "results.json").read_text())["rows"][RESULT_ROW] for s, (d, _) in zip(seeds, commands)}
    stats = {}
    lines = [
        f"Best settings ({out / 'best.yaml'}) on fresh seeds {', '.join(map(str, seeds))}:",
        "",
        "| metric | " + " | ".join(f"seed {s}" for s in seeds) + " | mean +- std |",
        "| --- |" + " ---: |" * (len(seeds) + 1),
    ]
    for metric, _ in study.objectives:
        values = [rows[s][metric] for s in seeds]
        mean, std = mean_std(values)
        stats[metric] = {"values": values, "mean": mean, "std": std}
        lines.append(
            f"| {metric} | "
            + " | ".join(f"{v:.4f}" for v in values)
            + f" | {mean:.4f} +- {'' if math.isnan(std) else f'{std:.4f}'} |"
        )
    (out / "confirm.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(out / "best.md", "a", encoding="utf-8") as f:
        f.write("\n" + "\n".join(lines) + "\n")
    return {"seeds": seeds, **stats}
