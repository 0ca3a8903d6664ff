"""gdcore.losses against independent references.

Every loss in ``gdcore.losses.LOSSES`` is checked against

* closed forms of the value and of the derivative written here with numpy
  (scikit-learn's definitions), in float64 (rtol 1e-12) and float32 (float32
  out, rtol ~1e-6 plus an absolute term for the cancellation that float32
  inputs carry);
* central finite differences of its own value, away from the kinks;
* scikit-learn's own Cython losses where they are reachable
  (``sklearn.linear_model._sgd_fast`` and, for the losses that moved there,
  ``sklearn._loss.loss``);

and for numerical stability at huge margins, broadcasting, result dtypes and
the argument checks of ``get()`` and of the loss objects.  Warnings are errors.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

from gdcore import losses as L

pytestmark = pytest.mark.filterwarnings("error")

REGRESSION = ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive")
CLASSIFICATION = ("log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron")
ALL_NAMES = REGRESSION + CLASSIFICATION + ("multinomial",)

# The constructor keyword of each parametrised loss, and the documented
# defaults (scikit-learn's SGD: epsilon=0.1; hinge threshold 1; perceptron 0).
PARAM_KEY = {
    "huber": "epsilon",
    "epsilon_insensitive": "epsilon",
    "squared_epsilon_insensitive": "epsilon",
    "hinge": "threshold",
    "squared_hinge": "threshold",
}
DEFAULT_PARAM = {
    "squared_error": 0.0,
    "huber": 0.1,
    "epsilon_insensitive": 0.1,
    "squared_epsilon_insensitive": 0.1,
    "log_loss": 0.0,
    "hinge": 1.0,
    "squared_hinge": 1.0,
    "modified_huber": 0.0,
    "perceptron": 0.0,
}

# (name, parameter) pairs: every elementwise loss with its default and, where
# it has one, some other parameter values.
CASES = [
    ("squared_error", None),
    ("huber", None),
    ("huber", 1.35),
    ("epsilon_insensitive", None),
    ("epsilon_insensitive", 0.5),
    ("epsilon_insensitive", 0.0),
    ("squared_epsilon_insensitive", None),
    ("squared_epsilon_insensitive", 0.5),
    ("log_loss", None),
    ("hinge", None),
    ("hinge", 0.5),
    ("squared_hinge", None),
    ("squared_hinge", 2.0),
    ("modified_huber", None),
    ("perceptron", None),
]
CASE_IDS = [n if q is None else f"{n}-{q}" for n, q in CASES]


def make(name, param=None):
    if param is None:
        return L.get(name), DEFAULT_PARAM[name]
    return L.get(name, **{PARAM_KEY[name]: param}), float(param)


# ----------------------------------------------------------------------------
# Independent references (float64 numpy)
# ----------------------------------------------------------------------------


def ref_value(name, c, y, p):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if name == "squared_error":
        return 0.5 * (p - y) ** 2
    if name == "huber":
        r = p - y
        return np.where(np.abs(r) <= c, 0.5 * r**2, c * np.abs(r) - 0.5 * c**2)
    if name == "epsilon_insensitive":
        return np.maximum(0.0, np.abs(y - p) - c)
    if name == "squared_epsilon_insensitive":
        return np.maximum(0.0, np.abs(y - p) - c) ** 2
    z = y * p
    if name == "log_loss":
        return np.logaddexp(0.0, -z)
    if name in ("hinge", "perceptron"):
        return np.maximum(0.0, c - z)
    if name == "squared_hinge":
        return np.maximum(0.0, c - z) ** 2
    if name == "modified_huber":
        return np.where(z >= 1, 0.0, np.where(z >= -1, (1 - z) ** 2, -4 * z))
    raise AssertionError(name)


def ref_derivative(name, c, y, p):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if name == "squared_error":
        return p - y
    if name == "huber":
        r = p - y
        return np.where(np.abs(r) <= c, r, c * np.sign(r))
    if name == "epsilon_insensitive":
        return np.where(np.abs(y - p) > c, np.sign(p - y), 0.0)
    if name == "squared_epsilon_insensitive":
        return 2.0 * np.sign(p - y) * np.maximum(0.0, np.abs(y - p) - c)
    z = y * p
    if name == "log_loss":
        # -y * sigmoid(-z) = -y / (1 + e^z), evaluated without overflow.
        return -y * np.exp(-np.logaddexp(0.0, z))
    if name in ("hinge", "perceptron"):
        return np.where(z <= c, -y, 0.0)
    if name == "squared_hinge":
        return -2.0 * y * np.maximum(0.0, c - z)
    if name == "modified_huber":
        return np.where(z >= 1, 0.0, np.where(z >= -1, -2.0 * y * (1 - z), -4.0 * y))
    raise AssertionError(name)


def kink_distance(name, c, y, p):
    """Distance in p from (y, p) to the nearest point where the loss is not
    twice differentiable (inf if it has none)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if name in ("squared_error", "log_loss"):
        return np.full(np.broadcast(y, p).shape, np.inf)
    if name in REGRESSION:
        return np.abs(np.abs(p - y) - c)
    ay = np.abs(y)
    z = y * p
    if name in ("hinge", "perceptron", "squared_hinge"):
        return np.abs(z - c) / ay
    if name == "modified_huber":
        return np.minimum(np.abs(z - 1), np.abs(z + 1)) / ay
    raise AssertionError(name)


def ref_multinomial(y, p):
    """logsumexp(p) - p_y and softmax(p) - onehot(y), row by row, with the
    row maximum m taken out first: (m - p_y) + log(sum exp(p - m)) and
    exp(p - m) / sum, so that neither is lost next to a large m."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y)
    m = p.max(axis=1, keepdims=True)
    e = np.exp(p - m)
    s = e.sum(axis=1, keepdims=True)
    value = (m[:, 0] - p[np.arange(len(y)), y]) + np.log(s[:, 0])
    soft = e / s
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return value, soft - onehot


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------


def sample(name, c, n=600, seed=0):
    """(y, p) pairs in float64 that cover every branch, with many points
    close to (and some exactly on) each kink."""
    rng = np.random.default_rng(seed)
    if name in REGRESSION:
        y = rng.normal(0.0, 3.0, 4 * n)
        r = np.concatenate(
            [
                rng.normal(0.0, 3.0, n),
                rng.normal(0.0, 0.3, n),
                c + rng.normal(0.0, 0.05, n),
                -c + rng.normal(0.0, 0.05, n),
            ]
        )
        p = y + r
        # exactly on the kinks (dyadic values: |y - p| == c exactly when c is
        # dyadic; otherwise as close as rounding allows)
        yk = np.array([0.0, 0.25, -1.5, 2.0])
        p = np.concatenate([p, yk + c, yk - c, yk])
        y = np.concatenate([y, yk, yk, yk])
        return y, p
    labels = rng.choice([-1.0, 1.0], 3 * n)
    general = rng.uniform(0.5, 2.0, n) * rng.choice([-1.0, 1.0], n)
    y = np.concatenate([labels, general])
    kinks = np.array([c, 1.0, -1.0, 0.0])
    z = np.concatenate(
        [
            rng.normal(0.0, 3.0, 2 * n),
            rng.choice(kinks, 2 * n) + rng.normal(0.0, 0.05, 2 * n),
        ]
    )
    p = z / y
    # exactly on the kinks, y in {-1, +1}
    yk = np.array([1.0, -1.0])
    for k in (c, 1.0, -1.0, 0.0):
        y = np.concatenate([y, yk])
        p = np.concatenate([p, yk * k])
    return y, p


def check_close(actual, expected, rtol, atol):
    """|actual - expected| <= rtol |expected| + atol, elementwise (atol may be
    an array)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    err = np.abs(actual - expected)
    tol = rtol * np.abs(expected) + atol
    bad = ~(err <= tol)
    if bad.any():
        i = np.flatnonzero(bad.reshape(-1))[:5]
        raise AssertionError(
            f"{bad.sum()} of {bad.size} mismatched; first: actual {actual.reshape(-1)[i]}, "
            f"expected {expected.reshape(-1)[i]}"
        )


def f32_atol(y, p, c):
    """Absolute error float32 inputs can carry through the cancellation in
    |y - p| - eps, t - y p and friends (a few ulps of the operands, squared
    for the squared losses)."""
    s = 1.0 + np.abs(np.asarray(y, np.float64)) + np.abs(np.asarray(p, np.float64)) + c
    return 2e-7 * s * s


# ----------------------------------------------------------------------------
# Registry and get()
# ----------------------------------------------------------------------------


def test_registry_holds_exactly_the_sklearn_names():
    assert set(L.LOSSES) == set(ALL_NAMES)
    for name in ALL_NAMES:
        loss = L.get(name)
        assert isinstance(loss, L.LOSSES[name])
        assert loss.name == name
    assert L.get("multinomial").classification
    for name in CLASSIFICATION:
        assert L.get(name).classification
    for name in REGRESSION:
        assert not L.get(name).classification


def test_get_parameters_and_defaults():
    assert L.get("huber", epsilon=1.35).epsilon == 1.35
    assert L.get("epsilon_insensitive", epsilon=0.2).epsilon == 0.2
    assert L.get("squared_epsilon_insensitive", epsilon=0.0).epsilon == 0.0
    assert L.get("hinge", threshold=0.5).threshold == 0.5
    assert L.get("squared_hinge", threshold=2).threshold == 2.0
    assert L.Huber().epsilon == 0.1
    assert L.EpsilonInsensitive().epsilon == 0.1
    assert L.SquaredEpsilonInsensitive().epsilon == 0.1
    assert L.Hinge().threshold == 1.0
    assert L.SquaredHinge().threshold == 1.0
    assert L.Perceptron().threshold == 0.0
    # an instance passes through unchanged
    h = L.Huber(2.0)
    assert L.get(h) is h
    m = L.MultinomialLogLoss()
    assert L.get(m) is m
    # equality / hashing by type and parameter
    assert L.get("huber", epsilon=1.35) == L.Huber(1.35)
    assert hash(L.get("huber", epsilon=1.35)) == hash(L.Huber(1.35))
    assert L.Huber(1.35) != L.Huber(0.1)
    assert L.Perceptron() != L.Hinge(0.0)
    # __call__ is value
    y, p = np.array([1.0, -1.0]), np.array([0.5, 0.5])
    np.testing.assert_array_equal(L.Hinge()(y, p), L.Hinge().value(y, p))


@pytest.mark.parametrize("bad", ["nope", "Hinge", "log", "", None, 3, ["hinge"]])
def test_get_unknown_name_lists_choices(bad):
    with pytest.raises(ValueError, match="unknown loss") as info:
        L.get(bad)
    for name in ALL_NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("name", list(PARAM_KEY))
@pytest.mark.parametrize("bad", [-0.1, -1, float("nan"), -np.inf, True, "0.1", None])
def test_bad_parameter_is_value_error(name, bad):
    with pytest.raises(ValueError, match="parameter"):
        L.get(name, **{PARAM_KEY[name]: bad})


@pytest.mark.parametrize("name", [n for n in REGRESSION + CLASSIFICATION])
@pytest.mark.parametrize(
    "y, p",
    [
        (np.array(["a", "b"]), np.array([0.0, 1.0])),
        (np.array([0.0, 1.0]), np.array(["a", "b"])),
        (np.array([1 + 1j, 1.0]), np.array([0.0, 1.0])),
        (np.array([1.0, 1.0]), np.array([0.0, 1.0], dtype=object)),
        (None, np.array([0.0, 1.0])),
        ("1.0", 0.5),
    ],
)
def test_non_numeric_input_is_type_error(name, y, p):
    loss = L.get(name)
    with pytest.raises(TypeError):
        loss.value(y, p)
    with pytest.raises(TypeError):
        loss.derivative(y, p)


# ----------------------------------------------------------------------------
# Values and derivatives against closed forms
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, param", CASES, ids=CASE_IDS)
def test_value_float64(name, param):
    loss, c = make(name, param)
    y, p = sample(name, c)
    v = loss.value(y, p)
    assert v.dtype == np.float64 and v.shape == y.shape
    check_close(v, ref_value(name, c, y, p), 1e-12, 1e-300)
    assert np.all(v >= 0)


@pytest.mark.parametrize("name, param", CASES, ids=CASE_IDS)
def test_value_float32(name, param):
    loss, c = make(name, param)
    y, p = sample(name, c, seed=1)
    y32, p32 = y.astype(np.float32), p.astype(np.float32)
    c32 = float(np.float32(c))  # the loss computes in float32 throughout
    v = loss.value(y32, p32)
    assert v.dtype == np.float32 and v.shape == y.shape
    check_close(v, ref_value(name, c32, y32, p32), 2e-6, f32_atol(y32, p32, c32))


@pytest.mark.parametrize("name, param", CASES, ids=CASE_IDS)
def test_derivative_closed_form_float64(name, param):
    loss, c = make(name, param)
    y, p = sample(name, c, seed=2)
    d = loss.derivative(y, p)
    assert d.dtype == np.float64 and d.shape == y.shape
    away = kink_distance(name, c, y, p) > 1e-3
    assert away.sum() > 0.8 * away.size
    check_close(d[away], ref_derivative(name, c, y, p)[away], 1e-12, 1e-300)


@pytest.mark.parametrize("name, param", CASES, ids=CASE_IDS)
def test_derivative_closed_form_float32(name, param):
    loss, c = make(name, param)
    y, p = sample(name, c, seed=3)
    y32, p32 = y.astype(np.float32), p.astype(np.float32)
    c32 = float(np.float32(c))
    d = loss.derivative(y32, p32)
    assert d.dtype == np.float32 and d.shape == y.shape
    away = kink_distance(name, c32, y32, p32) > 1e-3
    check_close(
        d[away],
        ref_derivative(name, c32, y32, p32)[away],
        2e-6,
        f32_atol(y32, p32, c32)[away],
    )


@pytest.mark.parametrize("name, param", CASES, ids=CASE_IDS)
def test_derivative_finite_differences(name, param):
    loss, c = make(name, param)
    y, p = sample(name, c, seed=4)
    away = kink_distance(name, c, y, p) > 1e-3
    y, p = y[away], p[away]
    h = 1e-6 * np.maximum(1.0, np.abs(p))
    fd = (loss.value(y, p + h) - loss.value(y, p - h)) / ((p + h) - (p - h))
    check_close(loss.derivative(y, p), fd, 1e-6, 1e-6)


@pytest.mark.parametrize("name, param", CASES, ids=CASE_IDS)
def test_on_kink_points_value_is_continuous(name, param):
    """Exactly on a kink both one-sided formulas agree, so the value must
    equal the closed form there whatever branch the kernel takes; and the
    derivative must lie between the two one-sided derivatives."""
    loss, c = make(name, param)
    if name in REGRESSION:
        y = np.array([0.0, 0.25, -1.5, 0.0, 0.25, -1.5])
        p = y + np.array([c, c, c, -c, -c, -c])
    else:
        y = np.array([1.0, -1.0] * 4)
        p = y * np.repeat([c, 1.0, -1.0, 0.0], 2)
    np.testing.assert_allclose(loss.value(y, p), ref_value(name, c, y, p), rtol=1e-15, atol=1e-300)
    d = loss.derivative(y, p)
    lo = ref_derivative(name, c, y, p - 1e-9)
    hi = ref_derivative(name, c, y, p + 1e-9)
    # a subgradient: between the one-sided derivatives (all losses are convex
    # in p; at a C1 point both sides agree)
    ok = (d >= np.minimum(lo, hi) - 1e-8) & (d <= np.maximum(lo, hi) + 1e-8)
    assert ok.all(), (d, lo, hi)


def test_docstring_examples():
    np.testing.assert_array_equal(
        L.Hinge().value(np.array([1.0, -1.0]), np.array([0.5, 0.5])), [0.5, 1.5]
    )
    d = L.get("log_loss").derivative(1.0, 0.0)
    assert d.shape == () and d == -0.5


# ----------------------------------------------------------------------------
# scikit-learn's own losses
# ----------------------------------------------------------------------------

# gdcore name -> (class name in sklearn.linear_model._sgd_fast, takes param)
SGD_FAST = {
    "squared_error": ("SquaredLoss", False),
    "huber": ("Huber", True),
    "epsilon_insensitive": ("EpsilonInsensitive", True),
    "squared_epsilon_insensitive": ("SquaredEpsilonInsensitive", True),
    "log_loss": ("Log", False),
    "hinge": ("Hinge", True),
    "squared_hinge": ("SquaredHinge", True),
    "modified_huber": ("ModifiedHuber", False),
    "perceptron": ("Hinge", True),  # sklearn's Perceptron is Hinge(0.0)
}


def _sklearn_reference(name, c):
    """(value_fn, derivative_fn, note) from scikit-learn for arrays y, p, or
    None when the installed version exposes no such loss."""
    try:
        sgd = importlib.import_module("sklearn.linear_model._sgd_fast")
    except ImportError:  # pragma: no cover
        sgd = None
    cls_name, takes_param = SGD_FAST[name]
    cls = getattr(sgd, cls_name, None) if sgd is not None else None
    if cls is not None and hasattr(cls, "py_loss") and hasattr(cls, "py_dloss"):
        obj = cls(c) if takes_param else cls()

        def value(y, p):
            return np.array([obj.py_loss(float(pi), float(yi)) for yi, pi in zip(y, p)])

        def deriv(y, p):
            return np.array([obj.py_dloss(float(pi), float(yi)) for yi, pi in zip(y, p)])

        return value, deriv, "sgd_fast"
    # Since scikit-learn 1.6 or so, the SGD regressors and the log loss use
    # the common losses of sklearn._loss (y in {0, 1} for the binomial one).
    try:
        lossmod = importlib.import_module("sklearn._loss.loss")
    except ImportError:  # pragma: no cover
        return None
    if name == "squared_error" and hasattr(lossmod, "HalfSquaredError"):
        obj = lossmod.HalfSquaredError()
        return (lambda y, p: obj.loss(y, p)), (lambda y, p: obj.gradient(y, p)), "_loss"
    if name == "huber" and hasattr(lossmod, "HuberLoss"):
        obj = lossmod.HuberLoss(delta=c)
        return (lambda y, p: obj.loss(y, p)), (lambda y, p: obj.gradient(y, p)), "_loss"
    if name == "log_loss" and hasattr(lossmod, "HalfBinomialLoss"):
        obj = lossmod.HalfBinomialLoss()

        def value(y, p):
            return obj.loss((y + 1.0) / 2.0, p)

        def deriv(y, p):
            return obj.gradient((y + 1.0) / 2.0, p)

        return value, deriv, "_loss"
    return None


@pytest.mark.parametrize("name, param", CASES, ids=CASE_IDS)
def test_against_sklearn(name, param):
    pytest.importorskip("sklearn")
    loss, c = make(name, param)
    ref = _sklearn_reference(name, c)
    if ref is None:
        pytest.skip(f"installed scikit-learn exposes no reference for {name}")
    value, deriv, where = ref
    y, p = sample(name, c, n=100, seed=5)
    if name == "log_loss" and where == "_loss":
        keep = np.abs(y) == 1.0  # the binomial loss takes labels only
        y, p = y[keep], p[keep]
    y = np.ascontiguousarray(y)
    p = np.ascontiguousarray(p)
    v_ref, d_ref = value(y, p), deriv(y, p)
    v, d = loss.value(y, p), loss.derivative(y, p)
    if name == "log_loss":
        # sklearn's Log (and the binomial loss) switch to asymptotic forms for
        # large |z|: exact comparison only for |z| <= 18.
        small = np.abs(y * p) <= 18
        check_close(v[small], v_ref[small], 1e-12, 1e-300)
        check_close(d[small], d_ref[small], 1e-12, 1e-300)
        check_close(v, v_ref, 1e-7, 1e-300)
        check_close(d, d_ref, 1e-7, 1e-300)
    else:
        check_close(v, v_ref, 1e-12, 1e-300)
        # derivatives must agree everywhere, kinks included (same conventions)
        check_close(d, d_ref, 1e-12, 1e-300)


def test_multinomial_against_sklearn():
    pytest.importorskip("sklearn")
    try:
        lossmod = importlib.import_module("sklearn._loss.loss")
        cls = lossmod.HalfMultinomialLoss
    except (ImportError, AttributeError):
        pytest.skip("no sklearn._loss.loss.HalfMultinomialLoss")
    rng = np.random.default_rng(6)
    n, k = 200, 4
    p = rng.normal(0.0, 3.0, (n, k))
    y = rng.integers(0, k, n)
    obj = cls(n_classes=k)
    v_ref = obj.loss(y.astype(np.float64), p)
    g_ref = obj.gradient(y.astype(np.float64), p)
    m = L.MultinomialLogLoss()
    atol = 1e-14 * (1.0 + np.abs(p).max(axis=1))
    check_close(m.value(y, p), v_ref, 1e-12, atol)
    check_close(m.derivative(y, p), g_ref, 1e-12, 1e-15)


# ----------------------------------------------------------------------------
# Numerical stability
# ----------------------------------------------------------------------------

BIG = [1e3, 1e30]


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_classification_large_margins_are_finite(name, dtype):
    loss = L.get(name)
    c = DEFAULT_PARAM[name]
    squared = name == "squared_hinge"
    for m in BIG:
        if dtype == np.float32 and squared and m > 1e15:
            continue  # (1e30)^2 overflows float32: inf is the right answer
        for yv in (1.0, -1.0):
            for zv in (m, -m):
                y = np.array([yv], dtype=dtype)
                p = np.array([zv * yv], dtype=dtype)
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    v = loss.value(y, p)
                    d = loss.derivative(y, p)
                assert v.dtype == dtype and d.dtype == dtype
                assert np.isfinite(v).all() and np.isfinite(d).all(), (m, yv, zv, v, d)
                assert v[0] >= 0
                tol = 1e-6 if dtype == np.float32 else 1e-12
                np.testing.assert_allclose(v, ref_value(name, c, y, p), rtol=tol)
                np.testing.assert_allclose(d, ref_derivative(name, c, y, p), rtol=tol)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_infinite_predictions(name):
    """p = +-inf: a margin of +inf costs nothing; -inf costs inf (never NaN),
    and every derivative except the squared hinge's stays finite."""
    loss = L.get(name)
    y = np.array([1.0, -1.0, 1.0, -1.0])
    p = np.array([np.inf, -np.inf, -np.inf, np.inf])  # z = +inf, +inf, -inf, -inf
    v = loss.value(y, p)
    d = loss.derivative(y, p)
    np.testing.assert_array_equal(v[:2], 0.0)
    np.testing.assert_array_equal(d[:2], 0.0)
    assert np.all(v[2:] == np.inf)
    if name == "squared_hinge":
        np.testing.assert_array_equal(d[2:], -np.inf * y[2:])
    else:
        assert np.isfinite(d[2:]).all()
        expected = {"log_loss": -1.0, "hinge": -1.0, "perceptron": -1.0, "modified_huber": -4.0}
        np.testing.assert_array_equal(d[2:], expected[name] * y[2:])


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_regression_large_residuals(name, dtype):
    loss = L.get(name)
    c = DEFAULT_PARAM[name]
    squared = name in ("squared_error", "squared_epsilon_insensitive")
    for m in BIG:
        if dtype == np.float32 and squared and m > 1e15:
            continue
        y = np.array([0.0, 1.0, -2.0, 0.5], dtype=dtype)
        p = np.array([m, -m, m, -m], dtype=dtype)
        v, d = loss.value(y, p), loss.derivative(y, p)
        assert np.isfinite(v).all() and np.isfinite(d).all()
        tol = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(v, ref_value(name, c, y, p), rtol=tol)
        np.testing.assert_allclose(d, ref_derivative(name, c, y, p), rtol=tol)
    # infinite predictions: infinite loss, never NaN; bounded derivatives stay so
    y = np.array([0.0, 1.0])
    p = np.array([np.inf, -np.inf])
    v, d = loss.value(y, p), loss.derivative(y, p)
    assert np.all(v == np.inf)
    assert not np.isnan(d).any()
    if name == "huber":
        np.testing.assert_array_equal(d, [c, -c])
    if name == "epsilon_insensitive":
        np.testing.assert_array_equal(d, [1.0, -1.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_extremes(dtype):
    loss = L.LogLoss()
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0], dtype=dtype)
    z = np.array([-1000.0, -1000.0, 1000.0, 1000.0, -1e30, 1e30], dtype=dtype)
    p = z * y
    v, d = loss.value(y, p), loss.derivative(y, p)
    assert v.dtype == dtype and d.dtype == dtype
    np.testing.assert_array_equal(v[:2], 1000.0)
    # exp(-1000) underflows in both precisions
    assert np.all(v[2:4] >= 0) and np.all(v[2:4] <= np.finfo(dtype).tiny)
    assert v[4] == dtype(1e30) and v[5] == 0.0
    assert np.all(d >= -1) and np.all(d <= 1)
    np.testing.assert_array_equal(d[[0, 1, 4]], -y[[0, 1, 4]])
    np.testing.assert_array_equal(np.abs(d[[2, 3, 5]]), 0.0)
    # moderate margins: log(2) at 0, slope -y/2
    np.testing.assert_allclose(loss.value(1.0, 0.0), np.log(2.0), rtol=1e-15)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 60, reason="needs an extended-precision long double")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_value_within_two_ulp(dtype):
    # log_loss computes log1p(exp(-|z|)) with its own branch-free log1p (the
    # fused loops evaluate it on vectors); against long double libm
    rng = np.random.default_rng(7)
    ln2 = np.log(2.0)
    z = np.concatenate([
        3 * rng.standard_normal(50_000), rng.uniform(-40, 40, 50_000),
        rng.uniform(-745, 745, 5_000),
        ln2 + 1e-3 * rng.standard_normal(5_000), -ln2 + 1e-3 * rng.standard_normal(5_000),
        [0.0, -0.0, 1e-300, -1e-300, 5e-324, 700.0, -700.0, ln2, -ln2],
    ]).astype(dtype)
    y = np.where(rng.random(z.size) < 0.5, 1.0, -1.0).astype(dtype)
    v = L.LogLoss().value(y, z * y)
    zl = (z * y * y).astype(np.longdouble)  # the margin the loss sees
    ref = np.where(zl > 0, np.log1p(np.exp(-zl)), -zl + np.log1p(np.exp(zl)))
    ulp = np.spacing(np.abs(ref.astype(dtype))).astype(np.longdouble)
    err = np.abs(v.astype(np.longdouble) - ref) / ulp
    assert err.max() <= 2.0, (err.max(), z[err.argmax()])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multinomial_stability(dtype):
    m = L.MultinomialLogLoss()
    p = np.array([[1000.0, 0.0], [1000.0, 0.0], [-1e4, 1e4], [-1e4, 1e4], [1e30, -1e30]], dtype=dtype)
    y = np.array([0, 1, 0, 1, 1])
    v, g = m.value(y, p), m.derivative(y, p)
    assert v.dtype == dtype and g.dtype == dtype
    assert np.isfinite(v).all() and np.isfinite(g).all()
    np.testing.assert_allclose(v, [0.0, 1000.0, 2e4, 0.0, 2e30], rtol=1e-7, atol=1e-30)
    np.testing.assert_allclose(g, [[0, 0], [1, -1], [-1, 1], [0, 0], [1, -1]], atol=1e-30)
    # a class with -inf logit has probability 0; an all-equal row is uniform
    p = np.array([[-np.inf, 0.0, 0.0], [3.0, 3.0, 3.0]], dtype=dtype)
    v, g = m.value(np.array([1, 2]), p), m.derivative(np.array([1, 2]), p)
    np.testing.assert_allclose(v, np.log([2.0, 3.0]), rtol=1e-6)
    np.testing.assert_allclose(g, [[0, -0.5, 0.5], [1 / 3, 1 / 3, -2 / 3]], rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------
# Multinomial: values and derivative
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_multinomial_float64(k):
    rng = np.random.default_rng(7 + k)
    n = 300
    p = rng.normal(0.0, 4.0, (n, k))
    y = rng.integers(0, k, n)
    m = L.MultinomialLogLoss()
    v, g = m.value(y, p), m.derivative(y, p)
    assert v.shape == (n,) and g.shape == (n, k)
    assert v.dtype == np.float64 and g.dtype == np.float64
    v_ref, g_ref = ref_multinomial(y, p)
    # lse - p_y cancels when p_y is the row max: absolute error ~ulp(max)
    check_close(v, v_ref, 1e-12, 1e-14 * (1.0 + np.abs(p).max(axis=1)))
    check_close(g, g_ref, 1e-12, 1e-15)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-14)
    assert np.all(v >= 0)
    # the derivative is the gradient of the value (central differences)
    h = 1e-6
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        fd = (m.value(y, p + e) - m.value(y, p - e)) / (2 * h)
        check_close(g[:, j], fd, 1e-6, 1e-8)


@pytest.mark.parametrize("k", [2, 5])
def test_multinomial_float32(k):
    rng = np.random.default_rng(17 + k)
    n = 300
    p = rng.normal(0.0, 4.0, (n, k)).astype(np.float32)
    y = rng.integers(0, k, n)
    m = L.MultinomialLogLoss()
    v, g = m.value(y, p), m.derivative(y, p)
    assert v.dtype == np.float32 and g.dtype == np.float32
    v_ref, g_ref = ref_multinomial(y, p)
    scale = 1.0 + np.abs(p).max(axis=1)
    check_close(v, v_ref, 2e-6, 2e-7 * scale)
    # softmax_y - 1 cancels: absolute error ~ a few ulps of lse
    check_close(g, g_ref, 2e-6, 3e-7 * scale[:, None])


@pytest.mark.parametrize("name", REGRESSION + CLASSIFICATION)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_in_gives_nan_out(name, dtype):
    # every branch of every loss: NaN in y or p is NaN out (a comparison
    # with NaN would otherwise pick a finite branch: hinge's 0)
    loss = L.get(name)
    p = np.array([np.nan, np.nan, 0.5, -3.0, 3.0, np.nan], dtype)
    y = np.array([1.0, -1.0, np.nan, np.nan, np.nan, np.nan], dtype)
    for fn in (loss.value, loss.derivative):
        out = fn(y, p)
        assert out.dtype == dtype
        assert np.isnan(out).all(), (fn.__name__, out)
    # finite inputs stay finite
    assert np.isfinite(loss.value(np.ones(3, dtype), np.array([-2.0, 0.5, 2.0], dtype))).all()


@pytest.mark.parametrize("dtype, big", [(np.float32, 1e7), (np.float32, 1e30),
                                        (np.float64, 1e16), (np.float64, 1e300)])
def test_multinomial_accurate_for_logits_of_any_magnitude(dtype, big):
    # two classes tied at a large logit: log 2 and probabilities 1/2 each
    # (logsumexp - p_y computed as (m + log s) - p_y loses log s next to m)
    m = L.MultinomialLogLoss()
    p = np.array([[big, big, 0.0], [-big, -big, -big], [big, -big, big]], dtype=dtype)
    y = np.array([0, 2, 1])
    v, g = m.value(y, p), m.derivative(y, p)
    np.testing.assert_allclose(v, [np.log(2), np.log(3), 2 * big],
                               rtol=1e-6)
    np.testing.assert_allclose(g, [[-0.5, 0.5, 0.0], [1 / 3, 1 / 3, -2 / 3], [0.5, -1.0, 0.5]],
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-6)


def test_multinomial_input_forms():
    m = L.MultinomialLogLoss()
    p = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    ref, g_ref = ref_multinomial(np.array([2, 1]), p)
    # integral floats, lists, other integer dtypes are class indices
    for y in ([2, 1], np.array([2.0, 1.0]), np.array([2, 1], dtype=np.uint8), (2, 1)):
        np.testing.assert_allclose(m.value(y, p), ref, rtol=1e-14)
        np.testing.assert_allclose(m.derivative(y, p), g_ref, rtol=1e-14)
    assert m(np.array([2, 1]), p).shape == (2,)
    # integer p computes in float64; non-contiguous p is fine
    assert m.value([0], np.array([[1, 2]])).dtype == np.float64
    pf = np.asfortranarray(np.tile(p, (1, 2)))[:, ::2]
    np.testing.assert_allclose(m.value([2, 1], pf), m.value([2, 1], np.ascontiguousarray(pf)))
    # empty batch
    assert m.value(np.zeros(0, dtype=np.int64), np.zeros((0, 3))).shape == (0,)
    assert m.derivative(np.zeros(0, dtype=np.int64), np.zeros((0, 3))).shape == (0, 3)


@pytest.mark.parametrize(
    "y, p, exc",
    [
        ([0], np.array([0.0, 1.0]), ValueError),  # 1-D p
        ([0], np.zeros((1, 2, 2)), ValueError),  # 3-D p
        (0, np.array(1.0), ValueError),  # 0-D p
        ([2], np.zeros((1, 2)), ValueError),  # class == k
        ([-1], np.zeros((1, 2)), ValueError),  # negative class
        ([0, 5], np.zeros((2, 3)), ValueError),
        ([0, 1], np.zeros((3, 2)), ValueError),  # length mismatch
        ([[0], [1]], np.zeros((2, 2)), ValueError),  # 2-D y
        ([0.5], np.zeros((1, 2)), TypeError),  # non-integer
        ([np.nan], np.zeros((1, 2)), TypeError),
        (np.array([True]), np.zeros((1, 2)), TypeError),
        (["a"], np.zeros((1, 2)), TypeError),
        (np.array([1 + 0j]), np.zeros((1, 2)), TypeError),
    ],
)
def test_multinomial_errors(y, p, exc):
    m = L.MultinomialLogLoss()
    with pytest.raises(exc):
        m.value(y, p)
    with pytest.raises(exc):
        m.derivative(y, p)


def test_multinomial_infinite_class_is_type_error():
    with pytest.raises(TypeError):
        L.MultinomialLogLoss().value(np.array([np.inf]), np.zeros((1, 2)))


def test_multinomial_huge_float_class_is_value_error():
    with pytest.raises(ValueError):
        L.MultinomialLogLoss().value(np.array([1e300]), np.zeros((1, 2)))


def test_multinomial_non_numeric_p_is_type_error():
    with pytest.raises(TypeError):
        L.MultinomialLogLoss().value([0], np.array([["1", "2"]]))


# ----------------------------------------------------------------------------
# Broadcasting and dtypes
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", REGRESSION + CLASSIFICATION)
def test_broadcasting(name):
    loss = L.get(name)
    c = DEFAULT_PARAM[name]
    rng = np.random.default_rng(8)
    # scalar y with an array p
    p = rng.normal(0.0, 2.0, (2, 5))
    for fn, ref in ((loss.value, ref_value), (loss.derivative, ref_derivative)):
        out = fn(-1.0, p)
        assert out.shape == (2, 5)
        np.testing.assert_allclose(out, ref(name, c, -1.0, p), rtol=1e-12, atol=1e-300)
        # (3, 1) with (4,) -> (3, 4)
        y = np.array([[-1.0], [1.0], [1.0]])
        q = rng.normal(0.0, 2.0, 4)
        out = fn(y, q)
        assert out.shape == (3, 4)
        np.testing.assert_allclose(out, ref(name, c, *np.broadcast_arrays(y, q)), rtol=1e-12, atol=1e-300)
        # and the other way round, with non-contiguous views
        yv = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0])[::2]
        qv = rng.normal(0.0, 2.0, (4, 3)).T[:, :, None][..., 0].T[:, :1]
        out = fn(yv, qv)
        assert out.shape == (4, 4)
        np.testing.assert_allclose(out, ref(name, c, *np.broadcast_arrays(yv, qv)), rtol=1e-12, atol=1e-300)
        # scalars give a 0-d array; empty gives empty
        assert fn(1.0, 0.25).shape == ()
        assert fn(np.zeros(0), np.zeros(0)).shape == (0,)
        assert fn(np.zeros((0, 3)), 1.0).shape == (0, 3)
    with pytest.raises(ValueError):
        loss.value(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        loss.derivative(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize("name", REGRESSION + CLASSIFICATION)
def test_result_dtypes(name):
    loss = L.get(name)
    f32 = np.array([1.0, -1.0], dtype=np.float32)
    f64 = np.array([0.5, -2.0])
    cases = [
        (f32, f32, np.float32),
        (f32, f64, np.float64),
        (f64, f32, np.float64),
        (f64, f64, np.float64),
        (np.array([1, -1]), np.array([2, 0]), np.float64),  # integers
        (np.array([1, -1], dtype=np.int8), f32, np.float64),
        (f32.astype(np.float16), f32.astype(np.float16), np.float64),
        (np.array([True, False]), f64, np.float64),
        (1.0, f32, np.float64),  # a Python float is float64 (documented rule)
        (np.float32(1.0), f32, np.float32),
        (np.float32(1.0), np.float32(0.5), np.float32),
    ]
    for y, p, dt in cases:
        v, d = loss.value(y, p), loss.derivative(y, p)
        assert v.dtype == dt and d.dtype == dt, (y, p, v.dtype, d.dtype)
        c = DEFAULT_PARAM[name]
        np.testing.assert_allclose(v, ref_value(name, c, y, p), rtol=1e-6, atol=1e-7)
    # the float32 result agrees with the float64 one to float32 precision
    y32 = np.float32(0.3) + np.zeros(4, np.float32)
    p32 = np.array([0.1, 0.7, -0.45, 1.3], np.float32)
    v32 = loss.value(y32, p32)
    v64 = loss.value(y32.astype(np.float64), p32.astype(np.float64))
    np.testing.assert_allclose(v32, v64, rtol=1e-5, atol=1e-6)


def test_inputs_are_not_modified():
    y = np.array([1.0, -1.0, 1.0])
    p = np.array([0.2, 0.3, -4.0])
    y0, p0 = y.copy(), p.copy()
    for name in REGRESSION + CLASSIFICATION:
        L.get(name).value(y, p)
        L.get(name).derivative(y, p)
    P = np.array([[0.0, 1.0], [2.0, 3.0]])
    P0 = P.copy()
    L.MultinomialLogLoss().derivative([0, 1], P)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(p, p0)
    np.testing.assert_array_equal(P, P0)
