"""Typed, validated run configuration: dataclasses with defaults, YAML presets, dotted overrides.

A YAML file lists only what differs from the defaults below. An unknown key or a value of the
wrong type is an error naming the key, the file and the line (``ConfigError``), never a new field.
The defaults are the paper's synthetic experiment as the authors' code runs it.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .discriminator import PAPER_FILTER_SIZES, PAPER_NUM_FILTERS
from .penalty import PENALTIES
from .rows import TRAINED_BESIDE
from .runtime.compiled import COMPILE_MODES
from .runtime.hardware import CUDA_BF16_FASTER


class YamlLoader(yaml.SafeLoader):
    """YAML 1.1 reads 1e-4 as a string; YAML 1.2 and every user read it as a number."""


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$""", re.X),
    list("-+0123456789"),
)


def _yaml_load(text: str):
    return yaml.load(text, Loader=YamlLoader)


class ConfigError(ValueError):
    """A bad config value; the message names the key and, where known, file and line."""


@dataclass
class OracleConfig:
    source: str = "random"
    """'random' (a seeded N(0,1) LSTM), 'paper' (the authors' weights in the data dir) or a .npz path."""
    seed: int = 88
    """Seed of a random oracle's weights and of the oracle's train/test samples."""
    vocab_size: int = 5000
    """Vocabulary of a random oracle (a loaded oracle's arrays fix their own)."""
    emb_dim: int = 32
    """Embedding size of a random oracle."""
    hidden_dim: int = 32
    """Hidden size of a random oracle."""
    seq_len: int = 20
    """Sequence length T."""
    num_train: int = 10_000
    """Oracle samples used as the real training data."""
    num_test: int = 10_000
    """Held-out oracle samples for NLL-test."""


@dataclass
class DataConfig:
    source: str = "oracle"
    """'oracle' (the synthetic task: the oracle's samples are the data), 'text' (a UTF-8 file, one
    sequence a line) or 'midi' (a folder of melody MIDI files, one tune a file)."""
    train: str = ""
    """Training file ('text') or folder ('midi'). A relative path that does not exist as given is
    looked up in the data directory."""
    test: str = ""
    """Test file or folder; empty: a seeded split of ``train`` (``test_fraction``, ``split_seed``)."""
    test_fraction: float = 0.1
    """Share of ``train`` held out as the test split when ``test`` is empty."""
    split_seed: int = 0
    """Seed of the train/test split, and of the validation split held out of the training split."""
    valid_fraction: float = 0.1
    """Share of the training split (its lines) held out as the validation split when pre-training
    keeps its best epoch (``train.pretrain_keep``); the vocabulary is built before, from all of it."""
    tokenizer: str = "words"
    """'chars' (one token a character; spaces dropped), 'words' (whitespace-separated words with
    punctuation split off) or 'ids' (integer token ids, the synthetic format)."""
    lowercase: bool = False
    """Lower-case text before tokenizing ('words' and 'chars')."""
    min_freq: int = 1
    """Tokens seen fewer times in the training split become <unk>."""
    max_len: int = 20
    """Sequence length T of real data, counting the end token."""
    overflow: str = "truncate"
    """A sequence longer than max_len: 'truncate' it, 'split' it into pieces, or 'drop' it."""
    midi_step: float = 0.4
    """Seconds between two pitch samples of a melody ('midi')."""


@dataclass
class GeneratorConfig:
    emb_dim: int = 32
    """Token embedding size."""
    hidden_dim: int = 32
    """LSTM hidden size."""
    lr: float = 0.01
    """Adam learning rate, for MLE and policy gradient alike (authors' code)."""
    grad_clip: float = 5.0
    """Global gradient-norm clip."""
    pg_lr: float = 0.0
    """Adam learning rate of the policy gradient (adversarial training); 0: ``lr``, as the authors' code."""
    single_bias: bool = True
    """One bias per LSTM gate, as the authors' cell has (``bias_hh`` held at zero, outside the
    optimiser and the clip). False: ``nn.LSTM``'s two trained biases, which move the effective bias
    twice as fast under Adam (the behaviour of runs made before this key existed)."""


@dataclass
class DiscriminatorConfig:
    emb_dim: int = 64
    """Token embedding size."""
    filter_sizes: list[int] = field(default_factory=lambda: list(PAPER_FILTER_SIZES))
    """Convolution widths."""
    num_filters: list[int] = field(default_factory=lambda: list(PAPER_NUM_FILTERS))
    """Filters per width."""
    dropout_keep: float = 0.75
    """Keep probability of the dropout before the output layer."""
    l2_reg: float = 0.2
    """L2 penalty on the output layer."""
    lr: float = 1e-4
    """Adam learning rate."""
    precision: str = "auto"
    """D's training and scoring: 'fp32', 'bf16' (autocast, fp32 master weights) or 'auto': the faster
    where bf16 is native (bf16 on CPUs with AVX512-BF16 or AMX; fp32 on CUDA, measured faster there,
    runtime/hardware.py), else fp32."""
    gradient_penalty: str = "none"
    """Penalty on D's input gradient in one-hot space (seqgan/penalty.py): 'none' (the paper), 'r1'
    (on real sequences, Mescheder et al. 2018), 'zero_gp' (zero-centred on real/generated interpolates,
    Thanh-Tung et al. 2019) or 'wgan_gp' (two-sided on interpolates, Gulrajani et al. 2017)."""
    gp_weight: float = 10.0
    """The penalty's weight: gamma of R1, lambda of the other two."""
    compile: str = "none"
    """D's training step under torch.compile (seqgan/compiled.py): 'none' (eager), 'default',
    'reduce-overhead' (inductor plus CUDA graphs on a GPU) or 'max-autotune'. Agrees with eager to
    rounding, not bit for bit; not with a gradient penalty or torchrun, nor with bf16 on CUDA. On
    CUDA 'none' already runs D's step as a captured CUDA graph (d_graph.py)."""


@dataclass
class TrainConfig:
    batch_size: int = 64
    """Minibatch size of every phase (and of the generated batch of a g-step)."""
    pretrain_g_epochs: int = 120
    """MLE pre-training epochs of G."""
    pretrain_keep: str = "auto"
    """Which pre-trained G adversarial training starts from: 'last' (the paper: after the last MLE
    epoch), 'best' (the evaluation of lowest NLL on a validation split, ``data.valid_fraction`` of
    the training data) or 'auto': 'best' on text data (``data.source`` 'text'), 'last' otherwise."""
    pretrain_patience: int = 0
    """With 'best': end pre-training after this many evaluations without a new lowest validation
    NLL (early stopping); 0 runs every epoch and keeps the best."""
    pretrain_warn_after: int = 2
    """With 'best': a one-line warning when validation NLL has stayed above its lowest for this many
    evaluations in a row."""
    pretrain_d_steps: int = 50
    """D pre-training: rounds of (fresh negatives, pretrain_d_epochs epochs)."""
    pretrain_d_epochs: int = 3
    """Epochs over each D pre-training set."""
    num_negatives: int = 10_000
    """Generated sequences drawn afresh for each D training set; it holds as many real sequences
    (all of them when num_negatives >= oracle.num_train, as in the paper; else a fresh random subset)."""
    rounds: int = 200
    """Adversarial rounds (the paper's total batches)."""
    g_steps: int = 1
    """Policy-gradient updates of G per round."""
    rollout_num: int = 16
    """Monte Carlo completions N per prefix."""
    rollout_update_rate: float = 0.0
    """r in beta <- r * beta + (1 - r) * theta after each round. 0 (the default) is the paper's
    G_beta = G_theta, which is also what the authors' code computes; 0.8 is the delayed update their
    ``rollout.py`` writes but never runs (its update ops are not in the graph that is executed)."""
    d_steps: int = 5
    """D updates per round, each on fresh negatives."""
    d_epochs: int = 3
    """Epochs k over each fresh D training set."""
    adam_epsilon: str = "pytorch"
    """Where every Adam adds epsilon (1e-8): 'pytorch' (after the bias correction) or 'tf1' (before
    it, as TensorFlow 1's AdamOptimizer in the authors' code: an effective 3.2e-7 at step 1; optim.py)."""
    score_batch_size: int = 512
    """Batch size for D scoring rollouts (larger batches are slower on CPU: the unfolded windows
    fall out of cache)."""
    rewards: str = "mc"
    """Estimator of Q: 'mc' (the paper: mean of D over rollout_num completions of every prefix),
    'td' (a critic over prefixes trained by TD(lambda); D scores only the finished samples),
    'mcts' (a PUCT tree search below every prefix with the same D budget as 'mc'; biased upward) or
    'none' (no roll-outs: every token's Q is the reward of its whole sequence)."""
    baseline: str = "none"
    """Subtracted from Q in the policy gradient: 'none' (the paper), 'mean' (per position, the
    leave-one-out mean of Q over the batch) or 'value' (a learned V of the prefix before the token)."""
    normalize_advantages: bool = False
    """Scale the advantages of each g-step's batch to mean 0 and standard deviation 1."""
    value_lr: float = 1e-2
    """Adam learning rate of the value baseline's network. D's rewards fall from ~0.5 to a few
    hundredths within tens of g-steps; at 1e-3 and one update a g-step V stays near where it started
    and subtracts a large wrong constant (measured: results/rewards/train_value_slow)."""
    value_updates: int = 5
    """Value-baseline updates (squared error toward Q) per g-step (the network is small: they are cheap)."""
    critic_hidden_dim: int = 32
    """Hidden (and embedding) size of the value baseline's and the TD critic's networks."""
    td_lambda: float = 0.8
    """lambda of the TD critic's lambda-returns: 0 bootstraps from the next prefix, 1 is Monte Carlo."""
    td_completions: int = 0
    """Real completions per prefix (by the roll-out policy, scored by D) whose mean replaces the
    critic's bootstrap value in the lambda-return; 0: bootstrap from the target critic only."""
    critic_lr: float = 1e-3
    """Adam learning rate of the TD critic."""
    critic_updates: int = 4
    """TD critic updates on each g-step's batch."""
    critic_warmup: int = 50
    """Batches the TD critic trains on (under the frozen pre-trained G and D) before the first g-step."""
    critic_target_rate: float = 0.1
    """tau of the critic's target network, target <- (1 - tau) * target + tau * critic after each update."""
    mcts_c_puct: float = 1.0
    """c_puct of the tree search's PUCT rule (exploration weight on the roll-out policy's priors)."""
    objective: str = "seqgan"
    """What the g-step maximises: 'seqgan' (the paper: D's reward, REINFORCE) or 'kl' (D's reward minus
    kl_beta times the KL divergence to the frozen pre-trained G, by PPO's clipped surrogate; seqgan/kl.py,
    Ziegler et al. 2019), whose optimum is the pre-trained G tilted by exp(reward / kl_beta)."""
    kl_beta: float = 1.0
    """'kl': the weight of the KL penalty toward the pre-trained G."""
    kl_reward: str = "logit"
    """'kl': the reward of a whole sequence, 'logit' (log D / (1 - D): with kl_beta 1 and an optimal D the
    optimum is the data's distribution) or 'prob' (D, as SeqGAN)."""
    ppo_epochs: int = 4
    """'kl': PPO updates on each g-step's batch (the first is REINFORCE's)."""
    ppo_clip: float = 0.2
    """'kl': PPO's clip on the probability ratio of the updated to the sampling policy."""
    freeze_d: bool = False
    """Adversarial rounds train G only: D stays as its pre-training left it (the KL identity's own
    setting: D optimal between the data and the pre-trained G)."""


REWARD_ESTIMATORS = ("mc", "td", "mcts", "none")
OBJECTIVES = ("seqgan", "kl")
PRETRAIN_KEEP = ("auto", "best", "last")
PG_BASELINES = ("none", "mean", "value")
SS_SCHEDULES = ("linear", "exponential", "inverse_sigmoid")


@dataclass
class RowsConfig:
    """Table 1's other rows. Configs and runs from before the rename say ``baselines:`` and
    ``baselines.rows``; ``current_keys`` reads them as ``rows:`` and ``rows.names``."""

    names: list[str] = field(default_factory=lambda: ["mle"])
    """Table 1's other rows, trained alongside SeqGAN in the same run. Each of 'mle',
    'scheduled_sampling' and 'pg_bleu' starts from the pre-trained G and trains for the same
    rounds; 'random' is the untrained G, evaluated as is."""
    mle_epochs_per_round: int = 1
    """Epochs of (teacher-forced or scheduled-sampling) MLE that 'mle' and 'scheduled_sampling' get
    per adversarial round."""
    ss_schedule: str = "inverse_sigmoid"
    """How scheduled sampling's probability of feeding the model's own token rises over the rounds:
    'linear', 'exponential' or 'inverse_sigmoid' (Bengio et al. 2015's three decays of the
    teacher-forcing probability, over the fraction of rounds done)."""
    ss_final_prob: float = 0.25
    """The probability of feeding the model's own token reached at the last round."""
    ss_sigmoid_k: float = 10.0
    """Shape k of the inverse-sigmoid decay k / (k + exp(i / k)); larger is flatter at the start."""
    bleu_max_n: int = 4
    """PG-BLEU's reward: sentence BLEU-n (nltk method1 smoothing) against the training data."""


@dataclass
class EvalConfig:
    every: int = 5
    """Evaluate every this many MLE pre-training epochs and adversarial rounds."""
    temperature: float = 1.0
    """Sampling temperature of the evaluations: NLL-oracle's samples, and NLL-test under the same
    tempered distribution (Caccia et al. 2020: tempered MLE against GANs)."""
    num_samples: int = 10_000
    """Generator samples for NLL-oracle."""
    bleu_max_n: int = 4
    """Real data: BLEU-2..n of the samples against the test split, and Self-BLEU-2..n."""
    self_bleu_samples: int = 500
    """Real data: Self-BLEU over the first this many samples (Texygen scores 500)."""
    midi_files: int = 10
    """Music: melodies of each model written as MIDI files at the end of a run."""
    checkpoint_every: int = 10
    """Checkpoint every this many MLE epochs, D pre-training sets and adversarial rounds, and at
    every phase end."""
    tempered_start: bool = True
    """Text data: at the end of the run, sweep the pre-trained G over ``tempered_temperatures`` and
    add its rows at SeqGAN's Self-BLEU-4 and NLL-test, with SeqGAN's gaps to them, to the final table."""
    tempered_temperatures: list[float] = field(default_factory=lambda: [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2])
    """The sampling temperatures of that sweep, increasing."""


@dataclass
class Config:
    seed: int = 0
    """Seeds the run (models, sampling, shuffling); the oracle has its own seed."""
    device: str = "cpu"
    """'cpu', 'cuda' or 'cuda:N'."""
    threads: int = 0
    """torch intra-op threads; 0 keeps torch's default."""
    data_dir: str = ""
    """Where the shared data sets live (else SEQGAN_DATA_DIR)."""
    dist_backend: str = "auto"
    """Under torchrun: the process-group backend, 'auto' (gloo on CPU, NCCL on CUDA), 'gloo' or 'nccl'."""
    dist_timeout: float = 1800.0
    """Under torchrun: seconds a rank waits for the others in a collective before it stops with an error."""
    oracle: OracleConfig = field(default_factory=OracleConfig)
    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    rows: RowsConfig = field(default_factory=RowsConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def seq_len(self) -> int:
        """Sequence length T of the run: the oracle's, or the real data's maximum length."""
        return self.oracle.seq_len if self.data.source == "oracle" else self.data.max_len

    @property
    def keeps_best_pretrained(self) -> bool:
        """Whether pre-training holds out a validation split and keeps its best epoch (``train.pretrain_keep``)."""
        keep = self.train.pretrain_keep
        return keep == "best" or (keep == "auto" and self.data.source == "text")

    @property
    def sweeps_tempered_start(self) -> bool:
        """Whether the run ends with the tempered start's rows (``eval.tempered_start``, text data only)."""
        return self.eval.tempered_start and self.data.source == "text"


# -- loading and checking -------------------------------------------------------------------------


def line_map(node, prefix: str = "", out: dict | None = None) -> dict:
    """Dotted key -> 1-based line of a composed YAML mapping."""
    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            out[key] = key_node.start_mark.line + 1
            line_map(value_node, key + ".", out)
    return out


def _coerce(value, typ, where: str):
    """Check ``value`` against the annotated type, converting int->float; raise ConfigError."""
    origin = typing.get_origin(typ)
    if origin is list:
        (item_type,) = typing.get_args(typ)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, item_type, where) for v in value]
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise AssertionError(f"unhandled config type {typ}")


def _apply(obj, values: dict, prefix: str, lines: dict, source: str) -> None:
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        line = lines.get(dotted)
        where = f"{source}:{line}: key '{dotted}'" if line else f"{source}: key '{dotted}'"
        if key not in names:
            raise ConfigError(f"{where}: unknown key (known: {', '.join(sorted(names))})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a section of keys, got {value!r}")
            _apply(current, value, dotted + ".", lines, source)
        else:
            setattr(obj, key, _coerce(value, hints[key], where))


def apply_values(obj, values: dict, source: str, lines: dict | None = None) -> None:
    """Set a dataclass's fields (nested dataclasses by nested dicts) from ``values``, each checked against its
    annotated type; an unknown key or a wrong type is a ConfigError naming the key and ``source`` (and line)."""
    _apply(obj, values, "", lines or {}, source)


def _check(cfg: Config) -> None:
    """Value ranges and cross-field constraints."""
    positive = {
        "oracle.vocab_size": cfg.oracle.vocab_size,
        "oracle.emb_dim": cfg.oracle.emb_dim,
        "oracle.hidden_dim": cfg.oracle.hidden_dim,
        "oracle.seq_len": cfg.oracle.seq_len,
        "oracle.num_train": cfg.oracle.num_train,
        "oracle.num_test": cfg.oracle.num_test,
        "generator.emb_dim": cfg.generator.emb_dim,
        "generator.hidden_dim": cfg.generator.hidden_dim,
        "generator.lr": cfg.generator.lr,
        "generator.grad_clip": cfg.generator.grad_clip,
        "discriminator.emb_dim": cfg.discriminator.emb_dim,
        "discriminator.lr": cfg.discriminator.lr,
        "train.batch_size": cfg.train.batch_size,
        "train.num_negatives": cfg.train.num_negatives,
        "train.score_batch_size": cfg.train.score_batch_size,
        "eval.every": cfg.eval.every,
        "eval.num_samples": cfg.eval.num_samples,
        "eval.temperature": cfg.eval.temperature,
        "eval.checkpoint_every": cfg.eval.checkpoint_every,
        "eval.self_bleu_samples": cfg.eval.self_bleu_samples,
    }
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"key '{key}': must be positive, got {value}")
    non_negative = {
        "train.pretrain_g_epochs": cfg.train.pretrain_g_epochs,
        "train.pretrain_d_steps": cfg.train.pretrain_d_steps,
        "train.pretrain_d_epochs": cfg.train.pretrain_d_epochs,
        "train.rounds": cfg.train.rounds,
        "train.g_steps": cfg.train.g_steps,
        "train.d_steps": cfg.train.d_steps,
        "train.d_epochs": cfg.train.d_epochs,
        "rows.mle_epochs_per_round": cfg.rows.mle_epochs_per_round,
        "threads": cfg.threads,
        "discriminator.l2_reg": cfg.discriminator.l2_reg,
        "discriminator.gp_weight": cfg.discriminator.gp_weight,
        "generator.pg_lr": cfg.generator.pg_lr,
    }
    for key, value in non_negative.items():
        if value < 0:
            raise ConfigError(f"key '{key}': must be >= 0, got {value}")
    if cfg.oracle.seq_len < 2:
        raise ConfigError(f"key 'oracle.seq_len': must be at least 2, got {cfg.oracle.seq_len}")
    if not 0.0 < cfg.discriminator.dropout_keep <= 1.0:
        raise ConfigError(
            f"key 'discriminator.dropout_keep': a keep probability in (0, 1], got {cfg.discriminator.dropout_keep}"
        )
    tc = cfg.train
    if tc.rewards not in REWARD_ESTIMATORS:
        raise ConfigError(
            f"key 'train.rewards': unknown estimator {tc.rewards!r} (known: {', '.join(REWARD_ESTIMATORS)})"
        )
    if tc.objective not in OBJECTIVES:
        raise ConfigError(f"key 'train.objective': one of {', '.join(OBJECTIVES)}, got {tc.objective!r}")
    if tc.kl_reward not in ("logit", "prob"):
        raise ConfigError(f"key 'train.kl_reward': 'logit' or 'prob', got {tc.kl_reward!r}")
    if tc.kl_beta <= 0 or tc.ppo_clip <= 0 or tc.ppo_epochs < 1:
        raise ConfigError(
            "keys 'train.kl_beta', 'train.ppo_clip', 'train.ppo_epochs': must be positive, got "
            f"{tc.kl_beta}, {tc.ppo_clip}, {tc.ppo_epochs}"
        )
    if tc.objective == "kl" and (tc.rewards not in ("mc", "none") or tc.baseline == "value"):
        # the TD critic's and the value baseline's networks end in a sigmoid: they fit D's rewards in [0, 1],
        # not log-odds or returns with a KL term; the tree search's exploration is scaled for them too
        raise ConfigError(
            "key 'train.objective': 'kl' takes train.rewards 'mc' or 'none' and train.baseline 'none' or 'mean', "
            f"got rewards {tc.rewards!r} and baseline {tc.baseline!r}"
        )
    if tc.baseline not in PG_BASELINES:
        raise ConfigError(f"key 'train.baseline': unknown baseline {tc.baseline!r} (known: {', '.join(PG_BASELINES)})")
    if not 0.0 <= tc.td_lambda <= 1.0:
        raise ConfigError(f"key 'train.td_lambda': must be in [0, 1], got {tc.td_lambda}")
    if not 0.0 < tc.critic_target_rate <= 1.0:
        raise ConfigError(f"key 'train.critic_target_rate': must be in (0, 1], got {tc.critic_target_rate}")
    if tc.rollout_num < 1:
        raise ConfigError(
            "key 'train.rollout_num': the budget of D evaluations must be at least one completion a prefix, "
            f"got {tc.rollout_num}"
        )
    for key in ("value_lr", "critic_lr", "mcts_c_puct", "critic_hidden_dim", "value_updates", "critic_updates"):
        if getattr(tc, key) <= 0:
            raise ConfigError(f"key 'train.{key}': must be positive, got {getattr(tc, key)}")
    for key in ("td_completions", "critic_warmup"):
        if getattr(tc, key) < 0:
            raise ConfigError(f"key 'train.{key}': must be >= 0, got {getattr(tc, key)}")
    if not 0.0 <= cfg.train.rollout_update_rate <= 1.0:
        raise ConfigError(f"key 'train.rollout_update_rate': must be in [0, 1], got {cfg.train.rollout_update_rate}")
    d = cfg.discriminator
    if not d.filter_sizes or len(d.filter_sizes) != len(d.num_filters):
        raise ConfigError(
            f"keys 'discriminator.filter_sizes' and 'discriminator.num_filters': need equal, non-zero lengths, "
            f"got {len(d.filter_sizes)} and {len(d.num_filters)}"
        )
    if min(d.filter_sizes) < 1 or min(d.num_filters) < 1:
        raise ConfigError("keys 'discriminator.filter_sizes' and 'discriminator.num_filters': entries must be positive")
    if max(d.filter_sizes) > cfg.seq_len:
        raise ConfigError(
            f"key 'discriminator.filter_sizes': width {max(d.filter_sizes)} exceeds the sequence length {cfg.seq_len}"
        )
    data = cfg.data
    if data.source not in ("oracle", "text", "midi"):
        raise ConfigError(f"key 'data.source': 'oracle', 'text' or 'midi', got {data.source!r}")
    if data.source != "oracle" and not data.train:
        raise ConfigError(f"key 'data.train': data.source {data.source!r} needs a training file or folder")
    if data.tokenizer not in ("chars", "words", "ids"):
        raise ConfigError(f"key 'data.tokenizer': 'chars', 'words' or 'ids', got {data.tokenizer!r}")
    if data.overflow not in ("truncate", "split", "drop"):
        raise ConfigError(f"key 'data.overflow': 'truncate', 'split' or 'drop', got {data.overflow!r}")
    if not 0.0 < data.test_fraction < 1.0:
        raise ConfigError(f"key 'data.test_fraction': must be in (0, 1), got {data.test_fraction}")
    if data.max_len < 2:
        raise ConfigError(f"key 'data.max_len': must be at least 2, got {data.max_len}")
    if data.min_freq < 1:
        raise ConfigError(f"key 'data.min_freq': must be at least 1, got {data.min_freq}")
    if data.midi_step <= 0:
        raise ConfigError(f"key 'data.midi_step': must be positive, got {data.midi_step}")
    if not 0.0 < data.valid_fraction < 1.0:
        raise ConfigError(f"key 'data.valid_fraction': must be in (0, 1), got {data.valid_fraction}")
    if tc.pretrain_keep not in PRETRAIN_KEEP:
        raise ConfigError(f"key 'train.pretrain_keep': one of {', '.join(PRETRAIN_KEEP)}, got {tc.pretrain_keep!r}")
    if tc.pretrain_patience < 0:
        raise ConfigError(f"key 'train.pretrain_patience': must be >= 0, got {tc.pretrain_patience}")
    if tc.pretrain_warn_after < 1:
        raise ConfigError(f"key 'train.pretrain_warn_after': must be at least 1, got {tc.pretrain_warn_after}")
    temps = cfg.eval.tempered_temperatures
    if len(temps) < 2 or min(temps) <= 0 or any(b <= a for a, b in zip(temps, temps[1:])):
        raise ConfigError(
            f"key 'eval.tempered_temperatures': at least two positive temperatures, increasing, got {temps}"
        )
    bl = cfg.rows
    for row in bl.names:
        if row not in TRAINED_BESIDE:
            raise ConfigError(f"key 'rows.names': unknown row {row!r} (known: {', '.join(TRAINED_BESIDE)})")
    if len(set(bl.names)) != len(bl.names):
        raise ConfigError(f"key 'rows.names': a row is listed twice in {bl.names}")
    if bl.ss_schedule not in SS_SCHEDULES:
        raise ConfigError(f"key 'rows.ss_schedule': one of {', '.join(SS_SCHEDULES)}, got {bl.ss_schedule!r}")
    if not 0.0 <= bl.ss_final_prob < 1.0:
        raise ConfigError(f"key 'rows.ss_final_prob': must be in [0, 1), got {bl.ss_final_prob}")
    if bl.ss_sigmoid_k < 1.0:
        raise ConfigError(f"key 'rows.ss_sigmoid_k': must be >= 1, got {bl.ss_sigmoid_k}")
    if not 2 <= cfg.eval.bleu_max_n <= 5:
        raise ConfigError(f"key 'eval.bleu_max_n': must be in 2..5, got {cfg.eval.bleu_max_n}")
    if not 1 <= bl.bleu_max_n <= 5:
        raise ConfigError(f"key 'rows.bleu_max_n': must be in 1..5, got {bl.bleu_max_n}")
    if cfg.train.adam_epsilon not in ("pytorch", "tf1"):
        raise ConfigError(f"key 'train.adam_epsilon': 'pytorch' or 'tf1', got {cfg.train.adam_epsilon!r}")
    if cfg.discriminator.precision not in ("auto", "fp32", "bf16"):
        raise ConfigError(
            f"key 'discriminator.precision': 'auto', 'fp32' or 'bf16', got {cfg.discriminator.precision!r}"
        )
    if cfg.discriminator.gradient_penalty not in PENALTIES:
        raise ConfigError(
            f"key 'discriminator.gradient_penalty': one of {', '.join(PENALTIES)}, "
            f"got {cfg.discriminator.gradient_penalty!r}"
        )
    if cfg.discriminator.compile not in COMPILE_MODES:
        raise ConfigError(
            f"key 'discriminator.compile': one of {', '.join(COMPILE_MODES)}, got {cfg.discriminator.compile!r}"
        )
    if cfg.discriminator.compile != "none" and cfg.discriminator.gradient_penalty != "none":
        raise ConfigError(
            "key 'discriminator.compile': a compiled D step takes no gradient penalty (its double backward); "
            "set one of them to 'none'"
        )
    d_bf16 = cfg.discriminator.precision == "bf16" or (cfg.discriminator.precision == "auto" and CUDA_BF16_FASTER)
    if cfg.discriminator.compile != "none" and cfg.device.startswith("cuda") and d_bf16:
        raise ConfigError(
            "key 'discriminator.compile': in bf16 on CUDA inductor's D step crashed ('misaligned address', issue 24); "
            "set discriminator.precision: fp32, or compile: none (D's step then runs as a captured CUDA graph)"
        )
    if cfg.dist_backend not in ("auto", "gloo", "nccl"):
        raise ConfigError(f"key 'dist_backend': 'auto', 'gloo' or 'nccl', got {cfg.dist_backend!r}")
    if cfg.dist_timeout <= 0:
        raise ConfigError(f"key 'dist_timeout': must be positive, got {cfg.dist_timeout}")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", cfg.device):
        raise ConfigError(f"key 'device': 'cpu', 'cuda' or 'cuda:N', got {cfg.device!r}")


def check_processes(cfg: Config, world_size: int) -> None:
    """What a run of ``world_size`` torchrun processes cannot do, refused with one line naming the key."""
    if world_size <= 1:
        return
    if cfg.discriminator.gradient_penalty != "none":  # its extra backward is not routed through DDP
        raise ConfigError("key 'discriminator.gradient_penalty': runs under torchrun support only 'none' for now")
    if cfg.discriminator.compile != "none":  # DDP's reducer and a compiled D's step have not been run together here
        raise ConfigError("key 'discriminator.compile': runs under torchrun support only 'none' for now")
    # each process's critic or value network would learn from its own batches and drift apart, and a
    # checkpoint holds process 0's: a resumed run would not be the run that was started
    if cfg.train.rewards == "td":
        raise ConfigError("key 'train.rewards': runs under torchrun support 'mc' and 'mcts' for now, not 'td'")
    if cfg.train.objective == "kl":  # PPO's epochs are not routed through DDP
        raise ConfigError("key 'train.objective': runs under torchrun support 'seqgan' for now, not 'kl'")
    if cfg.train.baseline == "value":
        raise ConfigError("key 'train.baseline': runs under torchrun support 'none' and 'mean' for now, not 'value'")
    sizes = {
        "train.batch_size": cfg.train.batch_size,
        "train.num_negatives": cfg.train.num_negatives,
        "eval.num_samples": cfg.eval.num_samples,
    }
    for key, n in sizes.items():  # every global size splits evenly over the ranks
        if n % world_size:
            raise ConfigError(
                f"key '{key}': {n} does not divide by the world size {world_size} (processes on all nodes)"
            )


def current_key(dotted: str) -> str:
    """A dotted key as today's config names it: the section 'baselines' is now 'rows', its list 'rows.names'."""
    if dotted == "baselines.rows":
        return "rows.names"
    if dotted == "baselines" or dotted.startswith("baselines."):
        return "rows" + dotted[len("baselines") :]
    return dotted


def current_keys(values: dict) -> dict:
    """A nested config dict (a YAML file's, a checkpoint's, a run directory's) with the old names renamed."""
    if not isinstance(values, dict) or "baselines" not in values:
        return values
    if "rows" in values:
        raise ConfigError("both 'baselines' and 'rows' are given: 'rows' is the new name of 'baselines', give one")
    old = values["baselines"]
    if isinstance(old, dict):
        old = {("names" if key == "rows" else key): value for key, value in old.items()}
    return {
        ("rows" if key == "baselines" else key): (old if key == "baselines" else value) for key, value in values.items()
    }


def parse_override(text: str) -> tuple[str, object]:
    """'train.rounds=10' -> ('train.rounds', 10); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE")
    key, raw = text.split("=", 1)
    try:
        value = _yaml_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def read_config_file(path: Path) -> tuple[dict, dict[str, int]]:
    """The mapping a YAML config file holds and the line of each dotted key; a one-line ConfigError
    naming the file (and the line, for bad YAML) otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config {path}: no such file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"config {path}: not UTF-8 text (byte {e.start})") from None
    try:
        node = yaml.compose(text, Loader=YamlLoader)
        values = _yaml_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"config {path}{line}: not valid YAML ({getattr(e, 'problem', e)})") from None
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"config {path}: expected a mapping of keys at the top level")
    return values, line_map(node)


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> Config:
    """Defaults, then the YAML file at ``path``, then ``KEY=VALUE`` overrides; checked."""
    cfg = Config()
    origin: dict[str, str] = {}  # dotted key -> "file:line" or "--set"
    if path is not None:
        path = Path(path)
        values, lines = read_config_file(path)
        values = current_keys(values)
        lines = {current_key(key): line for key, line in lines.items()}
        _apply(cfg, values, "", lines, str(path))
        origin.update({key: f"{path}:{line}" for key, line in lines.items()})
    for text in overrides:
        key, value = parse_override(text)
        key = current_key(key)
        nested: dict = {}
        cursor = nested
        parts = key.split(".")
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
        _apply(cfg, nested, "", {}, "--set")
        origin[key] = "--set"
    # which keys this invocation wrote (the file or --set): on --resume only these may not differ from
    # the run's; a default that changed since the run started takes the run's value
    cfg.explicit_keys = frozenset(origin)
    try:
        _check(cfg)
    except ConfigError as e:  # say where the offending value was written
        match = re.search(r"key '([^']+)'", str(e))
        where = origin.get(match.group(1)) if match else None
        raise ConfigError(f"{where}: {e}" if where else str(e)) from None
    return cfg


# A key added after runs were saved takes its default when a saved config lacks it, and every
# default reproduces the old behaviour, except these: for them the old behaviour is this value.
LEGACY_VALUES = {
    "generator.single_bias": False,
    "train.pretrain_keep": "last",  # text runs kept the last pre-training epoch and held out no validation split
    "eval.tempered_start": False,  # and ended without the tempered start's rows
}


def config_from_dict(values: dict) -> Config:
    """Rebuild a Config from ``to_dict`` output (a checkpoint's or a run directory's).

    A key missing from ``values`` (a config saved by an older seqgan) takes the value that
    reproduces what that older seqgan did: ``LEGACY_VALUES``, else the default.
    """
    cfg = Config()
    values = current_keys(values)
    for dotted, old in LEGACY_VALUES.items():
        section, key = dotted.split(".")
        if key not in values.get(section, {}):
            setattr(getattr(cfg, section), key, old)
    _apply(cfg, values, "", {}, "saved config")
    _check(cfg)
    return cfg
