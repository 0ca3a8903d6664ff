"""The row kernels of the per-sample loop (dot, axpy_dot) and the decision
function (dense and CSR) against the plain-numpy fixed-order reference, bit for bit, on
every ISA path and thread count."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import ISAS, LARGE, SIZES, THREADS, run_on
from reference import linear as ref

from gdcore import _core

CASES = [(isa, nt) for isa in ISAS for nt in THREADS]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES + [LARGE])
@pytest.mark.parametrize("isa,nt", CASES)
def test_dot_is_fixed_order(isa, nt, n, dtype, rng):
    x = rng.standard_normal(n).astype(dtype)
    w = rng.standard_normal(n).astype(dtype)
    got = run_on(isa, nt, lambda: _core.dot(x, w))
    want = ref.fixed_dot(x, w)
    assert got == float(want), (isa, n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", SIZES + [LARGE])
@pytest.mark.parametrize("isa,nt", CASES)
def test_axpy_dot_equals_axpy_then_dot(isa, nt, n, dtype, rng):
    x = rng.standard_normal(n).astype(dtype)
    xn = rng.standard_normal(n).astype(dtype)
    w = rng.standard_normal(n).astype(dtype)
    a = -0.37
    w_want = w.copy()
    want = ref.axpy_dot(w_want, x, a, xn)
    got = run_on(isa, nt, lambda: _core.axpy_dot_(w, x, a, xn))
    np.testing.assert_array_equal(w, w_want)
    assert got == float(want), (isa, n)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa", ISAS)
def test_every_tail_length(isa, dtype, rng):
    # each of the four registers of partials ends full, partial or empty
    for n in range(0, 2 * ref.dot_partials(dtype) + 18):
        x = rng.standard_normal(n).astype(dtype)
        xn = rng.standard_normal(n).astype(dtype)
        buf = rng.standard_normal(n + 16).astype(dtype)  # w and what lies past it
        w = buf[:n]
        assert run_on(isa, 1, lambda: _core.dot(x, w)) == float(ref.fixed_dot(x, w)), n
        past = buf[n:].copy()
        w_want = w.copy()
        want = ref.axpy_dot(w_want, x, 0.625, xn)
        assert run_on(isa, 1, lambda: _core.axpy_dot_(w, x, 0.625, xn)) == float(want), n
        np.testing.assert_array_equal(w, w_want)
        np.testing.assert_array_equal(buf[n:], past)  # nothing written past the end


@pytest.mark.parametrize("a", [np.inf, -np.inf, np.nan])
def test_axpy_dot_non_finite_step_same_on_every_isa(a, rng):
    # the lanes past the end add +0 even when a·0 is NaN
    x = rng.uniform(0.5, 1.5, 21)
    xn = rng.uniform(0.5, 1.5, 21)
    results = []
    for isa in ISAS:
        w = np.ones(21)
        results.append((run_on(isa, 1, lambda: _core.axpy_dot_(w, x, a, xn)), w))
    for got, w in results[1:]:
        assert np.isnan(got) == np.isnan(results[0][0])
        if not np.isnan(got):
            assert got == results[0][0]
        np.testing.assert_array_equal(w, results[0][1])
    if a == np.inf:
        assert results[0][0] == np.inf


def test_axpy_dot_same_row_twice(rng):
    # the next row may be the row just used (a repeated index in the order)
    x = rng.standard_normal(37)
    w = rng.standard_normal(37)
    w_want = w.copy()
    want = ref.axpy_dot(w_want, x, 0.5, x)
    assert _core.axpy_dot_(w, x, 0.5, x) == float(want)
    np.testing.assert_array_equal(w, w_want)


def test_bad_arguments():
    x = np.ones(4)
    with pytest.raises(ValueError, match="w"):
        _core.dot(x, np.ones(3))
    with pytest.raises(ValueError, match="dtype"):
        _core.dot(x, np.ones(4, np.float32))
    with pytest.raises(ValueError, match="share memory"):
        _core.axpy_dot_(x, x, 1.0, np.ones(4))
    w = np.zeros(4)
    with pytest.raises(ValueError, match="xn"):
        _core.axpy_dot_(w, x, 1.0, np.ones(5))
    np.testing.assert_array_equal(w, 0.0)  # nothing written


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows, d", [(0, 5), (1, 1), (3, 17), (1000, 33), (40_000, 100)])
@pytest.mark.parametrize("isa,nt", CASES)
def test_decision_function_all_rows_and_chosen_rows(isa, nt, n_rows, d, dtype, rng):
    X = rng.standard_normal((n_rows, d)).astype(dtype)
    w = rng.standard_normal(d).astype(dtype)
    rows = rng.integers(0, max(n_rows, 1), size=2 * n_rows + 3) if n_rows else np.zeros(0, np.int64)
    full, some = run_on(isa, nt, lambda: (_core.decision_function(X, w, 0.25),
                                          _core.decision_function(X, w, 0.25, rows=rows)))
    assert full.dtype == dtype and some.dtype == dtype
    check = min(n_rows, 1000)  # the reference is a Python loop
    want = np.array([ref.fixed_dot(X[i], w) + dtype(0.25) for i in range(check)], dtype=dtype)
    np.testing.assert_array_equal(full[:check], want)
    np.testing.assert_array_equal(some, full[rows])


def test_decision_function_bad_rows():
    X = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"rows\[1\] = 4 is outside \[0, 4\)"):
        _core.decision_function(X, np.ones(3), 0.0, rows=np.array([0, 4]))
    with pytest.raises(ValueError, match="outside"):
        _core.decision_function(X, np.ones(3), 0.0, rows=np.array([-1]))
    with pytest.raises(ValueError, match="1-D"):
        _core.decision_function(X, np.ones(3), 0.0, rows=np.zeros((2, 2), np.int64))
    # row numbers are integers: floats and booleans are refused, not truncated
    for rows in (np.array([1.7]), np.array([True, False]), [0.0, 1.0]):
        with pytest.raises(ValueError, match="rows must be a 1-D integer array"):
            _core.decision_function(X, np.ones(3), 0.0, rows=rows)
    np.testing.assert_array_equal(  # other integer types are row numbers
        _core.decision_function(X, np.ones(3), 0.0, rows=np.array([3, 1], np.uint8)), [3.0, 3.0])


def test_block_order_output_may_not_share_memory_with_its_inputs():
    # a fill that re-reads blocks / within while writing out would run past
    # out's end; the overlap is refused before anything is written
    big = np.full(14, -7, np.int64)
    out, blocks = big[:10], big[:3]
    blocks[:] = [0, 1, 2]
    with pytest.raises(ValueError, match="out must not share memory with blocks"):
        _core.block_order(blocks, np.array([3, 2, 1, 0], np.int64), 4, out)
    np.testing.assert_array_equal(big, [0, 1, 2] + [-7] * 11)
    big = np.zeros(12, np.int64)
    out, within = big[:10], big[8:12]
    within[:] = [3, 2, 1, 0]
    with pytest.raises(ValueError, match="out must not share memory with within"):
        _core.block_order(np.array([2, 0, 1], np.int64), within, 4, out)
    np.testing.assert_array_equal(big[:8], 0)
    # a block size beyond any row count: one block (no overflow)
    out = np.zeros(5, np.int64)
    _core.block_order(np.zeros(1, np.int64), np.array([4, 0, 3, 1, 2], np.int64), 2**63 - 1, out)
    np.testing.assert_array_equal(out, [4, 0, 3, 1, 2])


def _csr(rng, n_rows, d, per_row, dtype, index_dtype):
    """A CSR matrix's arrays: rows of 0 .. 2·per_row entries (some empty),
    columns in random order (unsorted, as scipy allows)."""
    lengths = rng.integers(0, 2 * per_row + 1, size=n_rows) if d else np.zeros(n_rows, np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(index_dtype)
    indices = rng.integers(0, max(d, 1), size=int(indptr[-1])).astype(index_dtype)
    data = rng.standard_normal(int(indptr[-1])).astype(dtype)
    return data, indices, indptr


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows, d, per_row", [(0, 5, 3), (1, 1, 1), (3, 17, 7), (1000, 33, 9),
                                                (40_000, 1000, 15)])  # the last: > 1M entries
@pytest.mark.parametrize("isa,nt", CASES)
def test_decision_function_csr_all_rows_and_chosen_rows(isa, nt, n_rows, d, per_row, dtype,
                                                        index_dtype, rng):
    data, indices, indptr = _csr(rng, n_rows, d, per_row, dtype, index_dtype)
    w = rng.standard_normal(d).astype(dtype)
    rows = rng.integers(0, max(n_rows, 1), size=2 * n_rows + 3) if n_rows else np.zeros(0, np.int64)
    full, some = run_on(isa, nt, lambda: (
        _core.decision_function_csr(data, indices, indptr, d, w, 0.25),
        _core.decision_function_csr(data, indices, indptr, d, w, 0.25, rows=rows)))
    assert full.dtype == dtype and some.dtype == dtype and full.shape == (n_rows,)
    np.testing.assert_array_equal(full, ref.csr_decision(data, indices, indptr, w, 0.25))
    np.testing.assert_array_equal(some, full[rows])


def test_decision_function_csr_matches_dense_to_rounding(rng):
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(500, 60, density=0.2, format="csr", random_state=3)
    w = rng.standard_normal(60)
    got = _core.decision_function_csr(X.data, X.indices, X.indptr, 60, w, -1.5)
    np.testing.assert_allclose(got, X.toarray() @ w - 1.5, rtol=1e-12, atol=1e-12)


def test_decision_function_csr_bad_input(rng):
    data, indices, indptr = _csr(rng, 4, 3, 2, np.float64, np.int64)
    w = np.ones(3)
    with pytest.raises(ValueError, match=r"rows\[1\] = 4 is outside \[0, 4\)"):
        _core.decision_function_csr(data, indices, indptr, 3, w, 0.0, rows=np.array([0, 4]))
    with pytest.raises(ValueError, match="coef"):
        _core.decision_function_csr(data, indices, indptr, 3, np.ones(4), 0.0)
    bad = indices.copy()
    bad[0] = 3
    with pytest.raises(ValueError, match="column index outside"):
        _core.decision_function_csr(data, bad, indptr, 3, w, 0.0)
    down = indptr.copy()
    down[2] = down[1] - 1 if down[1] > 0 else down[1]
    down[1] = down[2] + 1
    with pytest.raises(ValueError, match="indptr"):
        _core.decision_function_csr(data, indices, down, 3, w, 0.0)
    with pytest.raises(TypeError, match="int32 or int64"):
        _core.decision_function_csr(data, indices.astype(np.int16), indptr.astype(np.int16), 3, w, 0.0)
    with pytest.raises(TypeError, match="same dtype"):
        _core.decision_function_csr(data, indices.astype(np.int32), indptr, 3, w, 0.0)
    with pytest.raises((TypeError, ValueError), match="coef"):
        _core.decision_function_csr(data, indices, indptr, 3, w.astype(np.float32), 0.0)


@pytest.mark.parametrize("size", [1, 16, 163, 4096])
@pytest.mark.parametrize("n", SIZES + [LARGE])
@pytest.mark.parametrize("nt", THREADS)
def test_block_order_fills_every_row_in_block_order(nt, n, size, rng):
    blocks = rng.permutation(-(-n // size))
    within = rng.permutation(min(size, n))
    out = np.full(n, -1, dtype=np.int64)
    run_on(ISAS[0], nt, lambda: _core.block_order(blocks, within, size, out))
    np.testing.assert_array_equal(out, ref.block_order(blocks, within, size, n))
    assert np.array_equal(np.sort(out), np.arange(n))


def test_block_order_bad_arguments():
    out = np.full(10, -1, dtype=np.int64)
    bad = [
        ((np.array([0, 0, 2]), np.arange(4), 4), "blocks must be a permutation"),
        ((np.array([0, 1]), np.arange(4), 4), r"ceil\(n / size\) = 3"),
        ((np.array([2, 1, 0]), np.array([0, 1, 1, 3]), 4), "within must be a permutation"),
        ((np.array([2, 1, 0]), np.arange(3), 4), r"min\(size, n\)"),
        ((np.array([0]), np.arange(1), 0), "block size must be >= 1"),
    ]
    for (blocks, within, size), match in bad:
        with pytest.raises(ValueError, match=match):
            _core.block_order(blocks, within, size, out)
        assert np.all(out == -1)
    for wrong in (np.zeros(10, np.int32), np.zeros((2, 5), np.int64), np.zeros(10, np.int64)[::-1]):
        with pytest.raises(ValueError, match="writeable contiguous 1-D int64"):
            _core.block_order(np.arange(3), np.arange(4), 4, wrong)


@pytest.mark.parametrize("n", SIZES + [4099])
@pytest.mark.parametrize("isa,nt", CASES)
def test_shuffle_order_matches_the_reference(isa, nt, n):
    order = np.arange(n, dtype=np.int64) * 3 - 5  # any entries, not only 0..n-1
    state = np.array([2**64 - 12345], dtype=np.uint64)
    run_on(isa, nt, lambda: _core.shuffle_order(order, 0, n, state))
    want = np.arange(n, dtype=np.int64) * 3 - 5
    want_state = ref.shuffle_order(want, 0, n, 2**64 - 12345)
    np.testing.assert_array_equal(order, want)
    assert int(state[0]) == want_state


@pytest.mark.parametrize("n", [0, 1, 17, 4099, LARGE])
def test_shuffle_order_in_pieces_equals_one_draw(n):
    whole = np.arange(n, dtype=np.int64)
    s_whole = np.array([7], dtype=np.uint64)
    _core.shuffle_order(whole, 0, n, s_whole)
    assert np.array_equal(np.sort(whole), np.arange(n))
    cuts = sorted({0, n, *np.random.default_rng(n).integers(0, n + 1, 5).tolist()})
    pieces = np.arange(n, dtype=np.int64)
    s_pieces = np.array([7], dtype=np.uint64)
    for a, b in zip(cuts[:-1], cuts[1:]):
        _core.shuffle_order(pieces, a, b, s_pieces)
        # what is drawn is final: later pieces leave it alone
        np.testing.assert_array_equal(pieces[:b], whole[:b])
    np.testing.assert_array_equal(pieces, whole)
    assert s_pieces[0] == s_whole[0]


def test_shuffle_order_draws_every_permutation_equally_often():
    # 4! = 24 orders of 4 rows, 48 000 successive draws from one state: the
    # chi-square statistic of their counts (23 degrees of freedom) stays
    # below 60 (its 99.99th percentile is about 55) when every order is
    # equally likely; a draw biased towards keeping rows in place (e.g. j
    # uniform in [0, n) instead of [k, n)) gives over a thousand.
    state = np.array([2024], dtype=np.uint64)
    counts: dict = {}
    order = np.arange(4, dtype=np.int64)
    for _ in range(48_000):
        order[:] = np.arange(4)
        _core.shuffle_order(order, 0, 4, state)
        key = tuple(order.tolist())
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 24
    expected = 48_000 / 24
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 60, chi2


def test_shuffle_order_bad_arguments():
    order = np.arange(10, dtype=np.int64)
    state = np.array([1], dtype=np.uint64)
    for begin, end in ((-1, 5), (6, 5), (0, 11), (11, 11)):
        with pytest.raises(ValueError, match="0 <= begin <= end <= n"):
            _core.shuffle_order(order, begin, end, state)
    frozen = np.arange(10, dtype=np.int64)
    frozen.flags.writeable = False
    for wrong in (np.arange(10, dtype=np.int32), np.arange(10, dtype=np.int64).reshape(2, 5),
                  np.arange(20, dtype=np.int64)[::2], frozen, [0, 1, 2]):
        with pytest.raises(TypeError, match="order must be a writeable contiguous 1-D int64"):
            _core.shuffle_order(wrong, 0, 1, state)
    for wrong in (np.array([1], dtype=np.int64), np.array([1, 2], dtype=np.uint64),
                  np.array(1, dtype=np.uint64)):
        with pytest.raises(TypeError, match=r"state must be a writeable uint64 array of shape \(1,\)"):
            _core.shuffle_order(order, 0, 1, wrong)
    inside = np.arange(10, dtype=np.int64)
    with pytest.raises(ValueError, match="state must not share memory with order"):
        _core.shuffle_order(inside, 0, 5, inside[3:4].view(np.uint64))
    np.testing.assert_array_equal(inside, np.arange(10))
    np.testing.assert_array_equal(order, np.arange(10))
    assert state[0] == 1


def _labels(rng, n, dtype, kind):
    if kind == "two":
        return (rng.random(n) > 0.4).astype(dtype) * 7 - 3  # labels -3 and 4: not adjacent
    if kind == "adjacent":
        return (rng.random(n) > 0.4).astype(dtype) + 5
    if kind == "sorted":
        return np.sort(rng.integers(-2, 3, n)).astype(dtype)
    return rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, n, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("kind", ["two", "adjacent", "sorted", "extremes"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n", SIZES + [LARGE])
@pytest.mark.parametrize("nt", THREADS)
def test_label_summary_against_numpy(nt, n, dtype, kind, rng):
    y = _labels(rng, n, dtype, kind)
    got = run_on(ISAS[0], nt, lambda: _core.label_summary(y))
    if n == 0:
        assert got == (0, 0, 0, 0, 0)
        return
    want = (int(y.min()), int(y.max()), int(y[0]), int(np.count_nonzero(y == y[0])),
            int(np.count_nonzero(y[1:] != y[:-1])))
    assert got == want


@pytest.mark.parametrize("out_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n", SIZES + [LARGE])
@pytest.mark.parametrize("nt", THREADS)
def test_signed_targets_against_numpy(nt, n, dtype, out_dtype, rng):
    y = _labels(rng, n, dtype, "adjacent")
    out = np.full(n, 9.0, dtype=out_dtype)
    run_on(ISAS[0], nt, lambda: _core.signed_targets(y, 6, out))
    np.testing.assert_array_equal(out, np.where(y == 6, 1.0, -1.0).astype(out_dtype))
    # a positive label beyond int32's range matches no int32 label
    run_on(ISAS[0], nt, lambda: _core.signed_targets(y, 6 + 2**32, out))
    assert np.all(out == -1)


def test_label_passes_bad_arguments():
    y = np.arange(6, dtype=np.int64)
    for bad in (y.astype(np.float64), y.astype(np.int16), y.reshape(2, 3), y[::2]):
        with pytest.raises(TypeError, match="contiguous 1-D int32 or int64"):
            _core.label_summary(bad)
        with pytest.raises(TypeError, match="contiguous 1-D int32 or int64"):
            _core.signed_targets(bad, 1, np.zeros(bad.shape[0] if bad.ndim == 1 else 6))
    out = np.full(6, 9.0)
    for wrong in (np.zeros(6, np.int64), np.zeros(12)[::2], np.zeros((2, 3))):
        with pytest.raises(TypeError, match="writeable contiguous 1-D float32 or float64"):
            _core.signed_targets(y, 1, wrong)
    with pytest.raises(ValueError, match="one value per label"):
        _core.signed_targets(y, 1, np.zeros(5))
    # an output over the labels' own memory: refused before anything is written
    shared = np.arange(6, dtype=np.int64)
    with pytest.raises(ValueError, match="share"):
        _core.signed_targets(shared, 1, shared.view(np.float64))
    np.testing.assert_array_equal(shared, np.arange(6))
    np.testing.assert_array_equal(out, 9.0)


def test_label_passes_take_dtypes_numpy_did_not_make():
    # an unpickled array's dtype is an equal dtype object, not numpy's own
    # instance (scikit-learn's memmapped checks make such arrays)
    import pickle

    y = pickle.loads(pickle.dumps(np.array([4, 5, 5, 4, 5], dtype=np.int64)))
    assert y.dtype is not np.dtype(np.int64)
    assert _core.label_summary(y) == (4, 5, 4, 2, 3)
    out = pickle.loads(pickle.dumps(np.zeros(5, dtype=np.float32)))
    _core.signed_targets(y, 5, out)
    np.testing.assert_array_equal(out, [-1, 1, 1, -1, 1])
    order = pickle.loads(pickle.dumps(np.zeros(5, dtype=np.int64)))
    _core.block_order(np.array([1, 0]), np.array([2, 0, 1]), 3, order)
    np.testing.assert_array_equal(order, [3, 4, 2, 0, 1])
