"""One MLE step, one D step and one policy-gradient step on fixed inputs, as a torchrun worker.

    python -m torch.distributed.run --standalone --nproc-per-node 2 tests/ddp_steps.py OUT_DIR

Each rank writes its parameters after each step to OUT_DIR/rank{R}.pt; test_distributed.py runs the
same steps in one process with the whole batch (``steps(whole=True)``) and compares. SGD without
clipping, so that a wrong loss scale shows (Adam's first step, lr * sign(g), would hide it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from seqgan.discriminator import Discriminator
from seqgan.generator import Generator
from seqgan.rollout import RolloutPolicy
from seqgan.runtime import distributed
from seqgan.train import mle_epoch, monte_carlo, policy_gradient_step, train_discriminator

V, T = 7, 5  # vocabulary, length
NO_CLIP = 1e9


def fixed(rows: int, seed: int) -> torch.Tensor:
    return torch.randint(0, V, (rows, T), generator=torch.Generator().manual_seed(seed))


def first_token_reward(seqs: torch.Tensor) -> torch.Tensor:
    """A reward of the first token only, which every roll-out keeps: Q is exact, not sampled."""
    return (seqs[:, 0].float() + 1.0) / V


def steps() -> dict:
    """Run the three steps; returns each model's parameters after its step and the returned values.
    Under torchrun each rank passes its share where the loop would (negatives, samples)."""
    torch.manual_seed(0)
    out: dict = {}
    # MLE: 13 rows in batches of 8, so the last batch (5 rows) splits unevenly, 3 + 2
    g = Generator(V, T, emb_dim=4, hidden_dim=4)
    torch.manual_seed(1)  # the shuffle: rank 0's order is every rank's
    loss = mle_epoch(g, torch.optim.SGD(g.parameters(), lr=0.5), fixed(13, 2), 8, NO_CLIP)
    out["mle"] = {"params": {k: v.clone() for k, v in g.state_dict().items()}, "loss": loss}
    # D: 8 real and 8 fake, all in one minibatch of 16 (a rank: 4 real of its block, its 4 negatives)
    torch.manual_seed(0)
    d = Discriminator(V, T, emb_dim=4, filter_sizes=(1, 2), num_filters=(3, 3), dropout_keep=1.0, l2_reg=0.2)
    fake = distributed.shard(fixed(8, 4))  # this rank's negatives
    loss = train_discriminator(d, torch.optim.SGD(d.parameters(), lr=0.5), fixed(8, 3), fake, 1, 16, False)
    out["d"] = {"params": {k: v.clone() for k, v in d.state_dict().items()}, "loss": loss}
    # policy gradient: 8 fixed samples (a rank: its 4), rewarded by their first token
    torch.manual_seed(0)
    g = Generator(V, T, emb_dim=4, hidden_dim=4)
    samples = fixed(8, 5)

    def sample(num: int) -> torch.Tensor:
        assert num == 8 // distributed.world_size(), num
        return distributed.shard(samples)

    g.sample = sample
    rollout = RolloutPolicy(g, 0.0)
    reward = policy_gradient_step(
        g, torch.optim.SGD(g.parameters(), lr=0.5), monte_carlo(rollout, first_token_reward, 2), 8, NO_CLIP
    )
    out["pg"] = {"params": {k: v.clone() for k, v in g.state_dict().items()}, "reward": reward}
    return out


def replication_check() -> str:
    """assert_replicated on equal weights, then on weights that differ on rank 1 by one ulp; returns
    the second check's message ('' if it passed)."""
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 2)
    distributed.assert_replicated({"linear": m})
    if distributed.rank() == 1:
        with torch.no_grad():
            m.weight[0, 0] = torch.nextafter(m.weight[0, 0], torch.tensor(1.0))
    try:
        distributed.assert_replicated({"linear": m})
    except AssertionError as e:
        return str(e)
    return ""


if __name__ == "__main__":
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo")
    try:
        torch.save(
            steps() | {"replication_check": replication_check()}, Path(sys.argv[1]) / f"rank{distributed.rank()}.pt"
        )
        torch.distributed.barrier()  # leave together: none tears gloo down under another's collective
    finally:
        distributed.shutdown()
    distributed.end_process(0)  # DDP kept gloo's threads alive: the interpreter's teardown could abort us
