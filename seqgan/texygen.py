"""Texygen's real-data benchmark protocol, as its code runs it (Zhu et al., "Texygen", SIGIR 2018;
geek-ai/Texygen ``models/{mle,seqgan,maligan_basic}/*.py`` ``train_real``, ``main.py``).

The field's most cited SeqGAN, MaliGAN and MLE figures on COCO captions come from this protocol,
not from the SeqGAN paper's. One run is one seed of it, every column from one pre-training:

    1. pre-train G by MLE for 80 epochs (the file's first N // 64 batches, in order);
       the MLE column is the generator after epoch 76: Texygen's ``Mle.train_real`` decodes samples
       only when ``epoch % 5 == 0`` (0-based), so its last decoded file is the 76th epoch's
    2. pre-train D: 80 D calls (``d_call``: 3 minibatches from a shuffled pool of all training
       captions and 9,984 fresh samples, each trained batch after a skipped one)
    3. for SeqGAN, maligan_basic and MaliGAN, each from the same G and D of steps 1-2:
       100 epochs of one g-step (a batch of 64) and then 15 D calls; the column is G after the last
       g-step. SeqGAN's reward is Monte Carlo (16 roll-outs a prefix) by the generator itself:
       Texygen's ``Reward`` reads the generator's variables through ``tf.identity``, so its
       ``update_params(0.8)`` never makes the roll-out policy lag (beta = theta). MaliGAN's rewards
       are ``maligan.py``'s.

Texygen's departures from the SeqGAN paper that this keeps (``configs/texygen_coco.yaml`` names
them): D has widths [2, 3] with [100, 200] filters and embedding 32, no dropout (its keep
probability is never passed), L2 0.2 on its output; 3 minibatches a D call with a skipped batch
before each; the end code is an ordinary token (``texygen_data.py``); the vocabulary is the
training file's; NLTK's tokens; T is the longest training caption; every weight of G starts
N(0, 0.1); every Adam places epsilon as TensorFlow 1 does. Where it differs from Texygen and why
it does not matter in distribution: a D call draws only the generated samples that land in its
trained batches (``texygen_data.d_call_rows``); the 15 D calls after the last g-step are skipped
(G never sees them); the evaluations every 5 epochs score NLL only (Texygen's also decode samples
that nothing reads).

Each column's 9,984 samples (Texygen's ``generate_num = 10000`` in batches of 64) are decoded and
scored by ``score_samples``, and the MLE column's generator is swept over temperature. Everything
is in the run directory: ``config.yaml``, ``metrics.jsonl``, ``samples/COLUMN.txt.gz`` (the
decoded samples every BLEU is computed on), ``results.json``; ``checkpoint.pt`` lets ``resume``
end where an uninterrupted run would.

Shapes: B batch, T sequence length, N captions.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from torch import nn

from . import texygen_data
from .bleu import BleuReference, self_bleu
from .config import ConfigError
from .discriminator import Discriminator
from .generator import Generator
from .maligan import log_odds, maligan_basic_rewards, maligan_rewards
from .rollout import RolloutPolicy, discriminator_scorer, get_rewards
from .runtime.checkpoint import save_checkpoint
from .runtime.files import atomic_write_text
from .runtime.hardware import machine
from .runtime.optim import TF1Adam
from .texygen_config import ADVERSARIAL, COLUMNS, TexygenConfig, texygen_config_from_dict

CHECKPOINT = "checkpoint.pt"


# -- data -------------------------------------------------------------------------------------------


def _resolve(path: str, data_dir: str | None) -> Path:
    p = Path(path)
    if p.exists() or p.is_absolute() or not data_dir:
        return p
    return Path(data_dir) / p


@dataclass
class Data:
    corpus: texygen_data.TexygenCorpus
    test: torch.Tensor  # (M, T) test captions the training vocabulary covers, end-code padded
    test_lines: int  # test captions in all
    references: list[list[str]]  # BLEU's references: every test caption's tokens (Texygen: not lower-cased)


def load_data(cfg: TexygenConfig, data_dir: str | None) -> Data:
    """The training captions encoded as Texygen encodes them, and the test captions."""
    train_path = _resolve(cfg.train, data_dir)
    lines = texygen_data.read_lines(train_path)
    if cfg.test:
        test_path = _resolve(cfg.test, data_dir)
        test_lines = texygen_data.read_lines(test_path)
    else:  # a seeded split of the non-empty lines, the same for every run seed
        lines = [line for line in lines if line.strip()]
        order = torch.randperm(len(lines), generator=torch.Generator().manual_seed(cfg.split_seed)).tolist()
        n_test = max(1, round(len(lines) * cfg.test_fraction))
        test_idx = set(order[:n_test])
        test_lines = [line for i, line in enumerate(lines) if i in test_idx]
        lines = [line for i, line in enumerate(lines) if i not in test_idx]
    corpus = texygen_data.encode_training_file([texygen_data.tokenize(line) for line in lines], str(train_path))
    test_ids, _ = corpus.encode([texygen_data.tokenize(line) for line in test_lines])
    references = [texygen_data.tokenize(line, lowercase=False) for line in test_lines]
    if max(cfg.filter_sizes) > corpus.seq_len:
        raise ConfigError(
            f"key 'filter_sizes': width {max(cfg.filter_sizes)} exceeds the sequence length {corpus.seq_len}"
        )
    return Data(corpus, test_ids, len(test_lines), references)


# -- models -----------------------------------------------------------------------------------------


def build_models(cfg: TexygenConfig, vocab_size: int, seq_len: int) -> tuple[Generator, Discriminator]:
    g = Generator(
        vocab_size,
        seq_len,
        emb_dim=cfg.emb_dim,
        hidden_dim=cfg.hidden_dim,
        start_token=0,  # a word's id as well (texygen_data.py)
        init_std=cfg.init_std,
        eos_token=None,  # the end code is an ordinary token: every position counts
    )
    d = Discriminator(
        vocab_size,
        seq_len,
        emb_dim=cfg.d_emb_dim,
        filter_sizes=tuple(cfg.filter_sizes),
        num_filters=tuple(cfg.num_filters),
        dropout_keep=1.0,  # Texygen never passes its keep probability: D has none
        l2_reg=cfg.l2_reg,
    )
    # the highway's weights and biases come from tf.get_variable's default, Glorot uniform
    with torch.no_grad():
        for layer in (d.highway.transform, d.highway.gate):
            nn.init.xavier_uniform_(layer.weight)
            bound = math.sqrt(3.0 / layer.bias.shape[0])  # Glorot uniform of a vector: fan_in = fan_out = n
            nn.init.uniform_(layer.bias, -bound, bound)
    return g, d


def d_call(
    d: Discriminator,
    d_opt: torch.optim.Optimizer,
    g: Generator,
    real: torch.Tensor,
    num_fake: int,
    batch_size: int,
    minibatches: int,
) -> float:
    """One of Texygen's ``train_discriminator`` calls; returns the last minibatch's loss."""
    rows = texygen_data.d_call_rows(len(real), num_fake, batch_size, minibatches)
    fakes = g.sample(sum(int((r >= len(real)).sum()) for r in rows))
    used, loss = 0, torch.zeros(())
    d.train()
    for r in rows:
        is_fake = r >= len(real)
        seqs = torch.empty(len(r), real.shape[1], dtype=torch.long)
        seqs[~is_fake] = real[r[~is_fake]]
        n_fake = int(is_fake.sum())
        seqs[is_fake] = fakes[used : used + n_fake]
        used += n_fake
        loss = d.loss(seqs, (~is_fake).long())  # label 1: real
        d_opt.zero_grad(set_to_none=True)
        loss.backward()
        d_opt.step()
    return float(loss.detach())


def g_step(
    column: str,
    g: Generator,
    opt: torch.optim.Optimizer,
    d: Discriminator,
    rollout: RolloutPolicy | None,
    cfg: TexygenConfig,
) -> float:
    """One policy-gradient update of ``column``; returns the batch's mean reward."""
    samples = g.sample(cfg.batch_size)  # (B, T)
    if column == "seqgan":
        rollout.update(g)  # beta <- theta (update_rate 0): Texygen's roll-out reads G's own variables
        rewards = get_rewards(rollout, discriminator_scorer(d), samples, cfg.rollout_num)
    elif column == "maligan_basic":
        rewards = maligan_basic_rewards(d.prob_real(samples), g.seq_len)
    elif column == "maligan":
        rewards = maligan_rewards(log_odds(d, samples), g.seq_len)
    else:
        raise AssertionError(f"no policy gradient for column {column!r}")
    g.train()
    loss = g.pg_loss(samples, rewards)  # -sum over B and T of log G(y_t) * reward, as Texygen's g_loss
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(g.parameters(), cfg.grad_clip)
    opt.step()
    return float(rewards.mean())


# -- evaluation -------------------------------------------------------------------------------------


@torch.no_grad()
def sequence_nll(g: Generator, seqs: torch.Tensor, temperature: float = 1.0, batch_size: int = 256) -> float:
    """Mean per-token NLL (nats) of ``seqs`` (N, T) under softmax(logits / temperature), every position
    counted (the end code is a token here). The output layer runs 256 rows at a time, which keep
    their (256, V) logits in a CPU's cache: 5x faster than ``Generator.nll`` at V = 4,660."""
    was_training = g.training
    g.eval()
    total, count = torch.zeros((), dtype=torch.float64), 0
    for i in range(0, len(seqs), batch_size):
        b_seqs = seqs[i : i + batch_size]
        hidden, targets = g._hidden(b_seqs), b_seqs.reshape(-1)  # (b*T, H), (b*T,)
        for j in range(0, len(hidden), 256):
            logits = g.out(hidden[j : j + 256]) / temperature  # (256, V)
            picked = logits.gather(1, targets[j : j + 256, None]).squeeze(1)
            total += (torch.logsumexp(logits, dim=1) - picked).double().sum()
        count += targets.numel()
    g.train(was_training)
    return float(total) / max(count, 1)


class Scorer:
    """BLEU and Self-BLEU of decoded samples in Texygen's forms, NLL on the test and training captions."""

    def __init__(self, cfg: TexygenConfig, data: Data):
        self.max_n, self.fast_size = cfg.bleu_max_n, cfg.fast_size
        self.full = BleuReference(data.references, max_n=cfg.bleu_max_n)  # every test caption
        self.fast = BleuReference(data.references[: cfg.fast_size], max_n=cfg.bleu_max_n)  # Texygen's 'fast'
        self.test = data.test
        self.train_rows = torch.cat(texygen_data.training_batches(data.corpus.train, cfg.batch_size))

    def nll(self, g: Generator, temperature: float = 1.0) -> dict:
        """NLL-test on the covered test captions; Texygen's 'nll-test', which is on the training batches."""
        return {
            "nll_test": sequence_nll(g, self.test, temperature) if len(self.test) else None,
            "nll_train_texygen": sequence_nll(g, self.train_rows, temperature),
        }

    def nll_test(self, g: Generator) -> dict:
        """NLL-test alone: the progress line of an evaluation between columns."""
        return {"nll_test": sequence_nll(g, self.test) if len(self.test) else None}

    def text(self, lines: list[str]) -> dict:
        """BLEU (full: all test captions; fast: the first ``fast_size``) and Self-BLEU (full: every
        sample against all others; fast: the first ``fast_size`` samples), each re-tokenized as
        Texygen's metrics do (``word_tokenize`` of the decoded line, not lower-cased)."""
        hyps = [texygen_data.tokenize(line, lowercase=False) for line in lines]
        keys = [f"bleu{n}" for n in range(2, self.max_n + 1)]

        def numbered(d: dict) -> dict:
            return {k[4:]: d[k] for k in keys}

        return {
            "bleu": numbered(self.full.mean_scores(hyps)),
            "bleu_fast": numbered(self.fast.mean_scores(hyps)),
            "self_bleu": numbered(self_bleu(hyps, self.max_n)),
            "self_bleu_fast": numbered(self_bleu(hyps[: self.fast_size], self.max_n)),
            "empty_samples": sum(1 for h in hyps if not h),
        }


def write_samples(path: Path, lines: list[str]) -> None:
    """Decoded samples, gzipped with no timestamp, so the same samples give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write("".join(line + "\n" for line in lines).encode("utf-8"))
    tmp.replace(path)


def read_samples(path: str | Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


# -- the run ------------------------------------------------------------------------------------------


class State:
    """What a checkpoint holds: models, optimisers, position, RNG, finished results."""

    def __init__(self, cfg: TexygenConfig, data: Data):
        torch.manual_seed(cfg.seed)
        self.g, self.d = build_models(cfg, data.corpus.vocab_size, data.corpus.seq_len)
        self.g_opt = TF1Adam(self.g.parameters(), lr=cfg.g_lr)
        self.d_opt = TF1Adam(self.d.parameters(), lr=cfg.d_lr)
        self.progress = {"g_epoch": 0, "d_call": 0, "column": None, "adv_epoch": 0, "metrics_lines": 0}
        self.start: dict | None = None  # G, D and D's Adam after steps 1-2: every adversarial column's start
        self.mle_column: dict | None = None  # G's weights after the MLE column's epoch
        self.pg_opt: TF1Adam | None = None
        self.results: dict = {"columns": {}, "sweep": [], "seconds": {}, "cpu_seconds": {}}

    def to_dict(self, cfg: TexygenConfig) -> dict:
        return {
            "config": cfg.to_dict(),
            "g": self.g.state_dict(),
            "d": self.d.state_dict(),
            "g_opt": self.g_opt.state_dict(),
            "d_opt": self.d_opt.state_dict(),
            "pg_opt": self.pg_opt.state_dict() if self.pg_opt is not None else None,
            "start": self.start,
            "mle_column": self.mle_column,
            "progress": dict(self.progress),
            "results": self.results,
            "rng": torch.get_rng_state(),
        }

    def load(self, ckpt: dict) -> None:
        self.g.load_state_dict(ckpt["g"])
        self.d.load_state_dict(ckpt["d"])
        self.g_opt.load_state_dict(ckpt["g_opt"])
        self.d_opt.load_state_dict(ckpt["d_opt"])
        if ckpt["pg_opt"] is not None:
            self.pg_opt = TF1Adam(self.g.parameters(), lr=self.g_opt.defaults["lr"])
            self.pg_opt.load_state_dict(ckpt["pg_opt"])
        self.start, self.mle_column = ckpt["start"], ckpt["mle_column"]
        self.progress, self.results = ckpt["progress"], ckpt["results"]
        torch.set_rng_state(ckpt["rng"])


def _clone(module_or_opt) -> dict:
    return {k: (v.detach().clone() if torch.is_tensor(v) else v) for k, v in module_or_opt.state_dict().items()}


def run_texygen(cfg: TexygenConfig, run_dir: str | Path, resume: bool = False, log=print) -> dict:
    """One seed of Texygen's protocol in ``run_dir``; returns ``results.json``'s content."""
    run_dir = Path(run_dir)
    ckpt_path = run_dir / CHECKPOINT
    if (run_dir / "results.json").exists() and not ckpt_path.exists():
        if resume:
            return json.loads((run_dir / "results.json").read_text())
        raise ValueError(f"{run_dir}: a finished run is there; choose another folder or pass --resume")
    ckpt = None
    if ckpt_path.exists():
        if not resume:
            raise ValueError(f"{run_dir}: a run is there; continue it with --resume or choose another folder")
        try:
            ckpt = torch.load(ckpt_path, weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable file is the same one-line error
            raise ValueError(f"{ckpt_path}: not a readable checkpoint ({type(e).__name__})") from None
        saved = texygen_config_from_dict(ckpt["config"])
        if saved.to_dict() != {**cfg.to_dict(), "data_dir": saved.data_dir, "threads": saved.threads}:
            differ = [
                k for k, v in cfg.to_dict().items() if k not in ("data_dir", "threads") and v != getattr(saved, k)
            ]
            raise ValueError(f"{ckpt_path}: the run was started with other settings ({', '.join(differ)})")
    elif resume and run_dir.exists() and any(run_dir.iterdir()):
        raise ValueError(f"{run_dir}: nothing to resume (no {CHECKPOINT})")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    import os

    data = load_data(cfg, cfg.data_dir or os.environ.get("SEQGAN_DATA_DIR") or None)
    state = State(cfg, data)
    if ckpt is not None:
        state.load(ckpt)
    run_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = run_dir / "metrics.jsonl"
    if ckpt is None:
        atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        metrics_path.write_text("")
    else:  # drop evaluations written after the checkpoint: the resumed run writes them again
        lines = metrics_path.read_text(encoding="utf-8").splitlines(keepends=True) if metrics_path.exists() else []
        metrics_path.write_text("".join(lines[: state.progress["metrics_lines"]]), encoding="utf-8")
    scorer = Scorer(cfg, data)
    corpus, p = data.corpus, state.progress
    batches = texygen_data.training_batches(corpus.train, cfg.batch_size)
    clock = {"wall": time.perf_counter(), "cpu": time.process_time()}

    def save() -> None:
        save_checkpoint(state.to_dict(cfg), ckpt_path)

    def stage_done(name: str) -> None:
        now_wall, now_cpu = time.perf_counter(), time.process_time()
        state.results["seconds"][name] = state.results["seconds"].get(name, 0.0) + now_wall - clock["wall"]
        state.results["cpu_seconds"][name] = state.results["cpu_seconds"].get(name, 0.0) + now_cpu - clock["cpu"]
        clock.update(wall=now_wall, cpu=now_cpu)

    def record(line: dict) -> None:
        with open(metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        p["metrics_lines"] += 1
        log(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in line.items()))

    def score_column(name: str, g: Generator, temperature: float = 1.0) -> dict:
        lines = corpus.decode(g.sample(cfg.num_generated, temperature=temperature))
        path = run_dir / "samples" / f"{name}.txt.gz"
        write_samples(path, lines)
        return {
            "samples": str(path.relative_to(run_dir)),
            "temperature": temperature,
            **scorer.nll(g, temperature),
            **scorer.text(lines),
        }

    # 1. MLE pre-training, the file's batches in order every epoch
    while p["g_epoch"] < cfg.pretrain_epochs:
        state.g.train()
        losses = []
        for b_seqs in batches:
            loss = state.g.mle_loss(b_seqs)  # mean over every position, end codes included
            state.g_opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(state.g.parameters(), cfg.grad_clip)
            state.g_opt.step()
            losses.append(float(loss.detach()))
        p["g_epoch"] += 1
        if (p["g_epoch"] - 1) % cfg.eval_every == 0:
            record(
                {
                    "phase": "pretrain",
                    "epoch": p["g_epoch"],
                    "mle_loss": sum(losses) / max(len(losses), 1),
                    **scorer.nll(state.g),
                }
            )
        if p["g_epoch"] == cfg.mle_column_epoch:  # the MLE column: the last generator Texygen decodes
            state.mle_column = _clone(state.g)
            if "mle" in cfg.columns:
                state.results["columns"]["mle"] = {"epoch": p["g_epoch"], **score_column("mle", state.g)}
        if p["g_epoch"] % 10 == 0 or p["g_epoch"] == cfg.pretrain_epochs:
            stage_done("pretrain")
            save()
    stage_done("pretrain")
    adversarial = [c for c in cfg.columns if c in ADVERSARIAL]

    # 2. D pre-training
    while adversarial and p["d_call"] < cfg.pretrain_d_calls:
        d_loss = d_call(
            state.d, state.d_opt, state.g, corpus.train, cfg.num_generated, cfg.batch_size, cfg.d_minibatches
        )
        p["d_call"] += 1
        if p["d_call"] % 10 == 0 or p["d_call"] == cfg.pretrain_d_calls:
            log(f"D pre-training call {p['d_call']}/{cfg.pretrain_d_calls} d_loss={d_loss:.4f}")
            stage_done("d_pretrain")
            save()
    if adversarial and state.start is None:
        state.start = {"g": _clone(state.g), "d": _clone(state.d), "d_opt": _clone_opt(state.d_opt)}
        stage_done("d_pretrain")

    # 3. each adversarial column from the same start
    for column in adversarial:
        if column in state.results["columns"]:
            continue
        if p["column"] != column:  # a fresh start: the shared G and D, a fresh Adam for the policy gradient
            state.g.load_state_dict(state.start["g"])
            state.d.load_state_dict(state.start["d"])
            state.d_opt.load_state_dict(state.start["d_opt"])
            state.pg_opt = TF1Adam(state.g.parameters(), lr=cfg.g_lr)
            torch.manual_seed(cfg.seed * 1000 + 1 + COLUMNS.index(column))  # each column its own stream
            p["column"], p["adv_epoch"] = column, 0
        rollout = RolloutPolicy(state.g, 0.0) if column == "seqgan" else None
        while p["adv_epoch"] < cfg.adversarial_epochs:
            epoch = p["adv_epoch"]
            mean_reward = g_step(column, state.g, state.pg_opt, state.d, rollout, cfg)
            p["adv_epoch"] += 1
            last = p["adv_epoch"] == cfg.adversarial_epochs
            if epoch % cfg.eval_every == 0 or last:
                record(
                    {"phase": column, "epoch": p["adv_epoch"], "mean_reward": mean_reward, **scorer.nll_test(state.g)}
                )
            if last:  # Texygen's last decoded samples: after the last g-step
                break
            d_loss = 0.0
            for _ in range(cfg.d_calls):
                d_loss = d_call(
                    state.d, state.d_opt, state.g, corpus.train, cfg.num_generated, cfg.batch_size, cfg.d_minibatches
                )
            if p["adv_epoch"] % 10 == 0:
                log(f"{column} epoch {p['adv_epoch']}/{cfg.adversarial_epochs} d_loss={d_loss:.4f}")
                stage_done(column)
                save()
        state.results["columns"][column] = {"epoch": p["adv_epoch"], **score_column(column, state.g)}
        stage_done(column)
        save()

    # the MLE column's generator over temperature: the control every column is judged against
    if cfg.temperatures and not state.results["sweep"]:
        state.g.load_state_dict(state.mle_column)
        torch.manual_seed(cfg.seed * 1000)
        state.results["sweep"] = [score_column(f"mle_T{t:g}", state.g, t) for t in cfg.temperatures]
        stage_done("sweep")
    results = {
        "protocol": "texygen",
        "seed": cfg.seed,
        "machine": machine(),
        "train": cfg.train,
        "test": cfg.test or f"{cfg.train} (seeded split {cfg.split_seed}, {data.test_lines} lines)",
        "vocab_size": corpus.vocab_size,
        "seq_len": corpus.seq_len,
        "train_captions": len(corpus.train),
        "test_captions": data.test_lines,
        "test_captions_in_vocab": len(data.test),
        "num_generated": cfg.num_generated,
        "mle_column_epoch": cfg.mle_column_epoch,
        **state.results,
    }
    atomic_write_text(run_dir / "results.json", json.dumps(results, indent=1) + "\n")
    ckpt_path.unlink(missing_ok=True)
    return results


def _clone_opt(opt: torch.optim.Optimizer) -> dict:
    import copy

    return copy.deepcopy(opt.state_dict())
