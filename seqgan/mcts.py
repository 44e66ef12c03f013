"""Tree-search rewards, biased upward on purpose: Q is the value of a better continuation than G_beta's own.

For every proper prefix Y_1:t of a sample, a search tree grows below the node Y_1:t (the child y_t
of Y_1:t-1), and Q(Y_1:t-1, y_t) is that node's value after ``budget`` simulations. It spends the
same D evaluations as the paper's Monte Carlo estimate with N = ``budget``: one D evaluation a
simulation, N x (T-1) a sample, plus D(Y_1:T) at t = T.

One simulation (AlphaGo Zero's search, Silver et al. 2017, with its PUCT rule from Rosin 2011):

* select from the node down: a = argmax Q(s, a) + c_puct P(a | s) sqrt(N(s)) / (1 + N(s, a)), where
  P is the roll-out policy G_beta's probability of the token, N visit counts, and an unvisited
  child's Q is its parent's current value (first-play value); until an unvisited child, an
  unvisited node or a finished sequence;
* expand: the new node's state and priors from G_beta;
* evaluate: D of one completion of the node's prefix by G_beta (a finished sequence is its own
  completion);
* back up: every node on the path adds the value to its sum and one to its visits, so a node's
  value is the visit-weighted mean of its children's values and its own first evaluation.

As visits concentrate on good continuations the mean moves from G_beta's expected reward (the
paper's Q, which the first simulation alone estimates) toward the best continuation's reward: the
estimate is biased upward against the paper's Q by design, and ``seqgan experiment rewards`` measures
by how much. At most ``budget`` children of a node can ever be visited, so each node keeps only its
``budget`` most probable tokens (the unvisited child PUCT considers is always the most probable one
not yet expanded).

Shapes: B batch, T length, H hidden, N budget, R = (T-1) * B trees, M nodes (at most R * N).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .rollout import RolloutPolicy

Scorer = Callable[[torch.Tensor], torch.Tensor]  # (M, T) token ids -> (M,) rewards in [0, 1]


@torch.no_grad()
def mcts_rewards(
    rollout_policy: RolloutPolicy,
    scorer: Scorer,
    samples: torch.Tensor,
    budget: int,
    c_puct: float = 1.0,
) -> torch.Tensor:
    """Rewards (B, T) for ``samples`` (B, T): the search value of every prefix's node, D(Y_1:T) at T.

    Args:
        rollout_policy: G_beta, the priors and the completions.
        scorer: D's probability of real (or any reward of whole sequences).
        samples: (B, T) token ids.
        budget: D evaluations (simulations) per prefix, N >= 1.
        c_puct: weight of the prior term.
    Returns:
        (B, T) float rewards; [b, t-1] belongs to token y_t.
    """
    if budget < 1:
        raise ValueError(f"the tree search needs a budget of at least one completion, got {budget}")
    g = rollout_policy.policy
    g.eval()
    device = samples.device
    b, t_len = samples.shape
    trees = (t_len - 1) * b
    capacity = trees * budget
    top_k = min(budget, g.vocab_size)

    # node storage: prefix rows (padded past their length), LSTM state, and python-side statistics
    prefix = torch.zeros(capacity, t_len, dtype=torch.long, device=device)  # (M, T)
    length = [0] * capacity
    hidden_dim = g.lstm.hidden_size
    h_store = torch.zeros(capacity, hidden_dim, device=device)  # (M, H)
    c_store = torch.zeros(capacity, hidden_dim, device=device)
    visits, value_sum = [0] * capacity, [0.0] * capacity
    children: list[list[int]] = [[] for _ in range(capacity)]  # in prior order: child k is the k-th most probable token
    priors: list[tuple[list[int], list[float]] | None] = [None] * capacity
    terminal = [False] * capacity

    def finished(row: torch.Tensor, n: int) -> bool:
        return length[n] == t_len or (g.eos_token is not None and bool((row[: length[n]] == g.eos_token).any()))

    def set_priors(nodes: list[int]) -> None:
        open_nodes = [n for n in nodes if not terminal[n]]
        if not open_nodes:
            return
        index = torch.tensor(open_nodes, device=device)
        probs = torch.softmax(g.out(h_store[index]).float(), dim=1)  # (n, V)
        top_p, top_tok = probs.topk(top_k, dim=1)
        for n, toks, ps in zip(open_nodes, top_tok.tolist(), top_p.tolist()):
            priors[n] = (toks, ps)

    # the roots: prefixes Y_1:t, t = 1..T-1, tree r = (t-1) * B + b, states from one teacher-forced pass
    tokens = torch.full((b,), g.start_token, dtype=torch.long, device=device)
    _, state = g.step(tokens, None)
    for t in range(1, t_len):
        _, state = g.step(samples[:, t - 1], state)
        rows = slice((t - 1) * b, t * b)
        h_store[rows], c_store[rows] = state[0][0], state[1][0]
        prefix[rows, :t] = samples[:, :t]
    for n in range(trees):
        length[n] = n // b + 1
        terminal[n] = finished(prefix[n], n)
    set_priors(list(range(trees)))
    used = trees

    for _ in range(budget):
        paths, new_nodes = [], []
        for root in range(trees):
            n, path = root, [root]
            while visits[n] > 0 and not terminal[n]:
                toks, ps = priors[n]
                sqrt_n = math.sqrt(visits[n])
                kids = children[n]
                best, best_score = -1, -math.inf
                for k, child in enumerate(kids):
                    score = value_sum[child] / visits[child] + c_puct * ps[k] * sqrt_n / (1 + visits[child])
                    if score > best_score:
                        best, best_score = child, score
                k = len(kids)
                if k < len(toks) and value_sum[n] / visits[n] + c_puct * ps[k] * sqrt_n > best_score:
                    best = used  # expand the most probable unexpanded token
                    used += 1
                    assert used <= capacity, (used, capacity)
                    kids.append(best)
                    length[best] = length[n] + 1
                    new_nodes.append((best, n, toks[k]))
                    path.append(best)
                    break
                n = best
                path.append(n)
            paths.append(path)
        if new_nodes:  # expand: state after reading the new token, then the node's priors
            index = torch.tensor([m for m, _, _ in new_nodes], device=device)
            parents = torch.tensor([p for _, p, _ in new_nodes], device=device)
            toks = torch.tensor([tok for _, _, tok in new_nodes], device=device)
            rows = prefix[parents]
            rows[
                torch.arange(len(new_nodes), device=device),
                torch.tensor([length[p] for _, p, _ in new_nodes], device=device),
            ] = toks
            prefix[index] = rows
            _, (h, c) = g.step(toks, (h_store[parents].unsqueeze(0), c_store[parents].unsqueeze(0)))
            h_store[index], c_store[index] = h[0], c[0]
            for m, _, tok in new_nodes:
                terminal[m] = length[m] == t_len or tok == g.eos_token  # an open parent holds no end token
            set_priors([m for m, _, _ in new_nodes])
        # evaluate: one completion of every leaf by G_beta, scored by D
        leaves = [path[-1] for path in paths]
        values = _complete_and_score(g, scorer, prefix, h_store, c_store, leaves, [length[n] for n in leaves]).tolist()
        # back up: visit-weighted means along each path
        for path, value in zip(paths, values, strict=True):
            for n in path:
                visits[n] += 1
                value_sum[n] += value
    q_prefix = (
        torch.tensor([value_sum[r] / visits[r] for r in range(trees)], device=device).view(t_len - 1, b).t()
    )  # (B, T-1)
    q_last = scorer(samples).float().unsqueeze(1)  # (B, 1)
    return torch.cat([q_prefix, q_last.to(q_prefix.dtype)], dim=1)


def _complete_and_score(
    g,
    scorer: Scorer,
    prefix: torch.Tensor,
    h_store: torch.Tensor,
    c_store: torch.Tensor,
    leaves: list[int],
    lengths: list[int],
) -> torch.Tensor:
    """D of one completion by ``g`` of each leaf's prefix (its state is the one after reading the prefix)."""
    device = prefix.device
    t_len = prefix.shape[1]
    index = torch.tensor(leaves, device=device)
    seqs = prefix[index].clone()  # (L, T)
    lengths_t = torch.tensor(lengths, device=device)
    h, c = h_store[index].clone(), c_store[index].clone()  # (L, H)
    for s in range(min(lengths), t_len):  # fill column s of the rows whose prefix is at most s long
        active = (lengths_t <= s).nonzero().squeeze(1)
        if len(active) == 0:
            continue
        tokens = g.sample_next(h[active])
        seqs[active, s] = tokens
        if s < t_len - 1:
            _, (h_new, c_new) = g.step(tokens, (h[active].unsqueeze(0), c[active].unsqueeze(0)))
            h[active], c[active] = h_new[0], c_new[0]
    return scorer(g.pad_after_end(seqs)).float()
