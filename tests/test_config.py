"""Configuration: the paper's defaults, YAML and --set overrides, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqgan.config import Config, ConfigError, config_from_dict, load_config, parse_override

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_papers_synthetic_experiment():
    cfg = load_config()
    assert cfg == Config()
    o, g, d, t = cfg.oracle, cfg.generator, cfg.discriminator, cfg.train
    # oracle and data (Section 4.1; the authors' code: 10,000 sequences of 20 tokens, vocab 5,000)
    assert (o.vocab_size, o.emb_dim, o.hidden_dim, o.seq_len) == (5000, 32, 32, 20)
    assert (o.num_train, o.num_test) == (10_000, 10_000)
    assert o.seed == 88  # the authors' SEED
    # generator: LSTM with embedding and hidden 32, Adam 0.01, gradient clip 5
    assert (g.emb_dim, g.hidden_dim, g.lr, g.grad_clip) == (32, 32, 0.01, 5.0)
    # discriminator: embedding 64, widths 1-10, 15, 20 with the paper's filter counts
    assert d.emb_dim == 64
    assert d.filter_sizes == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20]
    assert d.num_filters == [100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160]
    assert (d.dropout_keep, d.l2_reg, d.lr) == (0.75, 0.2, 1e-4)
    # training: batch 64, 120 MLE epochs, 50 D pre-training sets of 3 epochs, 200 adversarial
    # rounds of 1 g-step with 16 rollouts, roll-out update rate 0 (G_beta = G_theta), 5 d-steps of 3 epochs
    assert t.batch_size == 64
    assert (t.pretrain_g_epochs, t.pretrain_d_steps, t.pretrain_d_epochs) == (120, 50, 3)
    assert (t.rounds, t.g_steps, t.rollout_num, t.rollout_update_rate) == (200, 1, 16, 0.0)
    assert (t.d_steps, t.d_epochs, t.num_negatives) == (5, 3, 10_000)
    assert cfg.eval.num_samples == 10_000


def test_yaml_and_set_overrides(tmp_path):
    path = write(
        tmp_path,
        (
            "seed: 3\n"
            "oracle:\n"
            "  vocab_size: 40\n"
            "  seq_len: 6\n"
            "discriminator:\n"
            "  filter_sizes: [1, 2]\n"
            "  num_filters: [3, 4]\n"
            "train:\n"
            "  rounds: 3\n"
        ),
    )
    cfg = load_config(
        path,
        [
            "train.rounds=5",
            "generator.lr=0.5",
            "generator.grad_clip=2",
            "baselines.rows=[]",
            "oracle.source=paper",
            "discriminator.filter_sizes=[1, 3]",
            "discriminator.dropout_keep=1",
        ],
    )
    assert cfg.seed == 3 and cfg.oracle.vocab_size == 40 and cfg.oracle.seq_len == 6
    assert cfg.train.rounds == 5  # --set wins over the file
    assert cfg.generator.lr == 0.5
    assert cfg.generator.grad_clip == 2.0 and isinstance(cfg.generator.grad_clip, float)
    assert cfg.rows.names == []
    assert cfg.oracle.source == "paper"
    assert cfg.discriminator.filter_sizes == [1, 3] and cfg.discriminator.num_filters == [3, 4]
    assert cfg.discriminator.dropout_keep == 1.0
    # untouched keys keep their defaults
    assert cfg.train.batch_size == 64 and cfg.oracle.hidden_dim == 32


def test_scientific_notation_is_a_number(tmp_path):
    """``lr: 1e-4`` (how the default itself is written) is a float in YAML 1.2; PyYAML's YAML 1.1
    resolver reads it as the string '1e-4', which must not make the config unusable."""
    cfg = load_config(write(tmp_path, "discriminator:\n  lr: 1e-4\n"), ["generator.lr=2e-3"])
    assert cfg.discriminator.lr == pytest.approx(1e-4)
    assert cfg.generator.lr == pytest.approx(2e-3)


def test_parse_override():
    assert parse_override("train.rounds=10") == ("train.rounds", 10)
    assert parse_override("oracle.source=a=b.npz") == ("oracle.source", "a=b.npz")
    assert parse_override("discriminator.filter_sizes=[1,2]") == ("discriminator.filter_sizes", [1, 2])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("train.rounds")


def test_unknown_key_names_key_file_and_line(tmp_path):
    path = write(tmp_path, "seed: 1\ntrain:\n  batch_size: 8\n  roundz: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert "train.roundz" in msg and str(path) in msg and ":4" in msg
    assert "\n" not in msg
    path = write(tmp_path, "sed: 1\n", "top.yaml")
    with pytest.raises(ConfigError, match=r"top\.yaml:1.*'sed'"):
        load_config(path)


def test_unknown_key_from_set_is_named():
    with pytest.raises(ConfigError, match="train.roundz"):
        load_config(None, ["train.roundz=3"])
    with pytest.raises(ConfigError, match="nosuch"):
        load_config(None, ["nosuch.key=3"])


@pytest.mark.parametrize(
    "text,key,line",
    [
        ("train:\n  rounds: ten\n", "train.rounds", 2),
        ("seed: 1\ntrain:\n  rounds: 2.5\n", "train.rounds", 3),
        ("rows:\n  names: [mle, gan]\n", "rows.names", 2),
        ("seed: 1\nbaselines:\n  rows: [mle, gan]\n", "rows.names", 3),  # the old name: its line, the new key
        ("oracle:\n  vocab_size: true\n", "oracle.vocab_size", 2),
        ("generator:\n  lr: fast\n", "generator.lr", 2),
        ("discriminator:\n  filter_sizes: 3\n", "discriminator.filter_sizes", 2),
        ("discriminator:\n  filter_sizes: [1, a]\n", "discriminator.filter_sizes", 2),
        ("oracle:\n  source: 5\n", "oracle.source", 2),
        ("oracle: 5\n", "oracle", 1),
    ],
)
def test_wrong_type_names_key_file_and_line(tmp_path, text, key, line):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert f"'{key}'" in msg and f"{path}:{line}" in msg, msg


def test_wrong_type_from_set():
    with pytest.raises(ConfigError, match="train.rounds"):
        load_config(None, ["train.rounds=abc"])


@pytest.mark.parametrize("text", ["train: [rounds: 1\n", "seed: 1\n  oracle: : :\n", "a: 'unterminated\n"])
def test_invalid_yaml_names_file(tmp_path, text):
    path = write(tmp_path, text, "broken.yaml")
    with pytest.raises(ConfigError, match="broken.yaml"):
        load_config(path)


def test_unreadable_or_odd_files(tmp_path):
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"seed: 1\n# caf\xe9\n")
    with pytest.raises(ConfigError, match="latin1.yaml"):
        load_config(bad)
    with pytest.raises(ConfigError, match="list.yaml"):
        load_config(write(tmp_path, "- 1\n- 2\n", "list.yaml"))
    assert load_config(write(tmp_path, "", "empty.yaml")) == Config()


@pytest.mark.parametrize(
    "override,key",
    [
        ("train.rounds=-1", "train.rounds"),
        ("train.batch_size=0", "train.batch_size"),
        ("train.rollout_num=0", "train.rollout_num"),
        ("discriminator.dropout_keep=1.5", "discriminator.dropout_keep"),
        ("discriminator.dropout_keep=0", "discriminator.dropout_keep"),
        ("train.rollout_update_rate=1.5", "train.rollout_update_rate"),
        ("train.adam_epsilon=tf2", "train.adam_epsilon"),
        ("generator.single_bias=1", "generator.single_bias"),
        ("discriminator.filter_sizes=[1,2,3,4,5,6,7,8,9,10,15,30]", "discriminator.filter_sizes"),
        ("oracle.seq_len=10", "discriminator.filter_sizes"),  # the default widths reach 20
        ("discriminator.num_filters=[1,2]", "discriminator.num_filters"),
        ("generator.lr=0", "generator.lr"),
        ("discriminator.precision=fp16", "discriminator.precision"),
        ("device=tpu", "device"),
        ("oracle.seq_len=1", "oracle.seq_len"),
    ],
)
def test_out_of_range_values(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, [override])


def test_out_of_range_in_yaml(tmp_path):
    path = write(tmp_path, "oracle:\n  seq_len: 8\ndiscriminator:\n  filter_sizes: [1, 9]\n  num_filters: [2, 2]\n")
    with pytest.raises(ConfigError, match="filter_sizes"):
        load_config(path)
    path = write(tmp_path, "train:\n  rounds: -2\n", "neg.yaml")
    with pytest.raises(ConfigError, match="train.rounds"):
        load_config(path)


def test_config_from_dict_round_trips(tmp_path):
    cfg = load_config(CONFIGS / "synthetic_smoke.yaml", ["train.rounds=7", "generator.lr=0.25", "baselines.rows=[]"])
    again = config_from_dict(cfg.to_dict())
    assert again == cfg
    assert again.to_dict() == cfg.to_dict()
    assert again is not cfg and again.discriminator.filter_sizes is not cfg.discriminator.filter_sizes
    assert config_from_dict(Config().to_dict()) == Config()
    with pytest.raises(ConfigError, match="bogus"):
        config_from_dict({**cfg.to_dict(), "bogus": 1})


def test_saved_yaml_round_trips(tmp_path):
    import yaml

    cfg = load_config(CONFIGS / "synthetic_smoke.yaml", ["seed=5"])
    path = write(tmp_path, yaml.safe_dump(cfg.to_dict(), sort_keys=False), "saved.yaml")
    assert load_config(path) == cfg


# configs/texygen_*.yaml are `seqgan texygen`'s, another schema (tests/test_texygen.py loads them)
@pytest.mark.parametrize(
    "path", sorted(p for p in CONFIGS.glob("*.yaml") if not p.name.startswith("texygen_")), ids=lambda p: p.name
)
def test_every_shipped_config_loads(path):
    import yaml

    def flat(tree: dict, prefix: str = "") -> dict:
        out = {}
        for key, value in tree.items():
            out.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) and value else {prefix + key: value})
        return out

    cfg = load_config(path)
    # every value the file sets is the loaded config's, under the same dotted key: nothing dropped or renamed
    written, loaded = flat(yaml.safe_load(path.read_text(encoding="utf-8"))), flat(cfg.to_dict())
    assert {key: loaded.get(key, "<missing>") for key in written} == written
    assert max(cfg.discriminator.filter_sizes) <= cfg.oracle.seq_len


def test_smoke_config_values():
    cfg = load_config(CONFIGS / "synthetic_smoke.yaml")
    assert cfg.oracle.vocab_size == 50 and cfg.oracle.seq_len == 8
    assert cfg.discriminator.filter_sizes == [1, 2, 3, 4, 8]
    assert cfg.train.rounds == 10 and cfg.train.rollout_num == 4


def test_the_old_section_name_baselines_still_loads_as_rows(tmp_path):
    """Table 1's rows were the section 'baselines' (list 'baselines.rows'): old configs, --set
    overrides and saved configs (checkpoints, run directories) read as 'rows' and 'rows.names'."""
    from seqgan.config import config_from_dict, current_key

    old = load_config(write(tmp_path, "baselines:\n  rows: [random, pg_bleu]\n  ss_final_prob: 0.5\n"))
    new = load_config(write(tmp_path, "rows:\n  names: [random, pg_bleu]\n  ss_final_prob: 0.5\n"))
    assert old.rows.names == ["random", "pg_bleu"] and old.rows.ss_final_prob == 0.5
    assert old.to_dict() == new.to_dict() and old.explicit_keys == new.explicit_keys
    assert load_config(None, ["baselines.rows=[]", "baselines.mle_epochs_per_round=2"]).rows.names == []
    assert load_config(None, ["baselines.mle_epochs_per_round=2"]).explicit_keys == {"rows.mle_epochs_per_round"}
    saved = new.to_dict()
    saved["baselines"] = {"rows" if k == "names" else k: v for k, v in saved.pop("rows").items()}
    assert config_from_dict(saved).to_dict() == new.to_dict()
    assert [current_key(k) for k in ("baselines", "baselines.rows", "baselines.bleu_max_n", "train.rounds")] == [
        "rows",
        "rows.names",
        "rows.bleu_max_n",
        "train.rounds",
    ]
    with pytest.raises(ConfigError, match="both 'baselines' and 'rows'"):
        load_config(write(tmp_path, "rows:\n  names: []\nbaselines:\n  rows: []\n"))


@pytest.mark.parametrize(
    "override, key",
    [
        ("discriminator.gradient_penalty=r1", "discriminator.gradient_penalty"),
        ("discriminator.compile=default", "discriminator.compile"),
        ("train.rewards=td", "train.rewards"),
        ("train.baseline=value", "train.baseline"),
        ("train.batch_size=63", "train.batch_size"),
    ],
)
def test_what_several_processes_cannot_run_is_refused_by_the_config_naming_its_key(override, key):
    from seqgan.config import check_processes

    cfg = load_config(None, [override])
    check_processes(cfg, 1)  # one process runs everything
    with pytest.raises(ConfigError) as info:
        check_processes(cfg, 2)
    assert f"key '{key}'" in str(info.value) and "\n" not in str(info.value)
    check_processes(load_config(None), 2)  # the defaults run on two processes
