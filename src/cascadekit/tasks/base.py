"""The Task protocol: what is observed, what is predicted, on which split, scored how.

A task is written once and shared by every model that does it, so all of them are trained and
scored on exactly the same data. A `Task`:

* builds its inputs from a bundle (`build`: the split, windows or instances; every drop counted in
  ``split.info``), from its *split options* (recorded in ``run.json`` at training, so evaluation
  rebuilds the identical split; tasks that share a split kind share the options class);
* declares the model protocol it evaluates (``protocols``: any one suffices) and its selection
  metric with its direction (``monitor``), with a cheap ``validator`` for training;
* evaluates any model implementing the protocol (`evaluate`) with its *evaluation options*,
  each default defined once, in its ``Options`` dataclass.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar

from cascadekit.data.bundle import DatasetBundle
from cascadekit.data.splits import Split
from cascadekit.errors import CascadeKitError
from cascadekit.models.base import network_of
from cascadekit.options import build
from cascadekit.training import Monitor


class Task:
    name: ClassVar[str]
    summary: ClassVar[str]
    split_options: ClassVar[type]  # dataclass of the options that make the split
    Options: ClassVar[type]  # dataclass of the evaluation options
    protocols: ClassVar[tuple[type, ...]]
    monitor: ClassVar[Monitor | None]  # None: no per-epoch selection (non-neural family)

    def __init__(
        self, split: dict[str, Any] | None = None, options: dict[str, Any] | None = None
    ) -> None:
        self.split = build(self.split_options, dict(split or {}), f"{self.name} split")
        self.options = build(self.Options, dict(options or {}), f"{self.name} task")

    def split_record(self) -> dict[str, Any]:
        """The split options as ``run.json`` stores them."""
        return asdict(self.split)

    def build(self, bundle: DatasetBundle, seed: int) -> Split:
        raise NotImplementedError

    def validator(self) -> Any:
        """``(network, valid) -> metrics`` containing ``monitor[0]``, or None (the model's own)."""
        return None

    def selection(self, model: Any) -> tuple[Any, Monitor | None]:
        """(validator, monitor) that select ``model``'s epoch when it trains for this task: the
        task's own by default; a task whose models differ in what they predict picks per model."""
        return self.validator(), self.monitor

    def supports(self, model: Any) -> bool:
        """Whether ``model`` (an estimator or a bare network) implements one of ``protocols``."""
        net = network_of(model)
        return any(isinstance(net, p) for p in self.protocols)

    def check(self, model: Any) -> Any:
        """The object to evaluate (`models.base.network_of`); an error if it cannot do this task."""
        if not self.supports(model):
            names = " or ".join(p.__name__ for p in self.protocols)
            raise CascadeKitError(
                f"{type(model).__name__} cannot be evaluated on {self.name}: it does not "
                f"implement {names}"
            )
        return network_of(model)

    def evaluate(
        self, model: Any, split: Split, *, seed: int = 0, progress: bool = False
    ) -> dict[str, Any]:
        raise NotImplementedError
