"""gdcore.plot: every function writes a valid PNG (headless Agg), returns
(fig, ax), and needs matplotlib only when called."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

from gdcore import plot  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Bowl:
    """A 2-D test landscape written here, independent of gdcore.landscapes."""

    name = "bowl"
    domain = ((-2.0, 2.0), (-1.0, 3.0))
    minima = [np.array([0.0, 1.0])]

    def value(self, x):
        x = np.asarray(x, float)
        return x[0] ** 2 + 3 * (x[1] - 1) ** 2


def _check_png(path, min_size=(100, 100)):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    img = matplotlib.image.imread(str(path))
    assert img.ndim == 3 and img.shape[0] >= min_size[0] and img.shape[1] >= min_size[1]
    # not a blank canvas
    assert float(img[..., :3].std()) > 0.01


def test_plot_landscape_png(tmp_path):
    t = np.array([[-1.5, 2.5], [-1.0, 2.0], [-0.2, 1.1], [0.0, 1.0]])
    fig, ax = plot.plot_landscape(Bowl(), {"path": t}, out=tmp_path / "l.png", resolution=60)
    _check_png(tmp_path / "l.png")
    assert ax.get_title() == "bowl"
    assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] == ["path"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_xydata(), t)


def test_plot_landscape_rejects_bad_trajectory(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        plot.plot_landscape(Bowl(), {"bad": np.zeros((3, 3))}, resolution=20)
    # checked before anything is drawn on the caller's axes
    ax = matplotlib.figure.Figure().add_subplot(1, 1, 1)
    with pytest.raises(ValueError, match="shape"):
        plot.plot_landscape(Bowl(), {"bad": np.zeros((3, 3))}, ax=ax, resolution=20)
    assert not ax.collections and not ax.lines


@pytest.mark.parametrize("resolution", [0, 1, -5, 2.5, True, None])
def test_plot_landscape_rejects_bad_resolution(resolution):
    with pytest.raises(ValueError, match=r"resolution must be an int >= 2"):
        plot.plot_landscape(Bowl(), resolution=resolution)


def test_plot_landscape_smallest_resolution():
    fig, ax = plot.plot_landscape(Bowl(), resolution=2)
    assert ax.get_title() == "bowl"


class Cube(Bowl):
    """A 3-D landscape, which the (2-D) landscape plots refuse."""

    name = "cube"
    dim = 3
    domain = ((-1.0, 1.0),) * 3


class Line(Bowl):
    """A duck-typed landscape without ``dim`` whose domain is 1-D."""

    name = "line"
    domain = ((-1.0, 1.0),)


class Holey(Bowl):
    """NaN and inf on part of the domain."""

    name = "holey"

    def value(self, x):
        z = super().value(x)
        x = np.asarray(x, float)
        return np.where(x[0] < -1.0, np.nan, np.where(x[1] > 2.5, np.inf, z))


@pytest.mark.parametrize("log", [True, False])
def test_plot_landscape_leaves_non_finite_points_blank(tmp_path, log):
    # (a NaN minimum set the log scale: the plot came out blank)
    out = tmp_path / "holey.png"
    fig, ax = plot.plot_landscape(Holey(), resolution=40, log=log, out=out)
    _check_png(out)
    (cs,) = [c for c in ax.collections if hasattr(c, "levels")]
    # the colour levels span the finite values (0 to 16, at x = 2, y = -1)
    top = np.log10(16 + 1e-3) if log else 16.0
    assert np.all(np.isfinite(cs.levels)) and cs.levels[0] <= (-2.9 if log else 0.1)
    assert cs.levels[-1] >= 0.95 * top


def test_plot_landscape_without_a_finite_value_is_an_error():
    class Void(Bowl):
        name = "void"

        def value(self, x):
            return np.full(np.shape(x)[1:], np.nan)

    with pytest.raises(ValueError, match="landscape void has no finite value on its domain"):
        plot.plot_landscape(Void(), resolution=10)


def test_landscape_plots_need_a_2d_landscape(tmp_path):
    from gdcore import landscapes

    with pytest.raises(ValueError, match=r"2-D, but landscape cube has dim=3"):
        plot.plot_landscape(Cube(), resolution=20)
    with pytest.raises(ValueError, match=r"line needs a domain \(\(xmin, xmax\), \(ymin, ymax\)\)"):
        plot.plot_landscape(Line(), resolution=20)
    for dim in (1, 3):
        with pytest.raises(ValueError, match=rf"2-D, but landscape Quadratic has dim={dim}"):
            plot.plot_landscape(landscapes.Quadratic(dim=dim), resolution=20)
    with pytest.raises(ValueError, match=r"2-D, but landscape cube has dim=3"):
        plot.animate_race(Cube(), {"a": np.zeros((2, 2))}, tmp_path / "r.gif", frames=2,
                          resolution=20)
    assert not (tmp_path / "r.gif").exists()


def test_plot_loss_curves_png(tmp_path):
    it = np.arange(50)
    fig, ax = plot.plot_loss_curves(
        {"a": np.exp(-0.1 * it), "b": (it * 0.01, 1.0 / (1 + it))},
        grad_norms={"a": np.exp(-0.05 * it)},
        out=tmp_path / "c.png",
    )
    _check_png(tmp_path / "c.png")
    assert ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["a", "b"]
    np.testing.assert_allclose(ax.get_lines()[1].get_xdata(), it * 0.01)


def test_plot_loss_curves_rejects_mismatched_pair():
    with pytest.raises(ValueError, match="equal length"):
        plot.plot_loss_curves({"a": ([0, 1, 2], [1.0, 2.0])})
    with pytest.raises(ValueError, match=r"curve 'a' must be a 1-D array .* got shape \(\)"):
        plot.plot_loss_curves({"a": 3.0})


@pytest.mark.filterwarnings("error")
def test_plot_loss_curves_logx_leaves_out_non_positive_x():
    fig, ax = plot.plot_loss_curves({"a": [1.0]}, logx=True)  # x = 0 only: nothing to show
    assert ax.get_xscale() == "log"
    assert np.isnan(ax.get_lines()[0].get_xdata()).all()
    fig, ax = plot.plot_loss_curves(
        {"a": ([-1.0, 0.0, 2.0], [3.0, 2.0, 1.0])},
        grad_norms={"a": ([-1.0, 0.0], [1.0, 2.0])},
        logx=True,
    )
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [np.nan, np.nan, 2.0])


def test_plot_schedule_png(tmp_path):
    calls = []

    def sched(k):  # a scalar-only callable: evaluated point by point
        if isinstance(k, np.ndarray):
            raise TypeError("scalar only")
        calls.append(k)
        return 0.1 * 0.5 ** (k // 10)

    fig, ax = plot.plot_schedule(sched, 40, out=tmp_path / "s.png")
    _check_png(tmp_path / "s.png")
    assert calls == list(range(40))
    y = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(y, [0.1 * 0.5 ** (k // 10) for k in range(40)])
    with pytest.raises(ValueError, match="steps"):
        plot.plot_schedule(sched, 0)


@pytest.mark.filterwarnings("error")
def test_plot_schedule_logy_leaves_out_non_positive():
    # as plot_loss_curves: a log axis cannot show rates <= 0 (no warning)
    fig, ax = plot.plot_schedule(lambda k: 0.0, 5, logy=True)
    assert ax.get_yscale() == "log"
    assert np.isnan(ax.get_lines()[0].get_ydata()).all()
    fig, ax = plot.plot_schedule(lambda k: 0.1 * (k - 1), 4, logy=True)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [np.nan, np.nan, 0.1, 0.2])
    fig, ax = plot.plot_schedule(lambda k: 0.0, 3)  # linear axis: drawn as is
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [0.0, 0.0, 0.0])


def test_plot_schedule_rejects_non_numeric_rates():
    with pytest.raises(TypeError, match=r"schedule\(0\) must return a number, got None"):
        plot.plot_schedule(lambda k: None, 3)


def test_animate_race_gif(tmp_path):
    t1 = np.linspace([-1.5, 2.5], [0.0, 1.0], 200)
    t2 = np.linspace([1.5, -0.5], [0.0, 1.0], 7)
    plot.animate_race(Bowl(), {"one": t1, "two": t2}, tmp_path / "r.gif", frames=12, resolution=40)
    data = (tmp_path / "r.gif").read_bytes()
    assert data[:6] in (b"GIF87a", b"GIF89a")
    from PIL import Image

    with Image.open(tmp_path / "r.gif") as im:
        assert im.n_frames == 12


@pytest.mark.filterwarnings("error")
def test_animate_race_without_trajectories(tmp_path):
    # an empty race is the landscape alone (as plot_landscape), without a legend
    fig, ax = plot.animate_race(Bowl(), {}, tmp_path / "r.gif", frames=3, resolution=20)
    assert ax.get_legend() is None
    assert (tmp_path / "r.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"frames": 0}, "frames must be an int >= 1"),
        ({"frames": -2}, "frames must be an int >= 1"),
        ({"frames": 2.0}, "frames must be an int >= 1"),
        ({"frames": True}, "frames must be an int >= 1"),
        ({"fps": 0}, "fps must be a finite number > 0"),
        ({"fps": -1.0}, "fps must be a finite number > 0"),
        ({"fps": float("nan")}, "fps must be a finite number > 0"),
        ({"fps": "15"}, "fps must be a finite number > 0"),
        ({"resolution": 1}, "resolution must be an int >= 2"),
    ],
)
def test_animate_race_rejects_bad_sizes_before_writing(tmp_path, kwargs, match):
    out = tmp_path / "r.gif"
    with pytest.raises(ValueError, match=match):
        plot.animate_race(Bowl(), {"a": np.zeros((2, 2))}, out, **{"frames": 2, "resolution": 20,
                                                                    **kwargs})
    assert not out.exists()


def test_import_gdcore_does_not_import_matplotlib():
    code = "import sys, gdcore, gdcore.plot; assert 'matplotlib' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_clear_import_error_without_matplotlib(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"gdcore\[plot\]"):
        plot.plot_schedule(lambda k: 0.1, 10)
