"""Measuring the reward estimators and baselines (``seqgan/critic.py``, ``seqgan/mcts.py``) against the paper's.

* ``rewards``: on the frozen G and D of a run's checkpoint. Estimators: for one fixed batch, each
  estimator's Q against a reference Q from N = 1,024 Monte Carlo completions (bias, RMSE, spread
  across repeats, D evaluations and wall time a g-step), and the TD critic's error against the
  number of batches it has learned (how fast it catches up with a D it has not seen). Baselines:
  the variance of the policy-gradient estimate (trace of the covariance of the flattened gradient
  over independent batches) and each estimate's cosine to the other batches' mean gradient, all from the same
  batches and the same Monte Carlo Q, so the baselines cost the same D evaluations.
* ``rewards_train``: the paper's setting and five others trained at a preset's budget over seeds,
  side by side (``seqgan experiment table1`` style), with each setting's temperature curve beside
  the pre-trained generator's (Caccia et al. 2020: a lower NLL-oracle alone proves nothing).
"""

from __future__ import annotations

import json
import math
import shlex
import time
from pathlib import Path

import torch

from .. import metrics
from ..config import load_config
from ..critic import MeanBaseline, PrefixValue, TDCritic, ValueBaseline, normalize
from ..jobs import budget_overrides, run_all, train_command, wall_time
from ..mcts import mcts_rewards
from ..rollout import RolloutPolicy, discriminator_scorer, get_rewards
from ..runtime.hardware import machine
from ..stats import format_p, mean_std, welch_p
from .experiments import curve_at_nll_test


class CountingScorer:
    """D, counting the sequences it scores."""

    def __init__(self, scorer):
        self.scorer, self.calls = scorer, 0

    def __call__(self, seqs: torch.Tensor) -> torch.Tensor:
        self.calls += len(seqs)
        return self.scorer(seqs)


def load_frozen(run_dir: Path, overrides: list[str] = ()):
    """G, D, the roll-out policy and the config of a run's checkpoint, frozen; ``overrides`` (KEY=VALUE)
    change the estimators' settings (e.g. train.td_lambda) for the measurement."""
    from ..build import build_discriminator
    from ..config import config_from_dict, parse_override
    from ..lifecycle import load_run_models
    from ..runtime.hardware import use_bf16

    ckpt, cfg, oracle, vocab, g = load_run_models(run_dir)
    values = cfg.to_dict()
    for text in overrides:
        key, value = parse_override(text)
        *parents, last = key.split(".")
        cursor = values
        for part in parents:
            cursor = cursor.setdefault(part, {})
        cursor[last] = value
    cfg = config_from_dict(values)
    vocab_size = oracle.vocab_size if oracle is not None else len(vocab)
    d = build_discriminator(cfg, vocab_size)
    d.load_state_dict(ckpt["discriminator"])
    d.eval()
    policy = RolloutPolicy(g, 0.0)
    if ckpt.get("rollout_policy") is not None:
        policy.load_state_dict(ckpt["rollout_policy"])
    bf16 = use_bf16(cfg.discriminator.precision, torch.device("cpu"))
    return cfg, g, d, policy, discriminator_scorer(d, batch_size=cfg.train.score_batch_size, bf16=bf16)


def _critic(cfg, g) -> TDCritic:
    tc = cfg.train
    return TDCritic(
        PrefixValue(g.vocab_size, tc.critic_hidden_dim, g.start_token),
        lam=tc.td_lambda,
        lr=tc.critic_lr,
        updates=tc.critic_updates,
        warmup=tc.critic_warmup,
        target_rate=tc.critic_target_rate,
        completions=tc.td_completions,
        eos_token=g.eos_token,
    )


def _flat_grad(g, samples: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    g.zero_grad(set_to_none=True)
    g.train()
    g.pg_loss(samples, advantages).backward()
    return torch.cat([p.grad.flatten() for p in g.parameters() if p.requires_grad])  # not a frozen bias


def _error_stats(estimates: list[torch.Tensor], reference: torch.Tensor) -> dict:
    """Bias, RMSE and spread across repeats of Q estimates (R x (B, T)) on the prefixes t < T."""
    q = torch.stack(estimates)[:, :, :-1].double()  # (R, B, T-1)
    ref = reference[:, :-1].double()
    err = q - ref
    spread = q.std(dim=0).mean().item() if len(estimates) > 1 else float("nan")
    return {
        "bias": err.mean().item(),
        "rmse": err.pow(2).mean().sqrt().item(),
        "spread": spread,
        "mean_q": q.mean().item(),
    }


def rewards(
    run_dir: Path,
    out: Path,
    *,
    reference_n: int = 1024,
    repeats: int = 8,
    batches: int = 32,
    fit_batches: int = 32,
    batch_size: int = 0,
    seed: int = 0,
    overrides: list[str] = (),
) -> dict:
    """The estimator and baseline measurements on a run's frozen G and D; writes rewards.{json,md,png}."""
    if reference_n < 1 or repeats < 2 or batches < 2 or fit_batches < 1:
        raise ValueError(
            "--reference >= 1, --repeats >= 2, --batches >= 2 and --fit-batches >= 1 needed "
            "(the value baseline calibrates on its first batch)"
        )
    cfg, g, d, policy, scorer = load_frozen(run_dir, list(overrides))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    tc = cfg.train
    n, b = tc.rollout_num, batch_size or tc.batch_size
    torch.manual_seed(seed)
    samples = g.sample(b)  # the fixed batch (B, T)
    t_len = samples.shape[1]

    # the reference: N = 1,024 completions, in chunks that fit in memory
    started = time.perf_counter()
    chunk = min(reference_n, 128)
    parts, done = [], 0
    while done < reference_n:
        k = min(chunk, reference_n - done)
        parts.append(get_rewards(policy, scorer, samples, k) * k)
        done += k
    reference = torch.stack(parts).sum(dim=0) / reference_n  # (B, T)
    reference_seconds = time.perf_counter() - started

    # the estimators, each ``repeats`` times on the fixed batch
    counting = CountingScorer(scorer)
    estimators: dict[str, dict] = {}

    def measure(name: str, estimate, setup=None):
        values, seconds, evals = [], [], []
        for r in range(repeats):
            torch.manual_seed(seed + 1 + r)
            state = setup() if setup else None
            counting.calls = 0
            t0 = time.perf_counter()
            q = estimate(state)
            _flat_grad(g, samples, q)  # the rest of a g-step: the policy-gradient backward pass
            seconds.append(time.perf_counter() - t0)
            evals.append(counting.calls)
            values.append(q.detach().float())
        estimators[name] = _error_stats(values, reference) | {
            "d_evaluations": evals[0],
            "seconds_per_g_step": sum(seconds) / len(seconds),
        }
        return values

    measure(f"mc (N={n})", lambda _: get_rewards(policy, counting, samples, n))
    measure(
        f"mcts (budget {n}, c_puct {tc.mcts_c_puct:g})",
        lambda _: mcts_rewards(policy, counting, samples, n, tc.mcts_c_puct),
    )

    def warmed_critic():  # a fresh critic warmed up on batches of the frozen G (its D calls are not the g-step's)
        critic = _critic(cfg, g)
        critic.warm_up(lambda: g.sample(b), policy, scorer)
        return critic

    measure(
        f"td (lambda {tc.td_lambda:g}, {tc.critic_warmup} warm-up batches, {tc.critic_updates} updates)",
        lambda critic: critic.rewards(samples, policy, counting),
        warmed_critic,
    )

    # how the critic keeps up: its Q on the fixed batch (which it never learns) after k batches
    torch.manual_seed(seed + 100)
    critic = _critic(cfg, g)
    catch_up, learned = [], 0
    for k in sorted({0, 5, 10, 25, 50, 100, 200, tc.critic_warmup}):
        while learned < k:
            critic.learn(g.sample(b), policy, scorer)
            learned += 1
        with torch.no_grad():
            values = critic.value(samples)
        q = torch.cat([values[:, 1:-1], reference[:, -1:]], dim=1)
        catch_up.append({"batches": k, "critic_updates": critic.steps, **_error_stats([q, q], reference)})

    # the baselines: the same batches and the same Monte Carlo Q for each
    torch.manual_seed(seed + 200)
    value = ValueBaseline(
        PrefixValue(g.vocab_size, tc.critic_hidden_dim, g.start_token), lr=tc.value_lr, updates=tc.value_updates
    )
    fit_losses = []
    for _ in range(fit_batches):  # V learns the frozen G's prefixes first, as it would have during training
        fit_samples = g.sample(b)
        value.fit(fit_samples, get_rewards(policy, scorer, fit_samples, n))
        fit_losses.append(value.last_loss)
    settings = {
        "none": lambda s, q: q,
        "mean": MeanBaseline(),
        "value": lambda s, q: q - value.value(s)[:, :-1].detach(),
    }
    grads: dict[str, list[torch.Tensor]] = {f"{k}{suffix}": [] for suffix in ("", " + normalize") for k in settings}
    for _ in range(batches):
        batch = g.sample(b)
        q = get_rewards(policy, scorer, batch, n)
        mask = g.token_mask(batch)
        for name, baseline in settings.items():
            with torch.no_grad():
                adv = baseline(batch, q)
            grads[name].append(_flat_grad(g, batch, adv))
            grads[f"{name} + normalize"].append(_flat_grad(g, batch, normalize(adv, mask)))
    baselines = gradient_statistics(grads, unbiased=list(settings))
    ratio = baselines["none"]["trace_cov"] / baselines["value"]["trace_cov"]

    summary = {
        "command": f"seqgan experiment rewards --run {run_dir} --reference {reference_n} --repeats {repeats} "
        f"--batches {batches} --fit-batches {fit_batches} --seed {seed}"
        + (f" --batch {batch_size}" if batch_size else "")
        + "".join(f" --set {o}" for o in overrides),
        "run": str(run_dir),
        "machine": machine(),
        "seed": seed,
        "batch_size": b,
        "seq_len": t_len,
        "rollout_num": n,
        "reference_n": reference_n,
        "reference_seconds": round(reference_seconds, 1),
        "reference_mean_q": reference[:, :-1].mean().item(),
        "reference_standard_error": _reference_se(reference, reference_n),
        "estimators": estimators,
        "critic_catch_up": catch_up,
        "baselines": baselines,
        "variance_ratio_none_over_value": ratio,
        "value_fit_losses": fit_losses,
        "batches": batches,
        "fit_batches": fit_batches,
        "repeats": repeats,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "rewards.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _plot_rewards(summary, out / "rewards.png")
    (out / "rewards.md").write_text(_rewards_markdown(summary), encoding="utf-8")
    return summary


def gradient_statistics(grads: dict[str, list[torch.Tensor]], unbiased: list[str]) -> dict[str, dict]:
    """Per setting, the spread of its K gradient estimates (K, P) over independent batches.

    ``unbiased`` names the settings whose estimates share one expectation (the unnormalised
    baselines); batch k of every setting is compared with their mean over the *other* batches,
    which shares no noise with it. ``relative_variance`` is trace(Cov) / ||E g||^2 with ||E g||^2
    estimated as ||mean||^2 - trace / K: the plain ||mean||^2 carries the noise too, and with the
    noise dominating the ratio would tend to K whatever the truth (inf where the estimate is <= 0).
    """
    k = len(grads[unbiased[0]])
    per_batch = torch.stack([torch.stack(grads[name]).double() for name in unbiased]).sum(dim=0)  # (K, P)
    others = (per_batch.sum(dim=0, keepdim=True) - per_batch) / (len(unbiased) * (k - 1))  # (K, P)
    out = {}
    for name, vs in grads.items():
        stack = torch.stack(vs).double()  # (K, P)
        mean = stack.mean(dim=0)
        trace = stack.var(dim=0).sum().item()
        signal = mean.pow(2).sum().item() - trace / k
        cos = torch.nn.functional.cosine_similarity(stack, others, dim=1)
        out[name] = {
            "trace_cov": trace,
            "relative_variance": trace / signal if signal > 0 else float("inf"),
            "cosine_mean": cos.mean().item(),
            "cosine_std": cos.std().item(),
            "mean_grad_norm": mean.norm().item(),
        }
    return out


def _reference_se(reference: torch.Tensor, n: int) -> float:
    """An upper bound on the reference's standard error: D lies in [0, 1], so its variance is at most q (1 - q)."""
    q = reference[:, :-1].double()
    return (q * (1 - q) / n).sqrt().mean().item()


def _rewards_markdown(s: dict) -> str:
    est = [
        "| estimator | bias | RMSE | spread (std over repeats) | mean Q | D evaluations a g-step | s a g-step |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, e in s["estimators"].items():
        est.append(
            f"| {name} | {e['bias']:+.4f} | {e['rmse']:.4f} | {e['spread']:.4f} | {e['mean_q']:.4f} | "
            f"{e['d_evaluations']:,} | {e['seconds_per_g_step']:.2f} |"
        )
    cu = ["| batches learned | critic updates | bias | RMSE |", "| ---: | ---: | ---: | ---: |"]
    for c in s["critic_catch_up"]:
        cu.append(f"| {c['batches']} | {c['critic_updates']} | {c['bias']:+.4f} | {c['rmse']:.4f} |")
    bl = [
        "| baseline | trace of gradient covariance | relative variance (trace / ‖E g‖²) "
        "| cosine to the other batches' mean gradient |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, v in s["baselines"].items():
        bl.append(
            f"| {name} | {v['trace_cov']:.4g} | {v['relative_variance']:.3g} | "
            f"{v['cosine_mean']:.3f} ± {v['cosine_std']:.3f} |"
        )
    return "\n".join(
        [
            "# Reward estimators and baselines on a frozen G and D",
            "",
            f"Command: `{s['command']}`  ",
            f"Run: `{s['run']}` (its final G, roll-out policy and D); seed {s['seed']}; machine: {s['machine']}",
            "",
            f"## Estimators against a reference of N = {s['reference_n']:,} completions",
            "",
            f"One fixed batch of {s['batch_size']} samples of length {s['seq_len']}; "
            f"errors over the {s['seq_len'] - 1} prefixes "
            "of each (Q at t = T is D(Y_1:T) for all). "
            f"The reference's mean Q is {s['reference_mean_q']:.4f}, its standard "
            f"error at most {s['reference_standard_error']:.4f} ({s['reference_seconds']:.0f} s to compute). "
            f"{s['repeats']} repeats each; a g-step's seconds include the backward pass, on one thread.",
            "",
            *est,
            "",
            "The TD critic (fresh, same settings) on the fixed batch, which it never learns, "
            "after learning k batches of the frozen G:",
            "",
            *cu,
            "",
            f"## Baselines: variance of the policy gradient over {s['batches']} batches",
            "",
            f"Every baseline sees the same {s['batches']} independent batches "
            f"and the same Monte Carlo Q (N = {s['rollout_num']}), "
            "so all cost the same D evaluations. "
            f"The value network first learned {s['fit_batches']} other batches of the frozen G "
            "(during training it learns as G and D move). "
            "The gradient is the flattened gradient of G's policy-gradient loss "
            "before clipping. ‖E g‖² is estimated without the noise's share (‖mean‖² − trace / K; inf where the noise "
            "swamps it). Each batch's estimate is compared with the mean of every unnormalised estimate (all unbiased) "
            "over the other batches, which shares no noise with it.",
            "",
            *bl,
            "",
            f"Variance ratio none / value: {s['variance_ratio_none_over_value']:.2f}x (target: at least 2x).",
            "",
            "![rewards](rewards.png)",
            "",
        ]
    )


def _plot_rewards(s: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    names = list(s["estimators"])
    ax = axes[0]
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], [s["estimators"][k]["bias"] for k in names], width=0.4, label="bias")
    ax.bar([x + 0.2 for x in xs], [s["estimators"][k]["rmse"] for k in names], width=0.4, label="RMSE")
    ax.set_xticks(list(xs), [k.split(" ")[0] for k in names])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_title(f"Q against N = {s['reference_n']} Monte Carlo")
    ax.legend()
    ax = axes[1]
    cu = s["critic_catch_up"]
    ax.plot([c["batches"] for c in cu], [c["rmse"] for c in cu], marker="o", label="TD critic RMSE")
    ax.axhline(s["estimators"][names[0]]["rmse"], color="tab:gray", linestyle="--", label=names[0] + " RMSE")
    ax.set_xlabel("batches learned (frozen G and D)")
    ax.set_title("how fast the critic catches up")
    ax.legend()
    ax = axes[2]
    bl = s["baselines"]
    # the relative variance, not the trace: normalising rescales the gradient, so only the ratio compares all six
    finite = {k: v["relative_variance"] for k, v in bl.items() if math.isfinite(v["relative_variance"])}
    ax.bar(list(finite), list(finite.values()), color="tab:purple")
    ax.set_yscale("log")
    ax.set_ylabel("trace(Cov g) / ||E g||^2")
    ax.set_title(f"policy-gradient relative variance, {s['batches']} batches")
    ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"{s['run']} — {s['machine'].split(',')[0]}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the training comparison ------------------------------------------------------------------------------

REWARD_SETTINGS = {  # name -> overrides; the first is the paper's
    "mc": [],
    "mc + mean": ["train.baseline=mean"],
    "mc + value": ["train.baseline=value"],
    "td": ["train.rewards=td"],
    "td + value": ["train.rewards=td", "train.baseline=value"],
    "mcts": ["train.rewards=mcts"],
}
TEMPERATURES = [0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1]


def _slug(name: str) -> str:
    return name.replace(" + ", "_")


def rewards_train(
    config: str,
    seeds: list[int],
    budget: float,
    out: Path,
    jobs: int,
    overrides: list[str],
    settings: list[str] | None = None,
    temperature_samples: int = 2000,
) -> dict:
    """Each setting trained over ``seeds``, side by side; the table, the temperature curves (each
    setting's and the pre-trained G's, which every setting of a seed shares) and the figure go to ``out``."""
    from ..data import oracle_corpus
    from ..lifecycle import load_run_models

    names = settings or list(REWARD_SETTINGS)
    unknown = [n for n in names if n not in REWARD_SETTINGS]
    if unknown:
        raise ValueError(f"--settings: unknown {unknown} (known: {', '.join(REWARD_SETTINGS)})")
    if names[0] != "mc":
        names = ["mc", *[n for n in names if n != "mc"]]
    cfg = load_config(config, overrides)
    base = [*overrides, *budget_overrides(cfg, budget), "rows.names=[]"]
    commands, runs = [], {}
    for name in names:
        extra = [*base, *REWARD_SETTINGS[name]]
        load_config(config, extra)  # fail here, not in every subprocess
        for s in seeds:
            run_dir = out / _slug(name) / f"seed{s}"
            commands.append((run_dir, train_command(config, run_dir, s, extra)))
            runs[(name, s)] = run_dir
    started = time.time()
    ran = run_all(commands, jobs)
    wall = wall_time(time.time() - started, ran, out / "rewards_train.json")

    # temperature curves of every final generator, and of each seed's pre-trained one (from the paper
    # setting's checkpoint; every setting of a seed starts from the same pre-training)
    curves: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    for (name, s), run_dir in [*[(("pretrained", s), runs[("mc", s)]) for s in seeds], *runs.items()]:
        _, run_cfg, oracle, _, g = load_run_models(run_dir, row="seqgan" if name != "pretrained" else "pretrained")
        _, test = oracle_corpus(oracle, run_cfg.oracle.num_train, run_cfg.oracle.num_test, seed=run_cfg.oracle.seed)
        points = []
        for tau in TEMPERATURES:
            torch.manual_seed(s)
            samples = g.sample(temperature_samples, temperature=tau)
            points.append((tau, g.nll(test, temperature=tau), metrics.nll_oracle(oracle, samples)))
        curves[(name, s)] = points

    rows = []
    paper = [json.loads((runs[("mc", s)] / "results.json").read_text())["rows"]["SeqGAN"]["nll_oracle"] for s in seeds]
    for name in ["pretrained", *names]:
        if name == "pretrained":  # the last pre-training evaluation of the paper setting's runs
            final = [
                [r for r in metrics.read_metrics(runs[("mc", s)] / "metrics.jsonl") if r["phase"] == "pretrain"][-1]
                for s in seeds
            ]
            seconds = [float("nan")] * len(seeds)
        else:
            results = [json.loads((runs[(name, s)] / "results.json").read_text()) for s in seeds]
            final = [r["rows"]["SeqGAN"] for r in results]
            seconds = [r["seconds"] for r in results]
        oracle_vals = [r["nll_oracle"] for r in final]
        test_vals = [r["nll_test"] for r in final]
        rewards_mean = []
        for s in seeds:
            adv = (
                []
                if name == "pretrained"
                else [
                    r
                    for r in metrics.read_metrics(runs[(name, s)] / "metrics.jsonl")
                    if r["phase"] == "adversarial" and r.get("mean_reward") is not None
                ]
            )
            rewards_mean.append(sum(r["mean_reward"] for r in adv) / len(adv) if adv else float("nan"))
        gaps = [_gap_to_curve(curves[(name, s)], curves[("pretrained", s)]) for s in seeds]
        rows.append(
            {
                "setting": name,
                "overrides": REWARD_SETTINGS.get(name, []),
                "nll_oracle": mean_std(oracle_vals),
                "nll_test": mean_std(test_vals),
                "mean_reward": mean_std(rewards_mean),
                "seconds": mean_std(seconds),
                "p_vs_paper": float("nan") if name in ("mc", "pretrained") else welch_p(oracle_vals, paper),
                "nll_oracle_per_seed": oracle_vals,
                "nll_test_per_seed": test_vals,
                "gap_at_t1": [g[0] for g in gaps],
                "best_gap": [g[1] for g in gaps],
            }
        )
    summary = {
        "command": f"seqgan experiment rewards-train --config {config} --seeds {','.join(map(str, seeds))} "
        f"--budget {budget}"
        + (f" --settings {','.join(names)}" if settings else "")
        + "".join(f" --set {o}" for o in overrides),
        "seeds": seeds,
        "budget": budget,
        "machine": machine(),
        "wall_seconds": round(wall, 1),
        "temperatures": TEMPERATURES,
        "temperature_samples": temperature_samples,
        "rows": rows,
        "curves": {f"{name}|{s}": pts for (name, s), pts in curves.items()},
        "run_commands": [shlex.join(cmd) for _, cmd in commands],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "rewards_train.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _plot_curves(summary, names, seeds, out / "rewards_train.png")
    (out / "rewards_train.md").write_text(_train_markdown(summary), encoding="utf-8")
    return summary


def _gap_to_curve(curve: list, pretrained: list) -> tuple[float, float]:
    """The setting's gap to the pre-trained curve at its T = 1 point, and the lowest over its temperatures:
    the setting's NLL-oracle minus the curve's at equal NLL-test (a model minus its control: negative is
    better quality at the same coverage, below the curve); nan where the curve does not reach that NLL-test."""
    reference = [(x, y) for _, x, y in pretrained]
    gaps = []
    for _, x, y in curve:
        at = curve_at_nll_test(reference, x)
        gaps.append(float("nan") if at is None else y - at)
    at_one = next(gap for (tau, _, _), gap in zip(curve, gaps) if abs(tau - 1.0) < 1e-9)
    finite = [gap for gap in gaps if not math.isnan(gap)]
    return at_one, min(finite) if finite else float("nan")


def _pm(pair: tuple[float, float], digits: int = 3) -> str:
    m, s = pair
    return f"{m:.{digits}f} ± {s:.{digits}f}" if not math.isnan(s) else f"{m:.{digits}f}"


def _train_markdown(s: dict) -> str:
    n = len(s["seeds"])
    lines = [
        f"| setting | NLL-oracle ({n} seeds) | NLL-test | p vs mc (Welch, NLL-oracle) | mean Q over training | "
        "s a run | gap to the pre-trained curve at T=1 (setting − curve, negative better) | lowest gap over T |",
        "| --- |" + " ---: |" * 7,
    ]
    for r in s["rows"]:
        gap = [g for g in r["gap_at_t1"] if not math.isnan(g)]
        best = [g for g in r["best_gap"] if not math.isnan(g)]
        lines.append(
            f"| {r['setting']} | {_pm(r['nll_oracle'])} | {_pm(r['nll_test'])} | {format_p(r['p_vs_paper'])} | "
            f"{_pm(r['mean_reward'])} | {_pm(r['seconds'], 0)} | "
            f"{_pm(mean_std(gap)) if gap else 'outside'} ({len(gap)}/{n}) | "
            f"{_pm(mean_std(best)) if best else 'outside'} ({len(best)}/{n}) |"
        )
    return "\n".join(
        [
            "# Reward estimators and baselines in training",
            "",
            f"Command: `{s['command']}`  ",
            f"Seeds: {', '.join(map(str, s['seeds']))}; budget {s['budget']}; machine: {s['machine']}; "
            f"wall time {s['wall_seconds'] / 60:.1f} min",
            "",
            *lines,
            "",
            "Gap to the curve: the setting's NLL-oracle minus the pre-trained generator's temperature curve at the "
            f"setting's NLL-test (temperatures {', '.join(map(str, s['temperatures']))}, "
            f"{s['temperature_samples']} samples "
            "a point, linear interpolation along NLL-test; negative: better quality at equal coverage, "
            "the fair test of "
            "Caccia et al. 2020; a point outside the curve's NLL-test range has none, "
            "and (k/n) counts the seeds that had "
            "one). 'pretrained' is the G every setting of a seed starts from "
            "(saved in the paper setting's checkpoint). "
            "Mean Q is each setting's own estimate (the tree search's is biased upward by design).",
            "",
            "![rewards_train](rewards_train.png)",
            "",
            "Runs:",
            "",
            *[f"    {c}" for c in s["run_commands"]],
            "",
        ]
    )


def _plot_curves(s: dict, names: list[str], seeds: list[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(["pretrained", *names]):
        pts = [s["curves"][f"{name}|{seed}"] for seed in seeds]
        xs = [sum(p[j][1] for p in pts) / len(pts) for j in range(len(s["temperatures"]))]
        ys = [sum(p[j][2] for p in pts) / len(pts) for j in range(len(s["temperatures"]))]
        style = {"color": "black", "linestyle": "--"} if name == "pretrained" else {"color": colors[i % len(colors)]}
        ax.plot(xs, ys, marker=".", label=name, **style)
        one = s["temperatures"].index(1.0)
        ax.plot(xs[one], ys[one], marker="o", markersize=7, **style)
    ax.set_xlabel("NLL-test (coverage; lower is better)")
    ax.set_ylabel("NLL-oracle (quality; lower is better)")
    ax.set_title(f"temperature curves {s['temperatures'][0]}-{s['temperatures'][-1]} (big dot: T = 1), mean over seeds")
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, s["machine"].split(",")[0], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
