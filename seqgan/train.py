"""The SeqGAN recipe: Algorithm 1 of the paper on the synthetic oracle task.

    1. pre-train G by MLE on the oracle's samples
    2. pre-train D on real vs fresh generated negatives
    3. repeat: g-steps of policy gradient with Monte Carlo rewards, the roll-out policy update,
       then d-steps of D training, each on fresh negatives for k epochs

Beyond the paper, ``train.rewards`` may estimate Q by a TD critic or a tree search instead
(``critic.py``, ``mcts.py``) and ``train.baseline`` may subtract a baseline from it; both come in
at one line of the adversarial loop.

Alongside step 3 a copy of the pre-trained G keeps training by MLE (the MLE row of Table 1), so
one run yields both rows. Everything is written to a run directory: the resolved config,
``metrics.jsonl``, TensorBoard events, checkpoints (atomic; ``--resume`` continues exactly),
final samples, ``results.json`` and the NLL-oracle plot.

On text data, beyond the paper: step 1 keeps its epoch of lowest validation NLL (``best_epoch.py``,
``train.pretrain_keep``), and the final table gets the tempered start, the pre-trained G swept over
temperature, as SeqGAN's control (``tempered.py``). A stop request ends an MLE epoch at a batch
boundary with a checkpoint (``lifecycle.stop_mid_epoch``), and ``--resume`` continues the epoch there.

Under torchrun the same recipe runs on every rank (``runtime/distributed.py``): each rank does its
share of every batch, DDP averages the gradients, and only rank 0 (``master``) writes.

This file reads top to bottom: the units of work (an MLE epoch, k epochs of D, a g-step), then
``train`` (set-up, resume or fork of a ``run.Run``), then Algorithm 1 itself (``algorithm_1``).
Around it: ``run.py`` holds a run's state, ``build.py`` turns the config into models,
``lifecycle.py`` keeps the run directory and its checkpoint, ``reporting.py`` evaluates and
writes the results, ``rows.py`` names Table 1's rows.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm.auto import tqdm

from . import d_graph, g_graph
from .config import Config, check_processes
from .critic import MeanBaseline, normalize
from .data import EpochPosition, discriminator_set
from .discriminator import Discriminator
from .generator import Generator
from .kl import kl_returns, log_odds_scorer, ppo_loss
from .lifecycle import (
    CHECKPOINT,
    RunError,
    copy_lines,
    global_step,
    prepare_run_dir,
    pretraining_checkpoint,
    restore,
    resumed_config,
    stop_if_asked,
    truncate_lines,
    write_run_files,
)
from .mcts import mcts_rewards
from .penalty import gradient_penalty
from .reporting import finish, heartbeat, kept_epoch_line
from .rollout import RolloutPolicy, Scorer, discriminator_scorer, get_rewards
from .rows import ss_sample_prob
from .run import Run
from .runtime import distributed
from .runtime.compiled import discriminator_loss_fn, mark_step
from .runtime.hardware import machine
from .runtime.mixed_precision import BF16Weights

# -- one unit of work each ---------------------------------------------------------------------------


def mle_epoch(
    generator: Generator,
    optimizer: torch.optim.Optimizer,
    data: torch.Tensor,
    batch_size: int,
    grad_clip: float,
    sample_prob: float = 0.0,
    position: EpochPosition | None = None,
    after_batch: Callable[[EpochPosition], None] | None = None,
) -> float:
    """One epoch of maximum-likelihood training; returns the mean batch loss.

    ``sample_prob`` > 0 is scheduled sampling at that probability (``Generator.scheduled_sampling_loss``).
    ``position`` continues an epoch that a checkpoint stopped at a batch boundary; ``after_batch(position)``,
    called after each minibatch, may print progress or stop the run there (``Run.between_batches``).
    """
    device = next(generator.parameters()).device
    if position is None and g_graph.graphed(device, sample_prob, distributed.launched()):  # CUDA: whole-epoch replays
        return g_graph.mle_epoch_graphed(generator, optimizer, data, batch_size, grad_clip)
    generator = distributed.replicate(generator)  # under torchrun: DDP, which averages gradients over ranks
    generator.train()
    position = position or EpochPosition.start(data)  # the epoch's shuffle, and the minibatches done
    losses = position.losses
    for b_seqs in position.remaining(data, batch_size):
        mb_seqs = distributed.shard(b_seqs)  # this rank's rows of the batch (all of them in one process)
        loss = (
            generator.mle_loss(mb_seqs)
            if sample_prob == 0.0
            else generator.scheduled_sampling_loss(mb_seqs, sample_prob)[0]
        )
        loss = loss * distributed.row_weight(len(mb_seqs), len(b_seqs))  # 1 unless the last batch splits unevenly
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(generator.parameters(), grad_clip)
        optimizer.step()
        losses.append(loss.detach())
        if after_batch is not None:
            after_batch(position)
    return distributed.mean(torch.stack(losses).mean())


def train_discriminator(
    discriminator: Discriminator,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    fake: torch.Tensor,
    epochs: int,
    batch_size: int,
    bf16: bool,
    gp: str = "none",
    gp_weight: float = 0.0,
    compile_mode: str = "none",
) -> float:
    """k epochs of D on real (label 1) vs generated (label 0); returns the last epoch's mean loss
    (cross-entropy and L2, without the gradient penalty ``gp``, if any, at weight ``gp_weight``).
    ``compile_mode`` other than 'none' runs D's loss under torch.compile (compiled.py).

    Under torchrun ``fake`` is this rank's own negatives; it trains on its block of ``real``, in
    minibatches of its share of ``batch_size``.
    """
    if d_graph.graphed(real.device, gp, compile_mode, distributed.launched()):  # CUDA: each step a graph replay
        return d_graph.train_discriminator_graphed(discriminator, optimizer, real, fake, epochs, batch_size, bf16)
    raw = discriminator
    discriminator = distributed.replicate(discriminator)
    real, batch_size = distributed.shard(real, even=True), distributed.share(batch_size)
    discriminator.train()
    if len(fake) < len(real):  # a balanced set: as many real sequences as negatives
        real = real[torch.randperm(len(real), device=real.device)[: len(fake)]]
    seqs, labels = discriminator_set(real, fake)
    device_type = seqs.device.type
    # bf16: persistent bf16 copies of the convolutions' and the highway's weights (mixed_precision.py)
    # (one process only: DDP's reducer expects gradients on the fp32 weights the forward used)
    # (not under torch.compile either: autocast's casts are fused inside the compiled graph)
    weights = (
        BF16Weights([*raw.convs, raw.highway]) if bf16 and raw is discriminator and compile_mode == "none" else None
    )
    loss_fn = discriminator_loss_fn(raw, compile_mode) if compile_mode != "none" else discriminator.loss
    loss_sum = torch.zeros((), device=seqs.device)
    for _ in range(epochs):
        order = torch.randperm(len(seqs), device=seqs.device)
        loss_sum.zero_()
        steps = 0
        for i in range(0, len(seqs), batch_size):
            mb = order[i : i + batch_size]
            mark_step(seqs.device)  # CUDA graphs (compile_mode 'reduce-overhead'): the last step's buffers are free
            with (
                torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16),
                weights if weights is not None else contextlib.nullcontext(),
            ):
                loss = loss_fn(seqs[mb], labels[mb])
                # a gradient penalty in one-hot input space (R1, zero-centred or WGAN-GP; seqgan/penalty.py)
                penalty = gradient_penalty(discriminator, seqs[mb], labels[mb], gp, gp_weight) if gp != "none" else 0.0
            optimizer.zero_grad(set_to_none=True)
            (loss + penalty).backward()
            if weights is not None:
                weights.grads_to_master()
            optimizer.step()
            if weights is not None:
                weights.refresh()
            loss_sum += loss.detach()
            steps += 1
    return distributed.mean(loss_sum / max(steps, 1))


Estimator = Callable[[torch.Tensor], torch.Tensor]  # samples (B, T) -> Q (B, T)
Advantages = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # samples, Q (B, T) -> advantages (B, T)


def monte_carlo(rollout_policy: RolloutPolicy, scorer: Scorer, rollout_num: int) -> Estimator:
    """The paper's Q: the mean of ``scorer`` over N completions by G_beta of every prefix (eq. 4)."""
    return lambda samples: get_rewards(rollout_policy, scorer, samples, rollout_num)


def policy_gradient_step(
    generator: Generator,
    optimizer: torch.optim.Optimizer,
    estimator: Estimator,
    batch_size: int,
    grad_clip: float,
    baseline: Advantages | None = None,
    normalize_advantages: bool = False,
) -> float:
    """One g-step: sample a batch, estimate Q, subtract a baseline, REINFORCE; returns the mean Q.

    ``estimator`` gives Q of every token (the paper's ``monte_carlo`` rollouts, a TD critic or a tree
    search), rewarding whole sequences by D for SeqGAN or BLEU for PG-BLEU; ``baseline`` (None:
    the paper) turns Q into advantages.
    """
    samples = generator.sample(distributed.share(batch_size))  # (B, T); under torchrun this rank's B/P
    rewards = estimator(samples)  # (B, T)
    advantages = rewards if baseline is None else baseline(samples, rewards)
    reinforce(generator, optimizer, samples, advantages, grad_clip, normalize_advantages)
    return distributed.mean(rewards.mean())


def reinforce(
    generator: Generator,
    optimizer: torch.optim.Optimizer,
    samples: torch.Tensor,
    advantages: torch.Tensor,
    grad_clip: float,
    normalize_advantages: bool = False,
) -> None:
    """The policy-gradient update: one Adam step on -sum_t log G(y_t | Y_1:t-1) * A_t of ``samples`` (B, T)."""
    if normalize_advantages:
        advantages = normalize(advantages, generator.token_mask(samples))
    model = distributed.replicate(generator)  # under torchrun: DDP, which averages gradients over ranks
    model.train()
    loss = (
        model.pg_loss(samples, advantages) * distributed.world_size()
    )  # a sum: P x the mean over ranks is the batch's sum
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(generator.parameters(), grad_clip)
    optimizer.step()


def train(
    cfg: Config,
    run_dir: str | Path,
    resume: bool = False,
    report=None,
    start_from: str | Path | None = None,
    stop_after_pretraining: bool = False,
) -> dict:
    """Run Algorithm 1 with the MLE baseline alongside; returns the final results.

    ``report(step, record)``, if given, sees each evaluation of the trained generator (pre-training
    and adversarial phases) as it is written; ``seqgan tune`` prunes trials on it. Under torchrun
    every rank calls this; they join the process group first and leave it at the end.

    ``stop_after_pretraining`` stops with a checkpoint at the end of MLE pre-training (step 1). A new
    run given that run directory as ``start_from`` continues from there instead of pre-training G
    again; it must agree with that run on every key but those read later (``SHAREABLE_KEYS``), and it
    ends exactly where its own uninterrupted run would (the checkpoint holds the random state).
    """
    ddp = distributed.launched()  # one of several processes started by torchrun
    if not ddp:
        return _train(cfg, Path(run_dir), resume, report, start_from, stop_after_pretraining)
    check_processes(cfg, distributed.launched_world_size())  # what several processes cannot run, refused here
    try:  # joining the group waits for every rank, within dist_timeout: a rank that never comes is one line too
        cfg.device = str(distributed.setup(torch.device(cfg.device), cfg.dist_backend, cfg.dist_timeout))
        results = _train(cfg, Path(run_dir), resume, report, start_from, stop_after_pretraining)
        distributed.barrier()  # the ranks leave together: none tears the process group down under another
        return results
    except RuntimeError as e:  # a collective failed: name this rank in one line, not a traceback of C++
        if distributed.is_collective_failure(e):
            raise distributed.lost(e, cfg.dist_timeout) from None
        raise
    finally:
        distributed.shutdown()


def _train(
    cfg: Config,
    run_dir: Path,
    resume: bool,
    report=None,
    start_from: str | Path | None = None,
    stop_after_pretraining: bool = False,
) -> dict:
    ckpt = prepare_run_dir(run_dir, resume)
    forked = ckpt is None and start_from is not None
    if ckpt is not None:
        cfg = resumed_config(cfg, ckpt["config"])
    elif forked:
        ckpt = pretraining_checkpoint(Path(start_from), cfg)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run = Run(cfg, run_dir)  # reads the data first: bad input leaves no run directory behind
    run.report, run.stop_after_pretraining = report, stop_after_pretraining
    distributed.barrier()  # every rank has checked the run directory before rank 0 writes to it
    if run.master:
        run_dir.mkdir(parents=True, exist_ok=True)
    if ckpt is not None:
        try:
            restore(run, ckpt)
        except (KeyError, RuntimeError) as e:
            raise RunError(
                f"{run_dir / CHECKPOINT}: checkpoint does not match its own config ({str(e).splitlines()[0][:160]})"
            ) from None
        if run.progress["finished"]:
            if not (run_dir / "results.json").exists():  # deleted since: write the finished run's outputs again
                run.start_clock()
                return finish(run)
            return json.loads((run_dir / "results.json").read_text())
        if forked:  # a run of its own from here: its files, pre-training's evaluations, its checkpoint
            if run.master:
                write_run_files(run)
                copy_lines(Path(start_from) / "metrics.jsonl", run_dir / "metrics.jsonl", run.progress["metrics_lines"])
                if (Path(start_from) / "samples").is_dir():  # real data: pre-training's decoded samples
                    shutil.copytree(Path(start_from) / "samples", run_dir / "samples", dirs_exist_ok=True)
            run.start_clock()
            run.save()
        elif run.master:
            truncate_lines(run_dir / "metrics.jsonl", run.progress["metrics_lines"])
    else:
        if run.master:
            write_run_files(run)
        run.start_clock()
        run.save()  # a run stopped before its first periodic checkpoint can still --resume
    from torch.utils.tensorboard import SummaryWriter

    run.start_clock()
    if run.master:  # each start and resume says where it ran: a long run may span machines that round differently
        tqdm.write(f"machine: {machine()}; D in {'bf16' if run.bf16 else 'fp32'}")
    run.writer = (
        SummaryWriter(str(run_dir / "tensorboard"), purge_step=global_step(run) if ckpt else None)
        if run.master
        else None
    )
    try:
        with run.stop:
            return algorithm_1(run)
    finally:
        if run.writer is not None:
            run.writer.close()


def algorithm_1(run: Run) -> dict:
    """Algorithm 1 of the paper, from wherever ``run.progress`` stands; returns the final results."""
    cfg, tc, p = run.cfg, run.cfg.train, run.progress
    g, d = run.generator, run.discriminator
    bf16 = run.bf16
    gp = (cfg.discriminator.gradient_penalty, cfg.discriminator.gp_weight)  # D's gradient penalty, 'none' in the paper
    compile_mode = cfg.discriminator.compile  # D's step under torch.compile / CUDA graphs (compiled.py), 'none' eager
    pretrain_epochs = tc.pretrain_g_epochs
    num_negatives = distributed.share(tc.num_negatives)  # under torchrun each rank samples its share

    # Table 1's Random row: the generator before any training.
    if "random" in run.rows and p["metrics_lines"] == 0:
        run.evaluate("random", 0, run.rows["random"].generator)

    # 1. Pre-train G_theta by MLE on the real data.
    bar = tqdm(total=pretrain_epochs, initial=p["g_epoch"], desc="MLE pre-training", unit="epoch", disable=run.quiet)
    while p["g_epoch"] < pretrain_epochs:
        loss = mle_epoch(
            g,
            run.g_opt,
            run.real,
            tc.batch_size,
            cfg.generator.grad_clip,
            position=run.resumed_position(),  # a stop request ends an epoch at a batch boundary, --resume goes on there
            after_batch=run.between_batches(f"MLE pre-training epoch {p['g_epoch'] + 1}/{pretrain_epochs}"),
        )
        p["g_epoch"] += 1
        bar.update()
        heartbeat(run, bar, "MLE pre-training", p["g_epoch"], f"mle_loss={loss:.4f}")
        if p["g_epoch"] % cfg.eval.every == 0 or p["g_epoch"] == pretrain_epochs:
            record = run.evaluate("pretrain", p["g_epoch"], g, {"mle_loss": loss})
            # train.pretrain_keep 'best': keep G at the lowest validation NLL; after a patience, stop here
            if run.best is not None:
                warning = run.best.see(p["g_epoch"], record["nll_valid"], g, run.g_opt)
                if warning:
                    run.say(f"seqgan: warning: {warning}")
                if run.best.patience_spent:
                    p["g_epoch"] = pretrain_epochs  # pre-training is over (run.best holds the epoch it stopped at)
        if p["g_epoch"] % cfg.eval.checkpoint_every == 0 and p["g_epoch"] < pretrain_epochs:
            run.save()
        stop_if_asked(run)
    bar.close()
    if p["d_step"] == 0 and p["round"] == 0:
        if run.best is not None and run.best.epoch is not None:  # adversarial training starts from the best epoch
            run.best.restore(g, run.g_opt)
            run.say(kept_epoch_line(run))
        run.save()
        if run.stop_after_pretraining:  # other runs start from here (train's start_from)
            return {
                "stopped_after": "pretraining",
                "checkpoint": str(run.run_dir / CHECKPOINT),
                "seconds": run.elapsed(),
            }

    # 2. Pre-train D_phi on real data vs negatives freshly generated by G_theta.
    bar = tqdm(total=tc.pretrain_d_steps, initial=p["d_step"], desc="D pre-training", unit="set", disable=run.quiet)
    while p["d_step"] < tc.pretrain_d_steps:
        negatives = g.sample(num_negatives)
        d_loss = train_discriminator(
            d, run.d_opt, run.real, negatives, tc.pretrain_d_epochs, tc.batch_size, bf16, *gp, compile_mode
        )
        p["d_step"] += 1
        bar.update()
        bar.set_postfix(d_loss=f"{d_loss:.4f}")
        heartbeat(run, bar, "D pre-training", p["d_step"], f"d_loss={d_loss:.4f}")
        if p["d_step"] % cfg.eval.checkpoint_every == 0 and p["d_step"] < tc.pretrain_d_steps:
            run.save()
        stop_if_asked(run)
    bar.close()

    # 3. Adversarial training. The roll-out policy G_beta starts as a copy of the pre-trained G,
    # and so does every trained row of Table 1.
    starting = run.rollout_policy is None
    if starting:
        run._start_adversarial()
    trained_rows = [name for name in run.rows if name != "random"]
    if starting:
        run.evaluate("adversarial", pretrain_epochs, g, {"round": 0})
        for name in trained_rows:
            run.evaluate(name, pretrain_epochs, run.rows[name].generator, {"round": 0})
        run.save()
    reward = discriminator_scorer(d, batch_size=tc.score_batch_size, bf16=bf16)
    reference = None  # objective 'kl': the frozen pre-trained G that the KL penalty pulls toward
    if tc.objective == "kl":
        reference = g.copy().requires_grad_(False)
        reference.load_state_dict(run.pretrained)
        if tc.kl_reward == "logit":  # log D / (1 - D), with beta = 1 the data's density ratio to p_0
            reward = log_odds_scorer(d, batch_size=tc.score_batch_size)
    # Q and its baseline: the paper's Monte Carlo rollouts and none, or train.rewards and train.baseline
    critic, value_baseline = run.critic, run.value_baseline  # the TD critic and V, where they are on
    estimator, baseline = reward_estimator(run, reward), pg_baseline(run)
    batch = distributed.share(tc.batch_size)  # under torchrun each rank samples B/P of every batch
    bar = tqdm(total=tc.rounds, initial=p["round"], desc="adversarial", unit="round", disable=run.quiet)
    while p["round"] < tc.rounds:
        if p["round_units"] == 0:  # (a checkpoint taken inside an MLE row's epoch has this half of the round done)
            # g-steps: sample Y_1:T ~ G_theta, Q from Monte Carlo rollouts by G_beta and D, REINFORCE
            for _ in range(tc.g_steps):
                samples = g.sample(batch)  # (B, T)
                if critic is not None:  # TD critic: learns V from D on this batch (after its warm-up), then Q from V
                    if not critic.warmed_up:
                        critic.warm_up(lambda: g.sample(tc.batch_size), run.rollout_policy, reward)
                    rewards = critic.q_values(samples, critic.learn(samples, run.rollout_policy, reward))
                else:
                    rewards = estimator(samples)  # Q (B, T): N rollouts by G_beta scored by D (eq. 4), or tree search
                q_values = rewards  # Q under the sequence reward, before any KL term
                if reference is not None:  # objective 'kl': returns of r - beta log p/p_0 (kl.py)
                    mask = g.token_mask(samples)
                    with torch.no_grad():
                        logp_old, logp_ref = g.log_probs(samples), reference.log_probs(samples)
                    rewards = kl_returns(rewards, logp_old, logp_ref, tc.kl_beta, mask)
                advantages = rewards if baseline is None else baseline(samples, rewards)  # Q - b, b read first
                if value_baseline is not None:
                    value_baseline.fit(samples, rewards)
                if reference is None:
                    reinforce(g, run.pg_opt, samples, advantages, cfg.generator.grad_clip, tc.normalize_advantages)
                else:
                    ppo_update(g, run.pg_opt, samples, logp_old, advantages, mask, tc, cfg.generator.grad_clip)
                mean_reward = distributed.mean(q_values.mean())
            # beta <- r * beta + (1 - r) * theta
            run.rollout_policy.update(g)
            # d-steps: fresh negatives each time, k epochs over them (none where D is frozen: train.freeze_d)
            d_loss = None
            for _ in range(0 if tc.freeze_d else tc.d_steps):
                negatives = g.sample(num_negatives)
                d_loss = train_discriminator(
                    d, run.d_opt, run.real, negatives, tc.d_epochs, tc.batch_size, bf16, *gp, compile_mode
                )
            p["round_units"] = 1
            p["round_stats"] = {"mean_reward": mean_reward if tc.g_steps else None, "d_loss": d_loss}
        # Table 1's other rows: the same pre-trained G, trained their own way for the same rounds
        train_rows_round(run, trained_rows, p["round"])
        mean_reward, d_loss = p["round_stats"]["mean_reward"], p["round_stats"]["d_loss"]
        p["round_units"], p["round_stats"] = 0, None
        p["round"] += 1
        bar.update()
        heartbeat(
            run,
            bar,
            "adversarial round",
            p["round"],
            " ".join(f"{k}={v:.4f}" for k, v in (("mean_reward", mean_reward), ("d_loss", d_loss)) if v is not None),
        )
        step = pretrain_epochs + p["round"]
        if tc.g_steps and run.master:
            run.writer.add_scalar("seqgan/mean_reward_train", mean_reward, step)
        if p["round"] % cfg.eval.every == 0 or p["round"] == tc.rounds:
            run.evaluate(
                "adversarial",
                step,
                g,
                {
                    "round": p["round"],
                    "mean_reward": mean_reward,
                    "d_train_loss": d_loss,
                    **critic_losses(run),
                },
            )
            for name in trained_rows:
                run.evaluate(name, step, run.rows[name].generator, {"round": p["round"]})
        if p["round"] % cfg.eval.checkpoint_every == 0 and p["round"] < tc.rounds:
            run.save()
        stop_if_asked(run)
    bar.close()
    return finish(run)


def ppo_update(
    generator: Generator,
    optimizer: torch.optim.Optimizer,
    samples: torch.Tensor,
    logp_old: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    tc,
    grad_clip: float,
) -> None:
    """``tc.ppo_epochs`` Adam steps on PPO's clipped surrogate over one g-step's batch (kl.py's ``ppo_loss``)."""
    generator.train()
    for _ in range(tc.ppo_epochs):
        loss = ppo_loss(generator.log_probs(samples), logp_old, advantages, mask, tc.ppo_clip)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(generator.parameters(), grad_clip)
        optimizer.step()


def reward_estimator(run: Run, scorer: Scorer) -> Estimator | None:
    """Q of a g-step's batch as ``train.rewards`` says: 'mc', 'td' or 'mcts' (the config stops here)."""
    tc = run.cfg.train
    if tc.rewards == "mc":
        return monte_carlo(run.rollout_policy, scorer, tc.rollout_num)
    if tc.rewards == "td":  # the g-step reads Q from run.critic
        return None
    if tc.rewards == "mcts":
        return lambda samples: mcts_rewards(run.rollout_policy, scorer, samples, tc.rollout_num, tc.mcts_c_puct)
    if tc.rewards == "none":  # no roll-outs: every token gets its whole sequence's reward
        return lambda samples: scorer(samples)[:, None].expand(samples.shape).clone()
    raise AssertionError(f"unknown reward estimator {tc.rewards!r}")


def critic_losses(run: Run) -> dict:
    """The last squared errors of the TD critic and the value baseline, where they are on (for the metrics)."""
    losses = {}
    if run.critic is not None:
        losses["critic_loss"] = run.critic.last_loss
    if run.value_baseline is not None:
        losses["value_loss"] = run.value_baseline.last_loss
    return losses


def pg_baseline(run: Run) -> Advantages | None:
    """What ``train.baseline`` subtracts from Q: nothing (the paper), the leave-one-out batch mean or V."""
    name = run.cfg.train.baseline
    if name == "none":
        return None
    if name == "mean":
        return MeanBaseline()
    if name == "value":
        return run.value_baseline
    raise AssertionError(f"unknown baseline {name!r}")


def row_units(cfg: Config, name: str) -> int:
    """Units of work a round gives one of Table 1's other rows: its MLE epochs, or PG-BLEU's g-steps as one."""
    return cfg.rows.mle_epochs_per_round if name in ("mle", "scheduled_sampling") else 1


def train_rows_round(run: Run, names: list[str], round_index: int) -> None:
    """One adversarial round's worth of training for Table 1's other rows, unit by unit, from the unit that
    a checkpoint taken inside an MLE row's epoch stopped in (``progress['round_units']``, counted from 1)."""
    units = [(name, k) for name in names for k in range(row_units(run.cfg, name))]
    for name, _ in units[run.progress["round_units"] - 1 :]:
        train_row_unit(run, name, round_index)
        run.progress["round_units"] += 1


def train_row_unit(run: Run, name: str, round_index: int) -> None:
    """One unit of a round's training for one of Table 1's other rows (round_index counts from 0): an MLE
    epoch of 'mle' or 'scheduled_sampling', which a stop request ends at a batch boundary, or PG-BLEU's g-steps."""
    cfg, bl = run.cfg, run.cfg.rows
    row = run.rows[name]
    desc = f"{name} epoch, adversarial round {round_index + 1}/{cfg.train.rounds}"
    if name in ("mle", "scheduled_sampling"):  # teacher forcing, or scheduled sampling at this round's rate
        prob = (
            0.0
            if name == "mle"
            else ss_sample_prob(bl.ss_schedule, (round_index + 1) / cfg.train.rounds, bl.ss_final_prob, bl.ss_sigmoid_k)
        )
        mle_epoch(
            row.generator,
            row.optimizer,
            run.real,
            cfg.train.batch_size,
            cfg.generator.grad_clip,
            sample_prob=prob,
            position=run.resumed_position(),
            after_batch=run.between_batches(desc),
        )
    elif name == "pg_bleu":  # SeqGAN's g-steps with BLEU against the training data as the reward
        for _ in range(cfg.train.g_steps):
            policy_gradient_step(
                row.generator,
                row.optimizer,
                monte_carlo(row.rollout_policy, run.bleu_scorer, cfg.train.rollout_num),
                cfg.train.batch_size,
                cfg.generator.grad_clip,
            )
        row.rollout_policy.update(row.generator)
    else:
        raise AssertionError(f"no training for row {name!r}")
