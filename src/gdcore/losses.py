"""Loss functions of the linear models, evaluated by the same C++ definitions
that the fused training loops use (so the two cannot drift apart).

Each loss is an object with vectorised ``value(y, p)`` and
``derivative(y, p)`` (∂loss/∂p) for targets ``y`` and predictions (decision
values) ``p`` that broadcast against each other.  Classification losses take
``y`` in {-1, +1}.  float32 inputs are computed in float32, anything else in
float64.  Every loss is numerically stable for large margins.

>>> import numpy as np, gdcore as gd
>>> gd.losses.Hinge().value(np.array([1.0, -1.0]), np.array([0.5, 0.5]))
array([0.5, 1.5])
>>> gd.losses.get("log_loss").derivative(1.0, 0.0)
array(-0.5)

Names follow scikit-learn's ``loss=`` strings: squared_error, huber,
epsilon_insensitive, squared_epsilon_insensitive, log_loss, hinge,
squared_hinge, modified_huber, perceptron; and multinomial (softmax
cross-entropy) for the multiclass models.
"""

from __future__ import annotations

import numbers
from typing import Any, Dict, Optional, Tuple

import numpy as np

from . import _core

__all__ = [
    "EpsilonInsensitive",
    "Hinge",
    "Huber",
    "LogLoss",
    "Loss",
    "ModifiedHuber",
    "MultinomialLogLoss",
    "Perceptron",
    "SquaredEpsilonInsensitive",
    "SquaredError",
    "SquaredHinge",
    "get",
    "LOSSES",
]


def _pair(y: Any, p: Any) -> Tuple[np.ndarray, np.ndarray, Tuple[int, ...]]:
    y = np.asarray(y)
    p = np.asarray(p)
    for name, a in (("y", y), ("p", p)):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be real numbers, got dtype {a.dtype}")
    dtype = np.float32 if (y.dtype == np.float32 and p.dtype == np.float32) else np.float64
    yb, pb = np.broadcast_arrays(y, p)
    shape = yb.shape
    return (
        np.ascontiguousarray(yb, dtype=dtype).reshape(-1),
        np.ascontiguousarray(pb, dtype=dtype).reshape(-1),
        shape,
    )


class Loss:
    """A loss ℓ(y, p) of a target y and a prediction p."""

    name: str = ""
    kind: int = -1
    classification: bool = False
    #: the public name of ``param`` ("epsilon", "threshold"), None if unused
    param_name: Optional[str] = None

    def __init__(self, param: float = 0.0) -> None:
        if isinstance(param, bool) or not isinstance(param, numbers.Real) or not param >= 0:
            raise ValueError(f"{type(self).__name__}: parameter must be a number >= 0, got {param!r}")
        self.param = float(param)
        if self.param_name is not None:
            setattr(self, self.param_name, self.param)

    def value(self, y: Any, p: Any) -> np.ndarray:
        """ℓ(y, p), elementwise with broadcasting."""
        yf, pf, shape = _pair(y, p)
        return _core.loss_value(self.kind, self.param, yf, pf, False).reshape(shape)

    def derivative(self, y: Any, p: Any) -> np.ndarray:
        """∂ℓ/∂p at (y, p), elementwise with broadcasting."""
        yf, pf, shape = _pair(y, p)
        return _core.loss_value(self.kind, self.param, yf, pf, True).reshape(shape)

    __call__ = value

    def __repr__(self) -> str:
        if self.param_name is None:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}({self.param_name}={self.param})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.param == other.param  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.param))


class SquaredError(Loss):
    r"""ℓ = ½ (p − y)², ∂ℓ/∂p = p − y (scikit-learn's "squared_error")."""

    name, kind = "squared_error", 0

    def __init__(self) -> None:
        super().__init__(0.0)


class Huber(Loss):
    r"""ℓ = ½ r² if |r| ≤ ε else ε|r| − ½ε², r = p − y ("huber")."""

    name, kind, param_name = "huber", 1, "epsilon"

    def __init__(self, epsilon: float = 0.1) -> None:
        super().__init__(epsilon)


class EpsilonInsensitive(Loss):
    r"""ℓ = max(0, |y − p| − ε) ("epsilon_insensitive", linear SVR)."""

    name, kind, param_name = "epsilon_insensitive", 2, "epsilon"

    def __init__(self, epsilon: float = 0.1) -> None:
        super().__init__(epsilon)


class SquaredEpsilonInsensitive(Loss):
    r"""ℓ = max(0, |y − p| − ε)² ("squared_epsilon_insensitive")."""

    name, kind, param_name = "squared_epsilon_insensitive", 3, "epsilon"

    def __init__(self, epsilon: float = 0.1) -> None:
        super().__init__(epsilon)


class LogLoss(Loss):
    r"""ℓ = log(1 + exp(−y p)), y ∈ {−1, +1} ("log_loss", logistic regression).

    Computed as softplus without overflow: for y p = 1000 the value is
    exp(−1000) ≈ 0 and for y p = −1000 it is 1000.  Its log1p(exp(−|y p|))
    is gdcore's own branch-free log1p (within 2 ulp of the exact value),
    the one the fused loops evaluate on vectors, so both give the same bits.
    """

    name, kind, classification = "log_loss", 4, True

    def __init__(self) -> None:
        super().__init__(0.0)


class Hinge(Loss):
    r"""ℓ = max(0, t − y p), y ∈ {−1, +1} ("hinge", linear SVM; t = 1)."""

    name, kind, classification, param_name = "hinge", 5, True, "threshold"

    def __init__(self, threshold: float = 1.0) -> None:
        super().__init__(threshold)


class Perceptron(Hinge):
    r"""ℓ = max(0, −y p) ("perceptron": the hinge with threshold 0)."""

    name = "perceptron"

    def __init__(self) -> None:
        super().__init__(0.0)

    def __repr__(self) -> str:
        return "Perceptron()"


class SquaredHinge(Loss):
    r"""ℓ = max(0, t − y p)² ("squared_hinge"; t = 1)."""

    name, kind, classification, param_name = "squared_hinge", 6, True, "threshold"

    def __init__(self, threshold: float = 1.0) -> None:
        super().__init__(threshold)


class ModifiedHuber(Loss):
    r"""ℓ = max(0, 1 − y p)² if y p ≥ −1 else −4 y p ("modified_huber")."""

    name, kind, classification = "modified_huber", 7, True

    def __init__(self) -> None:
        super().__init__(0.0)


class MultinomialLogLoss:
    r"""Softmax cross-entropy: ℓ(y, p) = log Σⱼ exp(pⱼ) − p_y for integer
    classes y ∈ [0, k) and rows p of k decision values.

    ``value(y, p)`` returns one loss per row; ``derivative(y, p)`` returns
    softmax(p) − onehot(y), of p's shape.  Stable for any magnitude of p
    (the row maximum is subtracted first).
    """

    name = "multinomial"
    classification = True

    def _prep(self, y: Any, p: Any):
        p = np.asarray(p)
        if p.dtype.kind not in "biuf":
            raise TypeError(f"p must be real numbers, got dtype {p.dtype}")
        if p.ndim != 2:
            raise ValueError(f"p must be 2-D (n_samples, n_classes), got shape {p.shape}")
        dtype = np.float32 if p.dtype == np.float32 else np.float64
        y = np.asarray(y)
        if y.dtype.kind not in "iu":
            if y.dtype.kind != "f" or not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                raise TypeError("y must hold integer class indices")
            if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
                raise ValueError(f"class indices must lie in [0, {p.shape[1]})")
            y = y.astype(np.int64)
        return np.ascontiguousarray(y, dtype=np.int64), np.ascontiguousarray(p, dtype=dtype)

    def value(self, y: Any, p: Any) -> np.ndarray:
        return _core.multinomial_loss(*self._prep(y, p))[0]

    def derivative(self, y: Any, p: Any) -> np.ndarray:
        return _core.multinomial_loss(*self._prep(y, p))[1]

    __call__ = value

    def __repr__(self) -> str:
        return "MultinomialLogLoss()"


LOSSES: Dict[str, type] = {
    cls.name: cls
    for cls in (
        SquaredError,
        Huber,
        EpsilonInsensitive,
        SquaredEpsilonInsensitive,
        LogLoss,
        Hinge,
        SquaredHinge,
        ModifiedHuber,
        Perceptron,
        MultinomialLogLoss,
    )
}


def get(name: str, **params: Any):
    """The loss called ``name`` (scikit-learn's strings), e.g.
    ``get("huber", epsilon=1.35)``.  Unknown names are a ValueError listing
    the choices."""
    if isinstance(name, (Loss, MultinomialLogLoss)):
        return name
    try:
        cls = LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
    return cls(**params)
