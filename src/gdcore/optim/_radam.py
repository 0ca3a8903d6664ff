"""RAdam: Adam with a rectified adaptive learning rate."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT, _betas

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (``torch.optim.RAdam``'s algorithm, names, defaults and state).

    With :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`:

    .. math::
        \hat m = \frac{m}{1-\beta_1^t}, \quad
        p \leftarrow p - \eta\,\hat m\, r_t \frac{\sqrt{1-\beta_2^t}}{\sqrt v + \epsilon}
        \;(\rho_t > 5), \quad p \leftarrow p - \eta \hat m \;\text{(otherwise)}

    where :math:`r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}
    {(\rho_\infty-4)(\rho_\infty-2)\rho_t}}`.

    Args:
      lr: :math:`\eta` (default 1e-3). betas: (0.9, 0.999). eps: 1e-8.
      weight_decay: :math:`\lambda` (0), L2 unless decoupled_weight_decay.
      decoupled_weight_decay: AdamW-style decay (False).
      maximize: ascend instead of descend.

    State: ``step``, ``exp_avg``, ``exp_avg_sq``.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0])
      >>> gd.optim.RAdam([w], lr=0.1).step([np.array([1.0])])
      >>> w.round(6)
      array([0.9])

    Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and
    Beyond", ICLR 2020.
    """

    _kind = "radam"
    _all_buffers = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        b1, b2 = _betas(g)
        return (lr, b1, b2, g["eps"], g["weight_decay"], g["decoupled_weight_decay"], g["maximize"])

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return ("exp_avg", "exp_avg_sq")
