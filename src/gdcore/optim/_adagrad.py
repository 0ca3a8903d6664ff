"""Adagrad."""

from __future__ import annotations

import numbers
from typing import Any, Dict, Optional, Tuple

import numpy as np

from ._optimizer import LR, Optimizer, ParamsT

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (``torch.optim.Adagrad``'s dense algorithm, names, defaults, state).

    .. math::
        g \leftarrow \pm g + \lambda p, \quad
        \tilde\eta = \frac{\eta}{1 + (t-1)\,\delta}, \quad
        s \leftarrow s + g^2, \quad
        p \leftarrow p - \tilde\eta\, \frac{g}{\sqrt{s} + \epsilon}

    Args:
      lr: :math:`\eta` (default 1e-2). lr_decay: :math:`\delta` (0).
      weight_decay: :math:`\lambda` (0).
      initial_accumulator_value: starting value of :math:`s` (0).
      eps: :math:`\epsilon` (1e-10). maximize: ascend instead of descend.

    State: ``step``, ``sum``.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0])
      >>> gd.optim.Adagrad([w], lr=0.5).step([np.array([2.0])])
      >>> w
      array([0.5])

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for
    Online Learning and Stochastic Optimization", JMLR 2011.
    """

    _kind = "adagrad"
    _all_buffers = ("sum",)

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: Dict[str, Any]) -> None:
        _check_initial_accumulator(group["initial_accumulator_value"])
        super()._check_group(group)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        return (lr, g["lr_decay"], g["weight_decay"], g["eps"], g["maximize"])

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return ("sum",)

    def _init_buffer(self, name: str, param: np.ndarray, group: Dict[str, Any]) -> np.ndarray:
        # (checked again here: the group's value may have been edited since)
        v = group["initial_accumulator_value"]
        _check_initial_accumulator(v)
        return np.full_like(param, v)


def _check_initial_accumulator(v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0 <= v < float("inf")):
        raise ValueError(f"initial_accumulator_value must be a finite number >= 0, got {v!r}")
