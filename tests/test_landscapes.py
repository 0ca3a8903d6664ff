"""gdcore.landscapes: analytic gradients against finite differences written
here, known minima, vectorised evaluation, overflow without warnings, the
registry and the Noisy wrapper."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdcore import landscapes as L

# One row per landscape configuration (several dimensions and parameters).
CASES = {
    "quadratic-2-diag": lambda: L.Quadratic(),
    "quadratic-6-rotated": lambda: L.Quadratic(
        dim=6, condition=300.0, seed=3, center=[1, -2, 0.5, 0, 3, -1]
    ),
    "rosenbrock-2": lambda: L.Rosenbrock(),
    "rosenbrock-5": lambda: L.Rosenbrock(dim=5),
    "rosenbrock-2-a2-b10": lambda: L.Rosenbrock(a=2.0, b=10.0),
    "rosenbrock-4-a0": lambda: L.Rosenbrock(dim=4, a=0.0),
    "beale": lambda: L.Beale(),
    "himmelblau": lambda: L.Himmelblau(),
    "booth": lambda: L.Booth(),
    "rastrigin-2": lambda: L.Rastrigin(),
    "rastrigin-3": lambda: L.Rastrigin(dim=3, A=5.0),
    "ackley-2": lambda: L.Ackley(),
    "ackley-4": lambda: L.Ackley(dim=4),
    "styblinski_tang-2": lambda: L.StyblinskiTang(),
    "styblinski_tang-4": lambda: L.StyblinskiTang(dim=4),
    "saddle": lambda: L.Saddle(),
}


@pytest.fixture(params=list(CASES), ids=list(CASES))
def land(request):
    return CASES[request.param]()


def random_points(land, count, seed=0):
    rng = np.random.default_rng(seed)
    lo = np.array([a for a, _ in land.domain])
    hi = np.array([b for _, b in land.domain])
    return lo + (hi - lo) * rng.random((count, land.dim))


def central_difference(f, x, h=1e-5):
    """Fourth-order central differences, written independently of gdcore."""
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h * max(1.0, abs(x[i]))
        g[i] = (8 * (f(x + e) - f(x - e)) - (f(x + 2 * e) - f(x - 2 * e))) / (12 * e[i])
    return g


# ------------------------------------------------------------------ gradients
def test_gradient_matches_finite_differences(land):
    for x in random_points(land, 8):
        g = land.gradient(x)
        assert g.shape == (land.dim,) and g.dtype == np.float64
        fd = central_difference(land.value, x)
        scale = max(1.0, np.max(np.abs(fd)))
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * scale)


def test_value_and_grad_is_value_and_gradient(land):
    for x in random_points(land, 4, seed=1):
        v, g = land.value_and_grad(x)
        assert isinstance(v, float)
        assert v == land.value(x) == land(x)
        np.testing.assert_array_equal(g, land.gradient(x))


def test_inputs_are_converted_to_float64(land):
    x = random_points(land, 1, seed=2)[0]
    assert land.value(list(x)) == land.value(x)
    assert land.value(x.astype(np.float32)) == land.value(x.astype(np.float32).astype(np.float64))
    ints = np.arange(land.dim)
    assert land.value(ints) == land.value(ints.astype(float))


# --------------------------------------------------------------------- minima
def test_known_minima_have_the_minimum_value_and_zero_gradient(land):
    if isinstance(land, L.Saddle):
        assert land.minima == [] and land.minimum_value == -math.inf
        return
    assert len(land.minima) >= 1
    for m in land.minima:
        assert m.shape == (land.dim,)
        tolerance = 1e-12 * (1 + abs(land.minimum_value))
        assert land.value(m) == pytest.approx(land.minimum_value, abs=tolerance)
        assert np.max(np.abs(land.gradient(m))) < 1e-8


def test_no_sampled_point_is_below_the_minimum(land):
    if land.minimum_value == -math.inf:  # the saddle: unbounded below
        assert land.value(np.array([0.0, 1e3])) == -1e6
        return
    X = random_points(land, 2000, seed=4).T  # stacked (dim, 2000)
    assert np.all(land.value(X) >= land.minimum_value - 1e-12)


def test_exact_minima():
    assert L.Rosenbrock().value(np.ones(2)) == 0.0
    assert L.Rosenbrock(dim=7).value(np.ones(7)) == 0.0
    assert L.Beale().value(np.array([3.0, 0.5])) == 0.0
    assert L.Booth().value(np.array([1.0, 3.0])) == 0.0
    assert L.Himmelblau().value(np.array([3.0, 2.0])) == 0.0
    assert L.Rastrigin(dim=5).value(np.zeros(5)) == 0.0
    assert L.Ackley(dim=3).value(np.zeros(3)) == 0.0
    np.testing.assert_array_equal(L.Ackley(dim=3).gradient(np.zeros(3)), np.zeros(3))
    q = L.Quadratic(dim=4, condition=50.0, seed=2, center=[1.0, 2.0, 3.0, 4.0])
    assert q.value(np.array([1.0, 2.0, 3.0, 4.0])) == 0.0


def test_classic_values():
    assert L.Rosenbrock().value(np.array([-1.2, 1.0])) == pytest.approx(24.2)
    assert L.Beale().value(np.array([1.0, 1.0])) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert L.Himmelblau().value(np.zeros(2)) == pytest.approx(170.0)
    assert L.Booth().value(np.zeros(2)) == pytest.approx(74.0)
    assert L.Rastrigin().value(np.array([0.5, 0.5])) == pytest.approx(2 * (10.0 + 0.25 + 10.0))
    assert L.Ackley().value(np.array([1.0, 1.0])) == pytest.approx(
        -20 * math.exp(-0.2) - math.exp(1.0) + 20 + math.e
    )
    assert L.Saddle().value(np.array([2.0, 3.0])) == -5.0


def test_himmelblau_has_four_distinct_minima():
    mins = L.Himmelblau().minima
    assert len(mins) == 4
    for i in range(4):
        for j in range(i):
            assert np.linalg.norm(mins[i] - mins[j]) > 1.0


def test_styblinski_tang_minimiser_is_the_root_of_the_cubic():
    roots = np.roots([4.0, 0.0, -32.0, 5.0])
    root = float(np.min(roots.real))
    f = L.StyblinskiTang(dim=3)
    np.testing.assert_allclose(f.minima[0], np.full(3, root), rtol=1e-14)
    per_coordinate = 0.5 * (root**4 - 16 * root**2 + 5 * root)
    assert f.minimum_value == pytest.approx(3 * per_coordinate, rel=1e-14)


def test_rosenbrock_minima_for_other_constants():
    assert L.Rosenbrock(a=2.0).minima[0].tolist() == [2.0, 4.0]
    odd = L.Rosenbrock(dim=3, a=2.0)
    assert odd.minima == [] and odd.minimum_value is None


# ---------------------------------------------------------------- vectorised
def test_vectorised_value_equals_pointwise(land):
    pts = random_points(land, 12, seed=5)
    X = pts.T.reshape(land.dim, 3, 4)
    V = land.value(X)
    assert V.shape == (3, 4)
    expected = np.array([land.value(p) for p in pts]).reshape(3, 4)
    np.testing.assert_allclose(V, expected, rtol=1e-13, atol=1e-13)


def test_vectorised_gradient_equals_pointwise(land):
    pts = random_points(land, 6, seed=6)
    X = pts.T.reshape(land.dim, 2, 3)
    G = land.gradient(X)
    assert G.shape == X.shape
    for idx, p in zip(np.ndindex(2, 3), pts):
        column = G[(slice(None),) + idx]
        np.testing.assert_allclose(column, land.gradient(p), rtol=1e-13, atol=1e-13)


def test_meshgrid_for_contour_plots():
    f = L.Himmelblau()
    (x0, x1), (y0, y1) = f.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, 7), np.linspace(y0, y1, 5))
    Z = f.value(np.stack([X, Y]))
    assert Z.shape == (5, 7)
    assert Z[2, 3] == f.value(np.array([X[2, 3], Y[2, 3]]))


# ------------------------------------------------------------------ overflow
def test_far_away_points_overflow_without_warnings(land):
    # pytest turns warnings into errors: none may be emitted.
    for big in (1e200, -1e300, np.inf):
        x = np.full(land.dim, big)
        v = land.value(x)
        g = land.gradient(x)
        assert isinstance(v, float) and g.shape == (land.dim,)
    X = np.full((land.dim, 3), 1e300)
    land.value(X)
    land.gradient(X)
    land.value(np.full(land.dim, np.nan))


# ---------------------------------------------------------------- attributes
def test_attributes(land):
    assert isinstance(land.name, str) and land.name
    assert isinstance(land.dim, int) and land.dim >= 1
    assert len(land.domain) == land.dim
    assert all(lo < hi for lo, hi in land.domain)
    s = land.start
    assert s.shape == (land.dim,) and s.dtype == np.float64
    assert np.isfinite(land.value(s))
    s[...] = 1234.0  # a copy: the landscape is unchanged
    assert not np.any(land.start == 1234.0)
    if land.minima:
        land.minima[0][...] = 99.0
        assert not np.all(land.minima[0] == 99.0)
    assert repr(land).startswith(type(land).__name__)


def test_2d_domains_are_plot_boxes():
    assert L.Rosenbrock().domain == ((-2.0, 2.0), (-1.0, 3.0))
    for cls in (L.Beale, L.Himmelblau, L.Booth, L.Saddle):
        (a, b), (c, d) = cls().domain
        assert a < b and c < d


def test_bad_points(land):
    with pytest.raises(ValueError, match="shape"):
        land.value(np.zeros(land.dim + 1))
    with pytest.raises(ValueError, match="shape"):
        land.gradient(np.zeros((land.dim + 1, 2)))
    with pytest.raises(ValueError, match="shape"):
        land.value(np.float64(1.0))
    with pytest.raises(TypeError, match="real"):
        land.value(np.zeros(land.dim, dtype=complex))
    with pytest.raises(TypeError, match="real"):
        land.gradient(np.array(["a"] * land.dim))


# ------------------------------------------------------------------ quadratic
def test_quadratic_spectrum_and_rotation():
    q = L.Quadratic(dim=8, condition=1e3, seed=7)
    np.testing.assert_allclose(q.eigenvalues, np.geomspace(1.0, 1e3, 8))
    np.testing.assert_allclose(np.linalg.eigvalsh(q.matrix), q.eigenvalues, rtol=1e-10)
    np.testing.assert_array_equal(q.matrix, q.matrix.T)
    off = q.matrix - np.diag(np.diag(q.matrix))
    assert np.max(np.abs(off)) > 1.0  # rotated
    np.testing.assert_array_equal(L.Quadratic(dim=8, condition=1e3, seed=7).matrix, q.matrix)
    assert not np.array_equal(L.Quadratic(dim=8, condition=1e3, seed=8).matrix, q.matrix)
    d = L.Quadratic(dim=3, condition=9.0)
    np.testing.assert_array_equal(d.matrix, np.diag([1.0, 3.0, 9.0]))
    with pytest.raises(ValueError):
        q.matrix[0, 0] = 1.0  # read-only


def test_quadratic_value_is_half_xAx():
    q = L.Quadratic(dim=5, condition=20.0, seed=1, center=np.arange(5.0))
    x = np.array([0.3, -1.0, 2.0, 0.5, 1.0])
    d = x - np.arange(5.0)
    assert q.value(x) == pytest.approx(0.5 * d @ q.matrix @ d, rel=1e-14)
    np.testing.assert_allclose(q.gradient(x), q.matrix @ d, rtol=1e-14)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(dim=0), ValueError),
        (dict(dim=2.5), TypeError),
        (dict(condition=0.5), ValueError),
        (dict(condition=float("nan")), ValueError),
        (dict(condition="10"), TypeError),
        (dict(dim=2, center=[1.0, 2.0, 3.0]), ValueError),
    ],
)
def test_quadratic_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        L.Quadratic(**kwargs)


def test_other_bad_constructor_arguments():
    with pytest.raises(ValueError):
        L.Rosenbrock(dim=1)
    with pytest.raises(ValueError):
        L.Rosenbrock(b=-1.0)
    with pytest.raises(TypeError):
        L.Rastrigin(dim=True)
    with pytest.raises(ValueError):
        L.Ackley(dim=0)


# ---------------------------------------------------------------- registry
def test_registry():
    assert set(L.ALL) == {
        "quadratic", "rosenbrock", "beale", "himmelblau", "booth",
        "rastrigin", "ackley", "styblinski_tang", "saddle",
    }
    for name, cls in L.ALL.items():
        obj = L.get(name)
        assert type(obj) is cls
        assert type(L.get(obj.name)) is cls  # a landscape's name round-trips
        assert type(L.get(name.upper())) is cls
    assert L.get("Styblinski-Tang", dim=3).dim == 3
    assert L.get("rosenbrock", dim=6).dim == 6
    with pytest.raises(ValueError, match="rosenbrock"):
        L.get("banana")
    with pytest.raises(TypeError):
        L.get(3)


# ------------------------------------------------------------------- noisy
def test_noisy_gradient_is_unbiased():
    base = L.Rosenbrock()
    sigma = 0.5
    noisy = L.Noisy(base, sigma, seed=11)
    x = np.array([0.3, -0.4])
    n = 20000
    draws = np.array([noisy.gradient(x) for _ in range(n)])
    exact = base.gradient(x)
    # mean within 5 standard errors, standard deviation within 5 %
    assert np.all(np.abs(draws.mean(axis=0) - exact) < 5 * sigma / math.sqrt(n))
    np.testing.assert_allclose(draws.std(axis=0), sigma, rtol=0.05)
    # the value stays exact
    assert noisy.value(x) == base.value(x)
    v, g = noisy.value_and_grad(x)
    assert v == base.value(x) and not np.array_equal(g, exact)


def test_noisy_is_reproducible_and_delegates():
    a = L.Noisy(L.Booth(), 0.1, seed=3)
    b = L.Noisy(L.Booth(), 0.1, seed=3)
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(a.gradient(x), b.gradient(x))
    assert a.dim == 2 and a.domain == L.Booth().domain
    assert a.minimum_value == 0.0
    np.testing.assert_array_equal(a.minima[0], [1.0, 3.0])
    np.testing.assert_array_equal(a.start, L.Booth().start)
    assert "Booth" in a.name
    X = np.zeros((2, 4, 3))
    assert a.gradient(X).shape == X.shape
    np.testing.assert_array_equal(a.value(X), L.Booth().value(X))


def test_noisy_value_noise_on_request():
    base = L.Booth()
    f = L.Noisy(base, 0.0, seed=0, value_sigma=0.1)
    x = np.array([0.5, 0.5])
    vals = np.array([f.value(x) for _ in range(4000)])
    assert abs(vals.mean() - base.value(x)) < 5 * 0.1 / math.sqrt(4000)
    np.testing.assert_array_equal(f.gradient(x), base.gradient(x))  # sigma = 0
    assert f.value(np.zeros((2, 5))).shape == (5,)


def test_noisy_bad_arguments():
    with pytest.raises(TypeError):
        L.Noisy(lambda x: 0.0, 0.1)
    with pytest.raises(ValueError):
        L.Noisy(L.Booth(), -1.0)
    with pytest.raises(ValueError):
        L.Noisy(L.Booth(), 0.1, value_sigma=-0.1)
    with pytest.raises(ValueError):
        L.Noisy(L.Booth(), float("inf"))
