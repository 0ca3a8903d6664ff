r"""Classic test functions ("landscapes") for gradient descent.

Each landscape is an object with its value, its analytic gradient and what is
known about it::

    >>> import numpy as np
    >>> from gdcore import landscapes
    >>> f = landscapes.Rosenbrock()
    >>> f.value(np.array([1.0, 1.0])), f.minima, f.minimum_value
    (0.0, [array([1., 1.])], 0.0)
    >>> f.gradient(np.array([0.0, 0.0]))
    array([-2.,  0.])

Common interface (every class below):

- ``value(x)`` (also ``f(x)``): ``x`` is a 1-D array of length ``dim`` and
  the result a float; or a stacked array of shape ``(dim, ...)`` -- e.g.
  ``np.stack(np.meshgrid(xs, ys))`` for a contour plot -- and the result is
  an array of shape ``x.shape[1:]``, computed vectorised.
- ``gradient(x)``: the analytic gradient, same shape as ``x`` (1-D or
  stacked); ``value_and_grad(x)`` returns both (the ``jac=True`` convention
  of :func:`gdcore.minimize.minimize`).
- ``minima``: list of known global minimisers (fresh copies; empty when
  there is none or none is known in closed form); ``minimum_value``: the
  global minimum (``-inf`` when unbounded below, ``None`` when unknown).
- ``domain``: a box, one ``(low, high)`` pair per coordinate -- for 2-D
  landscapes the usual plotting window ``((xmin, xmax), (ymin, ymax))``.
- ``start``: a commonly used starting point (a fresh copy); ``dim`` and
  ``name``.

Inputs are converted to float64.  Far from the domain a landscape may
overflow: it then returns ``inf`` (or ``nan`` where the limit is undefined)
without emitting numpy warnings, and :func:`gdcore.minimize.minimize` treats
such a point as a failed step.

Use :func:`get` to build a landscape by name (``ALL`` maps names to classes)
and :class:`Noisy` to add Gaussian noise to a landscape's gradient.

Reference: Jamil & Yang, "A literature survey of benchmark functions for
global optimization problems", Int. J. Math. Modelling and Numerical
Optimisation 4(2), 2013 (definitions and minima); Moré, Garbow & Hillstrom,
"Testing Unconstrained Optimization Software", ACM TOMS 7(1), 1981 (starts).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type, Union

import numpy as np

__all__ = [
    "ALL",
    "Ackley",
    "Beale",
    "Booth",
    "Himmelblau",
    "Landscape",
    "Noisy",
    "Quadratic",
    "Rastrigin",
    "Rosenbrock",
    "Saddle",
    "StyblinskiTang",
    "get",
]

_F64 = np.dtype(np.float64)
Box = Tuple[Tuple[float, float], ...]


def _positive_int(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    return int(value)


def _finite_real(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return value


class Landscape:
    """Base class: a function of ``dim`` variables with its analytic gradient.

    Subclasses implement ``_f(x)`` and ``_g(x)`` on a float64 array of shape
    ``(dim, ...)`` (broadcasting over the trailing axes) and may implement
    ``_point(x)`` and ``_point_grad(x)``: the same on a list of ``dim``
    Python floats, a fast path for single points (used by long
    optimisation runs).  Python float arithmetic overflows to ``inf``
    silently; the numpy paths run with overflow and invalid warnings off.
    """

    name: str = "landscape"
    dim: int = 2
    minimum_value: Optional[float] = None
    domain: Box = ()
    _minima: Tuple[np.ndarray, ...] = ()
    _start: np.ndarray = np.zeros(0)
    _fast: bool = False

    # --------------------------------------------------------- known facts
    @property
    def minima(self) -> List[np.ndarray]:
        """Known global minimisers (fresh copies; empty if none is known)."""
        return [m.copy() for m in self._minima]

    @property
    def start(self) -> np.ndarray:
        """A commonly used starting point (a fresh copy)."""
        return self._start.copy()

    # ------------------------------------------------------------- inputs
    def _one_point(self, x: Any) -> Optional[np.ndarray]:
        """``x`` as a float64 array of shape ``(dim,)`` when it is one point (a
        numpy array or a list or tuple of ``dim`` real numbers), else None.
        Every single point, whatever its dtype, then takes the same path
        (numpy's SIMD reductions and transcendentals may differ from the
        single-point path's by an ulp)."""
        if type(x) is not np.ndarray:
            if type(x) not in (list, tuple) or len(x) != self.dim:
                return None
            try:
                x = np.asarray(x)
            except (TypeError, ValueError):
                return None
        if x.shape != (self.dim,) or x.dtype.kind not in "iuf":
            return None
        return x if x.dtype == _F64 else x.astype(_F64)

    def _points(self, x: Any) -> np.ndarray:
        arr = np.asarray(x)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"{self.name}: points must be real numbers, got dtype {arr.dtype}")
        if arr.dtype != _F64:
            arr = arr.astype(_F64)
        if arr.ndim == 0 or arr.shape[0] != self.dim:
            raise ValueError(
                f"{self.name} is a function of {self.dim} variables: expected an array of "
                f"shape ({self.dim},) or ({self.dim}, ...), got shape {arr.shape}"
            )
        return arr

    # ---------------------------------------------------------------- API
    def value(self, x: Any) -> Union[float, np.ndarray]:
        """f(x): a float for one point of shape ``(dim,)``, an array of shape
        ``x.shape[1:]`` for stacked points of shape ``(dim, ...)``."""
        p = self._one_point(x) if self._fast else None
        if p is not None:
            return self._point(p.tolist())
        arr = self._points(x)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = self._f(arr)
        if arr.ndim == 1:
            return float(out)
        return np.asarray(out, dtype=_F64)

    __call__ = value

    def gradient(self, x: Any) -> np.ndarray:
        """The analytic gradient, an array of the shape of ``x``."""
        p = self._one_point(x) if self._fast else None
        if p is not None:
            return np.array(self._point_grad(p.tolist()))
        arr = self._points(x)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = self._g(arr)
        return np.asarray(out, dtype=_F64).reshape(arr.shape)

    def value_and_grad(self, x: Any) -> Tuple[Union[float, np.ndarray], np.ndarray]:
        """``(value(x), gradient(x))``, the ``jac=True`` convention."""
        p = self._one_point(x) if self._fast else None
        if p is not None:
            q = p.tolist()
            return self._point(q), np.array(self._point_grad(q))
        return self.value(x), self.gradient(x)

    # ------------------------------------------------------- subclass hooks
    def _f(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _g(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _point(self, p: List[float]) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _point_grad(self, p: List[float]) -> List[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


def _box(low: float, high: float, dim: int) -> Box:
    return tuple((float(low), float(high)) for _ in range(dim))


# --------------------------------------------------------------------------
class Quadratic(Landscape):
    r"""A convex quadratic bowl with a chosen condition number.

    .. math::
        f(x) = \tfrac12 (x - c)^\top A (x - c), \qquad
        \nabla f(x) = A (x - c), \qquad A = Q \,\mathrm{diag}(\lambda)\, Q^\top

    with eigenvalues :math:`\lambda` log-spaced from 1 to ``condition`` (a
    single eigenvalue 1 when ``dim`` is 1).  Minimiser :math:`c`, minimum 0; start :math:`c + (1, \dots, 1)`.

    Args:
      dim: number of variables (default 2).
      condition: :math:`\lambda_{\max}/\lambda_{\min} \ge 1` (default 10).
      seed: ``None`` (default): axis-aligned, :math:`Q = I`.  An int or a
        ``numpy.random.Generator``: :math:`Q` is a random rotation (Haar
        distributed) drawn from it, so the bowl is not aligned with the axes.
      center: the minimiser :math:`c` (default the origin).

    Attributes: ``matrix`` (:math:`A`, read-only), ``eigenvalues``,
    ``center``.

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Quadratic
      >>> q = Quadratic(dim=2, condition=100.0)
      >>> q.eigenvalues
      array([  1., 100.])
      >>> q.value(np.array([1.0, 1.0]))
      50.5
    """

    name = "Quadratic"

    def __init__(
        self,
        dim: int = 2,
        condition: float = 10.0,
        seed: Union[None, int, np.random.Generator] = None,
        center: Optional[Sequence[float]] = None,
    ) -> None:
        self.dim = _positive_int(dim, "dim")
        condition = _finite_real(condition, "condition")
        if condition < 1.0:
            raise ValueError(f"condition must be >= 1, got {condition}")
        self.condition = condition
        eig = np.geomspace(1.0, condition, self.dim) if self.dim > 1 else np.ones(1)
        if seed is None:
            matrix = np.diag(eig)
        else:
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            q, r = np.linalg.qr(rng.standard_normal((self.dim, self.dim)))
            q = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # Haar: fix the QR signs
            matrix = (q * eig) @ q.T
            matrix = 0.5 * (matrix + matrix.T)
        if center is None:
            c = np.zeros(self.dim)
        else:
            c = np.array(center, dtype=_F64).reshape(-1)
            if c.shape != (self.dim,) or not np.isfinite(c).all():
                raise ValueError(f"center must be {self.dim} finite numbers, got {center!r}")
        self.eigenvalues = eig
        self.matrix = matrix
        self.center = c
        for a in (self.eigenvalues, self.matrix, self.center):
            a.flags.writeable = False
        self.minimum_value = 0.0
        self._minima = (c.copy(),)
        self._start = c + 1.0
        self.domain = tuple((float(ci) - 2.0, float(ci) + 2.0) for ci in c)

    def _shift(self, x: np.ndarray) -> np.ndarray:
        return x - self.center.reshape((self.dim,) + (1,) * (x.ndim - 1))

    def value(self, x: Any) -> Union[float, np.ndarray]:
        p = self._one_point(x)
        if p is not None:
            d = p - self.center
            with np.errstate(over="ignore", invalid="ignore"):
                return 0.5 * float(d @ (self.matrix @ d))
        return super().value(x)

    __call__ = value

    def value_and_grad(self, x: Any) -> Tuple[Union[float, np.ndarray], np.ndarray]:
        p = self._one_point(x)
        if p is not None:
            d = p - self.center
            with np.errstate(over="ignore", invalid="ignore"):
                g = self.matrix @ d
                return 0.5 * float(d @ g), g
        return super().value_and_grad(x)

    def _f(self, x: np.ndarray) -> np.ndarray:
        d = self._shift(x)
        return 0.5 * np.sum(d * np.tensordot(self.matrix, d, axes=1), axis=0)

    def _g(self, x: np.ndarray) -> np.ndarray:
        return np.tensordot(self.matrix, self._shift(x), axes=1)

    def __repr__(self) -> str:
        return f"Quadratic(dim={self.dim}, condition={self.condition!r})"


# --------------------------------------------------------------------------
class Rosenbrock(Landscape):
    r"""Rosenbrock's banana valley, in ``dim`` >= 2 variables.

    .. math::
        f(x) = \sum_{i=1}^{n-1} b\,(x_{i+1} - x_i^2)^2 + (a - x_i)^2

    Minimiser :math:`(a, a^2)` in 2-D and :math:`(1, \dots, 1)` in n-D when
    ``a == 1`` (:math:`0` when ``a == 0``), minimum 0; for other ``a`` in
    more than 2 dimensions no closed form is known (``minima`` is empty and
    ``minimum_value`` None).  Start :math:`(-1.2, 1, -1.2, 1, \dots)`;
    domain :math:`[-2, 2] \times [-1, 3]` in 2-D.

    Args:
      dim: number of variables, >= 2 (default 2).
      a, b: the constants (default 1 and 100).

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Rosenbrock
      >>> Rosenbrock().value(np.array([-1.2, 1.0]))
      24.199999999999996
      >>> Rosenbrock(dim=4).gradient(np.ones(4))
      array([0., 0., 0., 0.])

    Reference: Rosenbrock, "An automatic method for finding the greatest or
    least value of a function", The Computer Journal 3(3), 1960.
    """

    name = "Rosenbrock"

    def __init__(self, dim: int = 2, a: float = 1.0, b: float = 100.0) -> None:
        self.dim = _positive_int(dim, "dim", minimum=2)
        self.a = _finite_real(a, "a")
        self.b = _finite_real(b, "b")
        if self.b <= 0:
            raise ValueError(f"b must be > 0, got {self.b}")
        self._fast = self.dim == 2
        if self.dim == 2:
            self._minima = (np.array([self.a, self.a * self.a]),)
            self.minimum_value = 0.0
        elif self.a in (0.0, 1.0):
            self._minima = (np.full(self.dim, self.a),)
            self.minimum_value = 0.0
        else:
            self._minima = ()
            self.minimum_value = None
        self._start = np.array([-1.2 if i % 2 == 0 else 1.0 for i in range(self.dim)])
        self.domain = ((-2.0, 2.0), (-1.0, 3.0)) if self.dim == 2 else _box(-2.0, 2.0, self.dim)

    def _point(self, p: List[float]) -> float:
        x, y = p
        u = y - x * x
        v = self.a - x
        return self.b * (u * u) + v * v

    def _point_grad(self, p: List[float]) -> List[float]:
        x, y = p
        w = x * x - y
        return [4.0 * self.b * x * w + 2.0 * (x - self.a), 2.0 * self.b * (y - x * x)]

    def _f(self, x: np.ndarray) -> np.ndarray:
        u = x[1:] - x[:-1] * x[:-1]
        v = self.a - x[:-1]
        return np.sum(self.b * (u * u) + v * v, axis=0)

    def _g(self, x: np.ndarray) -> np.ndarray:
        w = x[:-1] * x[:-1] - x[1:]
        g = np.zeros_like(x)
        g[:-1] = 4.0 * self.b * x[:-1] * w + 2.0 * (x[:-1] - self.a)
        g[1:] += 2.0 * self.b * (x[1:] - x[:-1] * x[:-1])
        return g

    def __repr__(self) -> str:
        return f"Rosenbrock(dim={self.dim}, a={self.a!r}, b={self.b!r})"


# --------------------------------------------------------------------------
class Beale(Landscape):
    r"""Beale's function: flat plateaus and sharp ridges around a narrow valley.

    .. math::
        f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2

    Minimiser :math:`(3, 0.5)`, minimum 0; start :math:`(1, 1)`; domain
    :math:`[-4.5, 4.5]^2`.

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Beale
      >>> Beale().value(np.array([3.0, 0.5]))
      0.0

    Reference: Beale, "On an iterative method for finding a local minimum of
    a function of more than one variable", Princeton Tech. Rep. 25, 1958.
    """

    name = "Beale"
    _fast = True

    def __init__(self) -> None:
        self.dim = 2
        self.minimum_value = 0.0
        self._minima = (np.array([3.0, 0.5]),)
        self._start = np.array([1.0, 1.0])
        self.domain = _box(-4.5, 4.5, 2)

    @staticmethod
    def _terms(x: Any, y: Any) -> Tuple[Any, Any, Any, Any, Any]:
        y2 = y * y
        y3 = y2 * y
        return 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3, y2, y3

    def _point(self, p: List[float]) -> float:
        t1, t2, t3, _, _ = self._terms(*p)
        return t1 * t1 + t2 * t2 + t3 * t3

    def _point_grad(self, p: List[float]) -> List[float]:
        x, y = p
        t1, t2, t3, y2, y3 = self._terms(x, y)
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
        return [gx, gy]

    def _f(self, x: np.ndarray) -> np.ndarray:
        return self._point(x)  # type: ignore[arg-type]  (broadcasts)

    def _g(self, x: np.ndarray) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*self._point_grad(x)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
class Himmelblau(Landscape):
    r"""Himmelblau's function: four global minima of value 0.

    .. math:: f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2

    Minimisers :math:`(3, 2)`, :math:`(-2.805118\ldots, 3.131312\ldots)`,
    :math:`(-3.779310\ldots, -3.283186\ldots)`,
    :math:`(3.584428\ldots, -1.848126\ldots)` (to double precision in
    ``minima``); start :math:`(0, 0)`; domain :math:`[-5, 5]^2`.

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Himmelblau
      >>> h = Himmelblau()
      >>> len(h.minima), h.value(np.array([3.0, 2.0]))
      (4, 0.0)

    Reference: Himmelblau, "Applied Nonlinear Programming", McGraw-Hill, 1972.
    """

    name = "Himmelblau"
    _fast = True

    def __init__(self) -> None:
        self.dim = 2
        self.minimum_value = 0.0
        self._minima = (
            np.array([3.0, 2.0]),
            np.array([-2.805118086952745, 3.131312518250573]),
            np.array([-3.779310253377747, -3.2831859912861696]),
            np.array([3.5844283403304917, -1.8481265269644036]),
        )
        self._start = np.array([0.0, 0.0])
        self.domain = _box(-5.0, 5.0, 2)

    def _point(self, p: List[float]) -> float:
        x, y = p
        u = x * x + y - 11.0
        v = x + y * y - 7.0
        return u * u + v * v

    def _point_grad(self, p: List[float]) -> List[float]:
        x, y = p
        u = x * x + y - 11.0
        v = x + y * y - 7.0
        return [4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v]

    def _f(self, x: np.ndarray) -> np.ndarray:
        return self._point(x)  # type: ignore[arg-type]

    def _g(self, x: np.ndarray) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*self._point_grad(x)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
class Booth(Landscape):
    r"""Booth's function: a tilted convex quadratic (condition number 9).

    .. math:: f(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2

    Minimiser :math:`(1, 3)`, minimum 0; start :math:`(0, 0)`; domain
    :math:`[-10, 10]^2`.

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Booth
      >>> Booth().gradient(np.array([1.0, 3.0]))
      array([0., 0.])

    Reference: Jamil & Yang (2013), function 20.
    """

    name = "Booth"
    _fast = True

    def __init__(self) -> None:
        self.dim = 2
        self.minimum_value = 0.0
        self._minima = (np.array([1.0, 3.0]),)
        self._start = np.array([0.0, 0.0])
        self.domain = _box(-10.0, 10.0, 2)

    def _point(self, p: List[float]) -> float:
        x, y = p
        u = x + 2.0 * y - 7.0
        v = 2.0 * x + y - 5.0
        return u * u + v * v

    def _point_grad(self, p: List[float]) -> List[float]:
        x, y = p
        u = x + 2.0 * y - 7.0
        v = 2.0 * x + y - 5.0
        return [2.0 * u + 4.0 * v, 4.0 * u + 2.0 * v]

    def _f(self, x: np.ndarray) -> np.ndarray:
        return self._point(x)  # type: ignore[arg-type]

    def _g(self, x: np.ndarray) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*self._point_grad(x)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
class Rastrigin(Landscape):
    r"""Rastrigin's function: a bowl covered in a regular grid of local minima.

    .. math:: f(x) = A n + \sum_{i=1}^n \left(x_i^2 - A \cos(2\pi x_i)\right)

    Minimiser the origin, minimum 0; start :math:`(2.5, \dots, 2.5)`;
    domain :math:`[-5.12, 5.12]^n`.  Gradient descent stops in the local
    minimum nearest its start unless its steps are long.

    Args:
      dim: number of variables (default 2).  A: the amplitude (default 10).

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Rastrigin
      >>> Rastrigin().value(np.zeros(2))
      0.0

    Reference: Rastrigin, "Systems of extremal control", Nauka, 1974;
    Mühlenbein, Schomisch & Born, Parallel Computing 17, 1991.
    """

    name = "Rastrigin"

    def __init__(self, dim: int = 2, A: float = 10.0) -> None:
        self.dim = _positive_int(dim, "dim")
        self.A = _finite_real(A, "A")
        self.minimum_value = 0.0
        self._minima = (np.zeros(self.dim),)
        self._start = np.full(self.dim, 2.5)
        self.domain = _box(-5.12, 5.12, self.dim)

    def _f(self, x: np.ndarray) -> np.ndarray:
        # A (1 - cos 2 pi x) = 2 A sin^2(pi x): exactly 0 at the minimiser.
        s = np.sin(np.pi * x)
        return np.sum(x * x + 2.0 * self.A * (s * s), axis=0)

    def _g(self, x: np.ndarray) -> np.ndarray:
        return 2.0 * x + 2.0 * np.pi * self.A * np.sin(2.0 * np.pi * x)

    def __repr__(self) -> str:
        return f"Rastrigin(dim={self.dim}, A={self.A!r})"


# --------------------------------------------------------------------------
class Ackley(Landscape):
    r"""Ackley's function: a nearly flat, rippled plateau around a deep funnel.

    .. math::
        f(x) = -a \exp\Big(-b \sqrt{\tfrac1n \textstyle\sum_i x_i^2}\Big)
               - \exp\Big(\tfrac1n \textstyle\sum_i \cos(c\, x_i)\Big) + a + e

    Minimiser the origin, minimum 0 (computed as :math:`a(1 - e^{-br}) +
    (e - e^{\bar c})`, exactly 0 there).  The first term has a cone point at
    the origin; ``gradient`` returns 0 there (a subgradient).  Start
    :math:`(2.5, \dots)`; domain :math:`[-5, 5]^n` (the usual search box is
    :math:`[-32.768, 32.768]^n`).

    Args:
      dim: number of variables (default 2).  a, b, c: default 20, 0.2, 2π.

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Ackley
      >>> Ackley().value(np.zeros(2)), Ackley().gradient(np.zeros(2))
      (0.0, array([0., 0.]))

    Reference: Ackley, "A Connectionist Machine for Genetic Hillclimbing",
    Kluwer, 1987.
    """

    name = "Ackley"

    def __init__(
        self, dim: int = 2, a: float = 20.0, b: float = 0.2, c: float = 2.0 * math.pi
    ) -> None:
        self.dim = _positive_int(dim, "dim")
        self.a = _finite_real(a, "a")
        self.b = _finite_real(b, "b")
        self.c = _finite_real(c, "c")
        self.minimum_value = 0.0
        self._minima = (np.zeros(self.dim),)
        self._start = np.full(self.dim, 2.5)
        self.domain = _box(-5.0, 5.0, self.dim)

    def _f(self, x: np.ndarray) -> np.ndarray:
        n = self.dim
        r = np.sqrt(np.sum(x * x, axis=0) / n)
        mean_cos = np.sum(np.cos(self.c * x), axis=0) / n
        return -self.a * np.expm1(-self.b * r) - math.e * np.expm1(mean_cos - 1.0)

    def _g(self, x: np.ndarray) -> np.ndarray:
        n = self.dim
        r = np.sqrt(np.sum(x * x, axis=0) / n)
        mean_cos = np.sum(np.cos(self.c * x), axis=0) / n
        safe_r = np.where(r > 0, r, 1.0)
        cone = np.where(r > 0, self.a * self.b * np.exp(-self.b * r) / (n * safe_r), 0.0)
        return cone * x + (np.exp(mean_cos) * self.c / n) * np.sin(self.c * x)

    def __repr__(self) -> str:
        return f"Ackley(dim={self.dim})"


# --------------------------------------------------------------------------
_ST_ROOT = -2.903534027771177  # root of 4x^3 - 32x + 5 (the per-coordinate minimiser)
_ST_MIN = -39.16616570377141  # minimum per coordinate


class StyblinskiTang(Landscape):
    r"""The Styblinski-Tang function: separable, one global and many local minima.

    .. math:: f(x) = \tfrac12 \sum_{i=1}^n \left(x_i^4 - 16 x_i^2 + 5 x_i\right)

    Minimiser :math:`x_i = -2.903534\ldots` (the root of :math:`4x^3 - 32x +
    5`), minimum :math:`-39.16616570377141\, n`; start the origin; domain
    :math:`[-5, 5]^n`.

    Args:
      dim: number of variables (default 2).

    Example:
      >>> from gdcore.landscapes import StyblinskiTang
      >>> f = StyblinskiTang()
      >>> f.minimum_value
      -78.33233140754282

    Reference: Styblinski & Tang, "Experiments in nonconvex optimization:
    stochastic approximation with function smoothing and simulated
    annealing", Neural Networks 3(4), 1990.
    """

    name = "Styblinski-Tang"

    def __init__(self, dim: int = 2) -> None:
        self.dim = _positive_int(dim, "dim")
        self._fast = self.dim == 2
        self.minimum_value = _ST_MIN * self.dim
        self._minima = (np.full(self.dim, _ST_ROOT),)
        self._start = np.zeros(self.dim)
        self.domain = _box(-5.0, 5.0, self.dim)

    def _point(self, p: List[float]) -> float:
        total = 0.0
        for x in p:
            x2 = x * x
            total += x2 * x2 - 16.0 * x2 + 5.0 * x
        return 0.5 * total

    def _point_grad(self, p: List[float]) -> List[float]:
        return [2.0 * x * x * x - 16.0 * x + 2.5 for x in p]

    def _f(self, x: np.ndarray) -> np.ndarray:
        x2 = x * x
        return 0.5 * np.sum(x2 * x2 - 16.0 * x2 + 5.0 * x, axis=0)

    def _g(self, x: np.ndarray) -> np.ndarray:
        return 2.0 * x * x * x - 16.0 * x + 2.5

    def __repr__(self) -> str:
        return f"StyblinskiTang(dim={self.dim})"


# --------------------------------------------------------------------------
class Saddle(Landscape):
    r"""The saddle :math:`f(x, y) = x^2 - y^2`: unbounded below, no minimum.

    ``minima`` is empty and ``minimum_value`` is ``-inf``.  The origin is a
    saddle point (zero gradient); the start :math:`(1, 10^{-3})` lies almost
    on the ridge :math:`y = 0`, so gradient descent first approaches the
    saddle and then escapes along :math:`y`.  Domain :math:`[-2, 2]^2`.

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Saddle
      >>> Saddle().gradient(np.array([1.0, 2.0]))
      array([ 2., -4.])
    """

    name = "Saddle"
    _fast = True

    def __init__(self) -> None:
        self.dim = 2
        self.minimum_value = -math.inf
        self._minima = ()
        self._start = np.array([1.0, 1e-3])
        self.domain = _box(-2.0, 2.0, 2)

    def _point(self, p: List[float]) -> float:
        x, y = p
        return x * x - y * y

    def _point_grad(self, p: List[float]) -> List[float]:
        x, y = p
        return [2.0 * x, -2.0 * y]

    def _f(self, x: np.ndarray) -> np.ndarray:
        return self._point(x)  # type: ignore[arg-type]

    def _g(self, x: np.ndarray) -> np.ndarray:
        return np.stack(np.broadcast_arrays(*self._point_grad(x)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------
class Noisy(Landscape):
    r"""A landscape whose gradient carries Gaussian noise (the stochastic case).

    .. math:: \tilde g(x) = \nabla f(x) + \sigma\,\xi, \qquad \xi \sim N(0, I)

    a fresh :math:`\xi` at every call, so :math:`\mathbb E[\tilde g] =
    \nabla f`.  The value stays exact unless ``value_sigma`` > 0, which adds
    independent :math:`N(0, \text{value\_sigma}^2)` noise to each value.
    ``dim``, ``minima``, ``minimum_value``, ``domain`` and ``start`` are the
    wrapped landscape's.

    Args:
      landscape: the landscape to wrap.
      sigma: gradient noise standard deviation, >= 0.
      seed: seed of the noise (an int, a ``numpy.random.Generator`` or None).
      value_sigma: value noise standard deviation, >= 0 (default 0).

    Example:
      >>> import numpy as np
      >>> from gdcore.landscapes import Booth, Noisy
      >>> f = Noisy(Booth(), sigma=0.1, seed=0)
      >>> f.value(np.zeros(2)) == Booth().value(np.zeros(2))
      True
      >>> bool(np.all(np.abs(f.gradient(np.zeros(2)) - [-34.0, -38.0]) < 1.0))
      True
    """

    def __init__(
        self,
        landscape: Landscape,
        sigma: float,
        seed: Union[None, int, np.random.Generator] = None,
        *,
        value_sigma: float = 0.0,
    ) -> None:
        if not isinstance(landscape, Landscape):
            raise TypeError(f"landscape must be a Landscape, got {type(landscape).__name__}")
        self.sigma = _finite_real(sigma, "sigma")
        self.value_sigma = _finite_real(value_sigma, "value_sigma")
        if self.sigma < 0 or self.value_sigma < 0:
            raise ValueError("sigma and value_sigma must be >= 0")
        self.landscape = landscape
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.dim = landscape.dim
        self.name = f"Noisy {landscape.name}"
        self.minimum_value = landscape.minimum_value
        self.domain = landscape.domain

    @property
    def minima(self) -> List[np.ndarray]:
        return self.landscape.minima

    @property
    def start(self) -> np.ndarray:
        return self.landscape.start

    def value(self, x: Any) -> Union[float, np.ndarray]:
        v = self.landscape.value(x)
        if self.value_sigma > 0:
            if isinstance(v, np.ndarray):
                return v + self.value_sigma * self.rng.standard_normal(v.shape)
            return v + self.value_sigma * float(self.rng.standard_normal())
        return v

    __call__ = value

    def gradient(self, x: Any) -> np.ndarray:
        g = self.landscape.gradient(x)
        return g + self.sigma * self.rng.standard_normal(g.shape)

    def value_and_grad(self, x: Any) -> Tuple[Union[float, np.ndarray], np.ndarray]:
        return self.value(x), self.gradient(x)

    def __repr__(self) -> str:
        return f"Noisy({self.landscape!r}, sigma={self.sigma!r})"


# --------------------------------------------------------------------------
ALL: Dict[str, Type[Landscape]] = {
    "quadratic": Quadratic,
    "rosenbrock": Rosenbrock,
    "beale": Beale,
    "himmelblau": Himmelblau,
    "booth": Booth,
    "rastrigin": Rastrigin,
    "ackley": Ackley,
    "styblinski_tang": StyblinskiTang,
    "saddle": Saddle,
}
"""Every landscape class by registry name (:class:`Noisy`, a wrapper, is not listed)."""


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def get(name: str, **kwargs: Any) -> Landscape:
    """Build the landscape called ``name`` with constructor arguments ``kwargs``.

    Names are matched ignoring case, spaces, ``-`` and ``_`` (so
    ``"styblinski_tang"``, ``"Styblinski-Tang"`` and a landscape's ``name``
    all work).  An unknown name is a ValueError listing the choices.

    Example:
      >>> from gdcore import landscapes
      >>> landscapes.get("rosenbrock", dim=5).dim
      5
    """
    if not isinstance(name, str):
        raise TypeError(f"landscape name must be a str, got {type(name).__name__}")
    key = _key(name)
    for registered, cls in ALL.items():
        if _key(registered) == key:
            return cls(**kwargs)
    raise ValueError(f"unknown landscape {name!r}; choose one of {sorted(ALL)}")
