"""Lion: sign momentum."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT, _betas

__all__ = ["Lion"]


class Lion(Optimizer):
    r"""Lion, evolved sign momentum (the published rule).

    .. math::
        c &= \beta_1 m + (1-\beta_1) g \\
        p &\leftarrow p\,(1 - \eta\lambda) - \eta\,\mathrm{sign}(c) \\
        m &\leftarrow \beta_2 m + (1-\beta_2) g

    Args:
      lr: :math:`\eta` (default 1e-4; typically 3-10x smaller than AdamW's).
      betas: :math:`(\beta_1, \beta_2)` (default (0.9, 0.99)).
      weight_decay: decoupled :math:`\lambda` (default 0).
      maximize: ascend instead of descend.

    State: ``exp_avg`` (the momentum :math:`m`).

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0, -1.0, 0.5])
      >>> gd.optim.Lion([w], lr=0.1).step([np.array([3.0, -0.2, 0.0])])
      >>> w
      array([ 0.9, -0.9,  0.5])

    Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms",
    NeurIPS 2023, Algorithm 2.
    """

    _kind = "lion"
    _scalar_state: Tuple[str, ...] = ()
    _all_buffers = ("exp_avg",)

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1e-4,
        betas: Tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        b1, b2 = _betas(g)
        return (lr, b1, b2, g["weight_decay"], g["maximize"])

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return ("exp_avg",)

    def _visible(self, rec: Any) -> bool:
        return rec.step > 0 or rec.initialized
