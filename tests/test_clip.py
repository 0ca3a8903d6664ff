"""Gradient clipping: clip_grad_norm_, clip_grad_value_ and total_norm against
plain numpy (and torch.nn.utils where torch is installed), on awkward sizes,
both dtypes, every ISA path and thread count."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import ISAS, LARGE, SIZES, THREADS, run_on

import gdcore as gd

O = gd.optim
NORMS = [1.0, 2.0, math.inf]
DTYPES = [np.float32, np.float64]


# ----------------------------------------------------------- numpy reference
def ref_total_norm(grads, norm_type):
    """The norm of all gradients together, in float64 (numpy, independent)."""
    flat = np.concatenate([np.asarray(g, np.float64).ravel() for g in grads] + [np.zeros(0)])
    if norm_type == math.inf:
        return float(np.max(np.abs(flat), initial=0.0)) if not np.isnan(flat).any() else math.nan
    if norm_type == 1.0:
        return float(np.sum(np.abs(flat)))
    return float(np.sqrt(np.sum(flat * flat)))


def ref_coef(total, max_norm):
    """torch: clip_coef = max_norm / (total + 1e-6), clamped to at most 1."""
    c = max_norm / (total + 1e-6)
    return c if math.isnan(c) else min(c, 1.0)


def make_grads(rng, sizes, dtype, scale=1.0):
    return [(scale * rng.standard_normal(n)).astype(dtype) for n in sizes]


def assert_close_to_reference(grads, before, total, norm_type, max_norm):
    dtype = before[0].dtype if before else np.float64
    expected_total = ref_total_norm(before, norm_type)
    rtol = 1e-12 if norm_type == math.inf else 1e-10
    assert total == pytest.approx(expected_total, rel=rtol, abs=0.0)
    coef = ref_coef(expected_total, max_norm)
    for g, b in zip(grads, before):
        # the scaling is one multiplication by the coefficient in the array's dtype
        np.testing.assert_allclose(g, b * coef, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=0)
        assert g.tobytes() == (b * b.dtype.type(ref_coef(total, max_norm))).tobytes()


# --------------------------------------------------------------- clip norm
@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_matches_numpy(rng, norm_type, dtype):
    grads = make_grads(rng, SIZES, dtype, scale=3.0)
    before = [g.copy() for g in grads]
    max_norm = 0.25 * ref_total_norm(before, norm_type)
    total = O.clip_grad_norm_(grads, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert_close_to_reference(grads, before, total, norm_type, max_norm)
    # the clipped gradients have (about) the requested norm
    assert ref_total_norm(grads, norm_type) == pytest.approx(max_norm, rel=1e-5)


@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_large(rng, norm_type, dtype):
    grads = make_grads(rng, [LARGE, 3, 0, 17], dtype)
    before = [g.copy() for g in grads]
    max_norm = 0.5 * ref_total_norm(before, norm_type)
    total = O.clip_grad_norm_(grads, max_norm, norm_type)
    assert_close_to_reference(grads, before, total, norm_type, max_norm)


@pytest.mark.parametrize("norm_type", NORMS)
def test_clip_grad_norm_mixed_dtypes(rng, norm_type):
    grads = make_grads(rng, [7, 33], np.float32) + make_grads(rng, [65, 0, 1], np.float64)
    before = [g.copy() for g in grads]
    expected = ref_total_norm(before, norm_type)
    total = O.clip_grad_norm_(grads, 0.1, norm_type)
    assert total == pytest.approx(expected, rel=1e-10)
    coef = ref_coef(expected, 0.1)
    for g, b in zip(grads, before):
        np.testing.assert_allclose(g, b * coef, rtol=1e-6 if b.dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_single_array_each_size(rng, n, dtype):
    g = (5 * rng.standard_normal(n)).astype(dtype)
    before = g.copy()
    total = O.clip_grad_norm_(g, 1.0)  # a bare array is accepted
    assert_close_to_reference([g], [before], total, 2.0, 1.0)


@pytest.mark.parametrize("norm_type", NORMS)
def test_max_norm_above_the_norm(rng, norm_type):
    grads = make_grads(rng, [31, 16, 1000], np.float64)
    before = [g.copy() for g in grads]
    norm = ref_total_norm(before, norm_type)
    # well above: the coefficient is clamped to 1, the gradients keep their bits
    total = O.clip_grad_norm_(grads, 10 * norm, norm_type)
    assert total == pytest.approx(norm, rel=1e-12)
    for g, b in zip(grads, before):
        assert g.tobytes() == b.tobytes()
    # equal to the norm: scaled by max_norm / (norm + 1e-6), i.e. by about 1, never up
    O.clip_grad_norm_(grads, norm, norm_type)
    for g, b in zip(grads, before):
        np.testing.assert_allclose(g, b * (norm / (norm + 1e-6)), rtol=1e-14)
        assert np.all(np.abs(g) <= np.abs(b))


def test_zero_and_empty_gradients():
    assert O.clip_grad_norm_([], 1.0) == 0.0
    g = [np.zeros(5), np.zeros(0, np.float32)]
    assert O.clip_grad_norm_(g, 1.0) == 0.0
    assert not g[0].any()
    for norm_type in NORMS:
        assert O.total_norm([np.zeros(3)], norm_type) == 0.0


@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_total_norm_matches_numpy(rng, norm_type, dtype):
    grads = make_grads(rng, SIZES + [LARGE], dtype)
    before = [g.copy() for g in grads]
    total = O.total_norm(grads, norm_type)
    assert total == pytest.approx(ref_total_norm(grads, norm_type), rel=1e-10)
    for g, b in zip(grads, before):
        assert g.tobytes() == b.tobytes()  # total_norm does not write
    # read-only and strided arrays are fine for a norm, and give the same value
    ro = [g.copy() for g in grads]
    for g in ro:
        g.flags.writeable = False
    assert O.total_norm(ro, norm_type) == total
    strided = np.repeat(grads[-1], 2)[::2]
    assert O.total_norm([strided], norm_type) == O.total_norm([grads[-1]], norm_type)


def test_norm_type_spellings():
    g = [np.array([3.0, -4.0])]
    assert O.total_norm(g, "inf") == O.total_norm(g, float("inf")) == 4.0
    assert O.total_norm(g, 1) == 7.0
    assert O.total_norm(g) == 5.0


# ------------------------------------------------------ non-finite gradients
@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_error_if_nonfinite_raises_and_writes_nothing(rng, norm_type, bad):
    grads = make_grads(rng, [17, 1000, 3], np.float32) + make_grads(rng, [65], np.float64)
    grads[1][500] = bad
    before = [g.copy() for g in grads]
    with pytest.raises(O.NonFiniteNormError, match=r"non-finite"):
        O.clip_grad_norm_(grads, 1.0, norm_type, error_if_nonfinite=True)
    for g, b in zip(grads, before):
        assert g.tobytes() == b.tobytes()
    # catchable as ValueError and as RuntimeError (torch raises RuntimeError)
    for exc in (ValueError, RuntimeError):
        with pytest.raises(exc):
            O.clip_grad_norm_(grads, 1.0, norm_type, error_if_nonfinite=True)
    for g, b in zip(grads, before):
        assert g.tobytes() == b.tobytes()


def test_error_if_nonfinite_with_finite_norm_clips(rng):
    grads = make_grads(rng, [33, 7], np.float64)
    before = [g.copy() for g in grads]
    total = O.clip_grad_norm_(grads, 0.5, error_if_nonfinite=True)
    assert_close_to_reference(grads, before, total, 2.0, 0.5)


@pytest.mark.parametrize("norm_type", NORMS)
def test_nan_propagates_like_torch(rng, norm_type):
    grads = make_grads(rng, [17, 1000], np.float64)
    grads[0][3] = math.nan
    total = O.clip_grad_norm_(grads, 1.0, norm_type)
    assert math.isnan(total)
    # torch: coef = max_norm / (nan + 1e-6) = nan, min(nan, 1) = nan: every element becomes NaN
    assert all(np.isnan(g).all() for g in grads)


@pytest.mark.parametrize("norm_type", NORMS)
def test_inf_gradient_without_error(rng, norm_type):
    grads = make_grads(rng, [17, 1000], np.float32)
    grads[1][10] = -math.inf
    total = O.clip_grad_norm_(grads, 1.0, norm_type)
    assert total == math.inf
    # coef = 1 / inf = 0: finite entries become (signed) zero, inf * 0 = NaN
    assert np.isnan(grads[1][10])
    rest = np.concatenate([grads[0], np.delete(grads[1], 10)])
    assert not rest.any()


# ----------------------------------------------------------------- ISA paths
def _clip_everything(grads_template, norm_type):
    grads = [g.copy() for g in grads_template]
    total = O.clip_grad_norm_(grads, 0.3, norm_type)
    value = [g.copy() for g in grads_template]
    O.clip_grad_value_(value, 0.7)
    tn = O.total_norm(grads_template, norm_type)
    return (float(total).hex(), float(tn).hex(), [g.tobytes() for g in grads], [v.tobytes() for v in value])


@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_identical_across_isas_and_threads(rng, norm_type, dtype):
    grads = make_grads(rng, SIZES + [LARGE, 4096, 4097, 8191], dtype)
    grads[3][1] = 1e30 if dtype == np.float64 else 1e19  # a wide range of magnitudes
    results = {(isa, t): run_on(isa, t, lambda: _clip_everything(grads, norm_type)) for isa in ISAS for t in THREADS}
    first = next(iter(results.values()))
    for key, r in results.items():
        assert r == first, f"{key} differs from {next(iter(results))}"
    # and the common result is right
    before = [g.copy() for g in grads]
    total = float.fromhex(first[0])
    assert total == pytest.approx(ref_total_norm(before, norm_type), rel=1e-10)


# ------------------------------------------------------------- against torch
@pytest.mark.parametrize("norm_type", NORMS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_against_torch(rng, norm_type, dtype, max_norm):
    torch = pytest.importorskip("torch")
    # (no empty array: torch's inf norm refuses one, gdcore's is 0)
    grads = make_grads(rng, [7, 65, 1000, 33], dtype, scale=2.0)
    grads[2][0] = 40.0
    params = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=torch.float32 if dtype == np.float32 else torch.float64, requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        params.append(p)
    expected = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    total = O.clip_grad_norm_(grads, max_norm, norm_type)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert total == pytest.approx(float(expected), rel=rtol)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_against_torch_nonfinite(bad):
    torch = pytest.importorskip("torch")
    g = np.array([1.0, bad, -2.0])
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    p.grad = torch.from_numpy(g.copy())
    expected = torch.nn.utils.clip_grad_norm_([p], 1.0)
    total = O.clip_grad_norm_([g], 1.0)
    np.testing.assert_array_equal(np.array(total), expected.numpy())
    np.testing.assert_array_equal(g, p.grad.numpy())
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        O.clip_grad_norm_([g], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_against_torch(rng):
    torch = pytest.importorskip("torch")
    g = (3 * rng.standard_normal(1000)).astype(np.float32)
    g[[1, 2]] = [math.nan, -math.inf]
    p = torch.zeros(1000, requires_grad=True)
    p.grad = torch.from_numpy(g.copy())
    torch.nn.utils.clip_grad_value_([p], 1.5)
    O.clip_grad_value_([g], 1.5)
    np.testing.assert_array_equal(g, p.grad.numpy())


# -------------------------------------------------------------- clip value
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_value_matches_np_clip(rng, dtype):
    grads = make_grads(rng, SIZES + [LARGE], dtype, scale=2.0)
    grads[5][[0, 3]] = [math.nan, math.inf]
    grads[6][0] = -math.inf
    expected = [np.clip(g, -1.25, 1.25) for g in grads]
    assert O.clip_grad_value_(grads, 1.25) is None
    for g, e in zip(grads, expected):
        assert g.tobytes() == e.tobytes()
    assert np.isnan(grads[5][0])  # NaN stays NaN
    assert grads[5][3] == 1.25 and grads[6][0] == -1.25


def test_clip_value_kernel_refuses_a_negative_or_nan_bound():
    # (the public function checks first; the compiled entry point, which
    # C++ and Cython callers reach directly, refuses too, before writing)
    from gdcore import _core

    for bound in (-1.0, math.nan):
        g = np.array([-3.0, 0.5, 2.0])
        with pytest.raises(ValueError, match="clip_value must be >= 0"):
            _core.clip_value_([g], bound)
        np.testing.assert_array_equal(g, [-3.0, 0.5, 2.0])


def test_clip_grad_value_bare_array_and_bounds():
    g = np.array([-3.0, -1.0, 0.5, 1.0, 2.0])
    O.clip_grad_value_(g, 1.0)
    np.testing.assert_array_equal(g, [-1.0, -1.0, 0.5, 1.0, 1.0])
    O.clip_grad_value_(g, math.inf)  # no bound
    np.testing.assert_array_equal(g, [-1.0, -1.0, 0.5, 1.0, 1.0])


# ---------------------------------------------------------------- bad input
def _readonly(n=4):
    a = np.ones(n)
    a.flags.writeable = False
    return a


BAD = [
    ("norm-type-3", lambda g: O.clip_grad_norm_(g, 1.0, norm_type=3), ValueError, r"norm_type must be 1, 2 or inf"),
    ("norm-type-0", lambda g: O.clip_grad_norm_(g, 1.0, norm_type=0), ValueError, r"norm_type must be 1, 2 or inf"),
    ("norm-type-minus-inf", lambda g: O.clip_grad_norm_(g, 1.0, norm_type=-math.inf), ValueError, r"norm_type"),
    ("norm-type-str", lambda g: O.clip_grad_norm_(g, 1.0, norm_type="2"), TypeError, r"norm_type"),
    ("total-norm-type-3", lambda g: O.total_norm(g, 3), ValueError, r"norm_type must be 1, 2 or inf"),
    ("max-norm-nan", lambda g: O.clip_grad_norm_(g, math.nan), ValueError, r"max_norm must not be NaN"),
    ("max-norm-str", lambda g: O.clip_grad_norm_(g, "1"), TypeError, r"max_norm must be a real number"),
    ("read-only", lambda g: O.clip_grad_norm_(g + [_readonly()], 1e-3), ValueError, r"gradient 2 is read-only"),
    ("non-contiguous", lambda g: O.clip_grad_norm_(g + [np.ones(8)[::2]], 1e-3), ValueError,
     r"gradient 2 must be C-contiguous"),
    ("non-array", lambda g: O.clip_grad_norm_(5.0, 1.0), TypeError, r"grads must be an array or a list of arrays"),
    ("list-in-list", lambda g: O.clip_grad_norm_(g + [[1.0, 2.0]], 1e-3), TypeError,
     r"gradient 2 must be a numpy\.ndarray"),
    ("int-array", lambda g: O.clip_grad_norm_(g + [np.ones(3, np.int64)], 1e-3), TypeError,
     r"gradient 2 must have dtype float32 or float64"),
    ("value-read-only", lambda g: O.clip_grad_value_(g + [_readonly()], 1e-3), ValueError, r"gradient 2 is read-only"),
    ("value-non-array", lambda g: O.clip_grad_value_("abc", 1.0), TypeError, r"grads must be an array"),
    ("value-negative", lambda g: O.clip_grad_value_(g, -1.0), ValueError, r"clip_value must be >= 0"),
    ("value-nan", lambda g: O.clip_grad_value_(g, math.nan), ValueError, r"clip_value must be"),
    ("value-str", lambda g: O.clip_grad_value_(g, "1"), TypeError, r"clip_value must be a real number"),
    ("total-norm-non-array", lambda g: O.total_norm(None), TypeError, r"grads must be an array"),
]


@pytest.mark.parametrize(("call", "exc", "match"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input(call, exc, match):
    grads = [np.arange(5.0) * 10, np.full(3, 7.0, np.float32)]
    before = [g.copy() for g in grads]
    with pytest.raises(exc, match=match):
        call(grads)
    for g, b in zip(grads, before):  # checked before anything is written
        assert g.tobytes() == b.tobytes()
