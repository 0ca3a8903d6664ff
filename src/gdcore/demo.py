"""``gdcore demo``: optimizers racing on classic landscapes, and a logistic
regression on a real data set, with tables and pictures.

Needs the ``demo`` extra (matplotlib for the pictures, scikit-learn for its
bundled breast-cancer data set — nothing is downloaded).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple

import numpy as np

__all__ = ["OutputDirError", "run_demo", "train_logistic_regression"]

RACE_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad", "radam", "lion")
RACE_LANDSCAPES = ("rosenbrock", "beale", "himmelblau", "booth")
LOGREG_RUNS: Tuple[Tuple[str, float], ...] = (
    ("sgd", 0.1),
    ("momentum", 0.05),
    ("adam", 0.01),
    ("rmsprop", 0.005),
    ("adagrad", 0.1),
    ("lion", 0.001),
)


class _Progress:
    """tqdm when installed, otherwise one line per task on stderr."""

    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        self.enabled = enabled
        self.n = 0
        self.total = total
        self.desc = desc
        self._bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False)
            except ImportError:
                pass

    def update(self, what: str) -> None:
        self.n += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(what, refresh=False)
            self._bar.update(1)
        else:
            print(f"  [{self.n}/{self.total}] {self.desc}: {what}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO) -> None:
    rows = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)), file=out)
    out.flush()


# --------------------------------------------------------------------- race
def race(
    landscape_names: Sequence[str] = RACE_LANDSCAPES,
    optimizers: Sequence[str] = RACE_OPTIMIZERS,
    max_iter: int = 3000,
    progress: bool = True,
) -> Dict[str, Dict[str, Any]]:
    """Run gd.minimize with each optimizer (default step-size selection) on
    each landscape; returns {landscape: {optimizer: result}}."""
    from . import landscapes
    from .minimize import minimize

    out: Dict[str, Dict[str, Any]] = {}
    bar = _Progress(len(landscape_names) * len(optimizers), "race", progress)
    for lname in landscape_names:
        land = landscapes.get(lname)
        out[lname] = {}
        for opt in optimizers:
            t0 = time.perf_counter()
            r = minimize(land.value_and_grad, np.asarray(land.start, float), jac=True,
                         optimizer=opt, max_iter=max_iter, tol=1e-8)
            r["seconds"] = time.perf_counter() - t0
            out[lname][opt] = r
            bar.update(f"{lname}/{opt}")
    bar.close()
    return out


def _distance_to_minimum(land: Any, x: np.ndarray) -> float:
    minima = getattr(land, "minima", None) or []
    if not minima:
        return float("nan")
    return float(min(np.linalg.norm(np.asarray(x) - np.asarray(m)) for m in minima))


# ------------------------------------------------------ logistic regression
def _logloss_and_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray, alpha: float):
    """Mean log loss of labels y in {0, 1} plus alpha/2 |w[:-1]|^2 (last
    entry is the intercept), and its gradient."""
    z = X @ w[:-1] + w[-1]
    # log(1 + exp(-s z)) with s = 2y - 1, computed stably
    s = 2.0 * y - 1.0
    m = -s * z
    loss = np.mean(np.logaddexp(0.0, m)) + 0.5 * alpha * float(w[:-1] @ w[:-1])
    r = -s * 0.5 * (1.0 + np.tanh(0.5 * m))  # d loss / d z = -s * sigmoid(m)
    g = np.empty_like(w)
    g[:-1] = X.T @ r / len(y) + alpha * w[:-1]
    g[-1] = r.mean()
    return loss, g


def train_logistic_regression(
    X: np.ndarray,
    y: np.ndarray,
    optimizer: str,
    lr: float,
    batch_size: int,
    epochs: int,
    alpha: float = 1e-3,
    seed: int = 0,
) -> Dict[str, Any]:
    """Mini-batch logistic regression with a gdcore optimizer: returns the
    weights, the per-epoch full-data loss and the wall time."""
    from . import optim

    ctor: Dict[str, Callable[..., Any]] = {
        "sgd": lambda p: optim.SGD(p, lr=lr),
        "momentum": lambda p: optim.SGD(p, lr=lr, momentum=0.9),
        "adam": lambda p: optim.Adam(p, lr=lr),
        "rmsprop": lambda p: optim.RMSprop(p, lr=lr),
        "adagrad": lambda p: optim.Adagrad(p, lr=lr),
        "lion": lambda p: optim.Lion(p, lr=lr),
    }
    w = np.zeros(X.shape[1] + 1)
    opt = ctor[optimizer]([w])
    rng = np.random.default_rng(seed)
    n = len(y)
    curve = [_logloss_and_grad(w, X, y, alpha)[0]]
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            _, g = _logloss_and_grad(w, X[idx], y[idx], alpha)
            opt.step([g])
        curve.append(_logloss_and_grad(w, X, y, alpha)[0])
    return {"w": w, "curve": np.array(curve), "seconds": time.perf_counter() - t0}


_NO_SKLEARN = (
    "the demo trains on scikit-learn's bundled breast-cancer data; "
    "install the extra: pip install 'gdcore[demo]'"
)
_NO_MATPLOTLIB = (
    "the demo draws its pictures with matplotlib; install the extra: pip install 'gdcore[demo]'"
)


def _check_extras() -> None:
    """ImportError naming the ``demo`` extra when matplotlib or scikit-learn
    is missing (checked before any work)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(_NO_MATPLOTLIB) from None
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        raise ImportError(_NO_SKLEARN) from None


class OutputDirError(ValueError):
    """The demo's output directory cannot be used (what ``run_demo`` raises
    and the ``gdcore demo`` command reports with exit status 2)."""


def _output_dir(out_dir: Any) -> Path:
    """Create ``out_dir`` if needed and check that files can be written in it."""
    path = Path(out_dir)
    where = f"cannot write the pictures to {str(path)!r}"
    if path.exists() and not path.is_dir():
        raise OutputDirError(f"{where}: it exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except NotADirectoryError:
        raise OutputDirError(f"{where}: a parent of it is a file, not a directory") from None
    except OSError as exc:
        raise OutputDirError(f"{where}: {exc.strerror or exc}") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or exc
        raise OutputDirError(f"{where}: the directory is not writable ({reason})") from None
    return path


def _breast_cancer():
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        raise ImportError(_NO_SKLEARN) from None
    data = load_breast_cancer()
    X, y = data.data.astype(np.float64), data.target.astype(np.float64)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    cut = int(0.75 * len(y))
    mu, sd = X[:cut].mean(axis=0), X[:cut].std(axis=0) + 1e-12
    X = (X - mu) / sd
    return X[:cut], y[:cut], X[cut:], y[cut:]


# --------------------------------------------------------------------- demo
def run_demo(out_dir: Any = "gdcore-demo", quick: bool = False, progress: bool = True,
             out: Optional[TextIO] = None) -> Dict[str, Any]:
    """The main job: race, logistic regression, tables and pictures.

    Writes into ``out_dir``: race_<landscape>.png (contours with the
    trajectories), race_loss_<landscape>.png (f against iteration),
    logreg_loss.png (loss against epoch and against time), schedule.png
    (a warm-up + cosine schedule) and race.gif (the Rosenbrock race).
    Returns the file paths and the table rows.

    Raises:
      ImportError: matplotlib or scikit-learn is missing (the ``demo``
        extra); checked before anything runs or ``out_dir`` is created.
      OutputDirError: (a ValueError) ``out_dir`` exists and is not a
        directory, lies under a file, cannot be created or is not writable;
        checked before the optimizers run.
    """
    _check_extras()
    out_path = _output_dir(out_dir)
    from . import build_info, landscapes, plot

    out = out or sys.stdout
    info = build_info()
    print(f"gdcore {info['version']} | ISA {info['isa_active']} | threads {info['num_threads']}", file=out)
    files: List[Path] = []
    t_start = time.perf_counter()

    # 1. Optimizers racing on the classic landscapes.
    lands = RACE_LANDSCAPES[:2] if quick else RACE_LANDSCAPES
    results = race(lands, RACE_OPTIMIZERS, max_iter=500 if quick else 20000, progress=progress)
    rows = []
    for lname, per in results.items():
        land = landscapes.get(lname)
        for opt, r in per.items():
            rows.append([lname, opt, int(r.nit), f"{1e3 * r['seconds']:.1f}", float(r.fun),
                         _distance_to_minimum(land, r.x)])
    print("\nOptimizers racing from the classic start points (gd.minimize, automatic step size)", file=out)
    _table(["landscape", "optimizer", "iterations", "time ms", "final f", "distance to min"], rows, out)

    for lname, per in results.items():
        land = landscapes.get(lname)
        trajs = {opt: r.trajectory_x for opt, r in per.items()}
        p = out_path / f"race_{lname}.png"
        plot.plot_landscape(land, trajs, out=p)
        files.append(p)
        curves = {opt: (r.trajectory_iter, r.trajectory_f - land.minimum_value) for opt, r in per.items()}
        p = out_path / f"race_loss_{lname}.png"
        plot.plot_loss_curves(curves, ylabel="f - f*", title=f"{land.name}: f - f* by iteration", out=p)
        files.append(p)

    # 2. Logistic regression on a real data set.
    Xtr, ytr, Xte, yte = _breast_cancer()
    batches = (32,) if quick else (8, 64, len(ytr))
    epochs = 10 if quick else 40
    bar = _Progress(len(LOGREG_RUNS) * len(batches), "logistic regression", progress)
    rows = []
    curves_epoch: Dict[str, Any] = {}
    curves_time: Dict[str, Any] = {}
    for opt, lr in LOGREG_RUNS:
        for bs in batches:
            r = train_logistic_regression(Xtr, ytr, opt, lr, bs, epochs)
            w = r["w"]
            acc = float(np.mean(((Xte @ w[:-1] + w[-1]) > 0) == (yte > 0.5)))
            rows.append([opt, bs, epochs, f"{1e3 * r['seconds']:.1f}", float(r["curve"][-1]), acc])
            if bs == batches[len(batches) // 2 if len(batches) > 1 else 0]:
                curves_epoch[opt] = r["curve"]
                curves_time[opt] = (np.linspace(0, r["seconds"], len(r["curve"])), r["curve"])
            bar.update(f"{opt} batch {bs}")
    bar.close()
    print("\nL2 logistic regression, breast-cancer data (426 train / 143 test rows, 30 features)", file=out)
    _table(["optimizer", "batch", "epochs", "time ms", "final loss", "test accuracy"], rows, out)

    p = out_path / "logreg_loss.png"
    plot.plot_loss_curves(curves_epoch, xlabel="epoch", ylabel="training loss",
                          title="logistic regression: loss by epoch", out=p)
    files.append(p)
    p = out_path / "logreg_loss_time.png"
    plot.plot_loss_curves(curves_time, xlabel="seconds", ylabel="training loss",
                          title="logistic regression: loss by time", out=p)
    files.append(p)

    # 3. A schedule, and the race as an animation.
    try:
        from . import schedules

        sched = schedules.warmup(schedules.cosine(0.1, 900, eta_min=1e-3), 100)
        p = out_path / "schedule.png"
        plot.plot_schedule(sched, 1000, label="warm-up 100 then cosine to 1e-3", out=p)
        files.append(p)
    except ImportError:  # pragma: no cover - schedules always ship with gdcore
        pass
    rosen = results.get("rosenbrock")
    if rosen:
        p = out_path / "race.gif"
        plot.animate_race(landscapes.get("rosenbrock"),
                          {k: v.trajectory_x for k, v in rosen.items()}, p,
                          frames=30 if quick else 60)
        files.append(p)

    print(f"\nwrote {len(files)} files to {out_path}/ in {time.perf_counter() - t_start:.1f} s:", file=out)
    for f in files:
        print(f"  {f}", file=out)
    return {"files": files, "race": results}
