"""Texygen's COCO protocol: seqgan's unit costs beside Texygen's own code's, in one sitting, one thread each.

Times one MLE epoch, one evaluation's 10,000 samples, one D call and one SeqGAN g-step of both
implementations on the same machine, then projects one seed of the whole protocol (the MLE column
and the SeqGAN column) from them. Texygen's code runs under TensorFlow 2's ``compat.v1`` with its
imports changed and nothing else; it is not part of this repository. Point ``--texygen`` at such a
copy and ``--tf-python`` at a Python that has TensorFlow, NLTK and scipy:

    python bench/bench_texygen.py --data-dir ../shared/data --texygen /tmp/texygen_tf --tf-python /tmp/tfenv/bin/python

(the copy: Texygen's ``*.py`` files with ``import tensorflow as tf`` as ``import tensorflow.compat.v1
as tf; tf.disable_v2_behavior()`` and ``control_flow_ops`` imported as ``tensorflow.compat.v1``; Punkt's
model cannot be downloaded here, so ``nltk.word_tokenize`` is NLTK's word tokenizer on the whole line,
as in seqgan). Without ``--texygen`` only seqgan's units are timed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

TEXYGEN_UNITS = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1]); os.chdir(sys.argv[1])
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
tf.config.threading.set_intra_op_parallelism_threads(1); tf.config.threading.set_inter_op_parallelism_threads(1)
import nltk
from nltk.tokenize import NLTKWordTokenizer
nltk.word_tokenize = lambda s, *a, **k: NLTKWordTokenizer().tokenize(s)
from models.seqgan.Seqgan import Seqgan
from models.seqgan.SeqganReward import Reward
from utils.utils import generate_samples, pre_train_epoch
gan = Seqgan(); gan.vocab_size = 5000; gan.generate_num = 10000
gan.init_real_trainng(sys.argv[2]); gan.sess.run(tf.global_variables_initializer())
gan.gen_data_loader.create_batches(gan.oracle_file)
out = {"vocab_size": gan.vocab_size, "seq_len": gan.sequence_length}
t = time.time(); pre_train_epoch(gan.sess, gan.generator, gan.gen_data_loader); out["mle_epoch"] = time.time() - t
t = time.time(); generate_samples(gan.sess, gan.generator, 64, 10000, gan.generator_file)
out["eval_samples"] = time.time() - t
t = time.time()
for _ in range(3): gan.train_discriminator()
out["d_call"] = (time.time() - t) / 3
reward = Reward(gan.generator, .8)
t = time.time()
samples = gan.generator.generate(gan.sess)
rewards = reward.get_reward(gan.sess, samples, 16, gan.discriminator)
gan.sess.run(gan.generator.g_updates, feed_dict={gan.generator.x: samples, gan.generator.rewards: rewards})
out["g_step"] = time.time() - t
print("UNITS " + json.dumps(out))
"""


def seqgan_units(data_dir: str, d_calls: int) -> dict:
    import torch

    from seqgan import texygen_data
    from seqgan.rollout import RolloutPolicy
    from seqgan.texygen import TF1Adam, build_models, d_call, g_step, load_data
    from seqgan.texygen_config import load_texygen_config

    torch.set_num_threads(1)
    cfg = load_texygen_config(None, [])
    data = load_data(cfg, data_dir)
    torch.manual_seed(0)
    g, d = build_models(cfg, data.corpus.vocab_size, data.corpus.seq_len)
    g_opt, d_opt = TF1Adam(g.parameters(), lr=cfg.g_lr), TF1Adam(d.parameters(), lr=cfg.d_lr)
    out = {"vocab_size": data.corpus.vocab_size, "seq_len": data.corpus.seq_len}
    t = time.perf_counter()
    for b_seqs in texygen_data.training_batches(data.corpus.train, cfg.batch_size):
        loss = g.mle_loss(b_seqs)
        g_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(g.parameters(), cfg.grad_clip)
        g_opt.step()
    out["mle_epoch"] = time.perf_counter() - t
    t = time.perf_counter()
    g.sample(cfg.num_generated)
    out["eval_samples"] = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(d_calls):
        d_call(d, d_opt, g, data.corpus.train, cfg.num_generated, cfg.batch_size, cfg.d_minibatches)
    out["d_call"] = (time.perf_counter() - t) / d_calls
    t = time.perf_counter()
    g_step("seqgan", g, TF1Adam(g.parameters(), lr=cfg.g_lr), d, RolloutPolicy(g, 0.0), cfg)
    out["g_step"] = time.perf_counter() - t
    return out


def projection(units: dict, shared_pretraining: bool) -> dict:
    """One seed of the protocol from unit costs: 80 MLE epochs with 16 evaluations' samples, 80 D calls,
    100 g-steps and 99 x 15 D calls (seqgan) or 100 x 15 (Texygen). Texygen runs the MLE column as a
    program of its own (80 epochs, 17 evaluations); seqgan's MLE column is its shared pre-training."""
    mle = 80 * units["mle_epoch"] + 16 * units["eval_samples"]
    seqgan = mle + 80 * units["d_call"] + 100 * units["g_step"] + 21 * units["eval_samples"]
    seqgan += (99 if shared_pretraining else 100) * 15 * units["d_call"]
    total = seqgan if shared_pretraining else seqgan + mle + units["eval_samples"]
    return {"mle_column_s": mle, "seqgan_column_s": seqgan, "mle_and_seqgan_s": total}


def main() -> None:
    from seqgan.runtime.hardware import machine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--texygen", help="a copy of Texygen's code that runs under TF 2 compat.v1")
    parser.add_argument("--tf-python", default=sys.executable, help="a Python with TensorFlow, NLTK and scipy")
    parser.add_argument("--d-calls", type=int, default=20, help="seqgan D calls timed (Texygen: 3)")
    args = parser.parse_args()
    result = {"machine": machine(), "threads": 1, "seqgan": seqgan_units(args.data_dir, args.d_calls)}
    result["seqgan_projection"] = projection(result["seqgan"], shared_pretraining=True)
    if args.texygen:
        done = subprocess.run(
            [
                args.tf_python,
                "-c",
                TEXYGEN_UNITS,
                args.texygen,
                str(Path(args.data_dir).resolve() / "coco" / "image_coco.txt"),
            ],
            capture_output=True,
            text=True,
            env={"TF_CPP_MIN_LOG_LEVEL": "3", "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        )
        line = next((x for x in done.stdout.splitlines() if x.startswith("UNITS ")), None)
        if line is None:
            sys.exit(f"Texygen's units did not run: {done.stderr.strip().splitlines()[-1:]}")
        result["texygen"] = json.loads(line[6:])
        result["texygen_projection"] = projection(result["texygen"], shared_pretraining=False)
        result["ratio_texygen_over_seqgan"] = {
            k: result["texygen"][k] / result["seqgan"][k] for k in ("mle_epoch", "eval_samples", "d_call", "g_step")
        }
        result["ratio_texygen_over_seqgan"]["mle_and_seqgan_projected"] = (
            result["texygen_projection"]["mle_and_seqgan_s"] / result["seqgan_projection"]["mle_and_seqgan_s"]
        )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
