"""SGD with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (``torch.optim.SGD``'s algorithm and names).

    For each parameter :math:`p` with gradient :math:`g`:

    .. math::
        g &\leftarrow \pm g + \lambda p \\
        b &\leftarrow g \;\text{(first step)}, \quad
             b \leftarrow \mu b + (1-\tau) g \;\text{(after)} \\
        g &\leftarrow g + \mu b \;\text{(nesterov)}, \quad g \leftarrow b \;\text{(otherwise)} \\
        p &\leftarrow p - \eta g

    Args:
      params: arrays to optimize, or a list of param-group dicts.
      lr: learning rate :math:`\eta` (float, or a schedule: a callable of the
        step number returning the rate). Default 1e-3, as torch.
      momentum: :math:`\mu` (default 0).
      dampening: :math:`\tau` (default 0).
      weight_decay: L2 penalty :math:`\lambda` (default 0).
      nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
      maximize: ascend instead of descend.

    State per parameter: ``momentum_buffer`` (when momentum != 0).

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0, -2.0])
      >>> opt = gd.optim.SGD([w], lr=0.1, momentum=0.9)
      >>> for _ in range(2):
      ...     opt.step([2 * w])          # gradient of |w|^2
      >>> w
      array([ 0.46, -0.92])

    Reference: Sutskever et al., "On the importance of initialization and
    momentum in deep learning", ICML 2013 (torch's momentum convention:
    the learning rate multiplies the whole buffer).
    """

    _kind = "sgd"
    _scalar_state: Tuple[str, ...] = ()
    _all_buffers = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _hyper(self, g: Dict[str, Any], lr: float) -> tuple:
        return (lr, g["momentum"], g["dampening"], g["weight_decay"], g["nesterov"], g["maximize"])

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        return ("momentum_buffer",) if g["momentum"] != 0 else ()

    def _visible(self, rec: Any) -> bool:
        return rec.initialized
