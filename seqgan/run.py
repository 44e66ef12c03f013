"""One training run's state: its data, models, optimisers and position in Algorithm 1.

``Run`` is what the recipe (``train.py``) acts on, what ``lifecycle.py`` saves to a checkpoint
and restores, and what ``reporting.py`` evaluates. It builds everything from the config when the
run starts (``build.py``), and the adversarial pieces (the roll-out policy G_beta, the policy
gradient's Adam, the critic or value baseline, Table 1's other rows) when step 3 starts. On text
data it holds out a validation split and keeps pre-training's best epoch (``best_epoch.py``), and
an MLE epoch stopped at a batch boundary resumes from where it stood (``data.EpochPosition``).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm.auto import tqdm

from . import corpus
from .best_epoch import BestEpoch
from .bleu import BleuReference
from .build import adam, build_discriminator, build_generator, build_oracle, data_dir_of
from .config import Config
from .critic import PrefixValue, TDCritic, ValueBaseline
from .data import EpochPosition, oracle_corpus
from .generator import Generator
from .lifecycle import RunError, StopRequest, save, stop_mid_epoch
from .oracle import Oracle
from .reporting import evaluate, every_minute
from .rollout import BleuScorer, RolloutPolicy
from .rows import Row
from .runtime import distributed
from .runtime.hardware import exact_fp32, use_bf16


class Run:
    """Models, optimisers, data and position of one training run; the recipe is ``train``."""

    def __init__(self, cfg: Config, run_dir: Path):
        self.cfg, self.run_dir = cfg, run_dir
        self.device = torch.device(cfg.device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise RunError("config asks for device 'cuda' but torch sees no CUDA device")
        if self.device.type == "cuda" and (self.device.index or 0) >= torch.cuda.device_count():
            raise RunError(
                f"config asks for device '{cfg.device}' but torch sees {torch.cuda.device_count()} CUDA device(s)"
            )
        self.bf16 = use_bf16(cfg.discriminator.precision, self.device)
        exact_fp32(self.device)  # on CUDA no TF32 in cuDNN's LSTM or the matrix products, as the authors ran
        self.oracle: Oracle | None = None  # the synthetic task's judge
        self.vocab: corpus.Vocab | None = None  # real data's tokens
        # pre-training's model selection (train.pretrain_keep 'best'): a validation split held out of the training data
        valid_fraction = cfg.data.valid_fraction if cfg.keeps_best_pretrained else 0.0
        valid = None
        if cfg.data.source == "oracle":
            self.oracle = build_oracle(cfg)
            self.vocab_size = self.oracle.vocab_size
            real, test = oracle_corpus(self.oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
            if valid_fraction:
                kept, held_out = corpus.split_indices(len(real), valid_fraction, cfg.data.split_seed)
                real, valid = real[kept], real[held_out]
            self.oracle.to(self.device)  # the corpus is drawn on the CPU (its seed fixes it); NLL-oracle runs here
        else:
            data = corpus.load_corpus(cfg.data, data_dir_of(cfg), valid_fraction)
            self.vocab, self.corpus_stats = data.vocab, corpus.corpus_stats(data)
            self.vocab_size = len(data.vocab)
            real, test, valid = data.train, data.test, data.valid
            # BLEU's references: the test split's own tokens (not <unk>), cut to length as the data is
            self.reference_rows = corpus.cut_sequences(data.test_tokens, cfg.data.max_len, cfg.data.overflow)
            self.bleu_reference = BleuReference(self.reference_rows, max_n=cfg.eval.bleu_max_n)
        self.real, self.test = real.to(self.device), test.to(self.device)
        # (N_valid, T): validation NLL at each pre-training evaluation; best holds the epoch where it was lowest
        self.valid = None if valid is None else valid.to(self.device)
        self.best = (
            BestEpoch(cfg.train.pretrain_patience, cfg.train.pretrain_warn_after) if self.valid is not None else None
        )
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
        self.rows: dict[str, Row] = {}  # Table 1's other rows, by config name
        if "random" in cfg.rows.names:  # the untrained generator, kept as it is
            self.rows["random"] = Row(self.generator.copy().requires_grad_(False))
        self.bleu_scorer: BleuScorer | None = None
        # round_units: units of the round at hand done (1: SeqGAN's g-steps and d-steps, then each of the other
        # rows' MLE epochs), with SeqGAN's round_stats, for a checkpoint taken inside an MLE row's epoch
        self.progress = {
            "g_epoch": 0,
            "d_step": 0,
            "round": 0,
            "metrics_lines": 0,
            "finished": False,
            "round_units": 0,
            "round_stats": None,
        }
        self.position: EpochPosition | None = None  # the MLE epoch a stop interrupted, from its checkpoint
        self.seconds = 0.0  # training time before this process, from the checkpoint
        # CPU seconds of the processes before this one (None: a checkpoint from before they were
        # counted): what a study's compute is, where wall time grows with other jobs on the machine
        self.cpu_seconds: float | None = 0.0
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self.last_line = self.started
        self.stop = StopRequest()  # armed by train() while Algorithm 1 runs
        self.report = None  # train()'s report(step, record) of each evaluation of G
        self.stop_after_pretraining = False  # train()'s: stop at the end of MLE pre-training, for others to start from

    # -- checkpoints
    def save(self) -> None:
        save(self)  # lifecycle.save: the checkpoint, atomically, by rank 0

    def evaluate(self, phase: str, step: int, generator: Generator, extra: dict | None = None) -> dict:
        return evaluate(self, phase, step, generator, extra)  # reporting.evaluate: one line of metrics.jsonl

    # -- an MLE epoch that a stop request may interrupt at a batch boundary
    def resumed_position(self) -> EpochPosition | None:
        """Where the MLE epoch that a mid-epoch checkpoint stopped in stands, once; None: a fresh epoch."""
        position, self.position = self.position, None
        return position

    def between_batches(self, desc: str) -> Callable[[EpochPosition], None]:
        """What an MLE epoch calls after each minibatch: a progress line a minute without a terminal, and
        on a stop request a checkpoint of the epoch so far (``lifecycle.stop_mid_epoch``)."""
        batches = math.ceil(len(self.real) / self.cfg.train.batch_size)

        def after_batch(position: EpochPosition) -> None:
            every_minute(self, f"[{desc}] batch {len(position.losses)}/{batches}")
            stop_mid_epoch(self, position)

        return after_batch

    def say(self, line: str) -> None:
        """One line of the run's log, by rank 0."""
        if self.master:
            tqdm.write(line)

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
                PrefixValue(self.vocab_size, tc.critic_hidden_dim, start).to(self.device),
                lam=tc.td_lambda,
                lr=tc.critic_lr,
                updates=tc.critic_updates,
                warmup=tc.critic_warmup,
                target_rate=tc.critic_target_rate,
                completions=tc.td_completions,
                eos_token=self.generator.eos_token,
            )
        if tc.baseline == "value":
            self.value_baseline = ValueBaseline(
                PrefixValue(self.vocab_size, tc.critic_hidden_dim, start).to(self.device),
                lr=tc.value_lr,
                updates=tc.value_updates,
            )
        for name in cfg.rows.names:
            if name == "random":
                continue
            g = self.generator.copy()
            opt = adam(g.parameters(), cfg.generator.lr, cfg.train.adam_epsilon)
            if name in ("mle", "scheduled_sampling"):
                opt.load_state_dict(copy.deepcopy(self.g_opt.state_dict()))  # a copy: no shared moments
            rollout = RolloutPolicy(g, cfg.train.rollout_update_rate) if name == "pg_bleu" else None
            self.rows[name] = Row(g, opt, rollout)
        if "pg_bleu" in self.rows:
            self.bleu_scorer = BleuScorer(self.real.cpu(), max_n=cfg.rows.bleu_max_n)

    # -- logging
    def start_clock(self) -> None:
        """Count this process's time from now (after loading, checking and writing the run's files)."""
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self.last_line = self.started  # when the log last had a progress line (reporting.every_minute)

    def elapsed(self) -> float:
        """Training seconds so far, across resumes."""
        return self.seconds + time.perf_counter() - self.started

    def cpu_elapsed(self) -> float | None:
        """CPU seconds so far across resumes, every thread of this process (rank 0's under torchrun);
        None if a resumed checkpoint did not count them."""
        if self.cpu_seconds is None:
            return None
        return self.cpu_seconds + time.process_time() - self.cpu_started
