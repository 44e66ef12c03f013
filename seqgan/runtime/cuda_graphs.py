"""A training step captured as CUDA graphs, as PyTorch's CUDA Graphs notes capture a whole network:
eager warm-up on a side stream, everything the warm-up changed put back, ``Adam(capturable=True)``,
then one graph per minibatch size. D's epochs (``d_graph.py``) and G's MLE epochs (``g_graph.py``)
capture their steps here."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


def epoch_plan(num_rows: int, batch_size: int, device: torch.device) -> list[tuple[torch.Tensor, int]]:
    """An epoch's minibatches as (the places of a minibatch's rows after the epoch's offset, steps
    an epoch): the full minibatches, then the short last one, if any."""
    full_steps, last = divmod(num_rows, batch_size)
    return [(torch.arange(n, device=device), k) for n, k in ((batch_size, full_steps), (last, 1)) if n and k]


def state_addresses(params: Iterable[torch.nn.Parameter], optimizer: torch.optim.Optimizer) -> list[int]:
    """Addresses of what a graph reads and writes outside its own pool: the weights and the optimiser
    state. When one changes (a resumed optimiser, new weights), the graphs must be captured again."""
    params = list(params)
    state = [t for p in params for t in optimizer.state.get(p, {}).values() if torch.is_tensor(t)]
    return [t.data_ptr() for t in [*params, *state]]


def capture_step_graphs(
    params: Iterable[torch.nn.Parameter],
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    sizes: list[torch.Tensor],
    step: Callable[[torch.Tensor], None],
    reset: Callable[[], None],
    warmup: int = 3,
) -> list:
    """One CUDA graph of ``step(rows)`` for each ``rows`` in ``sizes`` (the minibatch row indices of
    each size), after ``warmup`` eager steps of each that change nothing saved: the weights
    ``params``, the optimiser's moments and count and the RNG states are put back. ``reset()``
    rewinds the step's own counters (its offset into the epoch) before each warm-up step and capture.
    """
    params = list(params)
    saved_params = [p.detach().clone() for p in params]
    saved_state = {
        p: {k: v.clone() if torch.is_tensor(v) else v for k, v in optimizer.state[p].items()}
        for p in params
        if p in optimizer.state
    }
    rng = torch.get_rng_state(), torch.cuda.get_rng_state(device)
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for rows in sizes:
            for _ in range(warmup):
                reset()
                step(rows)
    torch.cuda.current_stream(device).wait_stream(side)
    # the warm-up changed nothing that is saved: weights, Adam's moments and count, RNG
    with torch.no_grad():
        for p, saved in zip(params, saved_params):
            p.copy_(saved)
        for p in params:
            if p not in optimizer.state:
                continue
            for k, v in optimizer.state[p].items():
                if not torch.is_tensor(v):
                    continue
                if p in saved_state:
                    v.copy_(saved_state[p][k])
                else:  # a fresh Adam: zero moments, count 0, as its first step would create them
                    v.zero_()
    torch.set_rng_state(rng[0])
    torch.cuda.set_rng_state(rng[1], device)
    for group in optimizer.param_groups:  # Adam refuses a capture otherwise (its fused kernel is capturable)
        group["capturable"] = True
    graphs = []
    for rows in sizes:
        graph = torch.cuda.CUDAGraph()
        reset()
        optimizer.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            step(rows)
        graphs.append(graph)
    return graphs
