"""Adam and AdamW."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ._optimizer import LR, Optimizer, ParamsT, _betas

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (``torch.optim.Adam``'s algorithm, names, defaults and state).

    At step :math:`t`, for each parameter :math:`p` with gradient :math:`g`:

    .. math::
        g &\leftarrow \pm g + \lambda p \quad\text{(or } p \leftarrow p(1-\eta\lambda)
             \text{ with decoupled_weight_decay)} \\
        m &\leftarrow \beta_1 m + (1-\beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2 \\
        \hat v &\leftarrow \max(\hat v, v) \;\text{(amsgrad)}, \;\text{else } \hat v = v \\
        p &\leftarrow p - \frac{\eta}{1-\beta_1^t}\,
             \frac{m}{\sqrt{\hat v}/\sqrt{1-\beta_2^t} + \epsilon}

    Args:
      params: arrays to optimize, or a list of param-group dicts.
      lr: learning rate :math:`\eta` (float or schedule). Default 1e-3.
      betas: :math:`(\beta_1, \beta_2)`, each in [0, 1). Default (0.9, 0.999).
      eps: :math:`\epsilon` (default 1e-8).
      weight_decay: :math:`\lambda` (default 0): L2 added to the gradient.
      amsgrad: keep the running maximum of :math:`v` (default False).
      maximize: ascend instead of descend.
      decoupled_weight_decay: AdamW's decay (default False).

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` and, with
    amsgrad, ``max_exp_avg_sq``.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0, -1.0])
      >>> opt = gd.optim.Adam([w], lr=0.1)
      >>> opt.step([2 * w])
      >>> w.round(6)
      array([ 0.9, -0.9])

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization",
    ICLR 2015; Reddi et al., "On the Convergence of Adam and Beyond", ICLR 2018.

    Warning: :math:`\epsilon` is added after the square root and the bias
    correction (torch's convention), not inside the root (optax's eps_root).
    """

    _kind = "adam"
    _all_buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled_default = False

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: Optional[bool] = None,
    ) -> None:
        if decoupled_weight_decay is None:
            decoupled_weight_decay = self._decoupled_default
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
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
            g["amsgrad"],
            g["maximize"],
            g["decoupled_weight_decay"],
        )

    def _slots(self, g: Dict[str, Any]) -> Tuple[Optional[str], ...]:
        if g["amsgrad"]:
            return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        return ("exp_avg", "exp_avg_sq")


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (``torch.optim.AdamW``).

    Same rule as :class:`Adam` with ``decoupled_weight_decay=True``: the
    parameter is first multiplied by :math:`1-\eta\lambda`, and the default
    weight_decay is 1e-2 as in torch.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> w = np.array([1.0])
      >>> gd.optim.AdamW([w], lr=0.1).step([np.array([0.0])])
      >>> w
      array([0.999])

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
    ICLR 2019.
    """

    _decoupled_default = True

    def __init__(
        self,
        params: ParamsT,
        lr: LR = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
