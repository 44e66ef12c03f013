"""The Texygen recipe's configuration (``seqgan texygen CONFIG``): every setting of Texygen's real-data
protocol as a typed, checked dataclass, read from YAML and ``--set`` overrides as the paper recipe's
config is (``config.read_config_file``, ``config.apply_values``). The recipe is ``texygen.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigError, apply_values, parse_override, read_config_file

COLUMNS = ("mle", "seqgan", "maligan_basic", "maligan")  # Texygen's table's columns, in its order
ADVERSARIAL = ("seqgan", "maligan_basic", "maligan")


@dataclass
class TexygenConfig:
    seed: int = 0
    """Seeds the run: G's and D's weights, every sample, every shuffle."""
    data_dir: str = ""
    """Where the shared data sets live (else SEQGAN_DATA_DIR); relative data paths are looked up there."""
    threads: int = 0
    """torch intra-op threads; 0 keeps torch's default."""
    train: str = "coco/image_coco.txt"
    """Training captions, one a line (Texygen's ``data/image_coco.txt``)."""
    test: str = "coco/test_coco.txt"
    """Test captions: BLEU's references and NLL-test; empty: a seeded split of ``train``."""
    test_fraction: float = 0.1
    """Share of ``train``'s non-empty lines held out as the test split when ``test`` is empty."""
    split_seed: int = 0
    """Seed of that split (the same for every run seed, so every seed sees one test set)."""
    columns: list[str] = field(default_factory=lambda: list(COLUMNS))
    """Which of mle, seqgan, maligan_basic, maligan to train and score."""
    emb_dim: int = 32
    """G's token embedding size."""
    hidden_dim: int = 32
    """G's LSTM hidden size."""
    init_std: float = 0.1
    """Standard deviation of every weight of G at the start (``init_matrix``)."""
    g_lr: float = 0.01
    """Adam learning rate of G, MLE and policy gradient alike."""
    grad_clip: float = 5.0
    """Global gradient-norm clip of G."""
    batch_size: int = 64
    """Every batch: MLE, D's minibatches, a g-step's samples, sampling."""
    d_emb_dim: int = 32
    """D's token embedding size (Texygen passes G's ``emb_dim``)."""
    filter_sizes: list[int] = field(default_factory=lambda: [2, 3])
    """D's convolution widths."""
    num_filters: list[int] = field(default_factory=lambda: [100, 200])
    """D's filters per width."""
    l2_reg: float = 0.2
    """L2 penalty on D's output layer."""
    d_lr: float = 1e-4
    """Adam learning rate of D."""
    pretrain_epochs: int = 80
    """MLE epochs of G before adversarial training."""
    pretrain_d_calls: int = 80
    """D calls before adversarial training."""
    adversarial_epochs: int = 100
    """Adversarial epochs: one g-step, then ``d_calls`` D calls."""
    rollout_num: int = 16
    """SeqGAN's Monte Carlo completions a prefix."""
    d_calls: int = 15
    """D calls after each g-step."""
    d_minibatches: int = 3
    """Minibatches trained in one D call, each after a skipped one."""
    generate_num: int = 10_000
    """Samples written per D call and per evaluation; Texygen writes the whole batches that fit (9,984)."""
    eval_every: int = 5
    """Evaluate when the 0-based epoch is a multiple of this (and after the last adversarial epoch)."""
    bleu_max_n: int = 5
    """BLEU-2..n and Self-BLEU-2..n."""
    fast_size: int = 500
    """Texygen's 'fast' metrics: this many test references for BLEU, the first this many samples for Self-BLEU."""
    temperatures: list[float] = field(
        default_factory=lambda: [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1, 1.2, 1.3]
    )
    """Where the MLE column's generator is swept (empty: no sweep)."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def num_generated(self) -> int:
        """Texygen's ``generate_samples``: ``int(generate_num / batch_size)`` whole batches."""
        return self.generate_num // self.batch_size * self.batch_size

    @property
    def mle_column_epoch(self) -> int:
        """The epoch (1-based count of epochs trained) of the MLE column: the last decoded one."""
        return (self.pretrain_epochs - 1) // self.eval_every * self.eval_every + 1


def check_config(cfg: TexygenConfig) -> None:
    for key in ("emb_dim", "hidden_dim", "batch_size", "d_emb_dim", "rollout_num", "generate_num", "eval_every"):
        if getattr(cfg, key) <= 0:
            raise ConfigError(f"key '{key}': must be positive, got {getattr(cfg, key)}")
    for key in ("init_std", "g_lr", "grad_clip", "d_lr", "fast_size"):
        if getattr(cfg, key) <= 0:
            raise ConfigError(f"key '{key}': must be positive, got {getattr(cfg, key)}")
    for key in ("pretrain_epochs", "pretrain_d_calls", "adversarial_epochs", "d_calls", "d_minibatches", "threads"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"key '{key}': must be >= 0, got {getattr(cfg, key)}")
    if cfg.pretrain_epochs < 1:
        raise ConfigError("key 'pretrain_epochs': the MLE column needs at least one epoch")
    if cfg.l2_reg < 0:
        raise ConfigError(f"key 'l2_reg': must be >= 0, got {cfg.l2_reg}")
    unknown = [c for c in cfg.columns if c not in COLUMNS]
    if unknown or not cfg.columns or len(set(cfg.columns)) != len(cfg.columns):
        raise ConfigError(
            f"key 'columns': a non-empty list of distinct names from {', '.join(COLUMNS)}, got {cfg.columns}"
        )
    if len(cfg.filter_sizes) != len(cfg.num_filters) or not cfg.filter_sizes:
        raise ConfigError("keys 'filter_sizes' and 'num_filters': need equal, non-zero lengths")
    if min(cfg.filter_sizes) < 1 or min(cfg.num_filters) < 1:
        raise ConfigError("keys 'filter_sizes' and 'num_filters': entries must be positive")
    if not 0.0 < cfg.test_fraction < 1.0:
        raise ConfigError(f"key 'test_fraction': must be in (0, 1), got {cfg.test_fraction}")
    if not 2 <= cfg.bleu_max_n <= 5:
        raise ConfigError(f"key 'bleu_max_n': must be in 2..5, got {cfg.bleu_max_n}")
    if any(t <= 0 for t in cfg.temperatures):
        raise ConfigError(f"key 'temperatures': every temperature must be positive, got {cfg.temperatures}")
    if cfg.generate_num < cfg.batch_size:
        raise ConfigError(f"key 'generate_num': at least one batch ({cfg.batch_size}), got {cfg.generate_num}")


def load_texygen_config(path: str | Path | None = None, overrides: list[str] = ()) -> TexygenConfig:
    """Defaults (Texygen's COCO protocol), then the YAML file, then ``KEY=VALUE`` overrides; checked."""
    cfg = TexygenConfig()
    if path is not None:
        values, lines = read_config_file(Path(path))
        apply_values(cfg, values, str(path), lines)
    for text in overrides:
        key, value = parse_override(text)
        apply_values(cfg, {key: value}, "--set")
    check_config(cfg)
    return cfg


def texygen_config_from_dict(values: dict) -> TexygenConfig:
    cfg = TexygenConfig()
    apply_values(cfg, values, "saved config")
    check_config(cfg)
    return cfg
