"""Adamax."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT, _betas

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax, Adam with the infinity norm (``torch.optim.Adamax``).

    .. math::
        g \leftarrow \pm g + \lambda p, \quad
        m \leftarrow \beta_1 m + (1-\beta_1) g, \quad
        u \leftarrow \max(\beta_2 u, |g| + \epsilon), \quad
        p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,\frac{m}{u}

    Args:
      lr: :math:`\eta` (default 2e-3). betas: (0.9, 0.999). eps: 1e-8.
      weight_decay: :math:`\lambda` (0). maximize: ascend instead of descend.

    State: ``step``, ``exp_avg``, ``exp_inf``.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0])
      >>> gd.optim.Adamax([w], lr=0.1).step([np.array([3.0])])
      >>> w.round(6)
      array([0.9])

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization",
    ICLR 2015, section 7.1.
    """

    _kind = "adamax"
    _all_buffers = ("exp_avg", "exp_inf")

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 2e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        b1, b2 = _betas(g)
        return (lr, b1, b2, g["eps"], g["weight_decay"], g["maximize"])

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return ("exp_avg", "exp_inf")
