"""Plain-numpy oracle of the fused mini-batch epoch of gdcore.linear, written
from the algorithm documented in ``gdcore/linear/_base.py``:

    for each batch B of the row order (batch_size rows at a time), k = 0, 1, ...:
        m_i = x_i·w + b                        with the weights before the update
        r_i = s_i ∂ℓ(y_i, m_i)/∂m
        g_w = (Σ_B r_i x_i) / |B| + (1 − ρ) α w    ρ: 0 l2, 1 l1, l1_ratio elasticnet
        g_b = (Σ_B r_i) / |B|
        (w, b) ← optimizer step with that batch's learning rate lr_k
        l1, elasticnet: the cumulative L1 penalty (Tsuruoka, Tsujii and
        Ananiadou 2009), its threshold the proximal step in the optimizer's
        metric: u_j ← u_j + lr_k α ρ s_j (s: l1_step_scale), then for every
        weight, z = w_j:
            z > 0: w_j ← max(0, z − (u_j + q_j));  z < 0: w_j ← min(0, z + (u_j − q_j))
            q_j ← q_j + (w_j − z)
    total = Σ s_i ℓ(y_i, m_i)

u and q carry over from epoch to epoch (like the optimizer's state).

The losses are scikit-learn's (``sklearn/linear_model/_sgd_fast.pyx.tp``)
written out again here; the optimizer steps are the torch-algorithm oracles
of ``reference/optim.py``.  Nothing here imports gdcore.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from . import optim as ref_optim


def _loss_hinge(t):
    def value(y, p):
        return np.maximum(0.0, t - y * p)

    def deriv(y, p):
        return np.where(y * p <= t, -y, 0.0)

    return value, deriv


def _log():
    def value(y, p):
        return np.logaddexp(0.0, -y * p)

    def deriv(y, p):
        z = y * p
        return -y / (1.0 + np.exp(z))

    return value, deriv


def _squared():
    return (lambda y, p: 0.5 * (p - y) ** 2), (lambda y, p: p - y)


def _huber(eps):
    def value(y, p):
        r = np.abs(p - y)
        return np.where(r <= eps, 0.5 * r * r, eps * r - 0.5 * eps * eps)

    def deriv(y, p):
        r = p - y
        return np.where(np.abs(r) <= eps, r, eps * np.sign(r))

    return value, deriv


def _modified_huber():
    def value(y, p):
        z = y * p
        return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, (1.0 - z) ** 2, -4.0 * z))

    def deriv(y, p):
        z = y * p
        return np.where(z >= 1.0, 0.0, np.where(z >= -1.0, -2.0 * y * (1.0 - z), -4.0 * y))

    return value, deriv


def _squared_hinge():
    def value(y, p):
        return np.maximum(0.0, 1.0 - y * p) ** 2

    def deriv(y, p):
        z = 1.0 - y * p
        return np.where(z > 0, -2.0 * y * z, 0.0)

    return value, deriv


def _eps_insensitive(eps):
    def value(y, p):
        return np.maximum(0.0, np.abs(y - p) - eps)

    def deriv(y, p):
        return np.where(y - p > eps, -1.0, np.where(p - y > eps, 1.0, 0.0))

    return value, deriv


def loss(name: str, epsilon: float = 0.1) -> Tuple[Callable, Callable]:
    """(value, derivative) of scikit-learn's loss ``name``."""
    return {
        "hinge": lambda: _loss_hinge(1.0),
        "perceptron": lambda: _loss_hinge(0.0),
        "log_loss": _log,
        "squared_error": _squared,
        "huber": lambda: _huber(epsilon),
        "modified_huber": _modified_huber,
        "squared_hinge": _squared_hinge,
        "epsilon_insensitive": lambda: _eps_insensitive(epsilon),
    }[name]()


def l2_share(penalty: str, l1_ratio: float) -> float:
    """1 − ρ: the share of α that the gradient carries (α w)."""
    return {None: 0.0, "l2": 1.0, "l1": 0.0, "elasticnet": 1.0 - l1_ratio}[penalty]


def l1_share(penalty: Optional[str], l1_ratio: float) -> float:
    """ρ: the share of α applied by the cumulative L1 truncation (penalty
    None or "none": no penalty)."""
    return {None: 0.0, "none": 0.0, "l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]


def cumulative_l1(w: np.ndarray, q: np.ndarray, u: Any) -> None:
    """Tsuruoka et al.'s truncation of every weight, in place on w and q
    (any shape; u per weight or one value): a positive weight drops by
    u_j + q_j, a negative one rises by u_j − q_j, never past zero; q_j
    records what was applied."""
    z = w.copy()
    w[...] = np.where(z > 0, np.maximum(0.0, z - (u + q)),
                      np.where(z < 0, np.minimum(0.0, z + (u - q)), z))
    q += w - z


def l1_step_scale(opt: "ref_optim._Oracle") -> np.ndarray:
    """s_j: the optimizer's step per unit of lr in coordinate j, from the
    oracle's state of its first parameter (the weights) after its step:
    the factor the optimizer applies to the gradient direction (1 for SGD
    and Lion, whose steps are lr times a gradient or a sign)."""
    h, st, w = opt.h, opt.state[0], opt.params[0]
    t = st.get("step", 0.0)
    if isinstance(opt, (ref_optim.Adam, ref_optim.NAdam)):  # (AdamW is an Adam)
        v = st["max_exp_avg_sq"] if h.get("amsgrad") else st["exp_avg_sq"]
        beta2 = h["betas"][1]
        return 1.0 / (np.sqrt(v) / math.sqrt(1.0 - beta2**t) + h["eps"])
    if isinstance(opt, ref_optim.RAdam):
        beta2 = h["betas"][1]
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * t * beta2**t / (1.0 - beta2**t)
        if rho_t <= 5.0:
            return np.ones_like(w)
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return r * math.sqrt(1.0 - beta2**t) / (np.sqrt(st["exp_avg_sq"]) + h["eps"])
    if isinstance(opt, ref_optim.RMSprop):
        var = st["square_avg"]
        if h["centered"]:
            var = np.maximum(0.0, var - st["grad_avg"] ** 2)
        return 1.0 / (np.sqrt(var) + h["eps"])
    if isinstance(opt, ref_optim.Adagrad):
        return (1.0 / (1.0 + (t - 1.0) * h["lr_decay"])) / (np.sqrt(st["sum"]) + h["eps"])
    if isinstance(opt, ref_optim.Adamax):
        return 1.0 / st["exp_inf"]
    if isinstance(opt, ref_optim.Adadelta):
        return np.sqrt(st["acc_delta"] + h["eps"]) / np.sqrt(st["square_avg"] + h["eps"])
    return np.ones_like(w)  # SGD (any momentum), Lion


def minibatch_epoch(
    X: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    order: Sequence[int],
    loss_name: str,
    penalty: str,
    alpha: float,
    l1_ratio: float,
    fit_intercept: bool,
    batch_size: int,
    opt: "ref_optim._Oracle",
    lrs: Sequence[float],
    epsilon: float = 0.1,
    l1_state: Optional[Dict[str, Any]] = None,
) -> float:
    """One epoch, in float64, updating ``opt.params == [w, b]`` in place of
    the oracle's state.  ``l1_state``: the cumulative L1 penalty's state
    {"u": float, "q": array}, updated in place (pass the same dict to every
    epoch; None: a fresh zero state).  Returns the summed weighted loss."""
    value, deriv = loss(loss_name, epsilon)
    order = np.asarray(order)
    total = 0.0
    rho = l1_share(penalty, l1_ratio)
    if l1_state is None:
        l1_state = {}
    l1_state.setdefault("u", np.zeros(opt.params[0].shape[0]))
    l1_state.setdefault("q", np.zeros(opt.params[0].shape[0]))
    for k, start in enumerate(range(0, len(order), batch_size)):
        rows = order[start : start + batch_size]
        w, b = opt.params
        m = X[rows] @ w + b[0]
        total += float(np.sum(s[rows] * value(y[rows], m)))
        r = s[rows] * deriv(y[rows], m)
        gw = X[rows].T @ r / len(rows)
        if penalty is not None:
            gw = gw + alpha * l2_share(penalty, l1_ratio) * w
        gb = np.array([r.sum() / len(rows)])
        opt.h["lr"] = float(lrs[k])
        if fit_intercept:
            opt.step([gw, gb])
        else:
            saved = opt.params[1]
            opt.step([gw, np.zeros(1)])
            opt.params[1] = saved
        if penalty in ("l1", "elasticnet"):
            l1_state["u"] = l1_state["u"] + (float(lrs[k]) * alpha * rho) * l1_step_scale(opt)
            cumulative_l1(opt.params[0], l1_state["q"], l1_state["u"])
    return total


def oracle(name: str, w: np.ndarray, b: np.ndarray, **hyper) -> "ref_optim._Oracle":
    cls: Dict[str, type] = {"sgd": ref_optim.SGD, "adam": ref_optim.Adam, "adamw": ref_optim.AdamW,
                            "rmsprop": ref_optim.RMSprop, "adagrad": ref_optim.Adagrad,
                            "adadelta": ref_optim.Adadelta, "adamax": ref_optim.Adamax,
                            "nadam": ref_optim.NAdam, "radam": ref_optim.RAdam,
                            "lion": ref_optim.Lion}
    return cls[name]([w.astype(np.float64), b.astype(np.float64).reshape(1)], **hyper)


def dot_partials(dtype: Any) -> int:
    """How many partial sums the fixed-order dot product keeps: 32 for
    float32, 16 for float64 (four 256-bit registers either way)."""
    return 32 if np.dtype(dtype) == np.float32 else 16


def fixed_dot(x: np.ndarray, w: np.ndarray) -> np.generic:
    """The fixed-order dot product of the row kernels: element i goes to
    partial sum i mod P (P = dot_partials(dtype); accumulated in index
    order), then the P partials are combined pairwise: p[j] += p[j + h] for
    h = P/2, …, 2, 1."""
    n, p = x.shape[0], dot_partials(x.dtype)
    prod = np.zeros(-(-n // p) * p if n else p, dtype=x.dtype)
    prod[:n] = x * w
    acc = np.cumsum(prod.reshape(-1, p), axis=0)[-1].copy()  # strictly sequential per lane
    h = p // 2
    while h >= 1:
        acc[:h] = acc[:h] + acc[h : 2 * h]
        h //= 2
    return acc[0]


def axpy_dot(w: np.ndarray, x: np.ndarray, a: float, xn: np.ndarray) -> np.generic:
    """w ← w + a·x (multiply, then add), then fixed_dot(xn, w)."""
    w[...] = w + x.dtype.type(a) * x
    return fixed_dot(xn, w)


def csr_decision(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, w: np.ndarray,
                 b: float) -> np.ndarray:
    """Each CSR row's value dot(row, w) + b in the row's dtype, the sparse
    dot in its fixed order: entry j of a row (its j-th stored value) into
    partial j mod 4, each partial summed from 0 in entry order, combined as
    (p0 + p2) + (p1 + p3).  Vectorised over rows, sequential over entries."""
    t = data.dtype.type
    n = len(indptr) - 1
    lengths = np.diff(indptr).astype(np.int64)
    prod = data * w[indices]
    parts = np.zeros((4, n), dtype=data.dtype)
    for j in range(int(lengths.max()) if n else 0):
        has = np.flatnonzero(lengths > j)
        parts[j % 4, has] = parts[j % 4, has] + prod[indptr[has] + j]
    return (parts[0] + parts[2]) + (parts[1] + parts[3]) + t(b)


def auto_learning_rate_steps(curve, eta0: float, scale: float, tol: float, patience: int,
                             relative: bool = False) -> Tuple[list, bool]:
    """learning_rate="auto" as the estimators document it, replayed on a
    fit's objective per epoch (``curve``): steps of eta0 * scale until
    ``patience`` epochs in a row fail to improve the best by ``tol`` (times
    the best when ``relative``: regressors), then
    divided by 3 ** (1 / scale) per epoch until ``patience`` more such
    epochs or a step below eta0 / 1000.  Returns the step of each epoch and
    whether the rule stops after the last one."""
    decay = 3.0 ** (1.0 / scale)
    eta, best, no_improve, annealing, steps = eta0 * scale, np.inf, 0, False, []
    for obj in curve:
        steps.append(eta)
        margin = tol * abs(best) if relative and np.isfinite(best) else tol
        no_improve = no_improve + 1 if obj > best - margin else 0
        best = min(best, obj)
        if annealing:
            if no_improve >= patience or eta / decay < eta0 * 1e-3:
                return steps, True
            eta /= decay
        elif no_improve >= patience:
            annealing, no_improve, eta = True, 0, eta / decay
    return steps, False


def block_order(blocks: np.ndarray, within: np.ndarray, size: int, n: int) -> np.ndarray:
    """Rows 0..n-1 in blocks of `size`: block blocks[k] k-th, its rows in the
    order `within` (the short last block: the entries of within below its
    length, in order)."""
    last_len = n - (len(blocks) - 1) * size
    rows = blocks[:, None] * size + within[None, :]
    keep = np.ones(rows.shape, dtype=bool)
    keep[blocks == len(blocks) - 1] = within < last_len
    return rows[keep].astype(np.int64)


_MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> Tuple[int, int]:
    """One SplitMix64 draw (Steele, Lea and Flood 2014): (value, new state)."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31), state


def shuffle_order(order: np.ndarray, begin: int, end: int, state: int) -> int:
    """Positions [begin, end) of a forward Fisher–Yates shuffle of ``order``
    in place: order[k] swapped with order[j], j = k + ⌊r·(n−k) / 2^64⌋ for a
    SplitMix64 draw r, redrawn while r·(n−k) mod 2^64 < 2^64 mod (n−k)
    (Lemire 2019: every j equally likely).  Returns the new state."""
    n = len(order)
    for k in range(begin, end):
        bound = n - k
        threshold = (1 << 64) % bound
        while True:
            r, state = splitmix64(state)
            product = r * bound
            if (product & _MASK64) >= threshold:
                break
        j = k + (product >> 64)
        order[k], order[j] = order[j], order[k]
    return state
