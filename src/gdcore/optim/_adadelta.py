"""Adadelta."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (``torch.optim.Adadelta``'s algorithm, names, defaults, state).

    .. math::
        g &\leftarrow \pm g + \lambda p, \qquad
        s \leftarrow \rho s + (1-\rho) g^2 \\
        \Delta &= \frac{\sqrt{a + \epsilon}}{\sqrt{s + \epsilon}}\, g, \qquad
        a \leftarrow \rho a + (1-\rho)\Delta^2, \qquad p \leftarrow p - \eta \Delta

    Args:
      lr: :math:`\eta` (default 1.0). rho: :math:`\rho` in [0, 1] (0.9).
      eps: :math:`\epsilon` (1e-6). weight_decay: :math:`\lambda` (0).
      maximize: ascend instead of descend.

    State: ``step``, ``square_avg``, ``acc_delta``.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0])
      >>> gd.optim.Adadelta([w], lr=1.0).step([np.array([1.0])])
      >>> float(w[0]) < 1.0
      True

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012.
    """

    _kind = "adadelta"
    _all_buffers = ("square_avg", "acc_delta")

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        return (lr, g["rho"], g["eps"], g["weight_decay"], g["maximize"])

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return ("square_avg", "acc_delta")
