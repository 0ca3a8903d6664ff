"""Constructor-parameter validation with scikit-learn's messages.

Each estimator lists ``_parameter_constraints`` (name → list of accepted
forms) in the spirit of scikit-learn's; :func:`validate_params` checks them
at the start of fit / partial_fit and raises InvalidParameterError (a
ValueError *and* a TypeError, as in scikit-learn) with scikit-learn's
message layout: ``The 'alpha' parameter of SGDClassifier must be a float in
the range [0.0, inf). Got -1 instead.``
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Dict, List, Sequence

import numpy as np

from ._compat import InvalidParameterError


class Interval:
    def __init__(self, kind: type, left: Any, right: Any, closed: str) -> None:
        self.kind, self.left, self.right, self.closed = kind, left, right, closed
        # (as scikit-learn's Interval: a missing end is -inf / inf, and open
        # unless closed there -- so an infinite value is never inside it)
        self._lo = -math.inf if left is None else left
        self._hi = math.inf if right is None else right
        self._lo_closed = closed in ("left", "both") and left is not None
        self._hi_closed = closed in ("right", "both") and right is not None
        self._integral = kind is numbers.Integral

    def accepts(self, v: Any) -> bool:
        t = type(v)
        # (plain ints and floats first: the ABC checks cost a microsecond
        # each, and fit checks every parameter)
        if t is int or (t is float and not self._integral):
            if t is float and math.isnan(v):
                return False
        elif isinstance(v, (bool, np.bool_)):
            return False
        elif self._integral:
            if not isinstance(v, numbers.Integral):
                return False
        elif not isinstance(v, numbers.Real) or math.isnan(float(v)):
            return False
        lo_ok = v >= self._lo if self._lo_closed else v > self._lo
        hi_ok = v <= self._hi if self._hi_closed else v < self._hi
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        name = "an int" if self.kind is numbers.Integral else "a float"
        def show(v: Any) -> str:
            return repr(v if self.kind is numbers.Integral else float(v))

        lo = "-inf" if self.left is None else show(self.left)
        hi = "inf" if self.right is None else show(self.right)
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{name} in the range {lb}{lo}, {hi}{rb}"


class StrOptions:
    def __init__(self, options: Sequence[str]) -> None:
        self.options = tuple(options)

    def accepts(self, v: Any) -> bool:
        return isinstance(v, str) and v in self.options

    def __str__(self) -> str:
        return "a str among {" + ", ".join(repr(o) for o in sorted(self.options)) + "}"


class _Simple:
    def __init__(self, name: str) -> None:
        self.name = name

    def accepts(self, v: Any) -> bool:
        if v is None:
            return self.name == "none" or self.name == "random_state"
        if self.name == "none":
            return v is None
        if self.name == "boolean":
            return type(v) is bool or isinstance(v, np.bool_)
        if self.name == "callable":
            return callable(v)
        if self.name == "dict":
            return isinstance(v, dict)
        if self.name == "random_state":
            return (
                (type(v) is int and 0 <= v <= 2**32 - 1)
                or isinstance(v, np.random.RandomState)
                or (
                    isinstance(v, numbers.Integral)
                    and not isinstance(v, (bool, np.bool_))
                    and 0 <= v <= 2**32 - 1
                )
            )
        if self.name == "verbose":
            if type(v) is int or type(v) is bool:
                return v >= 0
            return isinstance(v, np.bool_) or (isinstance(v, numbers.Integral) and v >= 0)
        raise AssertionError(self.name)  # pragma: no cover

    def __str__(self) -> str:
        return {
            "none": "None",
            "boolean": "an instance of 'bool'",
            "callable": "a callable",
            "dict": "an instance of 'dict'",
            "random_state": "an int in the range [0, 4294967295], an instance of "
            "'numpy.random.mtrand.RandomState' or None",
            "verbose": "an int in the range [0, inf) or an instance of 'bool'",
        }[self.name]


NONE = _Simple("none")
BOOLEAN = _Simple("boolean")
CALLABLE = _Simple("callable")
DICT = _Simple("dict")
RANDOM_STATE = _Simple("random_state")
VERBOSE = _Simple("verbose")


def validate_params(est: Any, constraints: Dict[str, List[Any]]) -> None:
    """Raise InvalidParameterError for the first parameter that fits none of
    its accepted forms."""
    cls = type(est).__name__
    for name, accepted in constraints.items():
        value = getattr(est, name)
        for c in accepted:  # (a loop, not any() over a generator: fit runs this)
            if c.accepts(value):
                break
        else:
            _invalid(cls, name, accepted, value)


def _invalid(cls: str, name: str, accepted: List[Any], value: Any) -> None:
    descs = [str(c) for c in accepted]
    desc = descs[0] if len(descs) == 1 else ", ".join(descs[:-1]) + " or " + descs[-1]
    raise InvalidParameterError(
        f"The {name!r} parameter of {cls} must be {desc}. Got {value!r} instead."
    )
