"""The generator G_theta: teacher forcing vs stepping, MLE, sampling and temperature, the exact
two-level sampler, and the policy-gradient loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import assert_frequencies
from seqgan import generator as generator_module
from seqgan.generator import Generator, loss_chunk, sample_from_logits


def make_generator(vocab=7, seq_len=5, seed=0, init_std=0.1, **kw) -> Generator:
    torch.manual_seed(seed)
    return Generator(
        vocab, seq_len, emb_dim=kw.pop("emb_dim", 6), hidden_dim=kw.pop("hidden_dim", 8), init_std=init_std, **kw
    )


def trainable(g: Generator) -> list[torch.Tensor]:
    return [p for p in g.parameters() if p.requires_grad]


def stepwise_log_probs(g: Generator, seqs: torch.Tensor) -> torch.Tensor:
    """log G(y_t | y_<t) by feeding the start token then each token through ``step``."""
    b, t_len = seqs.shape
    tokens = torch.full((b,), g.start_token, dtype=torch.long)
    state = None
    out = []
    for t in range(t_len):
        hidden, state = g.step(tokens, state)
        logp = torch.log_softmax(g.out(hidden), dim=-1)
        out.append(logp[torch.arange(b), seqs[:, t]])
        tokens = seqs[:, t]
    return torch.stack(out, dim=1)


def first_step_logits(g: Generator) -> torch.Tensor:
    hidden, _ = g.step(torch.tensor([g.start_token]), None)
    return g.out(hidden)[0].detach()


def test_log_probs_match_stepwise_computation():
    g = make_generator(init_std=0.5)
    seqs = torch.randint(0, 7, (6, 5), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got = g.log_probs(seqs)
        want = stepwise_log_probs(g, seqs)
    assert got.shape == (6, 5)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    assert (got < 0).all()
    # forward's logits are teacher-forced: position t depends on y_<t only, not on y_t
    changed = seqs.clone()
    changed[:, 2] = (changed[:, 2] + 1) % 7
    with torch.no_grad():
        a, b = g(seqs), g(changed)
    torch.testing.assert_close(a[:, :3], b[:, :3])
    assert not torch.allclose(a[:, 3], b[:, 3])


def test_start_token_is_respected():
    g = make_generator(init_std=0.5, start_token=3)
    seqs = torch.randint(0, 7, (4, 5), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(g.log_probs(seqs), stepwise_log_probs(g, seqs), rtol=1e-5, atol=1e-6)


def test_mle_loss_is_mean_token_nll_and_falls_with_training():
    g = make_generator(vocab=10, seq_len=6)
    data = torch.randint(0, 10, (16, 6), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert g.mle_loss(data).item() == pytest.approx(-stepwise_log_probs(g, data).mean().item(), rel=1e-5)
    opt = torch.optim.Adam(g.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        loss = g.mle_loss(data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    # an untrained G is near-uniform (log 10 = 2.30); 16 fixed sequences are memorised fast
    assert losses[0] == pytest.approx(np.log(10), abs=0.1)
    assert losses[-1] < losses[0] - 0.7
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


def test_nll_equals_mle_loss_and_keeps_mode():
    g = make_generator(init_std=0.5)
    data = torch.randint(0, 7, (23, 5), generator=torch.Generator().manual_seed(4))
    g.train()
    with torch.no_grad():
        want = g.mle_loss(data).item()
    assert g.nll(data, batch_size=5) == pytest.approx(want, rel=1e-5)  # uneven batches
    assert g.nll(data) == pytest.approx(want, rel=1e-5)
    assert g.training
    g.eval()
    g.nll(data)
    assert not g.training


def test_sample_shape_range_and_mode():
    g = make_generator(init_std=0.5)
    g.train()
    torch.manual_seed(0)
    s = g.sample(33, batch_size=10)
    assert s.shape == (33, 5) and s.dtype == torch.long
    assert s.min() >= 0 and s.max() < 7
    assert g.training  # restored
    assert g.sample(0).shape == (0, 5)
    torch.manual_seed(0)
    assert torch.equal(s, g.sample(33, batch_size=10))  # deterministic for a seed


def test_very_low_temperature_gives_greedy_sequences():
    g = make_generator(init_std=1.0)
    # the greedy (argmax) sequence, step by step
    tokens = torch.tensor([g.start_token])
    state, greedy = None, []
    with torch.no_grad():
        for _ in range(g.seq_len):
            hidden, state = g.step(tokens, state)
            logits = g.out(hidden)[0]
            top2 = logits.topk(2).values
            assert top2[0] - top2[1] > 1e-2  # no near-tie, so the test is meaningful
            tokens = logits.argmax().view(1)
            greedy.append(int(tokens))
    torch.manual_seed(0)
    s = g.sample(200, temperature=1e-4)
    assert (s == torch.tensor(greedy)).all()
    # at temperature 1 the same generator is far from deterministic
    torch.manual_seed(0)
    assert len({tuple(r) for r in g.sample(200).tolist()}) > 20


@pytest.mark.parametrize("temperature", [0.5, 1.0])
def test_first_token_distribution_follows_temperature(temperature):
    g = make_generator(vocab=6, seq_len=1, init_std=1.0, seed=5)
    probs = torch.softmax(first_step_logits(g).double() / temperature, dim=0).numpy()
    torch.manual_seed(0)
    s = g.sample(20_000)[:, 0] if temperature == 1.0 else g.sample(20_000, temperature=temperature)[:, 0]
    counts = np.bincount(s.numpy(), minlength=6)
    assert_frequencies(counts, probs, what=f"first token at T={temperature}")
    # power: the other temperature's distribution is rejected
    other = torch.softmax(first_step_logits(g).double() / (1.5 - temperature), dim=0).numpy()
    with pytest.raises(AssertionError):
        assert_frequencies(counts, other)


# -- the two-level sampler ------------------------------------------------------------------------


@pytest.mark.parametrize("vocab,block", [(203, 64), (203, 16), (10, 64), (128, 64), (65, 64)])
def test_sample_from_logits_is_exact(vocab, block):
    gen = torch.Generator().manual_seed(vocab + block)
    logits = torch.randn(vocab, generator=gen) * 1.5
    # some tokens impossible: scattered ones, the first, and (when there are several blocks) one
    # whole block and part of the partial last block; the last token stays possible
    banned = [0, 5, vocab // 2]
    if vocab > 2 * block:
        banned += list(range(block, 2 * block))
    if vocab % block:
        banned += [vocab - 2]
    logits[banned] = -float("inf")
    probs = torch.softmax(logits.double(), dim=0).numpy()
    n = 60_000
    torch.manual_seed(1)
    draws = torch.cat([sample_from_logits(logits.expand(10_000, -1), block=block) for _ in range(n // 10_000)])
    assert draws.shape == (n,) and draws.dtype == torch.long
    assert draws.min() >= 0 and draws.max() < vocab
    counts = np.bincount(draws.numpy(), minlength=vocab)
    assert counts[banned].sum() == 0, "drew a token whose logit is -inf"
    assert_frequencies(counts, probs, what=f"sample_from_logits V={vocab} block={block}")


def test_sample_from_logits_with_temperature_is_exact():
    vocab = 203
    logits = torch.randn(vocab, generator=torch.Generator().manual_seed(0))
    probs = torch.softmax(logits.double() / 0.5, dim=0).numpy()
    torch.manual_seed(2)
    draws = torch.cat([sample_from_logits(logits.expand(10_000, -1), temperature=0.5) for _ in range(6)])
    assert_frequencies(np.bincount(draws.numpy(), minlength=vocab), probs, what="T=0.5")


def test_sample_from_logits_one_possible_token_per_row():
    """Rows whose only finite logit sits at block edges and in the partial last block."""
    vocab = 203
    targets = torch.tensor([0, 1, 63, 64, 65, 127, 128, 191, 192, 193, 201, 202])
    logits = torch.full((len(targets), vocab), -float("inf"))
    logits[torch.arange(len(targets)), targets] = torch.randn(len(targets)) * 10
    torch.manual_seed(0)
    for _ in range(50):
        assert torch.equal(sample_from_logits(logits), targets)
    # rows with very different scales do not disturb each other
    mixed = torch.randn(len(targets), vocab) * 30
    mixed[torch.arange(len(targets)), targets] = 1e4
    assert torch.equal(sample_from_logits(mixed), targets)


def test_sample_from_logits_uses_the_given_generator():
    logits = torch.randn(500, 203, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    a = sample_from_logits(logits, generator=torch.Generator().manual_seed(9))
    torch.manual_seed(1)  # the global RNG plays no part
    b = sample_from_logits(logits, generator=torch.Generator().manual_seed(9))
    c = sample_from_logits(logits, generator=torch.Generator().manual_seed(10))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_sample_from_logits_leaves_input_alone_and_rejects_bad_temperature():
    logits = torch.randn(4, 203)
    before = logits.clone()
    sample_from_logits(logits, temperature=0.7)
    assert torch.equal(logits, before)
    for t in (0.0, -1.0):
        with pytest.raises(ValueError):
            sample_from_logits(logits, temperature=t)


# -- the policy gradient -------------------------------------------------------------------------


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_policy_gradient_sign(sign):
    g = make_generator(init_std=0.5, seed=6)
    torch.manual_seed(0)
    seq = g.sample(1)
    with torch.no_grad():
        before = g.log_probs(seq).sum().item()
    opt = torch.optim.SGD(g.parameters(), lr=0.05)
    loss = g.pg_loss(seq, torch.full((1, 5), sign))
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        after = g.log_probs(seq).sum().item()
    assert (after - before) * sign > 1e-3


def test_pg_loss_value_and_zero_reward():
    g = make_generator(init_std=0.5)
    seqs = torch.randint(0, 7, (3, 5), generator=torch.Generator().manual_seed(7))
    rewards = torch.rand(3, 5, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        want = -(stepwise_log_probs(g, seqs) * rewards).sum()
    torch.testing.assert_close(g.pg_loss(seqs, rewards).detach(), want, rtol=1e-5, atol=1e-5)
    # a reward of zero on a token gives that token's log-probability no gradient
    loss = g.pg_loss(seqs, torch.zeros(3, 5))
    loss.backward()
    assert all(p.grad is None or torch.count_nonzero(p.grad) == 0 for p in g.parameters())
    # the reward at index t-1 weighs token y_t only
    g.zero_grad()
    r = torch.zeros(3, 5)
    r[1, 2] = 1.0
    grads = torch.autograd.grad(g.pg_loss(seqs, r), trainable(g))
    logp = g.log_probs(seqs)[1, 2]
    want_grads = torch.autograd.grad(-logp, trainable(g))
    for a, b in zip(grads, want_grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_pg_loss_rejects_mismatched_rewards():
    g = make_generator()
    seqs = torch.zeros(3, 5, dtype=torch.long)
    for shape in [(3, 4), (5, 3), (3,), (1, 5)]:
        with pytest.raises(AssertionError):
            g.pg_loss(seqs, torch.ones(shape))


@pytest.mark.parametrize("chunk", [5, 64, 1000])
def test_fused_weighted_nll_matches_autograd(chunk):
    """The chunked, fused output-layer cross-entropy gives autograd's loss and gradients (float64)."""
    torch.manual_seed(3)
    g = Generator(37, 6, emb_dim=5, hidden_dim=7).double()
    seqs = torch.randint(0, 37, (9, 6))
    weights = torch.randn(9, 6, dtype=torch.float64)  # signed, like centred rewards

    def reference():
        logp = torch.log_softmax(g(seqs), dim=-1).gather(2, seqs.unsqueeze(2)).squeeze(2)
        return -(weights * logp).sum()

    g.zero_grad()
    ref = reference()
    ref.backward()
    ref_grads = [p.grad.clone() for p in trainable(g)]
    g.zero_grad()
    fused = g.weighted_nll(seqs, weights, chunk=chunk)
    (2.5 * fused).backward()  # the incoming gradient must scale the saved ones
    assert torch.allclose(fused, ref, atol=1e-12, rtol=0)
    for p, expected in zip(trainable(g), ref_grads):
        assert torch.allclose(p.grad, 2.5 * expected, atol=1e-12, rtol=0)
    with torch.no_grad():
        assert torch.allclose(g.weighted_nll(seqs, weights), ref, atol=1e-12, rtol=0)


def test_one_loss_chunk_on_cuda_gives_the_chunked_loss_and_gradients(monkeypatch):
    """The accelerator's choice (a whole batch of 64 x 20 rows in one chunk) run on the CPU: MLE's
    and the policy gradient's loss and gradients equal the CPU's 256-row chunks to fp32 rounding,
    at the paper's sizes (V = 5,000, T = 20, E = H = 32)."""
    assert loss_chunk(torch.device("cpu")) == 256 and loss_chunk(torch.device("cuda")) >= 64 * 256
    torch.manual_seed(0)
    g = Generator(5000, 20)
    seqs = torch.randint(0, 5000, (64, 20))
    rewards = torch.rand(64, 20)

    def losses_and_grads():
        out = []
        for loss_fn in (lambda: g.mle_loss(seqs), lambda: g.pg_loss(seqs, rewards)):
            g.zero_grad()
            loss = loss_fn()
            loss.backward()
            out.append((loss.detach(), [p.grad.clone() for p in trainable(g)]))
        return out

    chunked = losses_and_grads()
    monkeypatch.setattr(generator_module, "loss_chunk", lambda device: loss_chunk(torch.device("cuda")))
    one_chunk = losses_and_grads()
    for (want_loss, want_grads), (loss, grads) in zip(chunked, one_chunk):
        torch.testing.assert_close(loss, want_loss, rtol=1e-6, atol=0)
        for grad, want in zip(grads, want_grads):
            torch.testing.assert_close(grad, want, rtol=1e-5, atol=1e-7)
    # scheduled sampling's loss takes the same chunk
    torch.manual_seed(1)
    one = g.scheduled_sampling_loss(seqs, 0.5, generator=torch.Generator().manual_seed(2))[0]
    monkeypatch.undo()
    torch.manual_seed(1)
    chunks = g.scheduled_sampling_loss(seqs, 0.5, generator=torch.Generator().manual_seed(2))[0]
    torch.testing.assert_close(one, chunks, rtol=1e-6, atol=0)


class _SingleBiasLSTM(torch.nn.Module):
    """The authors' LSTM language model written out: one bias per gate (i, f, g, o as nn.LSTM)."""

    def __init__(self, g: Generator):
        super().__init__()
        self.emb = torch.nn.Parameter(g.embedding.weight.detach().clone())
        self.w_ih = torch.nn.Parameter(g.lstm.weight_ih_l0.detach().clone())
        self.w_hh = torch.nn.Parameter(g.lstm.weight_hh_l0.detach().clone())
        self.bias = torch.nn.Parameter((g.lstm.bias_ih_l0 + g.lstm.bias_hh_l0).detach().clone())
        self.w_out = torch.nn.Parameter(g.out.weight.detach().clone())
        self.b_out = torch.nn.Parameter(g.out.bias.detach().clone())
        self.start = g.start_token

    def log_probs(self, seqs):
        b, t_len = seqs.shape
        hid = self.w_hh.shape[1]
        h, c = torch.zeros(b, hid), torch.zeros(b, hid)
        inputs = torch.cat([torch.full((b, 1), self.start), seqs[:, :-1]], dim=1)
        out = []
        for t in range(t_len):
            gates = self.emb[inputs[:, t]] @ self.w_ih.t() + h @ self.w_hh.t() + self.bias
            i, f, gg, o = gates.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h = torch.sigmoid(o) * torch.tanh(c)
            logp = torch.log_softmax(h @ self.w_out.t() + self.b_out, dim=1)
            out.append(logp.gather(1, seqs[:, t : t + 1]).squeeze(1))
        return torch.stack(out, dim=1)


def test_single_bias_lstm_moves_its_bias_as_one_bias_lstm_does():
    """After one MLE step and one policy-gradient step (Adam, an active gradient clip), the
    generator's effective gate bias b_ih + b_hh equals a single-bias LSTM's bias, and every other
    weight equals its counterpart; with two trained biases it would move twice as far."""
    g = make_generator(init_std=0.3)
    assert torch.equal(g.lstm.bias_hh_l0, torch.zeros_like(g.lstm.bias_hh_l0))
    assert not g.lstm.bias_hh_l0.requires_grad
    ref = _SingleBiasLSTM(g)
    seqs = torch.randint(0, 7, (6, 5), generator=torch.Generator().manual_seed(3))
    rewards = torch.rand(6, 5, generator=torch.Generator().manual_seed(4))
    opt_g = torch.optim.Adam(g.parameters(), lr=0.01)
    opt_r = torch.optim.Adam(ref.parameters(), lr=0.01)
    clip = 0.05  # well below the gradient norm, so the clip is active and counts every weight
    for loss_g, loss_r in (
        (lambda: g.mle_loss(seqs), lambda: -ref.log_probs(seqs).mean()),
        (lambda: g.pg_loss(seqs, rewards), lambda: -(ref.log_probs(seqs) * rewards).sum()),
    ):
        for model, opt, loss in ((g, opt_g, loss_g), (ref, opt_r, loss_r)):
            opt.zero_grad(set_to_none=True)
            loss().backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            assert norm > clip
            opt.step()
        torch.testing.assert_close(g.lstm.bias_ih_l0 + g.lstm.bias_hh_l0, ref.bias, rtol=1e-5, atol=1e-6)
        assert torch.equal(g.lstm.bias_hh_l0, torch.zeros_like(g.lstm.bias_hh_l0))
        for mine, theirs in (
            (g.embedding.weight, ref.emb),
            (g.lstm.weight_ih_l0, ref.w_ih),
            (g.lstm.weight_hh_l0, ref.w_hh),
            (g.out.weight, ref.w_out),
            (g.out.bias, ref.b_out),
        ):
            torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_two_bias_lstm_moves_its_effective_bias_twice_as_fast():
    """The behaviour single_bias removes, measured: one Adam step moves b_ih + b_hh by 2 lr."""
    g = make_generator(init_std=0.3, single_bias=False)
    before = (g.lstm.bias_ih_l0 + g.lstm.bias_hh_l0).detach().clone()
    opt = torch.optim.Adam(g.parameters(), lr=0.01)
    g.mle_loss(torch.randint(0, 7, (6, 5), generator=torch.Generator().manual_seed(3))).backward()
    opt.step()
    moved = (g.lstm.bias_ih_l0 + g.lstm.bias_hh_l0 - before).abs()
    torch.testing.assert_close(moved, torch.full_like(moved, 0.02), rtol=1e-3, atol=1e-6)
