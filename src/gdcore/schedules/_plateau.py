"""ReduceLROnPlateau: lower an optimizer's learning rates when a metric stalls
(torch.optim.lr_scheduler.ReduceLROnPlateau's semantics and state_dict)."""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any, Dict, List, Sequence, Union

import numpy as np

__all__ = ["ReduceLROnPlateau"]

_STATE_KEYS = (
    "factor",
    "default_min_lr",
    "min_lrs",
    "patience",
    "cooldown",
    "eps",
    "last_epoch",
    "_last_lr",
    "mode_worse",
    "mode",
    "threshold",
    "threshold_mode",
    "best",
    "cooldown_counter",
    "num_bad_epochs",
)


def _real(name: str, value: Any, *, low: float | None = None) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"ReduceLROnPlateau: {name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"ReduceLROnPlateau: {name} must be finite, got {v}")
    if low is not None and v < low:
        raise ValueError(f"ReduceLROnPlateau: {name} must be >= {low:g}, got {v!r}")
    return v


def _count(name: str, value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"ReduceLROnPlateau: {name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"ReduceLROnPlateau: {name} must be >= 0, got {value}")
    return int(value)


def _group_lrs(optimizer: Any) -> List[float]:
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise TypeError(
            "ReduceLROnPlateau: optimizer must have param_groups, a list of dicts with an 'lr', "
            f"got {type(optimizer).__name__}"
        )
    lrs = []
    for i, g in enumerate(groups):
        lr = g["lr"]
        if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real):
            raise TypeError(
                f"ReduceLROnPlateau: param group {i} has lr={lr!r}; it changes float learning "
                "rates, not schedules (to scale a schedule, multiply it: 0.1 * schedule)"
            )
        lrs.append(float(lr))
    return lrs


class ReduceLROnPlateau:
    r"""Reduce the learning rates when a metric has stopped improving
    (``torch.optim.lr_scheduler.ReduceLROnPlateau``).

    Call :meth:`step` with the monitored metric once per epoch.  A metric
    :math:`m` improves on the best so far :math:`b` when

    ======  =============================  =====================
    mode    ``threshold_mode="rel"``       ``threshold_mode="abs"``
    ======  =============================  =====================
    min     :math:`m < b\,(1 - \theta)`    :math:`m < b - \theta`
    max     :math:`m > b\,(1 + \theta)`    :math:`m > b + \theta`
    ======  =============================  =====================

    Each epoch without improvement counts as bad (epochs during a cooldown
    do not).  When more than ``patience`` bad epochs have accumulated, each
    param group's rate becomes :math:`\max(\eta\,\phi, \eta_{\min})` -- kept
    only if it lowers the rate by more than ``eps`` -- the bad-epoch count
    restarts and a cooldown of ``cooldown`` epochs begins.

    Args:
      optimizer: a gdcore optimizer (anything with ``param_groups``, a list
        of dicts whose ``"lr"`` is a float); its ``group["lr"]`` values are
        changed in place, as torch does.
      mode: ``"min"`` (the metric should decrease) or ``"max"``.
      factor: :math:`\phi`, in [0, 1). Default 0.1.
      patience: bad epochs tolerated before reducing (int >= 0). Default 10.
      threshold: :math:`\theta` (>= 0). Default 1e-4.
      threshold_mode: ``"rel"`` or ``"abs"`` (table above). Default ``"rel"``.
      cooldown: epochs to wait after a reduction before counting bad
        epochs again (int >= 0). Default 0.
      min_lr: :math:`\eta_{\min}`: a float, or one per param group. Default 0.
      eps: minimal change of the rate; a smaller reduction is skipped.
        Default 1e-8.

    Attributes (torch's names): ``best``, ``num_bad_epochs``,
    ``cooldown_counter``, ``last_epoch`` (number of :meth:`step` calls),
    ``min_lrs``.

    Example:
      >>> import numpy as np, gdcore.optim
      >>> from gdcore.schedules import ReduceLROnPlateau
      >>> opt = gdcore.optim.SGD([np.zeros(2)], lr=1.0)
      >>> sched = ReduceLROnPlateau(opt, factor=0.5, patience=1)
      >>> for loss in [3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]:
      ...     sched.step(loss)
      >>> sched.get_last_lr()
      [0.25]

    Reference: torch's ``ReduceLROnPlateau`` (same update, same
    ``state_dict`` keys: a state_dict saved from torch's scheduler loads here).

    Warning: a param group whose ``lr`` is a schedule is a TypeError; scale
    the schedule instead (``0.1 * cosine(...)``).
    """

    def __init__(
        self,
        optimizer: Any,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: Union[float, Sequence[float]] = 0,
        eps: float = 1e-8,
    ) -> None:
        lrs = _group_lrs(optimizer)
        factor = _real("factor", factor, low=0.0)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor!r}")
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(lrs):
                raise ValueError(
                    f"ReduceLROnPlateau: min_lr has {len(min_lr)} entries, the optimizer has "
                    f"{len(lrs)} param groups"
                )
            default_min_lr = None
            min_lrs = [_real(f"min_lr[{i}]", v, low=0.0) for i, v in enumerate(min_lr)]
        else:
            default_min_lr = _real("min_lr", min_lr, low=0.0)
            min_lrs = [default_min_lr] * len(lrs)
        self.optimizer = optimizer
        self.factor = factor
        self.default_min_lr = default_min_lr
        self.min_lrs = min_lrs
        self.patience = _count("patience", patience)
        self.cooldown = _count("cooldown", cooldown)
        self.eps = _real("eps", eps, low=0.0)
        self.last_epoch = 0
        self._last_lr = lrs
        self._init_is_better(mode, _real("threshold", threshold, low=0.0), threshold_mode)
        self._reset()

    # ----------------------------------------------------------- internals
    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    @property
    def in_cooldown(self) -> bool:
        """Whether a cooldown is running (bad epochs are not counted)."""
        return self.cooldown_counter > 0

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups, "
                    f"min_lr was given for {len(self.min_lrs)}; set min_lrs to one per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        old = _group_lrs(self.optimizer)
        for group, old_lr, min_lr in zip(groups, old, self.min_lrs):
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    # --------------------------------------------------------------- public
    def step(self, metrics: Any) -> None:
        """Record one epoch's metric (a number, or anything ``float()``
        accepts) and reduce the rates if it has stalled."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(
                f"ReduceLROnPlateau.step: metrics must be a number, got {type(metrics).__name__}"
            ) from None
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during a cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_lrs(self.optimizer)

    def get_last_lr(self) -> List[float]:
        """The param groups' learning rates after the last :meth:`step`."""
        return list(self._last_lr)

    def state_dict(self) -> Dict[str, Any]:
        """The scheduler's state (torch's keys: everything but the optimizer)."""
        return {key: copy.deepcopy(getattr(self, key)) for key in _STATE_KEYS}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (or from torch's scheduler's).
        Everything is checked first; a bad dict is a ValueError that leaves
        the scheduler unchanged."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        missing = [k for k in _STATE_KEYS if k not in state_dict]
        unknown = sorted(set(state_dict) - set(_STATE_KEYS))
        if missing or unknown:
            raise ValueError(
                f"ReduceLROnPlateau.load_state_dict: missing keys {missing}, unknown keys {unknown}"
            )
        s = dict(state_dict)
        if s["mode"] not in ("min", "max"):
            raise ValueError(f"state_dict: mode must be 'min' or 'max', got {s['mode']!r}")
        if s["threshold_mode"] not in ("rel", "abs"):
            raise ValueError(
                f"state_dict: threshold_mode must be 'rel' or 'abs', got {s['threshold_mode']!r}"
            )
        if not isinstance(s["min_lrs"], (list, tuple)):
            raise ValueError("state_dict: min_lrs must be a list")
        for key in ("patience", "cooldown", "last_epoch", "cooldown_counter", "num_bad_epochs"):
            v = s[key]
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                raise ValueError(f"state_dict: {key} must be an int >= 0, got {v!r}")
        for key in _STATE_KEYS:
            setattr(self, key, copy.deepcopy(s[key]))
        self.min_lrs = list(self.min_lrs)
        self._last_lr = list(self._last_lr)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor!r}, "
            f"patience={self.patience!r}, threshold={self.threshold!r}, "
            f"threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown!r}, "
            f"min_lr={self.min_lrs if self.default_min_lr is None else self.default_min_lr!r}, "
            f"eps={self.eps!r}, best={self.best!r}, num_bad_epochs={self.num_bad_epochs!r})"
        )
