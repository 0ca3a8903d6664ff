"""Gradient clipping, computed in C++ with a fixed-order reduction."""

from __future__ import annotations

import math
import numbers
from typing import Sequence, Union

import numpy as np

from .. import _core

__all__ = ["clip_grad_norm_", "clip_grad_value_", "NonFiniteNormError"]

Grads = Union[np.ndarray, Sequence[np.ndarray]]


class NonFiniteNormError(ValueError, RuntimeError):
    """The total gradient norm is NaN or infinite (error_if_nonfinite=True).

    A ValueError, and a RuntimeError like torch's, so either ``except`` works.
    """


def _as_list(grads: Grads) -> list:
    if isinstance(grads, np.ndarray):
        return [grads]
    if isinstance(grads, (list, tuple)):
        return list(grads)
    raise TypeError(f"grads must be an array or a list of arrays, got {type(grads).__name__}")


def _norm_type(norm_type: float) -> float:
    if isinstance(norm_type, str) and norm_type == "inf":
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"norm_type must be 1, 2 or inf, got {norm_type!r}")
    norm_type = float(norm_type)
    if norm_type not in (1.0, 2.0, math.inf):
        raise ValueError(f"norm_type must be 1, 2 or inf, got {norm_type!r}")
    return norm_type


def clip_grad_norm_(
    grads: Grads,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    r"""Scale gradients in place so that their total norm is at most max_norm.

    As ``torch.nn.utils.clip_grad_norm_``: the total norm :math:`N` of all
    gradients together is computed, and every gradient is multiplied by
    :math:`\min(1, \text{max\_norm} / (N + 10^{-6}))`.

    Args:
      grads: an array or a list of arrays (float32/float64, writeable,
        C-contiguous), modified in place.
      max_norm: the largest allowed norm.
      norm_type: 1, 2 or ``inf``.
      error_if_nonfinite: raise :class:`NonFiniteNormError` (nothing written)
        when the total norm is NaN or infinite.

    Returns:
      The total norm before clipping, as a float.  The sum is accumulated in
      double precision in fixed blocks, so it does not depend on the ISA path
      or the thread count.

    Example:
      >>> import numpy as np, gdcore as gd
      >>> g = [np.array([3.0, 4.0])]
      >>> gd.optim.clip_grad_norm_(g, 1.0)
      5.0
      >>> g[0].round(6)
      array([0.6, 0.8])
    """
    arrays = _as_list(grads)
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real):
        raise TypeError(f"max_norm must be a real number, got {type(max_norm).__name__}")
    total, applied = _core.clip_norm_(arrays, float(max_norm), _norm_type(norm_type), bool(error_if_nonfinite))
    if not applied:
        raise NonFiniteNormError(
            f"the total norm of order {norm_type} of the gradients is non-finite ({total}), "
            "so they cannot be clipped; set error_if_nonfinite=False to scale anyway"
        )
    return float(total)


def clip_grad_value_(grads: Grads, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place
    (``torch.nn.utils.clip_grad_value_``; NaN stays NaN).

    Example:
      >>> import numpy as np, gdcore as gd
      >>> g = np.array([-3.0, 0.5, 2.0])
      >>> gd.optim.clip_grad_value_(g, 1.0)
      >>> g
      array([-1. ,  0.5,  1. ])
    """
    arrays = _as_list(grads)
    if isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real):
        raise TypeError(f"clip_value must be a real number, got {type(clip_value).__name__}")
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value!r}")
    _core.clip_value_(arrays, float(clip_value))


def total_norm(grads: Grads, norm_type: float = 2.0) -> float:
    """The total norm (1, 2 or inf) of all arrays together, without clipping."""
    return float(_core.total_norm(_as_list(grads), _norm_type(norm_type)))
