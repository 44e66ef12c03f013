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

Under torchrun the same recipe runs on every rank (``distributed.py``): each rank does its share of
every batch, DDP averages the gradients, and only rank 0 (``master``) writes.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from tqdm.auto import tqdm

from . import corpus, metrics
from .runtime import distributed
from .bleu import BleuReference
from .runtime.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from .runtime.compiled import discriminator_loss_fn, mark_step
from .config import Config, config_from_dict
from .critic import MeanBaseline, PrefixValue, TDCritic, ValueBaseline, normalize
from .data import batches, discriminator_set, oracle_corpus, write_token_file
from .discriminator import Discriminator
from .runtime.hardware import machine, use_bf16
from .runtime.files import atomic_write_text, flat_keys
from .generator import Generator
from .mcts import mcts_rewards
from .runtime.mixed_precision import BF16Weights
from .runtime.optim import TF1Adam
from .oracle import Oracle, resolve_oracle_path
from .penalty import gradient_penalty
from .rollout import BleuScorer, RolloutPolicy, Scorer, discriminator_scorer, get_rewards

CHECKPOINT = "checkpoint.pt"


class RunError(ValueError):
    """A run directory that cannot be used as asked."""


class TrainingStopped(KeyboardInterrupt):
    """Training stopped on request after a checkpoint of all finished work."""


class StopRequest:
    """Ctrl-C or SIGTERM during training: finish the unit of work at hand (an MLE epoch, a D set, an
    adversarial round), checkpoint and stop, so no finished work is lost; a second signal stops at once."""

    def __init__(self):
        self.requested = False
        self._previous: dict = {}

    def __enter__(self) -> "StopRequest":
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
            tqdm.write("seqgan: stopping after the current unit of work, with a checkpoint (signal again to stop at once)")


# -- building blocks from the config (the config stops here) ----------------------------------------

def data_dir_of(cfg: Config) -> str | None:
    return cfg.data_dir or os.environ.get("SEQGAN_DATA_DIR") or None


def build_oracle(cfg: Config) -> Oracle:
    o = cfg.oracle
    if o.source == "random":
        return Oracle.random(o.vocab_size, o.emb_dim, o.hidden_dim, o.seq_len, seed=o.seed)
    return Oracle.from_npz(resolve_oracle_path(o.source, data_dir_of(cfg)), seq_len=o.seq_len)


def build_generator(cfg: Config, vocab_size: int) -> Generator:
    # real data ends each sequence with EOS and pads after it; the synthetic task has neither
    real_data = cfg.data.source != "oracle"
    return Generator(
        vocab_size, cfg.seq_len, emb_dim=cfg.generator.emb_dim, hidden_dim=cfg.generator.hidden_dim,
        single_bias=cfg.generator.single_bias, start_token=corpus.PAD if real_data else 0, eos_token=corpus.EOS if real_data else None, pad_token=corpus.PAD,
    )


def build_discriminator(cfg: Config, vocab_size: int) -> Discriminator:
    d = cfg.discriminator
    return Discriminator(
        vocab_size, cfg.seq_len, emb_dim=d.emb_dim, filter_sizes=tuple(d.filter_sizes),
        num_filters=tuple(d.num_filters), dropout_keep=d.dropout_keep, l2_reg=d.l2_reg,
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
                raise MissingRow(f"{path}: the run has no pre-trained generator saved (it has not reached adversarial "
                                 "training, or an older seqgan wrote it)")
        elif row in ckpt["baselines"]:
            weights = ckpt["baselines"][row]["generator"]
        else:
            raise MissingRow(f"{path}: the run has no {row!r} row (it has: seqgan, {', '.join(ckpt['baselines']) or 'no baselines'})")
        generator.load_state_dict(weights)
    except (KeyError, TypeError, RuntimeError) as e:
        raise ValueError(f"{path}: damaged checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:160]})") from None
    return ckpt, cfg, oracle, vocab, generator


def adam(params, lr: float, epsilon_form: str = "pytorch") -> torch.optim.Adam:
    """Adam for G or D; ``epsilon_form`` 'tf1' places epsilon as the authors' TensorFlow 1 did (optim.py)."""
    # the fused kernel is one launch for all weights: 23 ms -> 3 ms a step on D's 7 M weights (CPU)
    if epsilon_form == "tf1":
        return TF1Adam(params, lr=lr, fused=True)
    return torch.optim.Adam(params, lr=lr, fused=True)


# -- one unit of work each ---------------------------------------------------------------------------

def mle_epoch(
    generator: Generator, optimizer: torch.optim.Optimizer, data: torch.Tensor, batch_size: int, grad_clip: float,
    sample_prob: float = 0.0,
) -> float:
    """One epoch of maximum-likelihood training; returns the mean batch loss.

    ``sample_prob`` > 0 is scheduled sampling at that probability (``Generator.scheduled_sampling_loss``).
    """
    generator = distributed.replicate(generator)  # under torchrun: DDP, which averages gradients over ranks
    generator.train()
    losses = []
    for b_seqs in batches(data, batch_size):
        mb_seqs = distributed.shard(b_seqs)  # this rank's rows of the batch (all of them in one process)
        loss = generator.mle_loss(mb_seqs) if sample_prob == 0.0 else generator.scheduled_sampling_loss(mb_seqs, sample_prob)[0]
        loss = loss * distributed.row_weight(len(mb_seqs), len(b_seqs))  # 1 unless the last batch splits unevenly
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(generator.parameters(), grad_clip)
        optimizer.step()
        losses.append(loss.detach())
    return distributed.mean(torch.stack(losses).mean())


def train_discriminator(
    discriminator: Discriminator, optimizer: torch.optim.Optimizer, real: torch.Tensor, fake: torch.Tensor,
    epochs: int, batch_size: int, bf16: bool, gp: str = "none", gp_weight: float = 0.0, compile_mode: str = "none",
) -> float:
    """k epochs of D on real (label 1) vs generated (label 0); returns the last epoch's mean loss
    (cross-entropy and L2, without the gradient penalty ``gp``, if any, at weight ``gp_weight``).
    ``compile_mode`` other than 'none' runs D's loss under torch.compile (compiled.py).

    Under torchrun ``fake`` is this rank's own negatives; it trains on its block of ``real``, in
    minibatches of its share of ``batch_size``.
    """
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
    weights = BF16Weights([*raw.convs, raw.highway]) if bf16 and raw is discriminator and compile_mode == "none" else None
    loss_fn = discriminator_loss_fn(raw, compile_mode) if compile_mode != "none" else discriminator.loss
    loss_sum = torch.zeros((), device=seqs.device)
    for _ in range(epochs):
        order = torch.randperm(len(seqs), device=seqs.device)
        loss_sum.zero_()
        steps = 0
        for i in range(0, len(seqs), batch_size):
            mb = order[i : i + batch_size]
            mark_step(seqs.device)  # CUDA graphs (compile_mode 'reduce-overhead'): the last step's buffers are free
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16), weights if weights is not None else contextlib.nullcontext():
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


def ss_sample_prob(schedule: str, progress: float, final_prob: float, k: float = 10.0) -> float:
    """Scheduled sampling's probability of feeding the model's own token, at ``progress`` in [0, 1].

    Bengio et al. (2015) decay the teacher-forcing probability eps by a linear, exponential or
    inverse-sigmoid schedule; here each is stretched over the rounds so that eps reaches
    1 - ``final_prob`` at progress 1, and the sampling probability is 1 - eps.
    """
    if final_prob <= 0.0:
        return 0.0
    eps_end = 1.0 - final_prob
    if schedule == "linear":
        eps = 1.0 - (1.0 - eps_end) * progress
    elif schedule == "exponential":  # eps_i = a^i with a^(last i) = eps_end
        eps = eps_end ** progress
    elif schedule == "inverse_sigmoid":  # eps_i = k / (k + exp(i / k)), i running to where eps = eps_end
        i_end = k * math.log(max(k * (1.0 / eps_end - 1.0), 1.0))
        eps = k / (k + math.exp(progress * i_end / k))
    else:
        raise ValueError(f"unknown scheduled-sampling schedule {schedule!r}")
    return 1.0 - eps


Estimator = Callable[[torch.Tensor], torch.Tensor]  # samples (B, T) -> Q (B, T)
Advantages = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # samples, Q (B, T) -> advantages (B, T)


def monte_carlo(rollout_policy: RolloutPolicy, scorer: Scorer, rollout_num: int) -> Estimator:
    """The paper's Q: the mean of ``scorer`` over N completions by G_beta of every prefix (eq. 4)."""
    return lambda samples: get_rewards(rollout_policy, scorer, samples, rollout_num)


def policy_gradient_step(
    generator: Generator, optimizer: torch.optim.Optimizer, estimator: Estimator, batch_size: int, grad_clip: float,
    baseline: Advantages | None = None, normalize_advantages: bool = False,
) -> float:
    """One g-step: sample a batch, estimate Q, subtract a baseline, REINFORCE; returns the mean Q.

    ``estimator`` gives Q of every token (the paper's ``monte_carlo`` rollouts, a TD critic or a tree
    search), rewarding whole sequences by D for SeqGAN or BLEU for PG-BLEU; ``baseline`` (None:
    the paper) turns Q into advantages.
    """
    mask = generator.token_mask  # of the plain model (a Replica under torchrun forwards the losses only)
    generator = distributed.replicate(generator)  # under torchrun: DDP, which averages gradients over ranks
    samples = generator.sample(distributed.share(batch_size))  # (B, T); under torchrun this rank's B/P
    rewards = estimator(samples)  # (B, T)
    advantages = rewards if baseline is None else baseline(samples, rewards)
    if normalize_advantages:
        advantages = normalize(advantages, mask(samples))
    generator.train()
    loss = generator.pg_loss(samples, advantages) * distributed.world_size()  # a sum: P x the mean over ranks is the batch's sum
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(generator.parameters(), grad_clip)
    optimizer.step()
    return distributed.mean(rewards.mean())


@dataclass
class Baseline:
    """One of Table 1's other rows: its generator, and what it trains with."""

    generator: Generator
    optimizer: torch.optim.Optimizer | None = None  # None: 'random', never trained
    rollout_policy: RolloutPolicy | None = None  # 'pg_bleu' only


ROW_NAMES = {  # metrics phase -> Table 1 row
    "random": "Random", "pretrain": "pretrained", "mle": "MLE", "scheduled_sampling": "SS",
    "pg_bleu": "PG-BLEU", "adversarial": "SeqGAN",
}


# -- the run ---------------------------------------------------------------------------------------

class Run:
    """Models, optimisers, data and position of one training run; the recipe is ``train``."""

    def __init__(self, cfg: Config, run_dir: Path):
        self.cfg, self.run_dir = cfg, run_dir
        self.device = torch.device(cfg.device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise RunError("config asks for device 'cuda' but torch sees no CUDA device")
        if self.device.type == "cuda" and (self.device.index or 0) >= torch.cuda.device_count():
            raise RunError(f"config asks for device '{cfg.device}' but torch sees {torch.cuda.device_count()} CUDA device(s)")
        self.bf16 = use_bf16(cfg.discriminator.precision, self.device)
        self.oracle: Oracle | None = None  # the synthetic task's judge
        self.vocab: corpus.Vocab | None = None  # real data's tokens
        if cfg.data.source == "oracle":
            self.oracle = build_oracle(cfg)
            self.vocab_size = self.oracle.vocab_size
            real, test = oracle_corpus(self.oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
            self.oracle.to(self.device)  # the corpus is drawn on the CPU (its seed fixes it); NLL-oracle runs here
        else:
            data = corpus.load_corpus(cfg.data, data_dir_of(cfg))
            self.vocab, self.corpus_stats = data.vocab, corpus.corpus_stats(data)
            self.vocab_size = len(data.vocab)
            real, test = data.train, data.test
            # BLEU's references: the test split's own tokens (not <unk>), cut to length as the data is
            self.reference_rows = corpus.cut_sequences(data.test_tokens, cfg.data.max_len, cfg.data.overflow)
            self.bleu_reference = BleuReference(self.reference_rows, max_n=cfg.eval.bleu_max_n)
        self.real, self.test = real.to(self.device), test.to(self.device)
        torch.manual_seed(cfg.seed)
        self.generator = build_generator(cfg, self.vocab_size).to(self.device)
        self.discriminator = build_discriminator(cfg, self.vocab_size).to(self.device)
        eps_form = cfg.train.adam_epsilon
        self.g_opt = adam(self.generator.parameters(), cfg.generator.lr, eps_form)
        self.d_opt = adam(self.discriminator.parameters(), cfg.discriminator.lr, eps_form)
        # under torchrun: the same initial weights on every rank, then a random stream of each rank's own
        self.master = distributed.is_master()  # under torchrun only rank 0 writes and prints
        self.quiet = None if self.master else True  # tqdm's ``disable``: None draws bars on a terminal only
        if distributed.world_size() > 1:
            torch.manual_seed(distributed.rank_seed(cfg.seed, distributed.rank()))
        # built when adversarial training starts, from the pre-trained generator
        self.rollout_policy: RolloutPolicy | None = None
        self.pg_opt: torch.optim.Optimizer | None = None
        self.critic: TDCritic | None = None  # train.rewards 'td'
        self.value_baseline: ValueBaseline | None = None  # train.baseline 'value'
        self.pretrained: dict | None = None  # G's weights at the end of pre-training: the best MLE model
        self.baselines: dict[str, Baseline] = {}
        if "random" in cfg.baselines.rows:  # the untrained generator, kept as it is
            self.baselines["random"] = Baseline(self.generator.copy().requires_grad_(False))
        self.bleu_scorer: BleuScorer | None = None
        self.progress = {"g_epoch": 0, "d_step": 0, "round": 0, "metrics_lines": 0, "finished": False}
        self.seconds = 0.0  # training time before this process, from the checkpoint
        self.stop = StopRequest()  # armed by train() while Algorithm 1 runs
        self.report = None  # train()'s report(step, record) of each evaluation of G
        self.stop_after_pretraining = False  # train()'s: stop at the end of MLE pre-training, for others to start from

    # -- checkpoints
    def state(self) -> dict:
        return {
            "format": FORMAT,
            "config": self.cfg.to_dict(),
            "oracle": {"dims": self.oracle.dims(), "weights": self.oracle.state_dict()} if self.oracle else None,
            "vocab": self.vocab.to_dict() if self.vocab else None,
            "generator": self.generator.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "rollout_policy": self.rollout_policy.state_dict() if self.rollout_policy else None,
            "baselines": {
                name: {
                    "generator": row.generator.state_dict(),
                    "optimizer": row.optimizer.state_dict() if row.optimizer else None,
                    "rollout_policy": row.rollout_policy.state_dict() if row.rollout_policy else None,
                }
                for name, row in self.baselines.items()
            },
            "pg_opt": self.pg_opt.state_dict() if self.pg_opt else None,
            "critic": self.critic.state_dict() if self.critic else None,
            "value_baseline": self.value_baseline.state_dict() if self.value_baseline else None,
            "pretrained": self.pretrained,
            "progress": dict(self.progress),
            "seconds": self.elapsed(),
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
        } | ({"distributed": {  # under torchrun: every rank's random state
            "world_size": distributed.world_size(),
            "rng_cpu": distributed.all_ranks(torch.get_rng_state()),
            "rng_cuda": distributed.all_ranks(torch.cuda.get_rng_state(self.device)) if self.device.type == "cuda" else None,
        }} if distributed.world_size() > 1 else {})

    def save(self) -> None:
        """Rank 0 writes the checkpoint atomically; every rank waits until it is on disk."""
        distributed.assert_replicated(self.replicated())
        state = self.state()  # on every rank: it gathers their random states
        if self.master:
            save_checkpoint(state, self.run_dir / CHECKPOINT)
        distributed.barrier()

    def replicated(self) -> dict[str, torch.nn.Module]:
        """The models that must be the same on every rank."""
        models = {"generator": self.generator, "discriminator": self.discriminator}
        if self.rollout_policy is not None:
            models["rollout_policy"] = self.rollout_policy
        for name, row in self.baselines.items():
            models[f"baselines.{name}"] = row.generator
            if row.rollout_policy is not None:
                models[f"baselines.{name}.rollout_policy"] = row.rollout_policy
        return models

    def restore(self, ckpt: dict) -> None:
        self.generator.load_state_dict(ckpt["generator"])
        self.g_opt.load_state_dict(ckpt["g_opt"])
        self.discriminator.load_state_dict(ckpt["discriminator"])
        self.d_opt.load_state_dict(ckpt["d_opt"])
        if ckpt["rollout_policy"] is not None:
            self._start_adversarial()
            self.rollout_policy.load_state_dict(ckpt["rollout_policy"])
            self.pg_opt.load_state_dict(ckpt["pg_opt"])
            # checkpoints from before the critic and the value baseline hold neither
            if self.critic is not None:
                self.critic.load_state_dict(ckpt["critic"])
            if self.value_baseline is not None:
                self.value_baseline.load_state_dict(ckpt["value_baseline"])
            self.pretrained = ckpt.get("pretrained")  # absent from checkpoints of older seqgan
        if set(ckpt["baselines"]) != set(self.baselines):
            raise KeyError(f"baseline rows {sorted(ckpt['baselines'])} in the checkpoint, {sorted(self.baselines)} expected")
        for name, row in self.baselines.items():
            saved = ckpt["baselines"][name]
            row.generator.load_state_dict(saved["generator"])
            if row.optimizer is not None:
                row.optimizer.load_state_dict(saved["optimizer"])
            if row.rollout_policy is not None:
                row.rollout_policy.load_state_dict(saved["rollout_policy"])
        self.progress = dict(ckpt["progress"])
        self.seconds = float(ckpt["seconds"])
        saved = ckpt.get("distributed") or {"world_size": 1, "rng_cpu": [ckpt["rng_cpu"]], "rng_cuda": [ckpt["rng_cuda"]]}
        if saved["world_size"] == distributed.world_size():  # each rank continues its own stream
            torch.set_rng_state(saved["rng_cpu"][distributed.rank()])
            if saved["rng_cuda"] is not None and saved["rng_cuda"][distributed.rank()] is not None:
                torch.cuda.set_rng_state(saved["rng_cuda"][distributed.rank()], self.device)
        else:  # fresh streams, not the ones the run started with
            torch.manual_seed(distributed.rank_seed(self.cfg.seed, distributed.rank(), _global_step(self)))
            if self.master:
                print(f"seqgan: warning: the run was trained by {saved['world_size']} process(es) and resumes with "
                      f"{distributed.world_size()}: it continues, but not exactly as it would have", file=sys.stderr)

    def _start_adversarial(self) -> None:
        cfg = self.cfg
        # kept for the fair comparison of quality against coverage (Caccia et al. 2020): the
        # pre-trained G, not the MLE row trained on beside SeqGAN, is the best MLE model
        self.pretrained = {k: v.detach().clone() for k, v in self.generator.state_dict().items()}
        self.rollout_policy = RolloutPolicy(self.generator, cfg.train.rollout_update_rate)
        # the policy gradient gets an Adam of its own, as in the authors' code (separate optimisers
        # for pretrain_loss and g_loss); the MLE-trained rows continue pre-training's Adam moments
        self.pg_opt = adam(self.generator.parameters(), cfg.generator.pg_lr or cfg.generator.lr, cfg.train.adam_epsilon)
        tc, start = cfg.train, self.generator.start_token
        if tc.rewards == "td":
            self.critic = TDCritic(
                PrefixValue(self.vocab_size, tc.critic_hidden_dim, start).to(self.device), lam=tc.td_lambda,
                lr=tc.critic_lr, updates=tc.critic_updates, warmup=tc.critic_warmup,
                target_rate=tc.critic_target_rate, completions=tc.td_completions, eos_token=self.generator.eos_token,
            )
        if tc.baseline == "value":
            self.value_baseline = ValueBaseline(
                PrefixValue(self.vocab_size, tc.critic_hidden_dim, start).to(self.device), lr=tc.value_lr,
                updates=tc.value_updates,
            )
        for name in cfg.baselines.rows:
            if name == "random":
                continue
            g = self.generator.copy()
            opt = adam(g.parameters(), cfg.generator.lr, cfg.train.adam_epsilon)
            if name in ("mle", "scheduled_sampling"):
                opt.load_state_dict(copy.deepcopy(self.g_opt.state_dict()))  # a copy: no shared moments
            rollout = RolloutPolicy(g, cfg.train.rollout_update_rate) if name == "pg_bleu" else None
            self.baselines[name] = Baseline(g, opt, rollout)
        if "pg_bleu" in self.baselines:
            self.bleu_scorer = BleuScorer(self.real.cpu(), max_n=cfg.baselines.bleu_max_n)

    # -- logging
    def evaluate(self, phase: str, step: int, generator: Generator, extra: dict | None = None) -> dict:
        cfg = self.cfg
        samples = distributed.gather(generator.sample(distributed.share(cfg.eval.num_samples), temperature=cfg.eval.temperature))  # each rank its share
        d_loss, d_acc = metrics.discriminator_metrics(
            self.discriminator, self.test[: len(samples)], samples, bf16=self.bf16
        )
        record = {"phase": phase, "step": step}
        if self.oracle is not None:
            record["nll_oracle"] = metrics.nll_oracle(self.oracle, samples)
        record["nll_test"] = metrics.nll_test(generator, self.test, cfg.eval.temperature)
        if self.vocab is not None:  # real data: BLEU against the test split, Self-BLEU, readable samples
            hypotheses = [self.vocab.decode(row) for row in samples.tolist()]
            record.update(metrics.real_data_metrics(
                self.bleu_reference, self.reference_rows, hypotheses, cfg.eval.self_bleu_samples, cfg.data.source == "midi",
            ))
            if self.master:
                self.write_decoded(self.run_dir / "samples" / f"{phase}_{step:05d}.txt", hypotheses)
        record.update({"d_loss": d_loss, "d_acc": d_acc, **(extra or {}), "seconds": round(self.elapsed(), 3)})
        self.progress["metrics_lines"] += 1
        if not self.master:
            return record
        with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        tag = "seqgan" if phase == "adversarial" else phase
        for key, value in record.items():
            if key not in ("step", "round", "seconds") and isinstance(value, (int, float)):
                self.writer.add_scalar(f"{tag}/{key}", value, step)
        fields = " ".join(f"{k}={v:.4f}" for k, v in record.items() if isinstance(v, float) and k != "seconds")
        tqdm.write(f"[{phase} {step}] {fields} ({record['seconds']:.0f}s)")
        if self.report is not None and phase in ("pretrain", "adversarial"):
            self.report(step, record)
        return record

    def elapsed(self) -> float:
        """Training seconds so far, across resumes."""
        return self.seconds + time.perf_counter() - self.started

    def heartbeat(self, bar: tqdm, desc: str, done: int, text: str) -> None:
        """Without a terminal tqdm draws no bar; a log file gets a plain line per unit instead."""
        if bar.disable and self.master:
            tqdm.write(f"[{desc} {done}/{bar.total}] {text} ({self.elapsed():.0f}s)")

    def write_decoded(self, path: Path, hypotheses: list[list[str]]) -> None:
        """Samples as text (real data), one a line, atomically."""
        kind = "ids" if self.cfg.data.source == "midi" else self.cfg.data.tokenizer
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(corpus.detokenize(h, kind) + "\n" for h in hypotheses), encoding="utf-8")
        tmp.replace(path)


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
        raise RunError(f"run directory {run_dir} already holds a run: pass --resume to continue it or --run-dir for a new one")
    return None


def train(cfg: Config, run_dir: str | Path, resume: bool = False, report=None, start_from: str | Path | None = None,
          stop_after_pretraining: bool = False) -> dict:
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
    if cfg.discriminator.gradient_penalty != "none":  # its extra backward is not routed through DDP
        raise RunError("key 'discriminator.gradient_penalty': runs under torchrun support only 'none' for now")
    if cfg.discriminator.compile != "none":  # DDP's reducer and a compiled D's step have not been run together here
        raise RunError("key 'discriminator.compile': runs under torchrun support only 'none' for now")
    # each process's critic or value network would learn from its own batches and drift apart, and a
    # checkpoint holds process 0's: a resumed run would not be the run that was started
    if cfg.train.rewards == "td":
        raise RunError("key 'train.rewards': runs under torchrun support 'mc' and 'mcts' for now, not 'td'")
    if cfg.train.baseline == "value":
        raise RunError("key 'train.baseline': runs under torchrun support 'none' and 'mean' for now, not 'value'")
    distributed.check_divisible({
        "train.batch_size": cfg.train.batch_size, "train.num_negatives": cfg.train.num_negatives,
        "eval.num_samples": cfg.eval.num_samples,
    })
    cfg.device = str(distributed.setup(torch.device(cfg.device), cfg.dist_backend, cfg.dist_timeout))
    try:
        return _train(cfg, Path(run_dir), resume, report, start_from, stop_after_pretraining)
    except RuntimeError as e:  # a collective failed: name this rank in one line, not a traceback of C++
        if distributed.is_collective_failure(e):
            raise distributed.lost(e, cfg.dist_timeout) from None
        raise
    finally:
        distributed.shutdown()


def _train(cfg: Config, run_dir: Path, resume: bool, report=None, start_from: str | Path | None = None,
           stop_after_pretraining: bool = False) -> dict:
    ckpt = prepare_run_dir(run_dir, resume)
    forked = ckpt is None and start_from is not None
    if ckpt is not None:
        cfg = _resumed_config(cfg, ckpt["config"])
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
            run.restore(ckpt)
        except (KeyError, RuntimeError) as e:
            raise RunError(f"{run_dir / CHECKPOINT}: checkpoint does not match its own config ({str(e).splitlines()[0][:160]})") from None
        if run.progress["finished"]:
            if not (run_dir / "results.json").exists():  # deleted since: write the finished run's outputs again
                run.started = time.perf_counter()
                return _finish(run)
            return json.loads((run_dir / "results.json").read_text())
        if forked:  # a run of its own from here: its files, pre-training's evaluations, its checkpoint
            if run.master:
                _write_run_files(run)
                _copy_lines(Path(start_from) / "metrics.jsonl", run_dir / "metrics.jsonl", run.progress["metrics_lines"])
                if (Path(start_from) / "samples").is_dir():  # real data: pre-training's decoded samples
                    shutil.copytree(Path(start_from) / "samples", run_dir / "samples", dirs_exist_ok=True)
            run.started = time.perf_counter()
            run.save()
        elif run.master:
            _truncate_lines(run_dir / "metrics.jsonl", run.progress["metrics_lines"])
    else:
        if run.master:
            _write_run_files(run)
        run.started = time.perf_counter()
        run.save()  # a run stopped before its first periodic checkpoint can still --resume
    from torch.utils.tensorboard import SummaryWriter

    run.started = time.perf_counter()
    if run.master:  # each start and resume says where it ran: a long run may span machines that round differently
        tqdm.write(f"machine: {machine()}; D in {'bf16' if run.bf16 else 'fp32'}")
    run.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=_global_step(run) if ckpt else None) if run.master else None
    try:
        with run.stop:
            return _algorithm_1(run)
    finally:
        if run.writer is not None:
            run.writer.close()


EXECUTION_KEYS = ("threads", "device", "data_dir", "dist_backend", "dist_timeout")  # may change on resume; the rest fixes the experiment


# read only after MLE pre-training (step 1): runs that differ only in these can share one pre-training
SHAREABLE_KEYS = (
    "generator.pg_lr", "discriminator.gradient_penalty", "discriminator.gp_weight", "discriminator.compile",
    "train.pretrain_d_steps", "train.pretrain_d_epochs", "train.num_negatives", "train.rounds", "train.g_steps",
    "train.rollout_num", "train.rollout_update_rate", "train.d_steps", "train.d_epochs", "train.score_batch_size",
    "train.rewards", "train.baseline", "train.normalize_advantages", "train.value_lr", "train.value_updates",
    "train.critic_hidden_dim", "train.td_lambda", "train.td_completions", "train.critic_lr", "train.critic_updates",
    "train.critic_warmup", "train.critic_target_rate", "train.mcts_c_puct", "baselines.mle_epochs_per_round",
    "baselines.ss_schedule", "baselines.ss_final_prob", "baselines.ss_sigmoid_k", "baselines.bleu_max_n",
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
    if (p["g_epoch"], p["d_step"], p["round"]) != (cfg.train.pretrain_g_epochs, 0, 0) or p["finished"] or ckpt["rollout_policy"] is not None:
        raise RunError(f"start from {run_dir}: its checkpoint is at MLE epoch {p['g_epoch']}, D set {p['d_step']}, round "
                       f"{p['round']}{' (adversarial training started)' if ckpt['rollout_policy'] is not None else ''}, not at the "
                       f"end of {cfg.train.pretrain_g_epochs} epochs of MLE pre-training (train --stop-after-pretraining)")
    metrics = run_dir / "metrics.jsonl"  # its evaluations become the new run's first lines
    lines = len(metrics.read_text(encoding="utf-8").splitlines()) if metrics.exists() else 0
    if lines < p["metrics_lines"]:
        raise RunError(f"start from {run_dir}: {metrics} has {lines} lines, its checkpoint counts {p['metrics_lines']}")
    saved_world = (ckpt.get("distributed") or {}).get("world_size", 1)
    if saved_world != distributed.world_size():  # fresh random streams: not the run this config gives from scratch
        raise RunError(f"start from {run_dir}: it was pre-trained by {saved_world} process(es), this run has "
                       f"{distributed.world_size()}; start from a pre-training with as many")
    now, then = flat_keys(cfg.to_dict()), flat_keys(ckpt["config"])
    for key, value in now.items():
        if key not in EXECUTION_KEYS and key not in SHAREABLE_KEYS and then.get(key, "(absent)") != value:
            raise RunError(f"start from {run_dir}: key '{key}' is {value!r} here but {then.get(key, '(absent)')!r} in its "
                           "pre-training; only keys read after MLE pre-training may differ")
    return ckpt


def _resumed_config(cfg: Config, saved: dict) -> Config:
    """The checkpoint's config, with this invocation's execution settings. A differing experiment
    setting is an error: a resumed run must be the run that was started."""
    from .config import config_from_dict

    now, then = flat_keys(cfg.to_dict()), flat_keys(saved)
    # a key newer than the checkpoint takes the value that reproduces the run as it was started
    # (config_from_dict), whatever this invocation's config says of it
    newer = sorted(key for key in now if key not in then and key not in EXECUTION_KEYS)
    if newer and distributed.is_master():
        tqdm.write(f"seqgan: the checkpoint predates {', '.join(newer)}: resuming with the values that reproduce its run")
    explicit = getattr(cfg, "explicit_keys", None)  # None: a Config built in code, every key counts
    differing = [key for key, value in now.items() if key not in EXECUTION_KEYS and key in then and then[key] != value]
    changed_defaults = [key for key in differing if explicit is not None and key not in explicit]
    if changed_defaults and distributed.is_master():
        tqdm.write(f"seqgan: the defaults of {', '.join(changed_defaults)} changed since the run started: resuming with the run's values")
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


def _global_step(run: Run) -> int:
    """The first x-axis step not yet logged at the checkpoint (checkpoints follow pre-training)."""
    return run.progress["g_epoch"] + run.progress["round"] + 1


def _write_run_files(run: Run) -> None:
    """A new run's config.yaml and, on real data, its vocabulary and data statistics."""
    (run.run_dir / "config.yaml").write_text(yaml.safe_dump(run.cfg.to_dict(), sort_keys=False), encoding="utf-8")
    if run.vocab is not None:
        run.vocab.save(run.run_dir / "vocab.json")
        (run.run_dir / "data_stats.json").write_text(json.dumps(run.corpus_stats, indent=2) + "\n", encoding="utf-8")


def _copy_lines(source: Path, dest: Path, keep: int) -> None:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    dest.write_text("".join(lines[:keep]), encoding="utf-8")


def _truncate_lines(path: Path, keep: int) -> None:
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[:keep]), encoding="utf-8")


def _stop_if_asked(run: Run) -> None:
    """Between units of work: on a stop request, checkpoint and stop."""
    if distributed.any_rank(run.stop.requested):  # all ranks stop at the same unit of work
        run.save()
        raise TrainingStopped(f"stopped; all finished work is in {run.run_dir / CHECKPOINT}: continue with --resume")


def _algorithm_1(run: Run) -> dict:
    cfg, tc, p = run.cfg, run.cfg.train, run.progress
    g, d = run.generator, run.discriminator
    bf16 = run.bf16
    gp = (cfg.discriminator.gradient_penalty, cfg.discriminator.gp_weight)  # D's gradient penalty, 'none' in the paper
    compile_mode = cfg.discriminator.compile  # D's step under torch.compile / CUDA graphs (compiled.py), 'none' eager
    pretrain_epochs = tc.pretrain_g_epochs
    num_negatives = distributed.share(tc.num_negatives)  # under torchrun each rank samples its share

    # Table 1's Random row: the generator before any training.
    if "random" in run.baselines and p["metrics_lines"] == 0:
        run.evaluate("random", 0, run.baselines["random"].generator)

    # 1. Pre-train G_theta by MLE on the real data.
    bar = tqdm(total=pretrain_epochs, initial=p["g_epoch"], desc="MLE pre-training", unit="epoch", disable=run.quiet)
    while p["g_epoch"] < pretrain_epochs:
        loss = mle_epoch(g, run.g_opt, run.real, tc.batch_size, cfg.generator.grad_clip)
        p["g_epoch"] += 1
        bar.update()
        if p["g_epoch"] % cfg.eval.every == 0 or p["g_epoch"] == pretrain_epochs:
            run.evaluate("pretrain", p["g_epoch"], g, {"mle_loss": loss})
        if p["g_epoch"] % cfg.eval.checkpoint_every == 0 and p["g_epoch"] < pretrain_epochs:
            run.save()
        _stop_if_asked(run)
    bar.close()
    if p["d_step"] == 0 and p["round"] == 0:
        run.save()
        if run.stop_after_pretraining:  # other runs start from here (train's start_from)
            return {"stopped_after": "pretraining", "checkpoint": str(run.run_dir / CHECKPOINT), "seconds": run.elapsed()}

    # 2. Pre-train D_phi on real data vs negatives freshly generated by G_theta.
    bar = tqdm(total=tc.pretrain_d_steps, initial=p["d_step"], desc="D pre-training", unit="set", disable=run.quiet)
    while p["d_step"] < tc.pretrain_d_steps:
        negatives = g.sample(num_negatives)
        d_loss = train_discriminator(d, run.d_opt, run.real, negatives, tc.pretrain_d_epochs, tc.batch_size, bf16, *gp, compile_mode)
        p["d_step"] += 1
        bar.update()
        bar.set_postfix(d_loss=f"{d_loss:.4f}")
        run.heartbeat(bar, "D pre-training", p["d_step"], f"d_loss={d_loss:.4f}")
        if p["d_step"] % cfg.eval.checkpoint_every == 0 and p["d_step"] < tc.pretrain_d_steps:
            run.save()
        _stop_if_asked(run)
    bar.close()

    # 3. Adversarial training. The roll-out policy G_beta starts as a copy of the pre-trained G,
    # and so does every trained baseline row.
    starting = run.rollout_policy is None
    if starting:
        run._start_adversarial()
    trained_rows = [name for name in run.baselines if name != "random"]
    if starting:
        run.evaluate("adversarial", pretrain_epochs, g, {"round": 0})
        for name in trained_rows:
            run.evaluate(name, pretrain_epochs, run.baselines[name].generator, {"round": 0})
        run.save()
    reward = discriminator_scorer(d, batch_size=tc.score_batch_size, bf16=bf16)
    # Q and its baseline: the paper's Monte Carlo rollouts and none, or train.rewards and train.baseline
    estimator, baseline = reward_estimator(run, reward), pg_baseline(run)
    bar = tqdm(total=tc.rounds, initial=p["round"], desc="adversarial", unit="round", disable=run.quiet)
    while p["round"] < tc.rounds:
        # g-steps: sample Y_1:T ~ G_theta, Q from Monte Carlo rollouts by G_beta and D, REINFORCE
        for _ in range(tc.g_steps):
            mean_reward = policy_gradient_step(
                g, run.pg_opt, estimator, tc.batch_size, cfg.generator.grad_clip, baseline, tc.normalize_advantages,
            )
        # beta <- r * beta + (1 - r) * theta
        run.rollout_policy.update(g)
        # d-steps: fresh negatives each time, k epochs over them
        d_loss = None
        for _ in range(tc.d_steps):
            negatives = g.sample(num_negatives)
            d_loss = train_discriminator(d, run.d_opt, run.real, negatives, tc.d_epochs, tc.batch_size, bf16, *gp, compile_mode)
        # the baseline rows: the same pre-trained G, trained their own way for the same rounds
        for name in trained_rows:
            train_baseline_round(run, name, p["round"])
        p["round"] += 1
        bar.update()
        run.heartbeat(bar, "adversarial round", p["round"], " ".join(
            f"{k}={v:.4f}" for k, v in (("mean_reward", mean_reward if tc.g_steps else None), ("d_loss", d_loss)) if v is not None
        ))
        step = pretrain_epochs + p["round"]
        if tc.g_steps and run.master:
            run.writer.add_scalar("seqgan/mean_reward_train", mean_reward, step)
        if p["round"] % cfg.eval.every == 0 or p["round"] == tc.rounds:
            run.evaluate("adversarial", step, g, {
                "round": p["round"], "mean_reward": mean_reward if tc.g_steps else None, "d_train_loss": d_loss,
                **critic_losses(run),
            })
            for name in trained_rows:
                run.evaluate(name, step, run.baselines[name].generator, {"round": p["round"]})
        if p["round"] % cfg.eval.checkpoint_every == 0 and p["round"] < tc.rounds:
            run.save()
        _stop_if_asked(run)
    bar.close()
    return _finish(run)


def reward_estimator(run: Run, scorer: Scorer) -> Estimator:
    """Q of a g-step's batch as ``train.rewards`` says: 'mc', 'td' or 'mcts' (the config stops here)."""
    tc = run.cfg.train
    if tc.rewards == "mc":
        return monte_carlo(run.rollout_policy, scorer, tc.rollout_num)
    if tc.rewards == "td":
        def td(samples: torch.Tensor) -> torch.Tensor:
            if not run.critic.warmed_up:  # before the first g-step: learn V under the pre-trained G and D
                run.critic.warm_up(lambda: run.generator.sample(tc.batch_size), run.rollout_policy, scorer)
            return run.critic.rewards(samples, run.rollout_policy, scorer)
        return td
    if tc.rewards == "mcts":
        return lambda samples: mcts_rewards(run.rollout_policy, scorer, samples, tc.rollout_num, tc.mcts_c_puct)
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


def train_baseline_round(run: Run, name: str, round_index: int) -> None:
    """One adversarial round's worth of training for a baseline row (round_index counts from 0)."""
    cfg, bl = run.cfg, run.cfg.baselines
    row = run.baselines[name]
    if name == "mle":
        for _ in range(bl.mle_epochs_per_round):
            mle_epoch(row.generator, row.optimizer, run.real, cfg.train.batch_size, cfg.generator.grad_clip)
    elif name == "scheduled_sampling":
        prob = ss_sample_prob(bl.ss_schedule, (round_index + 1) / cfg.train.rounds, bl.ss_final_prob, bl.ss_sigmoid_k)
        for _ in range(bl.mle_epochs_per_round):
            mle_epoch(row.generator, row.optimizer, run.real, cfg.train.batch_size, cfg.generator.grad_clip, sample_prob=prob)
    elif name == "pg_bleu":  # SeqGAN's g-steps with BLEU against the training data as the reward
        for _ in range(cfg.train.g_steps):
            policy_gradient_step(
                row.generator, row.optimizer, monte_carlo(row.rollout_policy, run.bleu_scorer, cfg.train.rollout_num),
                cfg.train.batch_size, cfg.generator.grad_clip,
            )
        row.rollout_policy.update(row.generator)
    else:
        raise AssertionError(f"no training for row {name!r}")


FINAL_KEYS = ("nll_oracle", "nll_test", "bleu2", "bleu3", "bleu4", "bleu5",
              "self_bleu2", "self_bleu3", "self_bleu4", "self_bleu5", "pitch_mse")


def _finish(run: Run) -> dict:
    cfg = run.cfg
    records = metrics.read_metrics(run.run_dir / "metrics.jsonl") if run.master else []
    final = {}
    for phase, name in ROW_NAMES.items():
        rows = [r for r in records if r["phase"] == phase]
        if rows:
            final[name] = {k: rows[-1][k] for k in FINAL_KEYS if k in rows[-1]} | {"step": rows[-1]["step"]}
    generators = {"": run.generator} | {f"_{name}": row.generator for name, row in run.baselines.items()}
    for suffix, generator in generators.items():
        samples = distributed.gather(generator.sample(distributed.share(cfg.eval.num_samples))).cpu()
        if not run.master:
            continue
        write_token_file(run.run_dir / f"samples{suffix}.txt", samples)
        if run.vocab is not None:
            decoded = [run.vocab.decode(row) for row in samples.tolist()]
            run.write_decoded(run.run_dir / f"samples{suffix}_text.txt", decoded)
            if cfg.data.source == "midi":  # a few melodies to listen to
                from .midi import write_midi

                folder = run.run_dir / "midi"
                folder.mkdir(exist_ok=True)
                label = suffix.lstrip("_") or "seqgan"
                for i, melody in enumerate(decoded[:cfg.eval.midi_files]):
                    write_midi([int(t) for t in melody if t.isdigit()], folder / f"{label}_{i:02d}.mid", step=cfg.data.midi_step)
    if run.master and run.oracle is not None:
        metrics.plot_nll_oracle(records, cfg.train.pretrain_g_epochs, run.run_dir / "nll_oracle.png",
                                title=f"oracle {cfg.oracle.source}, seed {cfg.seed}")
    elif run.master:
        metrics.plot_nll_oracle(records, cfg.train.pretrain_g_epochs, run.run_dir / "nll_test.png",
                                title=f"{cfg.data.train}, seed {cfg.seed}", key="nll_test")
    results = {"rows": final, "seconds": round(run.seconds + time.perf_counter() - run.started, 1), "seed": cfg.seed,
               "machine": machine(), "d_precision": "bf16" if run.bf16 else "fp32"}  # where it finished (the log has each part)
    if run.master:
        tmp = run.run_dir / "results.json.tmp"
        tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        tmp.replace(run.run_dir / "results.json")
    results = distributed.from_master(results)  # every rank returns rank 0's results
    run.progress["finished"] = True
    run.save()
    return results


def results_table(results: dict) -> str:
    """A markdown table of the final rows, with the metrics they have."""
    labels = {"nll_oracle": "NLL-oracle", "nll_test": "NLL-test", "pitch_mse": "pitch MSE"}
    rows = results["rows"]
    keys = [k for k in FINAL_KEYS if any(k in r for r in rows.values())] or ["nll_oracle", "nll_test"]
    header = [labels.get(k, k.replace("self_bleu", "Self-BLEU-").replace("bleu", "BLEU-")) for k in keys]
    lines = ["| model | " + " | ".join(header) + " |", "| --- |" + " ---: |" * len(keys)]
    for name, row in rows.items():
        cells = [f"{row[k]:.3f}" if k in row else "" for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
