"""scikit-learn when it is importable, a small numpy-only stand-in otherwise.

The estimators use scikit-learn's base classes, validation helpers and
exception types when scikit-learn is installed, so that they behave exactly
like scikit-learn's own estimators (messages, tags, HTML repr, cloning).
Without scikit-learn the package still imports and the estimators fit and
predict on dense numpy input: the fallbacks below implement get_params /
set_params, input validation with the same messages for the common cases,
and the few utilities the estimators need.
"""

from __future__ import annotations

import inspect
import numbers
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Tuple

import numpy as np

try:  # pragma: no branch
    import sklearn  # noqa: F401

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised in a subprocess test
    HAVE_SKLEARN = False


def _is_sparse(X: Any) -> bool:
    if isinstance(X, np.ndarray):  # (the fits ask once per epoch)
        return False
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover
        return False
    return sp.issparse(X)


def _int_labels(y: np.ndarray) -> bool:
    """Whether the compiled label passes take y: contiguous and aligned 1-D
    int32/int64."""
    return (y.ndim == 1 and y.dtype in (np.int64, np.int32) and y.flags.c_contiguous
            and y.flags.aligned)


def label_stats(y: np.ndarray) -> Tuple[np.ndarray, np.ndarray, Optional[int]]:
    """np.unique(y, return_counts=True) and how many neighbouring labels
    differ (y[i] != y[i-1]; None unless y holds int32/int64 labels, whose
    compiled pass counts them for free).  Integer labels within a small range
    are counted in one pass (two labels: the compiled summary alone;
    otherwise np.bincount) instead of hashed or sorted."""
    changes = None
    if y.ndim == 1 and y.dtype.kind in "iu" and y.size:
        if _int_labels(y):
            from .._core import label_summary

            lo, hi, first, same, changes = label_summary(y)
            if hi == lo:
                return np.array([lo], dtype=y.dtype), np.array([y.size], dtype=np.intp), changes
            if hi - lo == 1:  # two labels
                n_hi = same if first == hi else y.size - same
                return (np.array([lo, hi], dtype=y.dtype),
                        np.array([y.size - n_hi, n_hi], dtype=np.intp), changes)
        else:
            lo, hi = int(y.min()), int(y.max())
            if hi - lo == 1:  # two labels: one comparison pass
                n_hi = int(np.count_nonzero(y == hi))
                return (np.array([lo, hi], dtype=y.dtype),
                        np.array([y.size - n_hi, n_hi], dtype=np.intp), None)
        if hi - lo < max(1 << 16, y.size) and -(1 << 63) <= lo and hi < (1 << 63):
            shifted = y if (lo == 0 and y.dtype == np.intp) else np.subtract(y, lo, dtype=np.intp)
            counts = np.bincount(shifted)
            present = np.flatnonzero(counts)
            return (present + lo).astype(y.dtype), counts[present], changes
    labels, counts = np.unique(y, return_counts=True)
    return labels, counts, changes


def signed_targets(y: np.ndarray, positive: Any, dtype: Any) -> np.ndarray:
    """+1 where y == positive, -1 elsewhere, in ``dtype`` (float32/float64):
    one compiled pass for int32/int64 labels."""
    dtype = np.dtype(dtype)
    if _int_labels(y) and isinstance(positive, (numbers.Integral, np.integer)):
        from .._core import signed_targets as fill

        out = np.empty(y.shape[0], dtype=dtype)
        fill(y, int(positive), out)
        return out
    out = np.multiply(y == positive, dtype.type(2), dtype=dtype)  # (np.where with scalars
    out -= dtype.type(1)                                          # is far slower)
    return out


def all_finite(X: np.ndarray) -> bool:
    """True if a dense array holds no NaN or infinity.  Floats: one pass on
    gdcore's threads (the sum of |x| is finite when every element is, unless
    it overflows: only then an element-wise numpy check)."""
    from .._core import total_norm

    if X.dtype not in (np.float32, np.float64):
        return bool(X.dtype.kind in "biu" or np.isfinite(X).all())
    flat = X.ravel(order="K")
    if flat.size == 0 or np.isfinite(total_norm([flat], 1.0)):
        return True
    return bool(np.isfinite(flat).all())


def canonical_csr(X: Any) -> Any:
    """CSR with contiguous float32/float64 data and int64 index arrays (what
    the compiled loops read), as a scipy.sparse matrix."""
    import scipy.sparse as sp

    X = sp.csr_matrix(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    X.data = np.ascontiguousarray(X.data)
    return X


def csr_arrays(X: Any):
    """(data, indices, indptr) of a CSR matrix as the compiled loops take
    them: indices and indptr contiguous and of one dtype, int32 (scipy's
    usual, kept as is) or int64.  A conversion is cached on the matrix so
    that every epoch does not repeat it."""
    ind, ptr = X.indices, X.indptr
    if (ind.dtype == ptr.dtype and ind.dtype in (np.int32, np.int64)
            and ind.flags.c_contiguous and ptr.flags.c_contiguous):
        return X.data, ind, ptr
    cached = getattr(X, "_gdcore_int64", None)
    if cached is None or cached[0] is not X.data:
        cached = (X.data, np.ascontiguousarray(ind, dtype=np.int64),
                  np.ascontiguousarray(ptr, dtype=np.int64))
        try:
            X._gdcore_int64 = cached
        except AttributeError:  # pragma: no cover
            pass
    return cached


def is_sparse(X: Any) -> bool:
    return _is_sparse(X)


@contextmanager
def finite_first(est: Any, X: Any) -> Iterator[None]:
    """Work on X whose NaN / infinity check validate_data deferred
    (``defer_finite=True``).  The first epoch reads every row and returns a
    NaN loss when a margin is not finite, which is how the fit proves dense
    X finite without a pass of its own; any error the block raises is
    replaced by the non-finite-input error when X does hold NaN or infinity,
    so that error comes first as if X had been checked up front."""
    try:
        yield
    except Exception:
        err = nonfinite_error(est, X)
        if err is not None:
            raise err from None
        raise


if HAVE_SKLEARN:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
    from sklearn.exceptions import ConvergenceWarning, NotFittedError
    from sklearn.utils import check_random_state, compute_class_weight
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted

    try:
        from sklearn.utils._param_validation import InvalidParameterError
    except ImportError:  # pragma: no cover - scikit-learn < 1.2

        class InvalidParameterError(ValueError, TypeError):  # type: ignore[no-redef]
            """A parameter has a wrong type or value."""

    try:
        from sklearn.utils.validation import validate_data as _sk_validate_data
    except ImportError:  # pragma: no cover - scikit-learn < 1.6
        _sk_validate_data = None

    from sklearn.utils import check_array as _sk_check_array

    _FINITE_KW = ("ensure_all_finite" if "ensure_all_finite" in inspect.signature(_sk_check_array).parameters
                  else "force_all_finite")

    def validate_data(est: Any, X: Any = "no_validation", y: Any = "no_validation", *,
                      defer_finite: bool = False, **kw: Any):
        """scikit-learn's validate_data (or est._validate_data before 1.6);
        sparse X (CSR, CSC, COO, ...) is converted to CSR once.  Dense X is
        checked for NaN and infinity by :func:`all_finite` on gdcore's
        threads; non-finite input then goes through scikit-learn's own check,
        which raises its usual error.  ``defer_finite``: dense X is not
        checked here; the caller runs its work under :func:`finite_first`
        and proves X finite itself (see there)."""
        has_x = not (isinstance(X, str) and X == "no_validation")
        sparse = has_x and _is_sparse(X)
        if sparse:
            kw["accept_sparse"] = "csr"

        def run(**extra):
            if _sk_validate_data is not None:
                return _sk_validate_data(est, X=X, y=y, **kw, **extra)
            return est._validate_data(X=X, y=y, **kw, **extra)  # pragma: no cover

        if has_x and not sparse:
            out = _unchanged(est, X, y, kw)
            if out is None:
                out = run(**{_FINITE_KW: False})
            if not defer_finite and not all_finite(out[0] if isinstance(out, tuple) else out):
                out = run()
        else:
            out = run()
        if sparse:
            if isinstance(out, tuple):
                return (canonical_csr(out[0]),) + tuple(out[1:])
            return canonical_csr(out)
        return out

    def _unchanged(est: Any, X: Any, y: Any, kw: Dict[str, Any]) -> Any:
        """What scikit-learn's validate_data (finiteness aside) returns for
        arrays it passes through unchanged: a C-contiguous 2-D float X of an
        accepted dtype, and a contiguous 1-D numeric y of the same length
        with finite floats, on an estimator fitted without feature names.
        The steps it would take are taken here (n_features_in_ set on reset,
        the feature count checked otherwise); anything else, errors
        included, is None and goes to scikit-learn.  (Its checks cost
        about 0.25 ms, a quarter of a small fit.)"""
        if not set(kw) <= {"dtype", "order", "reset", "y_numeric"} or kw.get("order") not in (None, "C"):
            return None
        if type(X) is not np.ndarray or X.ndim != 2 or not X.flags.c_contiguous or 0 in X.shape:
            return None
        dtypes = kw.get("dtype", "numeric")
        dtypes = dtypes if isinstance(dtypes, (list, tuple)) else [dtypes]
        if X.dtype not in (np.float32, np.float64) or not any(
                not isinstance(t, str) and X.dtype == np.dtype(t) for t in dtypes):
            return None
        reset = kw.get("reset", True)
        if hasattr(est, "feature_names_in_") or (
                not reset and getattr(est, "n_features_in_", X.shape[1]) != X.shape[1]):
            return None
        no_y = isinstance(y, str) and y == "no_validation"
        if not no_y and (type(y) is not np.ndarray or y.ndim != 1 or y.shape[0] != X.shape[0]
                         or not y.flags.c_contiguous or y.dtype.kind not in "biuf"
                         or (y.dtype.kind == "f" and not all_finite(y))):
            return None
        if reset:
            est.n_features_in_ = X.shape[1]
        return X if no_y else (X, y)

    def nonfinite_error(est: Any, X: Any) -> Optional[ValueError]:
        """scikit-learn's error for NaN or infinity in validated X (None when
        X is finite; sparse X was checked by validate_data)."""
        if _is_sparse(X) or all_finite(X):
            return None
        try:
            _sk_check_array(X, dtype=None, estimator=est, input_name="X", **{_FINITE_KW: True})
        except ValueError as exc:
            return exc
        return ValueError("Input X contains NaN or infinity.")  # pragma: no cover

    def validation_split(classifier: bool, y: np.ndarray, fraction: float, random_state: Any):
        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        splitter = StratifiedShuffleSplit if classifier else ShuffleSplit
        cv = splitter(test_size=fraction, random_state=random_state)
        return next(cv.split(np.zeros((y.shape[0], 1)), y))

else:  # pragma: no cover - exercised in a subprocess test

    class InvalidParameterError(ValueError, TypeError):  # type: ignore[no-redef]
        """A parameter has a wrong type or value."""

    class NotFittedError(ValueError, AttributeError):  # type: ignore[no-redef]
        """The estimator is used before fit."""

    class ConvergenceWarning(UserWarning):  # type: ignore[no-redef]
        """The solver did not converge."""

    class BaseEstimator:  # type: ignore[no-redef]
        """get_params / set_params from the constructor's signature."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(
                p.name
                for p in sig.parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD
            )

        def get_params(self, deep: bool = True) -> Dict[str, Any]:
            return {k: getattr(self, k) for k in self._get_param_names()}

        def set_params(self, **params: Any):
            valid = self._get_param_names()
            for k, v in params.items():
                if k not in valid:
                    raise ValueError(
                        f"Invalid parameter {k!r} for estimator {self}. "
                        f"Valid parameters are: {valid!r}."
                    )
                setattr(self, k, v)
            return self

        def __repr__(self) -> str:
            return f"{type(self).__name__}()"

    class ClassifierMixin:  # type: ignore[no-redef]
        _estimator_type = "classifier"

        def score(self, X, y, sample_weight=None):
            y = np.asarray(y)
            pred = self.predict(X)
            return float(np.average(pred == y, weights=sample_weight))

    class RegressorMixin:  # type: ignore[no-redef]
        _estimator_type = "regressor"

        def score(self, X, y, sample_weight=None):
            y = np.asarray(y, dtype=np.float64)
            pred = np.asarray(self.predict(X), dtype=np.float64)
            w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
            num = np.sum(w * (y - pred) ** 2)
            den = np.sum(w * (y - np.average(y, weights=w)) ** 2)
            if den == 0:
                return 1.0 if num == 0 else 0.0
            return float(1 - num / den)

    def clone(est: Any):
        return type(est)(**est.get_params(deep=False))

    def available_if(check):
        class _Descriptor:
            def __init__(self, fn):
                self.fn = fn
                self.__doc__ = fn.__doc__

            def __set_name__(self, owner, name):
                self.name = name

            def __get__(self, obj, owner=None):
                if obj is not None:
                    check(obj)  # raises AttributeError

                    def bound(*a, **k):
                        return self.fn(obj, *a, **k)

                    bound.__doc__ = self.fn.__doc__
                    return bound
                return self.fn

        return _Descriptor

    def check_random_state(seed: Any) -> np.random.RandomState:
        if seed is None or seed is np.random:
            return np.random.mtrand._rand
        if isinstance(seed, numbers.Integral):
            return np.random.RandomState(seed)
        if isinstance(seed, np.random.RandomState):
            return seed
        raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")

    def check_is_fitted(est: Any, attributes: Any = None) -> None:
        if not any(k.endswith("_") and not k.startswith("__") for k in vars(est)):
            raise NotFittedError(
                f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def check_classification_targets(y: np.ndarray) -> None:
        if y.dtype.kind == "f" and np.any(y != np.round(y)):
            raise ValueError(
                "Unknown label type: continuous. Maybe you are trying to fit a "
                "classifier, which expects discrete classes on a regression target "
                "with continuous values."
            )

    def compute_class_weight(class_weight: Any, *, classes: np.ndarray, y: np.ndarray) -> np.ndarray:
        if class_weight is None or len(class_weight) == 0:
            return np.ones(classes.shape[0], dtype=np.float64)
        if class_weight == "balanced":
            idx = np.searchsorted(classes, y)
            counts = np.bincount(idx, minlength=len(classes)).astype(np.float64)
            return len(y) / (len(classes) * counts)
        weight = np.ones(classes.shape[0], dtype=np.float64)
        unknown = [c for c in class_weight if c not in set(classes.tolist())]
        if unknown:
            raise ValueError(f"The classes, {unknown}, are not in class_weight")
        for i, c in enumerate(classes):
            if c in class_weight:
                weight[i] = class_weight[c]
        return weight

    def _check_sample_weight(sample_weight: Any, X: np.ndarray, dtype: Any = None, **kw: Any):
        n = X.shape[0]
        dtype = dtype or np.float64
        if sample_weight is None:
            return np.ones(n, dtype=dtype)
        if isinstance(sample_weight, numbers.Number):
            return np.full(n, sample_weight, dtype=dtype)
        sw = np.asarray(sample_weight, dtype=dtype)
        if sw.ndim != 1:
            raise ValueError("Sample weights must be 1D array or scalar")
        if sw.shape != (n,):
            raise ValueError(f"sample_weight.shape == {sw.shape}, expected {(n,)}!")
        if not np.all(np.isfinite(sw)):
            raise ValueError("Input sample_weight contains NaN or infinity.")
        if np.any(sw < 0):
            raise ValueError("Negative values in data passed to `sample_weight`")
        if not kw.get("allow_all_zero_weights", False) and not np.any(sw):
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return np.ascontiguousarray(sw)

    def _check_array(est: Any, X: Any, name: str, dtype: Any, ensure_2d: bool, reset: bool):
        if _is_sparse(X):
            Xc = canonical_csr(X)
            if dtype is not None and Xc.dtype not in [np.dtype(d) for d in dtype]:
                Xc = Xc.astype(dtype[0])
            if not np.all(np.isfinite(Xc.data)):
                raise ValueError(f"Input {name} contains NaN or infinity.")
            n_features = Xc.shape[1]
            if reset:
                est.n_features_in_ = n_features
            elif hasattr(est, "n_features_in_") and n_features != est.n_features_in_:
                raise ValueError(
                    f"X has {n_features} features, but {type(est).__name__} is expecting "
                    f"{est.n_features_in_} features as input."
                )
            return Xc
        columns = getattr(X, "columns", None)
        a = np.asarray(X)
        if a.dtype.kind not in "biuf":
            if a.dtype.kind == "c":
                raise ValueError("Complex data not supported")
            try:
                a = a.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"could not convert {name} to float") from None
        if dtype is not None and a.dtype not in [np.dtype(d) for d in dtype]:
            a = a.astype(dtype[0])
        if ensure_2d:
            if a.ndim == 0:
                raise ValueError(
                    f"Expected 2D array, got scalar array instead:\narray={a}.\n"
                    "Reshape your data either using array.reshape(-1, 1) if your data has a "
                    "single feature or array.reshape(1, -1) if it contains a single sample."
                )
            if a.ndim == 1:
                raise ValueError(
                    f"Expected 2D array, got 1D array instead:\narray={a}.\n"
                    "Reshape your data either using array.reshape(-1, 1) if your data has a "
                    "single feature or array.reshape(1, -1) if it contains a single sample."
                )
            if a.ndim != 2:
                raise ValueError(f"Found array with dim {a.ndim}. Expected <= 2.")
            if a.shape[0] < 1:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={a.shape}) while a minimum of 1 is required."
                )
            if a.shape[1] < 1:
                raise ValueError(
                    f"Found array with 0 feature(s) (shape={a.shape}) while a minimum of 1 is required."
                )
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise _nonfinite(a, name)
        if ensure_2d:
            names = None
            if columns is not None and all(isinstance(c, str) for c in columns):
                names = np.asarray(list(columns), dtype=object)
            if reset:
                est.n_features_in_ = a.shape[1]
                if names is not None:
                    est.feature_names_in_ = names
                elif hasattr(est, "feature_names_in_"):
                    del est.feature_names_in_
            elif hasattr(est, "n_features_in_") and a.shape[1] != est.n_features_in_:
                raise ValueError(
                    f"X has {a.shape[1]} features, but {type(est).__name__} is expecting "
                    f"{est.n_features_in_} features as input."
                )
        return a

    def _nonfinite(a: np.ndarray, name: str) -> ValueError:
        kind = "NaN" if np.any(np.isnan(a)) else "infinity or a value too large for dtype('float64')"
        return ValueError(f"Input {name} contains {kind}.")

    def nonfinite_error(est: Any, X: Any) -> Optional[ValueError]:
        """The error for NaN or infinity in X (None when X is finite)."""
        if _is_sparse(X) or all_finite(X):
            return None
        return _nonfinite(X, "X")

    def validate_data(est: Any, X: Any = "no_validation", y: Any = "no_validation", *, reset: bool = True,
                      dtype: Any = None, order: Optional[str] = None, y_numeric: bool = False,
                      defer_finite: bool = False, **kw: Any):
        no_x = isinstance(X, str) and X == "no_validation"
        no_y = isinstance(y, str) and y == "no_validation"
        if isinstance(dtype, str) or dtype is None:
            dtype_list = [np.float64, np.float32] if dtype is None else None
        else:
            dtype_list = dtype if isinstance(dtype, (list, tuple)) else [dtype]
        out = []
        if not no_x:
            Xa = _check_array(est, X, "X", dtype_list, True, reset)
            if order == "C" and not _is_sparse(Xa):
                Xa = np.ascontiguousarray(Xa)
            out.append(Xa)
        if not no_y:
            if y is None:
                raise ValueError(f"{type(est).__name__} requires y to be passed, but the target y is None.")
            ya = np.asarray(y)
            if ya.ndim == 2 and ya.shape[1] == 1:
                ya = ya.ravel()
            if ya.ndim != 1:
                raise ValueError(f"y should be a 1d array, got an array of shape {ya.shape} instead.")
            if y_numeric or ya.dtype.kind == "f":
                if ya.dtype.kind not in "biuf":
                    ya = ya.astype(np.float64)
                if not np.all(np.isfinite(ya.astype(np.float64))):
                    raise ValueError("Input y contains NaN.")
            if not no_x and ya.shape[0] != out[0].shape[0]:
                raise ValueError(
                    "Found input variables with inconsistent numbers of samples: "
                    f"[{out[0].shape[0]}, {ya.shape[0]}]"
                )
            out.append(ya)
        return out[0] if len(out) == 1 else tuple(out)

    def validation_split(classifier: bool, y: np.ndarray, fraction: float, random_state: Any):
        rng = check_random_state(random_state)
        n = y.shape[0]
        if classifier:
            val = []
            for c in np.unique(y):
                idx = np.flatnonzero(y == c)
                rng.shuffle(idx)
                k = int(round(fraction * idx.size))
                val.extend(idx[:k].tolist())
            val_idx = np.sort(np.asarray(val, dtype=np.int64))
        else:
            perm = rng.permutation(n)
            val_idx = np.sort(perm[: int(np.ceil(fraction * n))])
        mask = np.zeros(n, dtype=bool)
        mask[val_idx] = True
        return np.flatnonzero(~mask), val_idx
