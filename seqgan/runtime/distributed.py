"""One run over several processes, GPUs or machines: torchrun, the process group and DDP.

PyTorch's own engine does the work; this module is the plumbing the recipe calls:

- ``torchrun`` starts P processes and gives each RANK, LOCAL_RANK, WORLD_SIZE and the rendezvous
  address (https://pytorch.org/docs/stable/elastic/run.html). ``launched()`` reads RANK once, as
  nanoGPT's ``train.py`` does (``ddp = int(os.environ.get("RANK", -1)) != -1``).
- ``torch.distributed.init_process_group`` joins them, gloo on CPU and NCCL on CUDA, with a timeout
  on every collective (https://pytorch.org/docs/stable/distributed.html).
- ``DistributedDataParallel`` keeps a model equal on every rank by averaging gradients in backward
  (https://pytorch.org/docs/stable/generated/torch.nn.parallel.DistributedDataParallel.html and
  the "Getting Started with Distributed Data Parallel" tutorial). DDP averages what ran through its
  forward; the models' losses are methods (``Generator.mle_loss``, ``pg_loss``, ``Discriminator.loss``),
  so ``Replica`` runs them by name through that forward.

Each rank takes 1/P of every global batch (``share``, ``shard``), has its own random stream derived
from the seed and its rank (``rank_seed``), and rank 0 alone writes. Without torchrun every function
here is the identity (``share(n) == n``, ``shard(x) is x``, ``replicate(m) is m``), so a single
process computes exactly what it computed before this module existed.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import sys
import weakref
from typing import NoReturn

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

BACKENDS = {"cpu": "gloo", "cuda": "nccl"}  # the backend each device type needs


class RankLost(RuntimeError):
    """A collective failed: another rank stopped, crashed or did not answer within the timeout."""


def launched() -> bool:
    """Whether this process is one rank of a torchrun launch (decided once, from RANK)."""
    return int(os.environ.get("RANK", -1)) != -1


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else int(os.environ.get("RANK", 0))


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_master() -> bool:
    """Rank 0, the one process that writes logs, checkpoints, samples and plots."""
    return rank() == 0


def rank_seed(seed: int, rank: int, *more: int) -> int:
    """The seed of one rank's random stream: independent streams from (seed, rank, ...) (numpy SeedSequence)."""
    return int(np.random.SeedSequence([seed, rank, *more]).generate_state(1)[0])


def backend_for(device: torch.device, requested: str) -> str:
    """The process-group backend for ``device``: gloo on CPU, NCCL on CUDA; raise ValueError when the
    requested one does not fit the device or this torch build lacks it."""
    needed = BACKENDS[device.type]
    backend = needed if requested == "auto" else requested
    if backend != needed:
        raise ValueError(f"key 'dist_backend': {backend!r} does not fit device '{device}' (use {needed!r} or 'auto')")
    if not dist.is_available() or not dist.is_backend_available(backend):
        raise ValueError(f"key 'dist_backend': this torch build ({torch.__version__}) has no {backend!r} backend")
    return backend


def launched_world_size() -> int:
    """The number of processes torchrun started (WORLD_SIZE), before the process group exists."""
    return int(os.environ.get("WORLD_SIZE", 1))


def setup(device: torch.device, backend: str, timeout_s: float) -> torch.device:
    """Join the process group that torchrun described in the environment; returns this rank's device
    ('cuda' becomes cuda:LOCAL_RANK, one GPU a process)."""
    backend = backend_for(device, backend)
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", 0))
        if device.index is not None and int(os.environ.get("LOCAL_WORLD_SIZE", 1)) > 1:
            raise ValueError(
                f"key 'device': under torchrun say 'cuda', not '{device}': each process takes cuda:LOCAL_RANK"
            )
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return device


def shutdown() -> None:
    _replicas.clear()
    if dist.is_initialized():
        dist.destroy_process_group()


def end_process(code: int) -> NoReturn:
    """End this torchrun worker now with exit status ``code``, without the interpreter's teardown; call it
    after ``shutdown()``, when the run's work is done.

    Why: a DDP model keeps the gloo process group, and its threads, alive past ``destroy_process_group``
    (torch 2.13: a rank still has 4 threads after ``shutdown()``, against 1 without DDP). The
    interpreter's exit then tears them down in an order that now and then aborts a rank ("terminate
    called without an active exception", SIGABRT) after its run has finished, and torchrun reports the
    run as failed (once in CI; how often: docs/distributed.md, ``bench/bench_ddp_exit.py``).
    ``os._exit`` skips that teardown. Nothing is lost:
    every file this package writes is closed by then (``with`` blocks; the tensorboard writer in
    ``_train``'s ``finally``), and stdout, stderr and logging are flushed here.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more can reach it
            pass
    os._exit(code)


def lost(error: RuntimeError, timeout_s: float) -> RankLost:
    """A one-line RankLost for a failed collective, naming this rank."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return RankLost(
        f"rank {rank()}: stopped because another rank failed, stopped or did not answer within {timeout_s:g} s "
        f"(see the other ranks' errors): {first[:200]}"
    )


def is_collective_failure(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, dist.DistError) or any(
        s in text for s in ("gloo", "NCCL", "Connection closed by peer", "Timed out")
    )


# -- each rank's part of the work -----------------------------------------------------------------


def share(n: int) -> int:
    """This rank's part of a global count ``n`` (all of it in one process)."""
    p = world_size()
    assert n % p == 0, f"{n} does not divide by the world size {p}"
    return n // p


def shard(x: torch.Tensor, even: bool = False) -> torch.Tensor:
    """This rank's disjoint, contiguous block of the rows of ``x`` (all of them in one process).

    Blocks differ by at most one row; ``even`` drops the last len(x) % P rows so that all are equal.
    """
    p = world_size()
    if p == 1:
        return x
    if even:
        x = x[: len(x) // p * p]
    return x.tensor_split(p)[rank()]


def row_weight(rows: int, batch_rows: int):
    """Weight of a shard's mean loss so that DDP's mean over ranks is the batch's mean over rows:
    rows * P / batch_rows (1 when the shards are even, and in one process)."""
    p = world_size()
    return 1 if p == 1 else rows * p / batch_rows


def same_on_all_ranks(x: torch.Tensor) -> torch.Tensor:
    """Rank 0's ``x`` on every rank (a shared shuffle order); ``x`` itself in one process."""
    if world_size() > 1:
        dist.broadcast(x, src=0)
    return x


def mean(x: torch.Tensor) -> float:
    """The mean over ranks of a scalar tensor, as a float (``x.item()`` in one process)."""
    if world_size() > 1:
        x = x.detach().clone()
        dist.all_reduce(x)
        x /= world_size()
    return x.item()


def gather(x: torch.Tensor) -> torch.Tensor:
    """Every rank's ``x`` (equal shapes), concatenated along dim 0 in rank order."""
    p = world_size()
    if p == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(p)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def any_rank(flag: bool) -> bool:
    """Whether ``flag`` is true on any rank, so that all ranks take the same branch (stop requests)."""
    if world_size() == 1:
        return flag
    t = torch.tensor([int(flag)], device=_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def from_master(obj):
    """Rank 0's ``obj`` (anything picklable) on every rank."""
    if world_size() == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier() -> None:
    """Wait for every rank, e.g. for rank 0's checkpoint write to finish."""
    if world_size() > 1:
        dist.barrier()


def all_ranks(state: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's ``state`` (a random state, the same shape everywhere), on the CPU, in rank order."""
    parts = gather(state.to(_device()).unsqueeze(0)) if world_size() > 1 else state.unsqueeze(0)
    return [s.cpu().clone() for s in parts]  # clones: set_rng_state wants a tensor of its own


def assert_replicated(modules: dict[str, nn.Module]) -> None:
    """Check that each module's weights are bitwise the same on every rank (roll-out policy,
    baseline rows): a fingerprint of each is gathered and compared with rank 0's."""
    if world_size() == 1:
        return
    prints = torch.tensor([_fingerprint(m) for m in modules.values()], dtype=torch.int64, device=_device())
    table = gather(prints.unsqueeze(0))  # (P, modules)
    for r in range(1, len(table)):
        for i, name in enumerate(modules):
            assert table[r, i] == table[0, i], f"{name}: weights on rank {r} differ from rank 0's"


def _fingerprint(module: nn.Module) -> int:
    h = hashlib.sha256()
    for p in module.state_dict().values():
        h.update(p.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
    return int.from_bytes(h.digest()[:8], "little", signed=True)


def _device() -> torch.device:
    """Where collectives run: NCCL needs CUDA tensors, gloo takes CPU ones."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


# -- DDP over models whose losses are methods ------------------------------------------------------


class _Losses(nn.Module):
    """DDP's forward calls this forward, which calls one method of the model by name."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, method: str, *args, **kwargs):
        return getattr(self.model, method)(*args, **kwargs)


class Replica(DistributedDataParallel):
    """A model kept equal on every rank by DDP. The training helpers call the same methods on a
    Replica as on the model: the losses run through DDP's forward (so backward averages their
    gradients over ranks), sampling runs on the model itself."""

    def __init__(self, model: nn.Module):
        device = next(model.parameters()).device
        super().__init__(
            _Losses(model),
            device_ids=[device.index] if device.type == "cuda" else None,
        )

    @property
    def raw(self) -> nn.Module:
        return self.module.model

    def mle_loss(self, *args, **kwargs):
        return self("mle_loss", *args, **kwargs)

    def scheduled_sampling_loss(self, *args, **kwargs):
        return self("scheduled_sampling_loss", *args, **kwargs)

    def pg_loss(self, *args, **kwargs):
        return self("pg_loss", *args, **kwargs)

    def loss(self, *args, **kwargs):
        return self("loss", *args, **kwargs)

    def sample(self, *args, **kwargs):
        return self.raw.sample(*args, **kwargs)


_replicas: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> its Replica, built once


def replicate(model: nn.Module) -> nn.Module:
    """The model's Replica under torchrun (built on first use, on every rank in the same order, as DDP
    asks), the model itself in one process."""
    if world_size() == 1:
        return model
    if model not in _replicas:
        _replicas[model] = Replica(model)
    return _replicas[model]
