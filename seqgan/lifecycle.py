"""The life of a run directory: prepare, resume, fork from a shared pre-training, stop, and read back.

A run directory holds the resolved config, ``metrics.jsonl``, TensorBoard events, the checkpoint
(a plain dict, written atomically; ``--resume`` continues exactly), samples and ``results.json``.
This module checks a directory before a run starts, decides what a resumed or forked run may
change (``EXECUTION_KEYS``, ``SHAREABLE_KEYS``), turns a ``run.Run`` into a checkpoint and back,
and stops a run cleanly on a signal between units of work.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import yaml
from tqdm.auto import tqdm

from . import corpus
from .build import build_generator
from .config import Config, config_from_dict, current_keys
from .data import EpochPosition
from .oracle import Oracle
from .runtime import distributed
from .runtime.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from .runtime.files import flat_keys

if TYPE_CHECKING:  # annotations only: train imports this module
    from .run import Run

CHECKPOINT = "checkpoint.pt"


class RunError(ValueError):
    """A run directory that cannot be used as asked."""


class TrainingStopped(KeyboardInterrupt):
    """Training stopped on request after a checkpoint of all finished work."""


class StopRequest:
    """Ctrl-C or SIGTERM during training: finish the unit of work at hand (a minibatch of an MLE epoch,
    a D set, an adversarial round's g-steps and d-steps), checkpoint and stop, so no finished work is
    lost; a second signal stops at once."""

    def __init__(self):
        self.requested = False
        self._previous: dict = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():  # signal handlers live there only
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if distributed.is_master():  # every rank gets the signal under torchrun; one says so
            tqdm.write(
                "seqgan: stopping after the current unit of work (in an MLE epoch: its minibatch), with a checkpoint "
                "(signal again to stop at once)"
            )


class MissingRow(ValueError):
    """A run's checkpoint lacks the generator asked for (a row it did not train, or no pre-trained G)."""


def load_run_models(path: str | Path, data_dir: str | None = None, row: str = "seqgan"):
    """A checkpoint, its config, oracle (synthetic task) or vocabulary (real data), and one of its
    generators: SeqGAN's or a baseline row's. Raises ValueError naming the file when it is damaged."""
    ckpt = load_checkpoint(path)
    try:
        cfg = config_from_dict(ckpt["config"])
        if data_dir:
            cfg.data_dir = data_dir
        oracle = vocab = None
        if ckpt["oracle"] is not None:
            oracle = Oracle(**ckpt["oracle"]["dims"])
            oracle.load_state_dict(ckpt["oracle"]["weights"])
            vocab_size = oracle.vocab_size
        else:
            vocab = corpus.Vocab.from_dict(ckpt["vocab"])
            vocab_size = len(vocab)
        generator = build_generator(cfg, vocab_size)
        if row == "seqgan":
            weights = ckpt["generator"]
        elif row == "pretrained":
            weights = ckpt.get("pretrained")
            if weights is None:
                raise MissingRow(
                    f"{path}: the run has no pre-trained generator saved (it has not reached adversarial "
                    "training, or an older seqgan wrote it)"
                )
        elif row in ckpt["baselines"]:
            weights = ckpt["baselines"][row]["generator"]
        else:
            raise MissingRow(
                f"{path}: the run has no {row!r} row (it has: seqgan, {', '.join(ckpt['baselines']) or 'no baselines'})"
            )
        generator.load_state_dict(weights)
    except (KeyError, TypeError, RuntimeError) as e:
        raise ValueError(f"{path}: damaged checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:160]})") from None
    return ckpt, cfg, oracle, vocab, generator


# -- a run's checkpoint ------------------------------------------------------------------------------


def checkpoint_state(run: Run) -> dict:
    return {
        "format": FORMAT,
        "config": run.cfg.to_dict(),
        "oracle": {"dims": run.oracle.dims(), "weights": run.oracle.state_dict()} if run.oracle else None,
        "vocab": run.vocab.to_dict() if run.vocab else None,
        "generator": run.generator.state_dict(),
        "g_opt": run.g_opt.state_dict(),
        "discriminator": run.discriminator.state_dict(),
        "d_opt": run.d_opt.state_dict(),
        "rollout_policy": run.rollout_policy.state_dict() if run.rollout_policy else None,
        "baselines": {
            name: {
                "generator": row.generator.state_dict(),
                "optimizer": row.optimizer.state_dict() if row.optimizer else None,
                "rollout_policy": row.rollout_policy.state_dict() if row.rollout_policy else None,
            }
            for name, row in run.rows.items()
        },
        "pg_opt": run.pg_opt.state_dict() if run.pg_opt else None,
        "critic": run.critic.state_dict() if run.critic else None,
        "value_baseline": run.value_baseline.state_dict() if run.value_baseline else None,
        "pretrained": run.pretrained,
        "best_pretrain": run.best.state_dict() if run.best is not None else None,  # train.pretrain_keep 'best'
        "position": run.position.state_dict() if run.position is not None else None,  # an MLE epoch stopped midway
        "progress": dict(run.progress),
        "seconds": run.elapsed(),
        "cpu_seconds": run.cpu_elapsed(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state(run.device) if run.device.type == "cuda" else None,
    } | (
        {
            "distributed": {  # under torchrun: every rank's random state
                "world_size": distributed.world_size(),
                "rng_cpu": distributed.all_ranks(torch.get_rng_state()),
                "rng_cuda": distributed.all_ranks(torch.cuda.get_rng_state(run.device))
                if run.device.type == "cuda"
                else None,
            }
        }
        if distributed.world_size() > 1
        else {}
    )


def save(run: Run) -> None:
    """Rank 0 writes the checkpoint atomically; every rank waits until it is on disk."""
    distributed.assert_replicated(replicated(run))
    state = checkpoint_state(run)  # on every rank: it gathers their random states
    if run.master:
        save_checkpoint(state, run.run_dir / CHECKPOINT)
    distributed.barrier()


def replicated(run: Run) -> dict[str, torch.nn.Module]:
    """The models that must be the same on every rank."""
    models = {"generator": run.generator, "discriminator": run.discriminator}
    if run.rollout_policy is not None:
        models["rollout_policy"] = run.rollout_policy
    for name, row in run.rows.items():
        models[f"baselines.{name}"] = row.generator
        if row.rollout_policy is not None:
            models[f"baselines.{name}.rollout_policy"] = row.rollout_policy
    return models


def restore(run: Run, ckpt: dict) -> None:
    run.generator.load_state_dict(ckpt["generator"])
    run.g_opt.load_state_dict(ckpt["g_opt"])
    run.discriminator.load_state_dict(ckpt["discriminator"])
    run.d_opt.load_state_dict(ckpt["d_opt"])
    if ckpt["rollout_policy"] is not None:
        run._start_adversarial()
        run.rollout_policy.load_state_dict(ckpt["rollout_policy"])
        run.pg_opt.load_state_dict(ckpt["pg_opt"])
        # checkpoints from before the critic and the value baseline hold neither
        if run.critic is not None:
            run.critic.load_state_dict(ckpt["critic"])
        if run.value_baseline is not None:
            run.value_baseline.load_state_dict(ckpt["value_baseline"])
        run.pretrained = ckpt.get("pretrained")  # absent from checkpoints of older seqgan
    if set(ckpt["baselines"]) != set(run.rows):
        raise KeyError(f"baseline rows {sorted(ckpt['baselines'])} in the checkpoint, {sorted(run.rows)} expected")
    for name, row in run.rows.items():
        saved = ckpt["baselines"][name]
        row.generator.load_state_dict(saved["generator"])
        if row.optimizer is not None:
            row.optimizer.load_state_dict(saved["optimizer"])
        if row.rollout_policy is not None:
            row.rollout_policy.load_state_dict(saved["rollout_policy"])
    if run.best is not None and ckpt.get("best_pretrain") is not None:
        run.best.load_state_dict(ckpt["best_pretrain"])
    position = ckpt.get("position")  # absent from checkpoints of older seqgan, None at a unit's end
    run.position = None if position is None else EpochPosition.from_state(position, run.device)
    run.progress = run.progress | ckpt["progress"]  # (an older checkpoint's progress lacks the newer counters)
    run.seconds = float(ckpt["seconds"])
    run.cpu_seconds = ckpt.get("cpu_seconds")  # None: a checkpoint from before CPU time was counted
    saved = ckpt.get("distributed") or {"world_size": 1, "rng_cpu": [ckpt["rng_cpu"]], "rng_cuda": [ckpt["rng_cuda"]]}
    if saved["world_size"] == distributed.world_size():  # each rank continues its own stream
        torch.set_rng_state(saved["rng_cpu"][distributed.rank()])
        if saved["rng_cuda"] is not None and saved["rng_cuda"][distributed.rank()] is not None:
            torch.cuda.set_rng_state(saved["rng_cuda"][distributed.rank()], run.device)
    else:  # fresh streams, not the ones the run started with
        torch.manual_seed(distributed.rank_seed(run.cfg.seed, distributed.rank(), global_step(run)))
        if run.master:
            print(
                f"seqgan: warning: the run was trained by {saved['world_size']} process(es) and resumes with "
                f"{distributed.world_size()}: it continues, but not exactly as it would have",
                file=sys.stderr,
            )


# -- the run directory ------------------------------------------------------------------------------


def prepare_run_dir(run_dir: Path, resume: bool) -> dict | None:
    """Check the run directory; return the checkpoint to resume from, if any."""
    ckpt_path = run_dir / CHECKPOINT
    if resume:
        if not ckpt_path.exists():
            raise RunError(f"--resume: no checkpoint at {ckpt_path}")
        return load_checkpoint(ckpt_path)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"run directory {run_dir} is a file")
    if run_dir.exists() and any(run_dir.iterdir()):
        raise RunError(
            f"run directory {run_dir} already holds a run: pass --resume to continue it or --run-dir for a new one"
        )
    return None


EXECUTION_KEYS = (
    "threads",
    "device",
    "data_dir",
    "dist_backend",
    "dist_timeout",
)  # may change on resume; the rest fixes the experiment


# read only after MLE pre-training (step 1): runs that differ only in these can share one pre-training
SHAREABLE_KEYS = (
    "generator.pg_lr",
    "discriminator.gradient_penalty",
    "discriminator.gp_weight",
    "discriminator.compile",
    "train.pretrain_d_steps",
    "train.pretrain_d_epochs",
    "train.num_negatives",
    "train.rounds",
    "train.g_steps",
    "train.rollout_num",
    "train.rollout_update_rate",
    "train.d_steps",
    "train.d_epochs",
    "train.score_batch_size",
    "train.rewards",
    "train.baseline",
    "train.normalize_advantages",
    "train.value_lr",
    "train.value_updates",
    "train.critic_hidden_dim",
    "train.td_lambda",
    "train.td_completions",
    "train.critic_lr",
    "train.critic_updates",
    "train.critic_warmup",
    "train.critic_target_rate",
    "train.mcts_c_puct",
    "train.objective",
    "train.kl_beta",
    "train.kl_reward",
    "train.ppo_epochs",
    "train.ppo_clip",
    "train.freeze_d",
    "rows.mle_epochs_per_round",
    "rows.ss_schedule",
    "rows.ss_final_prob",
    "rows.ss_sigmoid_k",
    "rows.bleu_max_n",
    "eval.tempered_start",
    "eval.tempered_temperatures",
)


def pretraining_checkpoint(run_dir: Path, cfg: Config) -> dict:
    """The checkpoint of a run stopped at the end of MLE pre-training, checked against ``cfg``: every
    key that pre-training reads must be the same, or the run started from it would not be ``cfg``'s run."""
    try:
        ckpt = load_checkpoint(run_dir / CHECKPOINT)
    except ValueError as e:
        raise RunError(f"start from {run_dir}: {e}") from None
    p = ckpt["progress"]
    # (with no D pre-training, a run's round-0 and finished checkpoints have the same counters: the
    # roll-out policy, made when adversarial training starts, tells them apart)
    if (
        (p["g_epoch"], p["d_step"], p["round"]) != (cfg.train.pretrain_g_epochs, 0, 0)
        or p["finished"]
        or ckpt["rollout_policy"] is not None
    ):
        raise RunError(
            f"start from {run_dir}: its checkpoint is at MLE epoch {p['g_epoch']}, D set {p['d_step']}, round "
            f"{p['round']}{' (adversarial training started)' if ckpt['rollout_policy'] is not None else ''}, "
            "not at the "
            f"end of {cfg.train.pretrain_g_epochs} epochs of MLE pre-training (train --stop-after-pretraining)"
        )
    metrics = run_dir / "metrics.jsonl"  # its evaluations become the new run's first lines
    lines = len(metrics.read_text(encoding="utf-8").splitlines()) if metrics.exists() else 0
    if lines < p["metrics_lines"]:
        raise RunError(f"start from {run_dir}: {metrics} has {lines} lines, its checkpoint counts {p['metrics_lines']}")
    saved_world = (ckpt.get("distributed") or {}).get("world_size", 1)
    if saved_world != distributed.world_size():  # fresh random streams: not the run this config gives from scratch
        raise RunError(
            f"start from {run_dir}: it was pre-trained by {saved_world} process(es), this run has "
            f"{distributed.world_size()}; start from a pre-training with as many"
        )
    now, then = flat_keys(cfg.to_dict()), flat_keys(current_keys(ckpt["config"]))
    for key, value in now.items():
        if key not in EXECUTION_KEYS and key not in SHAREABLE_KEYS and then.get(key, "(absent)") != value:
            raise RunError(
                f"start from {run_dir}: key '{key}' is {value!r} here but {then.get(key, '(absent)')!r} in its "
                "pre-training; only keys read after MLE pre-training may differ"
            )
    return ckpt


def resumed_config(cfg: Config, saved: dict) -> Config:
    """The checkpoint's config, with this invocation's execution settings. A differing experiment
    setting is an error: a resumed run must be the run that was started."""
    now, then = flat_keys(cfg.to_dict()), flat_keys(current_keys(saved))
    # a key newer than the checkpoint takes the value that reproduces the run as it was started
    # (config_from_dict), whatever this invocation's config says of it
    newer = sorted(key for key in now if key not in then and key not in EXECUTION_KEYS)
    if newer and distributed.is_master():
        tqdm.write(
            f"seqgan: the checkpoint predates {', '.join(newer)}: resuming with the values that reproduce its run"
        )
    explicit = getattr(cfg, "explicit_keys", None)  # None: a Config built in code, every key counts
    differing = [key for key, value in now.items() if key not in EXECUTION_KEYS and key in then and then[key] != value]
    changed_defaults = [key for key in differing if explicit is not None and key not in explicit]
    if changed_defaults and distributed.is_master():
        tqdm.write(
            f"seqgan: the defaults of {', '.join(changed_defaults)} changed since the run started: "
            "resuming with the run's values"
        )
    refused = [key for key in differing if key not in changed_defaults]
    if refused:
        key = refused[0]
        raise RunError(
            f"--resume: key '{key}' is {now[key]!r} now but {then[key]!r} in the run's checkpoint; "
            "a resumed run keeps its settings (only threads, device and data_dir may change)"
        )
    resumed = config_from_dict(saved)
    for key in EXECUTION_KEYS:
        setattr(resumed, key, getattr(cfg, key))
    return resumed


def global_step(run: Run) -> int:
    """The first x-axis step not yet logged at the checkpoint (checkpoints follow pre-training)."""
    return run.progress["g_epoch"] + run.progress["round"] + 1


def write_run_files(run: Run) -> None:
    """A new run's config.yaml and, on real data, its vocabulary and data statistics."""
    written = run.cfg.to_dict() | {"data_dir": ""}  # no machine's path: the run's data dir comes from where it runs
    (run.run_dir / "config.yaml").write_text(yaml.safe_dump(written, sort_keys=False), encoding="utf-8")
    if run.vocab is not None:
        run.vocab.save(run.run_dir / "vocab.json")
        (run.run_dir / "data_stats.json").write_text(json.dumps(run.corpus_stats, indent=2) + "\n", encoding="utf-8")


def copy_lines(source: Path, dest: Path, keep: int) -> None:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    dest.write_text("".join(lines[:keep]), encoding="utf-8")


def truncate_lines(path: Path, keep: int) -> None:
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[:keep]), encoding="utf-8")


def stop_if_asked(run: Run) -> None:
    """Between units of work: on a stop request, checkpoint and stop."""
    if distributed.any_rank(run.stop.requested):  # all ranks stop at the same unit of work
        save(run)
        raise TrainingStopped(f"stopped; all finished work is in {run.run_dir / CHECKPOINT}: continue with --resume")


def stop_mid_epoch(run: Run, position: EpochPosition) -> None:
    """Between two minibatches of an MLE epoch: on a stop request, checkpoint the epoch so far (its
    order, the minibatches done and their losses) and stop; ``--resume`` continues it from there.

    One process only: under torchrun the ranks would have to agree at every minibatch, so there a
    stop waits for the end of the epoch (``stop_if_asked``).
    """
    if not run.stop.requested or distributed.world_size() > 1:
        return
    run.position = position
    save(run)
    raise TrainingStopped(
        f"stopped after minibatch {len(position.losses)} of an MLE epoch; all finished work is in "
        f"{run.run_dir / CHECKPOINT}: continue with --resume"
    )
