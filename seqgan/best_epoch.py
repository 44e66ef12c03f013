"""Pre-training that keeps its best epoch: model selection on a validation split, with a patience.

MLE pre-training on a small real corpus overfits: held-out NLL falls for a few epochs, then rises
while the training loss keeps falling. The paper pre-trains for a fixed number of epochs; here,
with ``train.pretrain_keep`` 'best', each pre-training evaluation measures NLL on a validation
split held out of the training data (not the test split, which the final table reports), and
adversarial training starts from the evaluation of lowest validation NLL, G's weights and its
Adam state as they were there (early stopping as in Prechelt, "Early stopping - but when?", 1998).

``BestEpoch`` is that bookkeeping; the recipe calls ``see`` after each evaluation and ``restore``
when pre-training ends, and a checkpoint holds its ``state_dict``.
"""

from __future__ import annotations

import copy
import math

import torch

from .generator import Generator


class BestEpoch:
    """The pre-training evaluation of lowest validation NLL so far: its epoch, its NLL, and G's
    weights and optimiser state there; and how many evaluations since have not beaten it.

    Args:
        patience: end pre-training after this many evaluations without a new lowest NLL; 0 never.
        warn_after: warn once validation NLL has stayed above its lowest for this many evaluations.
    """

    def __init__(self, patience: int, warn_after: int):
        assert patience >= 0 and warn_after >= 1, f"patience {patience} and warn_after {warn_after}"
        self.patience, self.warn_after = patience, warn_after
        self.epoch: int | None = None  # the best evaluation's epoch
        self.nll = math.inf  # its validation NLL
        self.weights: dict | None = None  # G's state dict there
        self.optimizer: dict | None = None  # G's Adam state there
        self.since = 0  # evaluations since, none lower
        self.last_epoch: int | None = None  # the last evaluation's epoch
        self.last_nll: float | None = None  # and its validation NLL

    def see(self, epoch: int, nll_valid: float, generator: Generator, optimizer: torch.optim.Optimizer) -> str | None:
        """Record one evaluation; keep G's weights and optimiser state if it is the lowest so far.

        Returns:
            A one-line warning when validation NLL has now stayed above its lowest for ``warn_after``
            evaluations in a row (once a stretch), else None.
        """
        self.last_epoch, self.last_nll = epoch, nll_valid
        if nll_valid < self.nll:
            self.epoch, self.nll, self.since = epoch, nll_valid, 0
            self.weights = {k: v.detach().clone() for k, v in generator.state_dict().items()}
            self.optimizer = copy.deepcopy(optimizer.state_dict())
            return None
        self.since += 1
        if self.since != self.warn_after:
            return None
        return (
            f"validation NLL has risen for {self.since} evaluations: {nll_valid:.4f} at epoch {epoch}, "
            f"lowest {self.nll:.4f} at epoch {self.epoch}; adversarial training will start from epoch {self.epoch}"
            + (f" (pre-training stops after {self.patience})" if self.patience else "")
        )

    @property
    def patience_spent(self) -> bool:
        """Whether pre-training should end here: ``patience`` evaluations without a new lowest NLL."""
        return self.patience > 0 and self.since >= self.patience

    def restore(self, generator: Generator, optimizer: torch.optim.Optimizer) -> None:
        """Put the best evaluation's weights and optimiser state back into ``generator`` and ``optimizer``."""
        assert self.weights is not None, "no evaluation seen: nothing to restore"
        generator.load_state_dict(self.weights)
        optimizer.load_state_dict(copy.deepcopy(self.optimizer))

    def summary(self) -> dict:
        """What results.json says of it: the epoch kept, its NLL, and the last evaluation's."""
        return {
            "kept_epoch": self.epoch,
            "nll_valid": self.nll if self.epoch is not None else None,
            "last_epoch": self.last_epoch,
            "last_nll_valid": self.last_nll,
            "stopped_early": self.patience_spent,
        }

    def state_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "nll": self.nll,
            "weights": self.weights,
            "optimizer": self.optimizer,
            "since": self.since,
            "last_epoch": self.last_epoch,
            "last_nll": self.last_nll,
        }

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.nll, self.since = state["epoch"], state["nll"], state["since"]
        self.weights, self.optimizer = state["weights"], state["optimizer"]
        self.last_epoch, self.last_nll = state["last_epoch"], state["last_nll"]
