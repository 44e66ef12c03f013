"""Merged convolutions (discriminator.py, ``Discriminator.merge``): the width groups compute what the
12 branches compute, to float32 rounding, in logits, loss and every parameter's gradient."""

from __future__ import annotations

import copy

import pytest
import torch

from seqgan.discriminator import PAPER_FILTER_SIZES, PAPER_NUM_FILTERS, Discriminator, merged_convs, width_groups


def _loss_logits_grads(d: Discriminator, seqs: torch.Tensor, labels: torch.Tensor, seed: int = 3):
    d.zero_grad(set_to_none=True)
    torch.manual_seed(seed)  # the same dropout mask for both forms
    logits = d(seqs)
    torch.manual_seed(seed)
    loss = d.loss(seqs, labels)
    loss.backward()
    return logits.detach(), loss.detach(), {name: p.grad.clone() for name, p in d.named_parameters()}


def _twins(**kw) -> tuple[Discriminator, Discriminator]:
    torch.manual_seed(0)
    branches = Discriminator(**kw)
    branches.merge = False
    merged = copy.deepcopy(branches)
    merged.merge = True
    return branches, merged


def test_paper_widths_group_into_three_runs():
    assert width_groups(PAPER_FILTER_SIZES, PAPER_NUM_FILTERS, 20) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]]
    assert width_groups((3,), (4,), 6) == [[0]]
    groups = width_groups((4, 1, 6, 2, 3), (2, 3, 4, 5, 6), 6)  # any order: runs of consecutive branches
    assert [i for group in groups for i in group] == [0, 1, 2, 3, 4] and len(groups) <= 3


def test_merged_equals_branches_at_the_paper_filter_counts():
    """Paper filters (1,720 of them, widths 1-20, T = 20, E = 64), vocab 30, batch 16, with dropout."""
    branches, merged = _twins(vocab_size=30, seq_len=20)
    seqs, labels = torch.randint(0, 30, (16, 20)), torch.randint(0, 2, (16,))
    want_logits, want_loss, want_grads = _loss_logits_grads(branches, seqs, labels)
    logits, loss, grads = _loss_logits_grads(merged, seqs, labels)
    torch.testing.assert_close(logits, want_logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loss, want_loss, rtol=1e-6, atol=1e-6)
    assert grads.keys() == want_grads.keys()
    for name, want in want_grads.items():
        torch.testing.assert_close(grads[name], want, rtol=1e-4, atol=1e-6, msg=name)
    assert merged.state_dict().keys() == branches.state_dict().keys()  # the masks are not saved


def test_merged_equals_branches_for_unsorted_widths_and_one_hot_rows():
    branches, merged = _twins(
        vocab_size=11, seq_len=7, emb_dim=5, filter_sizes=(4, 1, 7, 2, 3), num_filters=(2, 3, 4, 5, 6), dropout_keep=1.0
    )
    with torch.no_grad():
        for conv in branches.convs:  # biases and weights away from the initialisation, some ReLUs dead
            conv.weight.normal_()
            conv.bias.normal_()
        merged.load_state_dict(branches.state_dict())  # a checkpoint of one form loads into the other
    rows = torch.softmax(torch.randn(6, 7, 11), dim=-1)  # soft one-hot rows, as a gradient penalty feeds
    torch.testing.assert_close(merged.features(rows), branches.features(rows), rtol=1e-5, atol=1e-5)
    seqs, labels = torch.randint(0, 11, (6, 7)), torch.randint(0, 2, (6,))
    _, want_loss, want_grads = _loss_logits_grads(branches, seqs, labels)
    _, loss, grads = _loss_logits_grads(merged, seqs, labels)
    torch.testing.assert_close(loss, want_loss)
    for name, want in want_grads.items():
        torch.testing.assert_close(grads[name], want, rtol=1e-4, atol=1e-6, msg=name)


def test_merged_under_bf16_autocast_is_close_to_branches():
    branches, merged = _twins(
        vocab_size=30, seq_len=20, emb_dim=16, num_filters=tuple(n // 10 for n in PAPER_NUM_FILTERS)
    )
    seqs = torch.randint(0, 30, (8, 20))
    branches.eval(), merged.eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        got, want = merged(seqs).float(), branches(seqs).float()
    torch.testing.assert_close(got, want, rtol=5e-2, atol=5e-2)


def test_merged_convs_by_device():
    assert merged_convs(torch.device("cuda")) and not merged_convs(torch.device("cpu"))
    d = Discriminator(10, 6, emb_dim=4, filter_sizes=(1, 2), num_filters=(2, 2))
    assert d.merge is None  # chosen by the input's device at every call


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_default_is_merged_and_equals_branches():
    branches, merged = _twins(vocab_size=30, seq_len=20)
    branches, merged = branches.cuda(), merged.cuda()
    merged.merge = None
    seqs = torch.randint(0, 30, (16, 20), device="cuda")
    branches.eval(), merged.eval()
    tf32, torch.backends.cuda.matmul.allow_tf32 = torch.backends.cuda.matmul.allow_tf32, False
    try:
        with torch.no_grad():
            torch.testing.assert_close(merged(seqs), branches(seqs), rtol=1e-4, atol=1e-4)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
