"""RMSprop, plain or centered, with optional momentum."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (``torch.optim.RMSprop``'s algorithm, names, defaults and state).

    .. math::
        g &\leftarrow \pm g + \lambda p, \qquad
        s \leftarrow \alpha s + (1-\alpha) g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1-\alpha) g, \quad
        d = \sqrt{s - \bar g^2} + \epsilon \;\text{(centered)}, \quad
        d = \sqrt{s} + \epsilon \;\text{(otherwise)} \\
        b &\leftarrow \mu b + g/d, \; p \leftarrow p - \eta b \;\text{(momentum > 0)},
        \quad p \leftarrow p - \eta\, g/d \;\text{(otherwise)}

    Args:
      lr: :math:`\eta` (default 1e-2). alpha: smoothing :math:`\alpha` (0.99).
      eps: :math:`\epsilon` (1e-8). weight_decay: :math:`\lambda` (0).
      momentum: :math:`\mu` (0). centered: normalise by the variance (False).
      maximize: ascend instead of descend.

    State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0])
      >>> gd.optim.RMSprop([w], lr=0.01).step([np.array([1.0])])
      >>> w.round(4)
      array([0.9])

    Reference: Hinton, Neural Networks for Machine Learning, lecture 6e
    (2012); Graves, "Generating Sequences With Recurrent Neural Networks",
    2013 (centered form).
    """

    _kind = "rmsprop"
    _all_buffers = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        return (lr, g["alpha"], g["eps"], g["weight_decay"], g["momentum"], g["centered"], g["maximize"])

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return (
            "square_avg",
            "momentum_buffer" if g["momentum"] > 0 else None,
            "grad_avg" if g["centered"] else None,
        )
