"""The device path without a GPU: sampling, roll-out, scoring and the oracle run on PyTorch's
'meta' device (tensors with shapes and no data), where any tensor made on the CPU by mistake, or
any read of a value back to the host (``.item()``, ``bool(tensor)``), raises; the evaluation loops
read their sums once; the per-device choices (sampling and loss chunks, scoring and evaluation
batches, native bf16 on CUDA) are the intended ones: the CPU's as they were, an accelerator's
large enough for one batch of a g-step's rows."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqgan import metrics
from seqgan.discriminator import Discriminator
from seqgan.generator import Generator, loss_chunk, sampling_chunk
from seqgan.oracle import Oracle
from seqgan.rollout import RolloutPolicy, get_rewards, score_batch
from seqgan.runtime.hardware import use_bf16

META = torch.device("meta")


def test_sampler_rollout_scoring_and_oracle_stay_on_the_models_device():
    torch.manual_seed(0)
    g = Generator(50, 8).to(META)
    d = Discriminator(50, 8, emb_dim=6, filter_sizes=(1, 2, 8), num_filters=(3, 4, 5)).to(META)
    oracle = Oracle.random(50, 4, 4, 8, seed=0).to(META)
    samples = g.sample(300)  # more rows than a CPU chunk
    assert samples.device == META and samples.shape == (300, 8)
    rollout = RolloutPolicy(g, 0.8)
    completions = rollout.complete(samples[:5], 3)
    assert completions.device == META and completions.shape == (7, 3, 5, 8)
    rewards = get_rewards(rollout, d, samples[:5], 3, batch_size=16)
    assert rewards.device == META and rewards.shape == (5, 8)
    assert oracle.sample(7).device == META
    assert oracle.token_nll(samples).device == META
    assert g.sample_next(torch.zeros(300, 32, device=META)).device == META


def test_generator_copy_has_its_own_weights():
    torch.manual_seed(0)
    g = Generator(20, 5)
    clone = g.copy()
    for a, b in zip(g.parameters(), clone.parameters()):
        assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()
    # the LSTM's flat weight list (what cuDNN reads) points at the copy's own parameters
    assert [w.data_ptr() for w in clone.lstm._flat_weights] == [p.data_ptr() for p in clone.lstm.parameters()]
    with torch.no_grad():
        clone.out.weight.add_(1.0)
    assert not torch.equal(g.out.weight, clone.out.weight)


def test_sampling_chunk_per_device():
    assert sampling_chunk(torch.device("cpu")) == 256
    assert sampling_chunk(torch.device("cuda")) >= 19_456  # a g-step's roll-out rows in one chunk
    torch.manual_seed(0)
    g, hidden = Generator(300, 5), torch.randn(700, 32)
    torch.manual_seed(1)
    default = g.sample_next(hidden)
    torch.manual_seed(1)
    assert torch.equal(default, g.sample_next(hidden, chunk=256))


@pytest.mark.parametrize("capability, native", [((7, 0), False), ((7, 5), False), ((8, 0), True), ((9, 0), True)])
@pytest.mark.parametrize("bf16_faster", [False, True])
def test_auto_precision_on_cuda_picks_the_faster_and_needs_native_bf16(monkeypatch, capability, native, bf16_faster):
    # is_bf16_supported() says True on a V100 or T4 too (emulated), so it must not decide
    from seqgan.runtime import hardware

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, **k: capability)
    monkeypatch.setattr(hardware, "CUDA_BF16_FASTER", bf16_faster)
    assert use_bf16("auto", torch.device("cuda")) is (native and bf16_faster)
    assert use_bf16("fp32", torch.device("cuda")) is False and use_bf16("bf16", torch.device("cuda")) is True


def _count_item_calls(monkeypatch) -> list:
    """Every read of a tensor's values to the host (``.item()``, ``.tolist()``), one entry each."""
    calls, item, tolist = [], torch.Tensor.item, torch.Tensor.tolist
    monkeypatch.setattr(torch.Tensor, "item", lambda self: calls.append(1) or item(self))
    monkeypatch.setattr(torch.Tensor, "tolist", lambda self: calls.append(1) or tolist(self))
    return calls


def test_nll_test_reads_its_sums_once_and_equals_the_per_batch_sum(monkeypatch):
    torch.manual_seed(0)
    g = Generator(40, 6, eos_token=3, pad_token=0)
    seqs = torch.randint(0, 40, (70, 6))
    # the per-batch host sums of commit d90164a, the reference to the last bit
    want_total, want_count = 0.0, 0.0
    with torch.no_grad():
        for i in range(0, 70, 16):
            batch = seqs[i : i + 16]
            token_nll = -F.log_softmax(g.out(g._hidden(batch)), -1).gather(1, batch.reshape(-1, 1)).squeeze(1)
            weights = g.token_mask(batch).reshape(-1)
            want_total += (token_nll * weights).sum().item()
            want_count += weights.sum().item()
    calls = _count_item_calls(monkeypatch)
    got = g.nll(seqs, batch_size=16)
    assert len(calls) == 1  # total and count together, once, for 5 batches
    assert got == want_total / max(want_count, 1.0)


def test_nll_oracle_reads_its_sum_once_and_equals_the_per_batch_sum(monkeypatch):
    oracle = Oracle.random(30, 4, 5, 6, seed=0)
    seqs = oracle.sample(50, generator=torch.Generator().manual_seed(1))
    want = sum(oracle.token_nll(seqs[i : i + 8]).sum().item() for i in range(0, 50, 8)) / seqs.numel()
    calls = _count_item_calls(monkeypatch)
    assert oracle.nll(seqs, batch_size=8) == want
    assert len(calls) == 1


def test_exact_fp32_turns_tf32_off_on_cuda_only():
    from seqgan.runtime.hardware import exact_fp32

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        exact_fp32(torch.device("cpu"))
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        exact_fp32(torch.device("cuda"))
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_per_device_chunks_and_batches():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    # the CPU keeps its cache-sized chunks and the configured batches
    assert (loss_chunk(cpu), score_batch(cpu, 512, 20), metrics.eval_batch(cpu, 20 * 5000)) == (256, 512, 256)
    assert score_batch(cpu, 100, 20) == 100
    # an accelerator: an MLE batch of 64 x 20 in one loss chunk, a g-step's 64 x 19 x 16 completions and 64
    # samples in one D batch, NLL-test of 10,000 at V = 5,000 in a few batches of at most 2**27 logits
    assert loss_chunk(cuda) >= 64 * 20 and score_batch(cuda, 512, 20) >= 19_520
    assert score_batch(cuda, 50_000, 20) == 50_000  # a larger configured batch is kept
    nll_batch = metrics.eval_batch(cuda, 20 * 5000)
    assert 10_000 / nll_batch <= 8 and nll_batch * 20 * 5000 <= 2**27
    assert metrics.eval_batch(cuda, 10**9) == 256  # never below the CPU's


def test_a_g_steps_rows_go_to_d_in_one_batch_on_the_device():
    torch.manual_seed(0)
    g = Generator(50, 20).to(META)
    d = Discriminator(50, 20, emb_dim=6, filter_sizes=(1, 2, 20), num_filters=(3, 4, 5)).to(META)
    calls = []
    d.register_forward_hook(lambda module, args, out: calls.append(tuple(args[0].shape)))
    rewards = get_rewards(RolloutPolicy(g, 0.0), d, g.sample(64), 16, batch_size=512)
    assert rewards.device == META and rewards.shape == (64, 20)
    assert calls == [(64 * 19 * 16 + 64, 20)]


def test_discriminator_metrics_read_once_and_equal_the_per_value_reads(monkeypatch):
    torch.manual_seed(0)
    d = Discriminator(30, 6, emb_dim=5, filter_sizes=(1, 2, 6), num_filters=(3, 4, 5))
    real, fake = torch.randint(0, 30, (700, 6)), torch.randint(0, 30, (600, 6))
    # commit 8b9353b's: two reads of the device's loss and accuracy, batches of 512
    with torch.no_grad():
        p_real = torch.cat([d.prob_real(real), d.prob_real(fake)]).clamp(1e-7, 1 - 1e-7)
    labels = torch.cat([torch.ones(700), torch.zeros(600)])
    want_loss = -(labels * p_real.log() + (1 - labels) * (1 - p_real).log()).mean().item()
    want_acc = ((p_real > 0.5).float() == labels).float().mean().item()
    calls = _count_item_calls(monkeypatch)
    assert metrics.discriminator_metrics(d, real, fake, bf16=False) == (want_loss, want_acc)
    assert len(calls) == 1


def test_evaluation_in_an_accelerators_batches_equals_the_cpus(monkeypatch):
    """metrics.nll_test and nll_oracle with an accelerator's batches, run on the CPU: one host read each,
    the CPU's batches' values to fp32 rounding (each batch's sum is fp32, the sum of batches float64)."""
    torch.manual_seed(0)
    g = Generator(40, 6)
    oracle = Oracle.random(40, 4, 5, 6, seed=0)
    test = oracle.sample(600, generator=torch.Generator().manual_seed(1))
    want = metrics.nll_test(g, test), metrics.nll_oracle(oracle, test)
    monkeypatch.setattr(metrics, "eval_batch", lambda device, row_size: 100_000)
    calls = _count_item_calls(monkeypatch)
    got = metrics.nll_test(g, test), metrics.nll_oracle(oracle, test)
    assert len(calls) == 2  # one each
    assert got == pytest.approx(want, rel=1e-6)
