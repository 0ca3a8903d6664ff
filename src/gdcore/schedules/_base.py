"""The schedule protocol: a picklable callable from step number to learning rate.

Every schedule is a small immutable object.  ``s(k)`` with a Python (or numpy)
integer returns a Python float; with an integer array it returns a float64
array of the same shape, computed with whole-array numpy operations.  The step
is checked once here, so subclasses only implement

- ``_scalar(k)``: ``k`` a Python int >= 0, returns a float (``math``);
- ``_array(k)``: ``k`` a 1-D int64 array >= 0, returns a float64 array.

Both follow the same operation order, so a vectorised call agrees with the
scalar calls to the last bit wherever numpy's and ``math``'s elementary
functions agree.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Tuple, Union

import numpy as np

__all__ = ["Schedule", "ScheduleLike", "constant"]

_INT64_MAX = np.iinfo(np.int64).max


class Schedule:
    """Base class of gdcore's learning-rate schedules.

    A schedule maps the step number ``k`` (the number of optimizer steps
    taken before this one, so ``k = 0`` is the first step) to a learning
    rate.  Step ``k`` is the rate torch's matching scheduler has set after
    ``k`` calls of ``scheduler.step()``.

    Calling:
      ``s(k)`` with an int returns a float; with an integer numpy array (or a
      list/range of ints) returns a float64 array of the same shape.  A
      negative step is a ValueError, a non-integer step a TypeError.

    Composing:
      ``0.5 * s`` (or ``s * 0.5``) scales a schedule by a non-negative
      number; :func:`~gdcore.schedules.warmup` and
      :func:`~gdcore.schedules.join` take schedules.

    Schedules are immutable, compare equal when their type and arguments are
    equal, pickle, and have a repr that evaluates back to an equal schedule
    in ``gdcore.schedules``' namespace.
    """

    __slots__ = ()
    # numpy scalars defer to __rmul__ instead of broadcasting over the object.
    __array_ufunc__ = None
    #: constructor argument names, in order (repr, equality, hash): the
    #: public names of a subclass's __slots__ (the private ones are derived).
    _fields: Tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__slots__" in cls.__dict__:
            cls._fields = tuple(n for n in cls.__dict__["__slots__"] if not n.startswith("_"))

    # ------------------------------------------------------------- calling
    def __call__(self, step: Any) -> Any:
        if type(step) is int:
            if step < 0:
                raise ValueError(f"step must be >= 0, got {step}")
            return self._scalar(step)
        if isinstance(step, numbers.Integral) and not isinstance(step, (bool, np.bool_)):
            step = int(step)
            if step < 0:
                raise ValueError(f"step must be >= 0, got {step}")
            return self._scalar(step)
        k, shape = _steps_array(step)
        return np.asarray(self._array(k), dtype=np.float64).reshape(shape)

    def _scalar(self, k: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _array(self, k: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # ----------------------------------------------------------- composing
    def __mul__(self, factor: Any) -> "Schedule":
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            return NotImplemented
        return _Scaled(factor, self)

    __rmul__ = __mul__

    # -------------------------------------------------------------- values
    def _values(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + self._values())

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={_fmt(getattr(self, f))}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __reduce__(self):
        # Rebuild through the constructor: immutable objects with __slots__
        # pickle portably, and unpickling re-validates the arguments.
        return (type(self), self._values())


ScheduleLike = Union[float, Schedule, Callable[[int], float]]


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return repr(v)


def _steps_array(step: Any) -> Tuple[np.ndarray, Tuple[int, ...]]:
    """Validate a non-scalar step argument; return it as 1-D int64 and its shape."""
    if isinstance(step, (float, np.floating, bool, np.bool_, str, bytes)) or step is None:
        raise TypeError(f"step must be an int or an integer array, got {type(step).__name__}")
    if isinstance(step, np.ndarray):
        arr = step
    elif isinstance(step, (list, tuple, range)):
        arr = np.asarray(step)
        if arr.size == 0:
            arr = arr.astype(np.int64)
    else:
        raise TypeError(f"step must be an int or an integer array, got {type(step).__name__}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"step must be an int or an integer array, got an array of dtype {arr.dtype}")
    shape = arr.shape
    flat = arr.reshape(-1)
    if flat.size:
        if arr.dtype.kind == "i" and flat.min() < 0:
            raise ValueError(f"steps must be >= 0, got {flat.min()}")
        if arr.dtype == np.uint64 and flat.max() > _INT64_MAX:
            raise ValueError(f"steps must be < 2**63, got {flat.max()}")
    return flat.astype(np.int64, copy=False), shape


# ------------------------------------------------------------ argument checks
def _real(
    func: str,
    name: str,
    value: Any,
    *,
    low: float | None = None,
    low_open: bool = False,
    high: float | None = None,
    high_open: bool = False,
) -> float:
    """A finite real argument within [low, high] (open ends when asked)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{func}: {name} must be finite, got {v}")
    if low is not None and (v <= low if low_open else v < low):
        raise ValueError(f"{func}: {name} must be {'>' if low_open else '>='} {low:g}, got {v!r}")
    if high is not None and (v >= high if high_open else v > high):
        raise ValueError(f"{func}: {name} must be {'<' if high_open else '<='} {high:g}, got {v!r}")
    return v


def _int(func: str, name: str, value: Any, *, low: int) -> int:
    """An integer argument >= low."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an int, got {type(value).__name__}")
    v = int(value)
    if v < low:
        raise ValueError(f"{func}: {name} must be >= {low}, got {v}")
    return v


def _lr(func: str, name: str, value: Any) -> float:
    return _real(func, name, value, low=0.0)


def _increasing_ints(func: str, name: str, values: Any, *, low: int) -> Tuple[int, ...]:
    """A strictly increasing sequence of ints >= low."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{func}: {name} must be a sequence of ints, got {type(values).__name__}")
    out = tuple(_int(func, f"{name}[{i}]", v, low=low) for i, v in enumerate(values))
    for i in range(1, len(out)):
        if out[i] <= out[i - 1]:
            raise ValueError(
                f"{func}: {name} must be strictly increasing, got {list(out)} "
                f"({name}[{i}] = {out[i]} <= {name}[{i - 1}] = {out[i - 1]})"
            )
    return out


def _as_schedule(func: str, name: str, value: Any) -> Schedule:
    """A Schedule from a schedule, a non-negative number or a callable of the step."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return constant(_lr(func, name, value))
    if callable(value):
        return _Callable(value)
    raise TypeError(
        f"{func}: {name} must be a schedule, a learning rate or a callable of the step, "
        f"got {type(value).__name__}"
    )


# ------------------------------------------------------------------ schedules
class constant(Schedule):
    r"""A constant learning rate.

    .. math:: \eta_k = \eta

    Args:
      lr: the rate :math:`\eta` (>= 0).

    Example:
      >>> from gdcore.schedules import constant
      >>> constant(0.1)(1000)
      0.1
    """

    __slots__ = ("lr",)

    def __init__(self, lr: float) -> None:
        self._set(lr=_lr("constant", "lr", lr))

    def _scalar(self, k: int) -> float:
        return self.lr

    def _array(self, k: np.ndarray) -> np.ndarray:
        return np.full(k.shape, self.lr)


class _Scaled(Schedule):
    """``factor * schedule`` (what ``0.5 * s`` returns)."""

    __slots__ = ("factor", "schedule")

    def __init__(self, factor: float, schedule: Schedule) -> None:
        if not isinstance(schedule, Schedule):
            raise TypeError(f"can only scale a Schedule, got {type(schedule).__name__}")
        self._set(factor=_real("Schedule.__mul__", "factor", factor, low=0.0), schedule=schedule)

    def _scalar(self, k: int) -> float:
        return self.factor * self.schedule._scalar(k)

    def _array(self, k: np.ndarray) -> np.ndarray:
        return self.factor * self.schedule._array(k)

    def __repr__(self) -> str:
        return f"{self.factor!r} * {self.schedule!r}"


class _Callable(Schedule):
    """Adapts a plain callable ``f(step) -> lr`` (evaluated element by element
    on arrays: its vectorised form is unknown)."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[int], float]) -> None:
        if not callable(fn):
            raise TypeError(f"expected a callable of the step, got {type(fn).__name__}")
        self._set(fn=fn)

    def _scalar(self, k: int) -> float:
        v = self.fn(k)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(
                f"schedule {self.fn!r} returned {type(v).__name__} at step {k}, expected a real number"
            )
        return float(v)

    def _array(self, k: np.ndarray) -> np.ndarray:
        return np.fromiter((self._scalar(int(x)) for x in k), dtype=np.float64, count=k.size)

    def __repr__(self) -> str:
        return repr(self.fn)
