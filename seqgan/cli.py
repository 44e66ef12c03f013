"""The ``seqgan`` command: train, sample, evaluate, score, bleu, data, experiment, tune, human-eval.
Parses arguments and dispatches.

Every user error (bad config, data or checkpoint) is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

import torch

from .config import ConfigError, load_config
from .rows import TRAINED_BESIDE
from .runtime import distributed

USAGE_ERROR = 2


def _fail(message: str) -> int:
    print(f"seqgan: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _default_run_dir(config_path: str, seed: int) -> Path:
    """runs/CONFIG-seedS, or the first of runs/CONFIG-seedS-2, -3, ... that is free: a new run
    never touches an earlier one."""
    base = Path("runs") / f"{Path(config_path).stem}-seed{seed}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def cmd_train(args) -> int:
    from .reporting import results_table
    from .train import train

    overrides = list(args.set or [])
    if args.oracle:
        overrides.append(f"oracle.source={args.oracle}")
    if args.data_dir:
        overrides.append(f"data_dir={args.data_dir}")
    if args.device:
        overrides.append(f"device={args.device}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    cfg = load_config(args.config, overrides)
    if args.resume and not args.run_dir:
        return _fail("--resume needs --run-dir: the run directory to continue")
    if distributed.launched() and not args.run_dir:  # each rank would pick its own free directory
        return _fail("under torchrun, --run-dir is needed: the one run directory of all ranks")
    if args.resume and args.start_from:
        return _fail("--resume and --start-from: a run either continues itself or starts from another's pre-training")
    run_dir = Path(args.run_dir) if args.run_dir else _default_run_dir(args.config, cfg.seed)
    options = {
        "resume": args.resume,
        "start_from": args.start_from,
        "stop_after_pretraining": args.stop_after_pretraining,
    }
    if not distributed.is_master():  # rank 0 speaks for the run
        train(cfg, run_dir, **options)
        return 0
    print(f"run directory: {run_dir}", flush=True)
    results = train(cfg, run_dir, **options)
    if "stopped_after" in results:
        print(
            f"\nstopped after MLE pre-training ({results['seconds']:.0f} s); "
            f"start runs from it with --start-from {run_dir}"
        )
        return 0
    print()
    print(results_table(results))
    print(f"\n{results['seconds']:.0f} s of training; metrics, samples, plot and checkpoint in {run_dir}")
    return 0


def cmd_texygen(args) -> int:
    from .texygen import run_texygen
    from .texygen_config import load_texygen_config

    overrides = list(args.set or [])
    if args.data_dir:
        overrides.append(f"data_dir={args.data_dir}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    cfg = load_texygen_config(args.config, overrides)
    run_dir = Path(args.run_dir) if args.run_dir else _default_run_dir(args.config, cfg.seed)
    print(f"run directory: {run_dir}", flush=True)
    results = run_texygen(cfg, run_dir, resume=args.resume, log=lambda line: print(line, flush=True))
    print()
    for column, r in results["columns"].items():
        bleu = " ".join(f"{r['bleu'][n]:.3f}" for n in sorted(r["bleu"]))
        self_bleu = " ".join(f"{r['self_bleu'][n]:.3f}" for n in sorted(r["self_bleu"]))
        print(f"{column:<14} BLEU-2..5 {bleu}   Self-BLEU-2..5 {self_bleu}   NLL-test {r['nll_test']:.3f}")
    print(f"\n{sum(results['seconds'].values()):.0f} s; samples, metrics and results.json in {run_dir}")
    return 0


ROW_CHOICES = ["seqgan", "pretrained", *TRAINED_BESIDE]


def _load_models(path: str, data_dir: str | None, row: str = "seqgan"):
    from .lifecycle import load_run_models

    return load_run_models(path, data_dir, row)


def cmd_sample(args) -> int:
    from .corpus import detokenize
    from .data import write_token_file

    ckpt, cfg, _, vocab, generator = _load_models(args.checkpoint, None, args.row)
    if args.num <= 0:
        return _fail(f"--num must be positive, got {args.num}")
    if args.temperature <= 0:
        return _fail(f"--temperature must be > 0, got {args.temperature}")
    torch.manual_seed(args.seed)
    if args.resample_beta is not None:  # discriminator-weighted resampling of the generator's draws (kl.py)
        samples, _ = _resampled(ckpt, cfg, generator, args, args.num, args.temperature)
    else:
        samples = generator.sample(args.num, temperature=args.temperature)
    if vocab is not None and not args.ids:  # real data: decoded, stopping at the end token
        kind = "ids" if cfg.data.source == "midi" else cfg.data.tokenizer
        text = "".join(detokenize(vocab.decode(row), kind) + "\n" for row in samples.tolist())
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    elif args.out:
        write_token_file(args.out, samples)
    else:
        sys.stdout.write("".join(" ".join(map(str, row)) + "\n" for row in samples.tolist()))
    return 0


def _resampled(ckpt, cfg, generator, args, num: int, temperature: float):
    """``num`` draws resampled by the run's D with weights (D / (1 - D))^(1 / beta) from a pool of
    ``--pool`` (default 10 x num) of ``generator``'s, and the log normaliser of that distribution."""
    from .build import build_discriminator
    from .kl import log_odds_scorer, resampled_sample

    if args.resample_beta <= 0:
        raise ValueError(f"--resample-beta must be positive, got {args.resample_beta}")
    d = build_discriminator(cfg, generator.vocab_size)
    d.load_state_dict(ckpt["discriminator"])
    pool = args.pool or 10 * num
    return resampled_sample(generator, log_odds_scorer(d), num, args.resample_beta, pool, temperature)


def cmd_evaluate(args) -> int:
    from . import metrics
    from .data import oracle_corpus

    if args.num < 0:
        return _fail(f"--num must be positive, got {args.num}")
    if args.temperature <= 0:
        return _fail(f"--temperature must be > 0, got {args.temperature}")
    ckpt, cfg, oracle, vocab, generator = _load_models(args.checkpoint, args.data_dir, args.row)
    torch.manual_seed(args.seed)
    num = args.num or cfg.eval.num_samples
    log_z = None
    if args.resample_beta is not None:  # the resampled distribution p exp(r / beta) / Z, r = log D / (1 - D)
        if args.temperature != 1.0:
            return _fail("--resample-beta resamples the generator's own draws: leave --temperature at 1")
        samples, log_z = _resampled(ckpt, cfg, generator, args, num, 1.0)
    else:
        samples = generator.sample(num, temperature=args.temperature)
    result: dict = {"row": args.row}
    if oracle is not None:
        _, test = oracle_corpus(oracle, cfg.oracle.num_train, cfg.oracle.num_test, seed=cfg.oracle.seed)
        result["nll_oracle"] = metrics.nll_oracle(oracle, samples)
        if log_z is None:
            result["nll_test"] = metrics.nll_test(generator, test, args.temperature)
        else:
            from .build import build_discriminator
            from .kl import log_odds_scorer, tilted_nll

            d = build_discriminator(cfg, generator.vocab_size)
            d.load_state_dict(ckpt["discriminator"])
            result["nll_test"] = tilted_nll(generator, log_odds_scorer(d), test, args.resample_beta, log_z)
            result.update({"resample_beta": args.resample_beta, "pool": args.pool or 10 * num, "log_z": log_z})
    else:
        from .bleu import BleuReference
        from .corpus import cut_sequences, load_corpus

        data = load_corpus(cfg.data, cfg.data_dir or os.environ.get("SEQGAN_DATA_DIR"))
        if data.vocab.itos != vocab.itos:
            raise ValueError(
                f"{args.checkpoint}: the data set has changed since training (its vocabulary differs from the run's)"
            )
        references = cut_sequences(data.test_tokens, cfg.data.max_len, cfg.data.overflow)
        hypotheses = [vocab.decode(row) for row in samples.tolist()]
        if log_z is None:
            result["nll_test"] = generator.nll(data.test, temperature=args.temperature)
        else:
            from .build import build_discriminator
            from .kl import log_odds_scorer, tilted_nll

            d = build_discriminator(cfg, generator.vocab_size)
            d.load_state_dict(ckpt["discriminator"])
            result["nll_test"] = tilted_nll(generator, log_odds_scorer(d), data.test, args.resample_beta, log_z)
        result.update(
            metrics.real_data_metrics(
                BleuReference(references, max_n=cfg.eval.bleu_max_n),
                references,
                hypotheses,
                cfg.eval.self_bleu_samples,
                cfg.data.source == "midi",
            )
        )
        result["num_references"] = len(references)
    result.update(
        {"num_samples": num, "temperature": args.temperature, "seed": args.seed, "progress": ckpt["progress"]}
    )
    print(json.dumps(result, indent=2))
    return 0


def cmd_score(args) -> int:
    from . import metrics
    from .data import read_token_file
    from .oracle import Oracle, resolve_oracle_path

    data_dir = args.data_dir or os.environ.get("SEQGAN_DATA_DIR")
    oracle = Oracle.from_npz(resolve_oracle_path(args.oracle, data_dir))
    seqs = read_token_file(args.file, vocab_size=oracle.vocab_size)
    print(json.dumps({"nll_oracle": metrics.nll_oracle_ragged(oracle, seqs), "num_sequences": len(seqs)}))
    return 0


def cmd_bleu(args) -> int:
    from .bleu import mean_bleu, self_bleu
    from .data import read_text_lines

    if args.max_n < 2:
        return _fail(f"--max-n must be at least 2, got {args.max_n}")
    if not args.references and not args.self:
        return _fail("give --references FILE, --self, or both")
    hypotheses = read_text_lines(args.hypotheses)
    result: dict = {"num_hypotheses": len(hypotheses), "max_n": args.max_n}
    if args.references:
        references = read_text_lines(args.references)
        result["num_references"] = len(references)
        result.update(mean_bleu(references, hypotheses, max_n=args.max_n))
    if args.self:
        result.update({f"self_{k}": v for k, v in self_bleu(hypotheses, max_n=args.max_n).items()})
    print(json.dumps(result))
    return 0


def cmd_data(args) -> int:
    from .corpus import corpus_stats, load_corpus

    overrides = list(args.set or [])
    if args.data_dir:
        overrides.append(f"data_dir={args.data_dir}")
    cfg = load_config(args.config, overrides)
    if cfg.data.source == "oracle":
        o = cfg.oracle
        print(
            json.dumps(
                {
                    "source": "oracle",
                    "note": "synthetic data: no corpus to read; the oracle's samples are drawn when training starts",
                    "oracle": o.source,
                    "num_train": o.num_train,
                    "num_test": o.num_test,
                    "seq_len": o.seq_len,
                },
                indent=2,
            )
        )
        return 0
    valid_fraction = cfg.data.valid_fraction if cfg.keeps_best_pretrained else 0.0  # as a run holds it out
    corpus = load_corpus(cfg.data, cfg.data_dir or os.environ.get("SEQGAN_DATA_DIR"), valid_fraction)
    print(json.dumps(corpus_stats(corpus), indent=2))
    return 0


def _seed_list(text: str) -> list[int]:
    """'5' -> seeds 0..4; '0,3,7' -> those seeds."""
    try:
        if "," in text:
            seeds = [int(x) for x in text.split(",") if x.strip()]
        else:
            seeds = list(range(int(text)))
    except ValueError:
        raise ValueError(f"--seeds {text!r}: a count (5) or a comma-separated list (0,3,7)") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"--seeds {text!r}: need at least one seed, all distinct and non-negative")
    return seeds


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _sweep_overrides(args) -> list[str]:
    """Checks the flags of _add_sweep_flags and returns the config overrides of every run."""
    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    return [*(args.set or []), *([f"data_dir={args.data_dir}"] if args.data_dir else [])]


def _experiment_table1(args) -> int:
    from .studies import experiments

    overrides = _sweep_overrides(args)
    config = args.config or _default_table1_config(args.data_dir)
    out = Path(args.out)
    experiments.table1(config, _seed_list(args.seeds), args.budget, out, args.jobs, overrides, device=args.device)
    print((out / "table1.md").read_text(encoding="utf-8"))
    return 0


def _experiment_strategies(args) -> int:
    from .studies import experiments

    overrides = _sweep_overrides(args)
    out = Path(args.out)
    experiments.strategies(args.config, args.seed, args.budget, out, args.jobs, overrides, updates=args.updates)
    print((out / "strategies.md").read_text(encoding="utf-8"))
    return 0


def _experiment_temperature(args) -> int:
    from .studies import experiments

    if not args.runs:
        return _fail("experiment temperature needs --runs RUN_DIR [RUN_DIR ...] (finished runs with an MLE row)")
    temps = (
        [float(t) for t in args.temperatures.split(",")]
        if args.temperatures
        else [round(0.5 + 0.1 * i, 2) for i in range(11)]
    )
    if min(temps) <= 0:
        return _fail(f"--temperatures must be positive, got {args.temperatures}")
    out = Path(args.out)
    experiments.temperature([Path(r) for r in args.runs], temps, args.num, out, seed=args.seed)
    print((out / "temperature.md").read_text(encoding="utf-8"))
    return 0


def _experiment_own_start(args) -> int:
    from .studies import own_start

    if not args.runs:
        return _fail("experiment own-start needs --runs OUT (scripts/own_start.sh's folder of seedS/ runs)")
    temps = [float(t) for t in args.temperatures.split(",")] if args.temperatures else None
    out = Path(args.out or args.runs)
    own_start.run(Path(args.runs), temps, args.num, args.seed, out)
    print((out / "own_start.md").read_text(encoding="utf-8"))
    return 0


def _experiment_real(args) -> int:
    from .studies import real

    if not args.runs:
        return _fail("experiment real needs --runs OUT (scripts/real_seeds.sh's folder of TASK/seedS runs)")
    temps = [float(t) for t in args.temperatures.split(",")] if args.temperatures else None
    out = Path(args.out or args.runs)
    real.run(Path(args.runs), temps, args.num, args.seed, out)
    print((out / "real.md").read_text(encoding="utf-8"))
    return 0


def _experiment_benchmark(args) -> int:
    from .studies import benchmark

    overrides = list(args.set or [])
    if args.data_dir:
        overrides.append(f"data_dir={args.data_dir}")
    name = Path(args.config).stem.removeprefix("texygen_")
    out = Path(args.out or f"results/benchmark/{name}")
    benchmark.benchmark(args.config, _seed_list(args.seeds), args.jobs, out, overrides)
    print((out / "benchmark.md").read_text(encoding="utf-8"))
    return 0


def _experiment_kl(args) -> int:
    from .studies import kl_remedy

    seeds = _seed_list(args.seeds) if args.seeds else None
    if not args.report_only and not seeds:
        return _fail("experiment kl needs --seeds (fresh ones; the design names 40,41,42,43,44) or --report-only")
    overrides = list(args.set or [])
    if args.data_dir:
        overrides.append(f"data_dir={args.data_dir}")
    out = Path(args.out)
    kl_remedy.run(seeds, args.num, args.seed, out, args.config, args.jobs, overrides, args.report_only)
    print((out / "kl.md").read_text(encoding="utf-8"))
    return 0


def _experiment_rewards(args) -> int:
    from .studies import rewards as rewards_experiment

    if not args.run:
        return _fail("experiment rewards needs --run RUN_DIR (a run's checkpoint: its G and D are measured frozen)")
    out = Path(args.out)
    rewards_experiment.rewards(
        Path(args.run),
        out,
        reference_n=args.reference,
        repeats=args.repeats,
        batches=args.batches,
        fit_batches=args.fit_batches,
        batch_size=args.batch,
        seed=args.seed,
        overrides=list(args.set or []),
    )
    print((out / "rewards.md").read_text(encoding="utf-8"))
    return 0


def _experiment_rewards_train(args) -> int:
    from .studies import rewards as rewards_experiment

    overrides = _sweep_overrides(args)
    out = Path(args.out)
    settings = [s.strip() for s in args.settings.split(",")] if args.settings else None
    rewards_experiment.rewards_train(
        args.config,
        _seed_list(args.seeds),
        args.budget,
        out,
        args.jobs,
        overrides,
        settings,
        temperature_samples=args.num,
    )
    print((out / "rewards_train.md").read_text(encoding="utf-8"))
    return 0


def _experiment_penalty(args) -> int:
    from .studies import penalty as penalty_study

    overrides = _sweep_overrides(args)
    out = Path(args.out)
    penalties = args.penalties.split(",")
    penalty_study.run(args.config, penalties, _seed_list(args.seeds), args.budget, out, args.jobs, overrides)
    print((out / "penalty.md").read_text(encoding="utf-8"))
    return 0


def _experiment_tuning(args) -> int:
    from .studies import tuning_comparison

    if not args.studies:
        return _fail(
            "experiment tuning needs --studies LABEL=STUDY_DIR [LABEL=STUDY_DIR ...] (finished seqgan tune studies)"
        )
    if not all("=" in s for s in args.studies):
        return _fail(f"--studies: give LABEL=STUDY_DIR, got {' '.join(args.studies)}")
    studies = {label: Path(d) for label, d in (s.split("=", 1) for s in args.studies)}
    out = Path(args.out)
    tuning_comparison.run(studies, Path(args.untuned) if args.untuned else None, out)
    print((out / "comparison.md").read_text(encoding="utf-8"))
    return 0


def _experiment_tuning_symmetric(args) -> int:
    from .studies import symmetric_tuning

    if not args.studies or len(args.studies) != 2 or not all("=" in s for s in args.studies):
        return _fail(
            "experiment tuning-symmetric needs --studies LABEL=STUDY_DIR LABEL=STUDY_DIR "
            f"(scripts/tuning_symmetric.sh's two studies), got {' '.join(args.studies or []) or 'none'}"
        )
    studies = {label: Path(d) for label, d in (s.split("=", 1) for s in args.studies)}
    try:
        temps = [float(t) for t in args.temperatures.split(",")] if args.temperatures else None
        seeds = [int(s) for s in args.confirm_seeds.split(",")] if args.confirm_seeds else None
    except ValueError as e:
        return _fail(f"--temperatures / --confirm-seeds: comma-separated numbers ({e})")
    out = Path(args.out)
    symmetric_tuning.run(studies, temps, args.num, args.seed, out, seeds, args.confirm_max, args.jobs, args.data_dir)
    print((out / "symmetric.md").read_text(encoding="utf-8"))
    return 0


def cmd_human_eval(args) -> int:
    from .human_eval import sheet as human_eval

    if args.action == "make":
        if not args.out:
            return _fail("human-eval make needs --out DIR (where sheet.html and key.json go)")
        rows = tuple(r for r in args.rows.split(",") if r)
        key = human_eval.make_sheet(
            args.paths,
            args.out,
            args.num,
            args.seed,
            rows=rows,
            real=args.real,
            scale=args.scale,
            data_dir=args.data_dir,
        )
        counts = {s: sum(1 for it in key["items"] if it["system"] == s) for s in key["systems"]}
        print(
            f"sheet {key['sheet_id']}: {len(key['items'])} items ({', '.join(f'{n} {s}' for s, n in counts.items())})"
        )
        print(f"hand out {Path(args.out) / 'sheet.html'}; keep {Path(args.out) / 'key.json'} from the raters")
        return 0
    if len(args.paths) != 1:
        return _fail("human-eval score takes one sheet directory (the --out of human-eval make)")
    if not args.ratings:
        return _fail("human-eval score needs --ratings FILE [FILE ...] (the CSV files the raters downloaded)")
    result = human_eval.score(args.paths[0], args.ratings, key_path=args.key)
    out = Path(args.json or Path(args.paths[0]) / "scores.json")
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(human_eval.score_markdown(result))
    print(f"\nJSON: {out}")
    return 0


def cmd_tune(args) -> int:
    from .tuning import tune

    if args.confirm_seeds:
        args.confirm_seeds = _seed_list(args.confirm_seeds) if "," in args.confirm_seeds else [int(args.confirm_seeds)]
    if args.heartbeat < 1 or args.grace <= args.heartbeat:
        return _fail(
            f"--heartbeat must be at least 1 s and --grace longer than it, got {args.heartbeat} and {args.grace}"
        )
    return tune.run(args)


def _default_table1_config(data_dir: str | None) -> str:
    """The paper's oracle when the data directory has it, else the seeded random one."""
    from .oracle import resolve_oracle_path

    try:
        resolve_oracle_path("paper", data_dir or os.environ.get("SEQGAN_DATA_DIR"))
        return "configs/synthetic_paper.yaml"
    except ValueError:
        return "configs/synthetic_quick.yaml"


EXPERIMENTS = {  # name -> its line in `seqgan experiment --help`
    "table1": "the paper's Table 1 (random, MLE, scheduled sampling, PG-BLEU, SeqGAN) over seeds",
    "strategies": "the paper's Figure 3: four settings of g-steps, d-steps and k at equal generator updates",
    "temperature": "NLL-oracle against NLL-test of finished runs' generators over sampling temperatures",
    "own-start": "tuned and paper SeqGAN against the tempered curve of their own pre-trained generator, over seeds",
    "real": "real data over seeds: SeqGAN against the MLE row and the tempered pre-trained generator",
    "rewards": "the reward estimators and baselines on a run's frozen G and D",
    "rewards-train": "the paper's reward setting and five others, trained over seeds",
    "penalty": "D's gradient penalties against none, over seeds",
    "tuning": "tuned studies' Pareto fronts of NLL-oracle against NLL-test, on one figure",
    "tuning-symmetric": "tuned SeqGAN against tuned MLE searched alike: one temperature grid, CPU time, fresh seeds",
    "benchmark": "Texygen's COCO protocol (MLE, SeqGAN, two MaliGANs) over seeds, beside the published table "
    "and against tempered MLE",
    "kl": "the KL-regularised g-step and discriminator-weighted resampling against their own tempered start",
}
QUICK_CONFIG = "configs/synthetic_quick.yaml"


def _add_set_flag(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help=f"override a config key of {what}")


def _add_out_flag(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", default=default, help=f"output directory (default {default})")


def _add_seeds_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", default="3", help="a number of seeds (0..N-1) or a list, e.g. 0,1,2 (default 3)")


def _add_sweep_flags(
    p: argparse.ArgumentParser,
    budget_help: str,
    config: str | None = QUICK_CONFIG,
    config_help: str = f"YAML config (default {QUICK_CONFIG})",
) -> None:
    """The flags of an experiment that trains runs from a config: --config, --budget, --jobs, --set, --data-dir."""
    p.add_argument("--config", default=config, help=config_help)
    p.add_argument("--budget", type=float, default=1.0, help=budget_help)
    p.add_argument(
        "--jobs",
        type=int,
        default=max(1, min(4, (os.cpu_count() or 1))),
        help="runs side by side (one thread each on 2 cores)",
    )
    _add_set_flag(p, "every run")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")


def _add_experiment_parsers(sub) -> None:
    """``seqgan experiment NAME``: one sub-parser per experiment, with only its own flags."""
    p = sub.add_parser(
        "experiment",
        help="the paper's synthetic experiments: table1, strategies, temperature; "
        "own-start: SeqGAN against its own tempered start; real: real data over seeds with a tempered control; "
        "rewards and rewards-train: the reward estimators and baselines; "
        "penalty: D's gradient penalties against none; tuning and tuning-symmetric: tuned studies' Pareto fronts",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # one unwrapped line an experiment
        description="experiments (seqgan experiment NAME --help: its flags):\n"
        + "\n".join(f"  {name:<14} {line}" for name, line in EXPERIMENTS.items()),
    )
    names = p.add_subparsers(dest="name", required=True, metavar="NAME", help="one of the experiments above")

    def add(name: str) -> argparse.ArgumentParser:
        # no abbreviations: another experiment's --seed or --run would silently read as this one's --seeds or --runs
        return names.add_parser(name, description=EXPERIMENTS[name], allow_abbrev=False)

    budget = "scale pre-training epochs, D pre-training sets and rounds alike"

    p = add("table1")
    _add_sweep_flags(
        p,
        budget,
        config=None,
        config_help="YAML config (default: the paper preset when the data "
        "directory has its oracle, else synthetic_quick)",
    )
    _add_seeds_flag(p)
    p.add_argument(
        "--device",
        help="cpu, cuda or cuda:N for every run (as --set device=...); on one GPU the "
        "--jobs runs share it, one computing while another waits on the host",
    )
    _add_out_flag(p, "results/table1")
    p.set_defaults(func=_experiment_table1)

    p = add("benchmark")
    p.add_argument("--config", default="configs/texygen_coco.yaml", help="a Texygen-protocol config (default: COCO)")
    p.add_argument("--seeds", default="0,1,2,3,4", help="a count (5) or a comma-separated list (default 0,1,2,3,4)")
    p.add_argument("--jobs", type=int, default=1, help="runs side by side, each with cores / jobs threads")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key of every run")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    p.add_argument("--out", help="folder of the runs and tables (default results/benchmark/NAME of texygen_NAME.yaml)")
    p.set_defaults(func=_experiment_benchmark)

    p = add("kl")
    p.add_argument("--config", default=QUICK_CONFIG, help=f"YAML config of every run (default {QUICK_CONFIG})")
    p.add_argument("--seeds", help="the seeds to train and report, e.g. 40,41,42,43,44 (fresh ones)")
    p.add_argument("--jobs", type=int, default=2, help="runs side by side, each with cores / jobs threads")
    p.add_argument("--num", type=int, default=2000, help="samples a point (sweeps and resampling)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="sampling seed of pre-trained sweep A; sweep B: seed + 1, the arms: seed + 2",
    )
    _add_set_flag(p, "every run")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    p.add_argument(
        "--report-only", action="store_true", help="train nothing: the tables of the seeds finished in --out"
    )
    _add_out_flag(p, "results/kl")
    p.set_defaults(func=_experiment_kl)

    p = add("strategies")
    _add_sweep_flags(p, "scale the generator updates (--updates)")
    p.add_argument("--seed", type=int, default=0, help="the seed")
    p.add_argument("--updates", type=int, default=200, help="generator updates of every setting at budget 1")
    _add_out_flag(p, "results/strategies")
    p.set_defaults(func=_experiment_strategies)

    p = add("temperature")
    p.add_argument("--runs", nargs="+", help="finished run directories (e.g. results/table1/seed*)")
    p.add_argument("--temperatures", help="comma-separated list (default 0.5,0.6,...,1.5)")
    p.add_argument("--num", type=int, default=2000, help="samples a temperature point")
    p.add_argument("--seed", type=int, default=0, help="the sampling seed")
    _add_out_flag(p, "results/temperature")
    p.set_defaults(func=_experiment_temperature)

    p = add("own-start")
    p.add_argument("--runs", help="scripts/own_start.sh's OUT: seedS folders with pretraining, paper and tuned runs")
    p.add_argument("--temperatures", help="comma-separated list, with 1.0 (default 0.7,0.75,...,1.5)")
    p.add_argument("--num", type=int, default=2000, help="samples a temperature point")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="sampling seed of pre-trained sweep A and the paper arm; sweep B and the tuned arm: seed + 1",
    )
    p.add_argument("--out", help="output directory (default: the --runs folder)")
    p.set_defaults(func=_experiment_own_start)

    p = add("real")
    p.add_argument("--runs", help="scripts/real_seeds.sh's OUT: TASK/seedS folders of finished real-data runs")
    p.add_argument("--temperatures", help="comma-separated list, with 1.0 (default 0.7,0.8,...,1.3)")
    p.add_argument("--num", type=int, default=1000, help="samples a temperature point (default: the runs' 1000)")
    p.add_argument("--seed", type=int, default=0, help="the sampling seed of the tempered sweeps")
    p.add_argument("--out", help="output directory (default: the --runs folder)")
    p.set_defaults(func=_experiment_real)

    p = add("rewards")
    p.add_argument("--run", help="the run directory whose checkpoint's G and D are measured")
    p.add_argument("--reference", type=int, default=1024, help="Monte Carlo completions of the reference Q")
    p.add_argument("--repeats", type=int, default=8, help="repeats of each estimator on the fixed batch")
    p.add_argument("--batches", type=int, default=32, help="independent batches for the gradient variance")
    p.add_argument("--fit-batches", type=int, default=32, help="batches the value baseline learns first")
    p.add_argument("--batch", type=int, default=0, help="batch size (default the run's train.batch_size)")
    p.add_argument("--seed", type=int, default=0, help="the sampling seed")
    _add_set_flag(p, "the run")
    _add_out_flag(p, "results/rewards")
    p.set_defaults(func=_experiment_rewards)

    p = add("rewards-train")
    _add_sweep_flags(p, budget)
    _add_seeds_flag(p)
    p.add_argument("--settings", help="comma-separated subset of mc, mc + mean, mc + value, td, td + value, mcts")
    p.add_argument("--num", type=int, default=2000, help="samples a temperature point")
    _add_out_flag(p, "results/rewards/train")
    p.set_defaults(func=_experiment_rewards_train)

    p = add("penalty")
    _add_sweep_flags(p, budget)
    _add_seeds_flag(p)
    p.add_argument("--penalties", default="none,r1,zero_gp,wgan_gp", help="D's gradient penalties to compare")
    _add_out_flag(p, "results/penalty")
    p.set_defaults(func=_experiment_penalty)

    p = add("tuning")
    p.add_argument("--studies", nargs="+", help="LABEL=STUDY_DIR of finished seqgan tune studies (nll_oracle,nll_test)")
    p.add_argument("--untuned", help="a finished run with the paper's settings, plotted as a point")
    _add_out_flag(p, "results/tuning")
    p.set_defaults(func=_experiment_tuning)

    p = add("tuning-symmetric")
    p.add_argument("--studies", nargs="+", help="LABEL=STUDY_DIR twice: scripts/tuning_symmetric.sh's studies")
    p.add_argument("--temperatures", help="comma-separated grid every trial is swept over (default 0.6,0.65,...,1.2)")
    p.add_argument("--num", type=int, default=2000, help="samples a temperature point")
    p.add_argument("--seed", type=int, default=0, help="the sampling seed of every sweep")
    p.add_argument(
        "--confirm-seeds", help="fresh seeds, e.g. 30,31,32: retrain the trials whose points are said to dominate"
    )
    p.add_argument("--confirm-max", type=int, default=3, help="at most this many trials a study are confirmed")
    p.add_argument("--jobs", type=int, default=2, help="confirmation runs side by side")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    _add_out_flag(p, "results/tuning_symmetric")
    p.set_defaults(func=_experiment_tuning_symmetric)


def _add_resample_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--resample-beta",
        type=float,
        metavar="BETA",
        help="resample the generator's draws with weights (D/(1-D))^(1/BETA) by the run's D (seqgan/kl.py): "
        "p exp(log-odds / BETA); meant for D trained against that generator (rounds 0 or train.freeze_d)",
    )
    p.add_argument("--pool", type=int, default=0, help="draws to resample from (default 10 x the samples)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqgan", description="SeqGAN: adversarial training of sequence generators (Yu et al., AAAI 2017)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="run Algorithm 1 (and the MLE baseline) from a YAML config")
    p.add_argument("config", help="YAML config, e.g. configs/synthetic_quick.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key (dotted), repeatable")
    p.add_argument("--run-dir", help="where to write the run (default runs/CONFIG-seedS)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its checkpoint")
    p.add_argument(
        "--stop-after-pretraining",
        action="store_true",
        help="stop with a checkpoint at the end of MLE pre-training, for --start-from",
    )
    p.add_argument(
        "--start-from",
        metavar="RUN_DIR",
        help="skip MLE pre-training: continue from RUN_DIR's (a --stop-after-pretraining run that agrees with this "
        "config on every key read before D pre-training); ends where this run would from scratch",
    )
    p.add_argument("--oracle", help="'paper', a .npz path, or 'random' (same as --set oracle.source=...)")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    p.add_argument("--device", help="cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, help="run seed (same as --set seed=...)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "texygen",
        help="one seed of Texygen's real-data protocol (MLE, SeqGAN, MaliGAN columns; configs/texygen_coco.yaml)",
    )
    p.add_argument("config", help="YAML config, e.g. configs/texygen_coco.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, repeatable")
    p.add_argument("--run-dir", help="where to write the run (default runs/CONFIG-seedS)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its checkpoint")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    p.add_argument("--seed", type=int, help="run seed (same as --set seed=...)")
    p.set_defaults(func=cmd_texygen)

    p = sub.add_parser("sample", help="sample token ids from a trained generator")
    p.add_argument("checkpoint", metavar="CHECKPOINT_OR_RUN_DIR")
    p.add_argument("--num", type=int, default=100)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="file to write (default: standard output)")
    p.add_argument(
        "--row", default="seqgan", choices=ROW_CHOICES, help="which of the run's generators (default seqgan)"
    )
    p.add_argument("--ids", action="store_true", help="real data: print token ids instead of decoded text")
    _add_resample_flags(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser(
        "evaluate",
        help="NLL-oracle and NLL-test (real data: NLL-test, BLEU, Self-BLEU) of a trained generator, as JSON",
    )
    p.add_argument("checkpoint", metavar="CHECKPOINT_OR_RUN_DIR")
    p.add_argument("--num", type=int, default=0, help="samples for NLL-oracle (default: the run's eval.num_samples)")
    _add_resample_flags(p)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    p.add_argument(
        "--row", default="seqgan", choices=ROW_CHOICES, help="which of the run's generators (default seqgan)"
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("score", help="NLL-oracle of a file of token ids (one sequence a line)")
    p.add_argument("file")
    p.add_argument("--oracle", default="paper", help="'paper' (from the data directory) or a .npz path")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("bleu", help="mean sentence BLEU-2..N (nltk method-1 smoothing) and Self-BLEU, as JSON")
    p.add_argument("--hypotheses", required=True, help="one sequence a line, whitespace-separated tokens")
    p.add_argument("--references", help="the reference set, same format")
    p.add_argument("--max-n", type=int, default=4)
    p.add_argument("--self", action="store_true", help="also Self-BLEU: each hypothesis against the others")
    p.set_defaults(func=cmd_bleu)

    p = sub.add_parser("data", help="read a config's real data set and print its statistics as JSON")
    p.add_argument("config", help="YAML config, e.g. configs/poems.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key (dotted), repeatable")
    p.add_argument("--data-dir", help="data directory (default: $SEQGAN_DATA_DIR)")
    p.set_defaults(func=cmd_data)
    _add_experiment_parsers(sub)

    p = sub.add_parser(
        "human-eval", help="human evaluation: a blinded rating sheet (make) and its unblinded scores (score)"
    )
    p.add_argument("action", choices=["make", "score"])
    p.add_argument(
        "paths",
        nargs="+",
        metavar="DIR",
        help="make: finished run directories on real data; score: the sheet directory",
    )
    p.add_argument(
        "--num",
        type=int,
        default=20,
        help="make: items of each row of each run, and real items (default 20, the paper's)",
    )
    p.add_argument("--seed", type=int, default=0, help="make: which samples are drawn and their order")
    p.add_argument("--out", help="make: where to write sheet.html and key.json")
    p.add_argument("--rows", default="seqgan,mle", help="make: comma-separated rows of each run (default seqgan,mle)")
    p.add_argument(
        "--real", help="make: a file of real sequences, one a line (default: the test split of the run's data)"
    )
    p.add_argument(
        "--scale",
        default="judge+quality",
        choices=["judge+quality", "judge", "quality"],
        help="make: the paper's person-or-machine judgement, with or without an optional 1-5 quality score",
    )
    p.add_argument("--data-dir", help="make: data directory (default: $SEQGAN_DATA_DIR)")
    p.add_argument("--ratings", nargs="+", metavar="FILE", help="score: the ratings CSV files the raters downloaded")
    p.add_argument("--key", help="score: the key (default DIR/key.json)")
    p.add_argument("--json", help="score: where to write the scores as JSON (default DIR/scores.json)")
    p.set_defaults(func=cmd_human_eval)
    p = sub.add_parser(
        "tune", help="hyperparameter search on Optuna (pip install 'seqgan[tune]'); workers share one study"
    )
    p.add_argument("config", help="the base YAML config, e.g. configs/synthetic_quick.yaml")
    p.add_argument(
        "--space", required=True, help="YAML search space: dotted config keys with {low, high[, log|step]} or {choices}"
    )
    p.add_argument(
        "--trials",
        type=int,
        required=True,
        help="complete (or pruned) trials the study should have, all workers together",
    )
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    p.add_argument(
        "--storage",
        help="an Optuna database URL shared by several machines, e.g. postgresql://user@host/db "
        "(default: a journal file in the study's folder)",
    )
    p.add_argument(
        "--study", help="study name (default: the config's file name); the same name and storage share a study"
    )
    p.add_argument(
        "--dir", help="the study's folder: trial run directories, journal, tables, plots (default runs/tune-STUDY)"
    )
    p.add_argument(
        "--objective", default="nll_oracle", help="final metric to optimise, METRIC[:min|max] (default nll_oracle)"
    )
    p.add_argument(
        "--objectives", help="several metrics, e.g. nll_oracle,nll_test: search for their Pareto front (no pruning)"
    )
    p.add_argument(
        "--pruner",
        default="median",
        choices=["median", "hyperband", "none"],
        help="on intermediate evaluations (default median)",
    )
    p.add_argument("--seed", type=int, default=0, help="the TPE sampler's seed (worker i gets seed + i)")
    p.add_argument("--confirm-seeds", help="re-run the best settings on these fresh seeds, e.g. 3,4,5")
    p.add_argument(
        "--heartbeat", type=int, default=60, help="seconds between a running trial's heartbeats (default 60)"
    )
    p.add_argument(
        "--grace", type=int, default=180, help="a trial silent this many seconds is failed and retried (default 180)"
    )
    p.add_argument(
        "--share-pretraining",
        action="store_true",
        help="pre-train G once (STUDY_DIR/pretraining) and start every trial from it; for spaces of keys read "
        "after MLE pre-training only (each trial still ends where it would from scratch)",
    )
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key of every trial")
    p.add_argument(
        "--report",
        action="store_true",
        help="run no trial: write the tables, plots and summary.json of the study as it stands (marked partial "
        "when short of --trials), e.g. between sessions or while its workers run",
    )
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # a spawned worker: no summary
    p.set_defaults(func=cmd_tune)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "experiment":  # kill or timeout unwinds like Ctrl-C: the runs stop too
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return args.func(args)
    except (ConfigError, ValueError) as e:
        return _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    except distributed.RankLost as e:  # under torchrun: another rank failed, or a collective timed out
        print(f"seqgan: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        if not distributed.is_master():  # rank 0 says it
            return 130
        print(
            f"\nseqgan: {e}" if str(e) else "\nseqgan: interrupted; resume with --resume from the last checkpoint",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
