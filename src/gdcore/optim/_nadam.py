"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT, _betas

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (``torch.optim.NAdam``'s algorithm, names, defaults and state).

    With :math:`\mu_t = \beta_1(1 - \tfrac12\, 0.96^{t\psi})` and
    :math:`\Pi_t = \prod_{i\le t}\mu_i`:

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2, \qquad
        d = \sqrt{v/(1-\beta_2^t)} + \epsilon \\
        p &\leftarrow p - \eta\frac{1-\mu_t}{1-\Pi_t}\frac{g}{d}
             - \eta\frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\frac{m}{d}

    Args:
      lr: :math:`\eta` (default 2e-3). betas: (0.9, 0.999). eps: 1e-8.
      weight_decay: :math:`\lambda` (0), L2 unless decoupled_weight_decay.
      momentum_decay: :math:`\psi` (4e-3).
      decoupled_weight_decay: AdamW-style decay (False).
      maximize: ascend instead of descend.

    State: ``step``, ``mu_product`` (kept in float32 as torch does),
    ``exp_avg``, ``exp_avg_sq``.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0])
      >>> gd.optim.NAdam([w], lr=0.1).step([np.array([1.0])])
      >>> float(w[0]) < 1.0
      True

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016
    workshop.
    """

    _kind = "nadam"
    _scalar_state: Tuple[str, ...] = ("step", "mu_product")
    _all_buffers = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 2e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        b1, b2 = _betas(g)
        return (
            lr,
            b1,
            b2,
            g["eps"],
            g["weight_decay"],
            g["momentum_decay"],
            g["decoupled_weight_decay"],
            g["maximize"],
        )

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return ("exp_avg", "exp_avg_sq")
