"""Plots of optimisation runs (the ``plot`` extra: matplotlib).

Every function draws on a new :class:`matplotlib.figure.Figure` (or on the
``ax`` you pass), returns ``(fig, ax)``, and saves a PNG when ``out`` is given.
No pyplot state is touched, so the functions are safe in scripts, servers and
headless machines.  Importing gdcore does not import matplotlib; calling a
function here without it raises ImportError naming the extra.

>>> import gdcore as gd                                   # doctest: +SKIP
>>> from gdcore import plot, landscapes                   # doctest: +SKIP
>>> r = gd.minimize(landscapes.Rosenbrock(), [-1.5, 2.0], jac=True)   # doctest: +SKIP
>>> fig, ax = plot.plot_landscape(landscapes.Rosenbrock(), {"adam": r.trajectory_x},
...                               out="rosenbrock.png")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["animate_race", "plot_landscape", "plot_loss_curves", "plot_schedule"]

Curve = Union[Sequence[float], np.ndarray, Tuple[Sequence[float], Sequence[float]]]


def _mpl():
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "gdcore.plot needs matplotlib; install the extra: pip install 'gdcore[plot]'"
        ) from None
    return matplotlib, Figure, FigureCanvasAgg


def _new_axes(ax, figsize=(6.0, 4.5)):
    _, Figure, FigureCanvasAgg = _mpl()
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig, out: Optional[Union[str, os.PathLike]]) -> None:
    if out is not None:
        fig.savefig(os.fspath(out), format="png")


def _check_count(what: str, value: Any, least: int, note: str = "") -> None:
    """ValueError unless ``value`` is an int (not a bool) >= ``least``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{what} must be an int >= {least}{note}, got {value!r}")


def _check_landscape(landscape: Any, resolution: Any) -> None:
    # the landscape plots are contour plots over (x, y): check before drawing
    _check_count("resolution", resolution, 2, " (points per axis)")
    name = getattr(landscape, "name", type(landscape).__name__)
    dim = getattr(landscape, "dim", None)
    if dim is not None and dim != 2:
        raise ValueError(f"the landscape plots are 2-D, but landscape {name} has dim={dim}")
    domain = getattr(landscape, "domain", None)
    if np.shape(np.asarray(domain, dtype=object)) != (2, 2):
        raise ValueError(
            f"the landscape plots are 2-D: landscape {name} needs a domain "
            f"((xmin, xmax), (ymin, ymax)), got {domain!r}"
        )


def _grid(landscape: Any, resolution: int):
    (x0, x1), (y0, y1) = landscape.domain
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(landscape.value(np.stack([X, Y])), dtype=float)
    return X, Y, Z


def _contour(ax, landscape: Any, resolution: int, log: bool):
    X, Y, Z = _grid(landscape, resolution)
    # points where f is NaN or infinite are left blank (the minimum of the
    # others sets the log scale: a NaN minimum blanked the whole plot)
    finite = np.isfinite(Z)
    if not finite.any():
        raise ValueError(
            f"landscape {getattr(landscape, 'name', type(landscape).__name__)} has no finite "
            "value on its domain"
        )
    if log:
        shift = Z[finite].min()
        Zp = np.log10(np.where(finite, Z - shift, np.nan) + 1e-3)
        cs = ax.contourf(X, Y, Zp, levels=30, cmap="viridis", alpha=0.85)
        label = "log10(f - min f)"
    else:
        cs = ax.contourf(X, Y, np.where(finite, Z, np.nan), levels=30, cmap="viridis", alpha=0.85)
        label = "f"
    ax.figure.colorbar(cs, ax=ax, label=label)
    for m in getattr(landscape, "minima", []) or []:
        ax.plot([m[0]], [m[1]], marker="*", color="white", markersize=14, markeredgecolor="black")
    (x0, x1), (y0, y1) = landscape.domain
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(getattr(landscape, "name", type(landscape).__name__))


def plot_landscape(
    landscape: Any,
    trajectories: Optional[Mapping[str, np.ndarray]] = None,
    ax: Any = None,
    resolution: int = 200,
    log: bool = True,
    out: Optional[Union[str, os.PathLike]] = None,
):
    """Contour plot of a 2-D landscape with optimizer trajectories.

    Args:
      landscape: an object with ``value`` (vectorised over a stacked (2, ...)
        array) and ``domain`` ((xmin, xmax), (ymin, ymax)); ``minima`` are
        marked with stars.  See :mod:`gdcore.landscapes`.
      trajectories: name -> array of shape (m, 2) of visited points.
      ax: draw on these axes instead of a new figure.
      resolution: grid points per axis (an int >= 2).
      log: colour by log10(f - min f), which shows valleys.
      out: save a PNG here.

    Returns:
      (fig, ax)

    Raises:
      ValueError: ``landscape`` is not 2-D (its ``dim`` or ``domain``), a
        trajectory is not of shape (m, 2), or ``resolution`` is not an int >= 2.
    """
    _check_landscape(landscape, resolution)
    paths = {}
    for name, traj in (trajectories or {}).items():
        t = np.asarray(traj, dtype=float)
        if t.ndim != 2 or t.shape[1] != 2:
            raise ValueError(f"trajectory '{name}' must have shape (m, 2), got {t.shape}")
        paths[name] = t
    fig, ax = _new_axes(ax)
    _contour(ax, landscape, resolution, log)
    for name, t in paths.items():
        (line,) = ax.plot(t[:, 0], t[:, 1], lw=1.5, label=name)
        ax.plot(t[-1:, 0], t[-1:, 1], "o", color=line.get_color())
    if trajectories:
        ax.legend(loc="upper left", fontsize=8)
    _save(fig, out)
    return fig, ax


def _as_xy(name: str, curve: Curve, logx: bool) -> Tuple[np.ndarray, np.ndarray]:
    if isinstance(curve, tuple) and len(curve) == 2:
        x, y = np.asarray(curve[0], float), np.asarray(curve[1], float)
        got = f"a pair of shapes {x.shape} and {y.shape}"
    else:
        y = np.asarray(curve, float)
        x = np.arange(y.size, dtype=float).reshape(y.shape)
        got = f"shape {y.shape}"
    if x.shape != y.shape or y.ndim != 1:
        raise ValueError(
            f"curve '{name}' must be a 1-D array of values or a pair (x, values) of "
            f"equal length, got {got}"
        )
    if logx:
        x = np.where(x > 0, x, np.nan)  # a log axis cannot show <= 0
    return x, y


def plot_loss_curves(
    curves: Mapping[str, Curve],
    grad_norms: Optional[Mapping[str, Curve]] = None,
    xlabel: str = "iteration",
    ylabel: str = "loss",
    logy: bool = True,
    logx: bool = False,
    title: Optional[str] = None,
    ax: Any = None,
    out: Optional[Union[str, os.PathLike]] = None,
):
    """Loss curves (and optionally gradient-norm curves, dashed, on a second
    axis) against iteration or time.

    Args:
      curves: name -> values, or name -> (x, values) (e.g. seconds).
      grad_norms: the same form; drawn dashed on a twin y axis.
      xlabel, ylabel, title: labels.
      logy, logx: logarithmic axes; points whose value (logy) or x (logx)
        is <= 0 are left out.
      ax: draw on these axes instead of a new figure.
      out: save a PNG here.

    Returns:
      (fig, ax)
    """
    fig, ax = _new_axes(ax)
    colors = {}
    for name, c in curves.items():
        x, y = _as_xy(name, c, logx)
        if logy:
            y = np.where(y > 0, y, np.nan)  # a log axis cannot show <= 0
        (line,) = ax.plot(x, y, label=name, lw=1.5)
        colors[name] = line.get_color()
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if grad_norms:
        ax2 = ax.twinx()
        for name, c in grad_norms.items():
            x, y = _as_xy(name, c, logx)
            ax2.plot(x, np.where(y > 0, y, np.nan), ls="--", lw=1.0, color=colors.get(name))
        ax2.set_yscale("log")
        ax2.set_ylabel("gradient norm (dashed)")
    if title:
        ax.set_title(title)
    if curves:
        ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    _save(fig, out)
    return fig, ax


def _rate(schedule: Callable[[Any], Any], step: int) -> float:
    value = schedule(step)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"schedule({step}) must return a number, got {value!r}") from None


def plot_schedule(
    schedule: Callable[[Any], Any],
    steps: int,
    ax: Any = None,
    label: Optional[str] = None,
    logy: bool = False,
    out: Optional[Union[str, os.PathLike]] = None,
):
    """A learning-rate schedule against the step number 0 .. steps-1.

    Args:
      schedule: a callable of the step (a :mod:`gdcore.schedules` schedule is
        evaluated vectorised; any other callable point by point).
      steps: how many steps to draw (an int >= 1).
      ax, label, out: as for the other functions.
      logy: a logarithmic y axis (steps with a rate <= 0 are left out).

    Returns:
      (fig, ax)
    """
    _check_count("steps", steps, 1)
    fig, ax = _new_axes(ax)
    k = np.arange(int(steps))
    try:
        lr = np.asarray(schedule(k), dtype=float)
        if lr.shape != k.shape:
            raise TypeError
    except (TypeError, ValueError):
        lr = np.array([_rate(schedule, int(i)) for i in k])
    if logy:
        lr = np.where(lr > 0, lr, np.nan)  # a log axis cannot show <= 0
    ax.plot(k, lr, lw=1.5, label=label or repr(schedule)[:60])
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    _save(fig, out)
    return fig, ax


def animate_race(
    landscape: Any,
    trajectories: Mapping[str, np.ndarray],
    out: Union[str, os.PathLike],
    frames: int = 60,
    fps: int = 15,
    resolution: int = 150,
):
    """An animated GIF of optimizers racing on a 2-D landscape.

    Each trajectory is resampled to ``frames`` points (by iteration), and the
    frames draw every path up to that point.  Needs matplotlib with Pillow
    (matplotlib's own dependency).

    Args:
      landscape: a 2-D landscape, as for :func:`plot_landscape`.
      trajectories: name -> array of shape (m, 2), m >= 1, of visited points;
        with none (an empty mapping) the frames show the landscape alone.
      out: the GIF file to write.
      frames: number of frames (an int >= 1).
      fps: frames per second (> 0).
      resolution: grid points per axis (an int >= 2).

    Returns:
      (fig, ax) of the last frame.

    Raises:
      ValueError: on any of the above not met, before anything is written.
    """
    _check_count("frames", frames, 1)
    if (
        isinstance(fps, bool)
        or not isinstance(fps, (int, float, np.integer, np.floating))
        or not np.isfinite(fps)
        or fps <= 0
    ):
        raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
    _check_landscape(landscape, resolution)
    frames = int(frames)
    matplotlib, _, _ = _mpl()
    from matplotlib.animation import FuncAnimation, PillowWriter

    paths = {}
    for name, traj in (trajectories or {}).items():
        t = np.asarray(traj, dtype=float)
        if t.ndim != 2 or t.shape[1] != 2 or len(t) == 0:
            raise ValueError(f"trajectory '{name}' must have shape (m, 2), m >= 1")
        idx = np.unique(np.linspace(0, len(t) - 1, frames).round().astype(int))
        idx = np.concatenate([idx, np.full(frames - len(idx), idx[-1])]) if len(idx) < frames else idx
        paths[name] = t[idx]
    fig, ax = _new_axes(None)
    _contour(ax, landscape, resolution, True)
    lines = {}
    heads = {}
    for name in paths:
        (lines[name],) = ax.plot([], [], lw=1.5, label=name)
        (heads[name],) = ax.plot([], [], "o", color=lines[name].get_color())
    if paths:
        ax.legend(loc="upper left", fontsize=8)

    def draw(i):
        for name, p in paths.items():
            lines[name].set_data(p[: i + 1, 0], p[: i + 1, 1])
            heads[name].set_data(p[i : i + 1, 0], p[i : i + 1, 1])
        return list(lines.values()) + list(heads.values())

    anim = FuncAnimation(fig, draw, frames=frames, blit=False)
    anim.save(os.fspath(out), writer=PillowWriter(fps=fps))
    return fig, ax
