"""Shared machinery of gdcore's SGD estimators: parameter checks, the
optimizer and learning-rate set-up, and the epoch loop around the compiled
``gdcore._core.minibatch_epoch`` (one fused C++ pass per epoch).

Algorithm of one epoch (what :func:`_core.minibatch_epoch` computes, written
out so it can be checked against a plain-numpy reimplementation)::

    for each batch B of `order` (rows, batch_size at a time), k = 0, 1, ...:
        m_i  = x_i · w + b                        (weights before the update)
        r_i  = s_i · ∂ℓ(y_i, m_i)/∂m               s_i = sample × class weight
        g_w  = (Σ_B r_i x_i) / |B| + (1-ρ) α w    ρ = 0 (l2), 1 (l1), l1_ratio
                                                   (elasticnet); no penalty: 0
        g_b  = (Σ_B r_i) / |B|                     (the intercept is not penalised)
        w, b ← optimizer step with learning rate lr[k]   (b only if fit_intercept)
        l1, elasticnet -- the L1 part by the cumulative penalty:
            for every weight j, z = w_j:
                u_j ← u_j + lr[k] α ρ s_j          s_j: the optimizer's step scale
                z > 0:  w_j ← max(0, z − (u_j + q_j))
                z < 0:  w_j ← min(0, z + (u_j − q_j))
                q_j ← q_j + (w_j − z)
    returns Σ s_i ℓ(y_i, m_i)

|B| is the number of rows in the batch (not the sum of their weights), so
with ``batch_size=1, optimizer="sgd"`` the update is scikit-learn's plain SGD
step  w ← w − η (s ∂ℓ x + α w).

The L1 part is the cumulative penalty with truncation of Tsuruoka, Tsujii
and Ananiadou (2009, "Stochastic gradient descent training for
L1-regularized log-linear models with cumulative penalty", ACL-IJCNLP),
the rule scikit-learn's per-sample SGD uses: u_j is the total L1 penalty
weight j could have received so far, q_j what it did receive; a weight that
the optimizer's steps do not keep away from zero is clipped to exactly 0 (a
subgradient α ρ sign(w) would make it oscillate around 0 instead).  The
threshold is the proximal step in the optimizer's own metric: s_j is the
optimizer's per-coordinate step scale, computed in double from its state
after the step (t: its step count after the step):

    sgd (any momentum), lion    1
    adam, adamw, nadam          1 / (√v_j / √(1 − β2ᵗ) + eps)   v: exp_avg_sq
                                (max_exp_avg_sq with amsgrad)
    radam                       r_t √(1 − β2ᵗ) / (√v_j + eps) while rectified
                                (ρ_t > 5, torch's r_t), else 1
    rmsprop                     1 / (√square_avg_j + eps); centered:
                                1 / (√max(0, square_avg_j − grad_avg_j²) + eps)
    adagrad                     (1 / (1 + (t − 1) lr_decay)) / (√sum_j + eps)
    adamax                      1 / exp_inf_j
    adadelta                    √(acc_delta_j + eps) / √(square_avg_j + eps)

so an adaptive optimizer, whose steps are about lr in every coordinate,
truncates at the same scale as it steps (with a shared lr α ρ threshold the
Adam defaults kept 40 of 50 weights on the data of the `penalty` example in
SGDClassifier's docstring; now 12, scikit-learn 5).  Elementwise on one
thread, so the result depends on no thread count or ISA; plain SGD's u_j is
bit for bit the shared sum lr[k] α ρ it was before.  u (float64, one per
weight) and q (one per weight) persist across epochs, partial_fit calls and
warm starts exactly as the optimizer's state does (_Problem.l1_state), and
are reset with it.
"""

from __future__ import annotations

import functools
import math
import numbers
import sys
import threading
import time
import warnings
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from .. import _core, losses
from .. import optim as _optim
from ._compat import (
    ConvergenceWarning,
    InvalidParameterError,
    all_finite,
    check_is_fitted,
    check_random_state,
    csr_arrays,
    is_sparse,
    label_stats,
    validation_split,
)
from ._params import (
    BOOLEAN,
    CALLABLE,
    DICT,
    NONE,
    RANDOM_STATE,
    VERBOSE,
    Interval,
    StrOptions,
    validate_params,
)

OPTIMIZERS: Dict[str, type] = {
    "sgd": _optim.SGD,
    "adam": _optim.Adam,
    "adamw": _optim.AdamW,
    "rmsprop": _optim.RMSprop,
    "adagrad": _optim.Adagrad,
    "adadelta": _optim.Adadelta,
    "adamax": _optim.Adamax,
    "nadam": _optim.NAdam,
    "radam": _optim.RAdam,
    "lion": _optim.Lion,
}
LEARNING_RATES = ("constant", "optimal", "invscaling", "adaptive", "auto")
#: the smallest magnitude a float64 rounds from to a float32 infinity
F32_ROUNDS_TO_INF = 2.0**128 - 2.0**103
#: the learning rates whose steps are the same within an epoch (eta)
CONSTANT_RATES = ("constant", "adaptive", "auto")
#: step divisor of learning_rate="auto" after each epoch without improvement
AUTO_DECAY = 3.0
#: learning_rate="auto" stops once the step would fall below eta0 times this
AUTO_MIN_RATIO = 1e-3
#: learning_rate="auto" in fit, with tol set and a scale-free optimizer (any
#: but "sgd"): the step is eta0 * sqrt(AUTO_STEP_UPDATES / updates per
#: epoch), clipped to [1, AUTO_STEP_MAX_SCALE] times eta0 (auto_step_scale)
AUTO_STEP_UPDATES = 1024
AUTO_STEP_MAX_SCALE = 10.0
PENALTIES = {None: 0, "l2": 1, "l1": 2, "elasticnet": 3}
#: bytes of rows per block of ``shuffle="block"`` (a block and the next one
#: being fetched stay in a core's L2 cache), within [BLOCK_MIN_ROWS, BLOCK_MAX_ROWS] rows
BLOCK_BYTES = 128 << 10
BLOCK_MIN_ROWS = 16
BLOCK_MAX_ROWS = 4096
MAX_INT = np.iinfo(np.int32).max
#: learning rates at or below this stop ``learning_rate="adaptive"``
ADAPTIVE_MIN_ETA = 1e-6

# gdcore's own defaults (see the estimators' docstrings for the measurements).
DEFAULT_OPTIMIZER = "auto"
#: what optimizer="auto" is (but see _Config: sparse classification with the
#: default step settings takes scikit-learn's per-sample SGD)
AUTO_OPTIMIZER = "adam"
DEFAULT_BATCH_SIZE = "auto"
#: batch_size="auto": n_rows // AUTO_BATCH_DIVISOR, clipped to [AUTO_BATCH_MIN, AUTO_BATCH_MAX]
AUTO_BATCH_MAX = 128
AUTO_BATCH_MIN = 8
AUTO_BATCH_DIVISOR = 32
#: ...and on large data n_rows // AUTO_BATCH_UPDATES, up to AUTO_BATCH_CAP
AUTO_BATCH_UPDATES = 1024
AUTO_BATCH_CAP = 1024
DEFAULT_LEARNING_RATE = "auto"
DEFAULT_ETA0 = 0.01
DEFAULT_SHUFFLE = "auto"
#: shuffle="auto" shuffles in blocks once X (values and indices) is larger than this
AUTO_BLOCK_BYTES = 32 << 20


def _base_constraints(loss_names) -> Dict[str, list]:
    return {
        "loss": [StrOptions(loss_names)],
        "penalty": [StrOptions(("l2", "l1", "elasticnet")), NONE],
        "alpha": [Interval(numbers.Real, 0, None, "left")],
        "l1_ratio": [Interval(numbers.Real, 0, 1, "both"), NONE],
        "fit_intercept": [BOOLEAN],
        "max_iter": [Interval(numbers.Integral, 1, None, "left")],
        "tol": [Interval(numbers.Real, 0, None, "left"), NONE],
        "shuffle": [BOOLEAN, StrOptions(("block", "auto"))],
        "verbose": [VERBOSE],
        "epsilon": [Interval(numbers.Real, 0, None, "left")],
        "random_state": [RANDOM_STATE],
        "learning_rate": [StrOptions(LEARNING_RATES)],
        "eta0": [Interval(numbers.Real, 0, None, "neither")],
        "power_t": [Interval(numbers.Real, None, None, "neither")],
        "early_stopping": [BOOLEAN],
        "validation_fraction": [Interval(numbers.Real, 0, 1, "neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, "left")],
        "warm_start": [BOOLEAN],
        "average": [Interval(numbers.Integral, 0, None, "neither"), BOOLEAN],
        "optimizer": [StrOptions(tuple(OPTIMIZERS) + ("auto",))],
        "optimizer_params": [DICT, NONE],
        "batch_size": [Interval(numbers.Integral, 1, None, "left"), StrOptions(("auto",))],
        "schedule": [CALLABLE, NONE],
        "progress": [BOOLEAN],
    }


class _OptimizerSpec:
    """The compiled optimizer's name, hyperparameter tuple and state slots,
    taken from the gdcore optimizer class built on a dummy array."""

    def __init__(self, name: str, params: Optional[dict], dtype: np.dtype) -> None:
        cls = OPTIMIZERS[name]
        params = dict(params or {})
        if "lr" in params:
            raise InvalidParameterError(
                "optimizer_params must not contain 'lr': the learning rate comes from "
                "learning_rate / eta0 or from schedule="
            )
        maximize = params.get("maximize", False)
        if not isinstance(maximize, (bool, np.bool_)):
            raise InvalidParameterError(
                f"optimizer_params['maximize'] must be a bool, got {maximize!r}"
            )
        if maximize:
            raise InvalidParameterError(
                "optimizer_params must not set maximize=True: the estimators minimise their "
                "loss"
            )
        try:
            opt = cls([np.zeros(1, dtype=dtype)], **params)
        except TypeError as exc:
            raise InvalidParameterError(
                f"optimizer_params {params!r} are not valid for optimizer={name!r}: {exc}"
            ) from None
        except ValueError as exc:
            raise InvalidParameterError(
                f"optimizer_params {params!r} are not valid for optimizer={name!r}: {exc}"
            ) from None
        group = opt.param_groups[0]
        lr = group["lr"]
        self.name = name
        self.kind = cls._kind
        self.hyper = tuple(opt._hyper(group, float(lr) if not callable(lr) else 0.0))
        self.slots = tuple(opt._slots(group))
        self._opt = opt
        self._group = group

    def sparse_step_is_lazy(self, penalty: int) -> bool:
        """Whether the mini-batch loop on sparse rows updates only the weights
        a batch touches (the compiled loop's own rule: plain SGD without
        momentum, with an L2 penalty or none)."""
        return bool(_core.sparse_step_is_lazy(self.kind, self.hyper, penalty))

    def new_state(self, param: np.ndarray) -> list:
        out = []
        for s in self.slots:
            if s is None:
                out.append(None)
            else:
                buf = self._opt._init_buffer(s, param, self._group)
                out.append(np.ascontiguousarray(buf, dtype=param.dtype))
        return out


#: the specs of the optimizers with their default hyperparameters, by
#: (name, dtype): building one runs the optimizer's own argument checks
#: (about 20 µs, per fit)
_DEFAULT_SPECS: Dict[Tuple[str, str], _OptimizerSpec] = {}


def optimizer_spec(name: str, params: Optional[dict], dtype: np.dtype) -> _OptimizerSpec:
    """_OptimizerSpec(name, params, dtype), the default ones built once."""
    if params:
        return _OptimizerSpec(name, params, dtype)
    key = (name, np.dtype(dtype).str)
    spec = _DEFAULT_SPECS.get(key)
    if spec is None:
        spec = _DEFAULT_SPECS[key] = _OptimizerSpec(name, None, dtype)
    return spec


class _Problem:
    """One binary (one-vs-rest) or regression problem: the weights, the
    intercept and the optimizer's state, as minibatch_epoch takes them."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.coef = np.array(coef, order="C", copy=True)
        self.intercept = np.array(intercept, order="C", copy=True).reshape(-1)
        self.slots: Optional[Tuple] = None
        self.optimizer: Optional[str] = None
        self.coef_states: list = []
        self.intercept_states: list = []
        self.counters = np.zeros(4, dtype=np.int64)
        self.scalars = np.ones(2, dtype=np.float64)
        self.avg_coef: Optional[np.ndarray] = None
        self.avg_intercept: Optional[np.ndarray] = None
        #: scikit-learn's per-sample algorithm: the L1 penalty applied per weight
        self.q: Optional[np.ndarray] = None
        #: the mini-batch loop's cumulative L1 penalty (l1 / elasticnet): the
        #: penalty each weight received (coef's shape and dtype) and the total
        #: each weight could have received (float64, coef's size); kept and
        #: reset with the optimizer state
        self.l1_q: Optional[np.ndarray] = None
        self.l1_u: Optional[np.ndarray] = None

    def copy(self) -> "_Problem":
        new = _Problem.__new__(_Problem)
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray):
                v = v.copy()
            elif isinstance(v, list):
                v = [None if a is None else a.copy() for a in v]
            setattr(new, k, v)
        return new

    def astype(self, dtype: np.dtype) -> "_Problem":
        new = self.copy()
        for k in ("coef", "intercept", "avg_coef", "avg_intercept", "q", "l1_q"):
            v = getattr(new, k)
            if v is not None:
                setattr(new, k, np.ascontiguousarray(v, dtype=dtype))
        new.coef_states = [None if a is None else np.ascontiguousarray(a, dtype=dtype) for a in new.coef_states]
        new.intercept_states = [
            None if a is None else np.ascontiguousarray(a, dtype=dtype) for a in new.intercept_states
        ]
        return new

    def ensure_state(self, spec: _OptimizerSpec) -> None:
        """(Re)create the optimizer state when the optimizer or its slots changed."""
        if self.optimizer != spec.name or self.slots != spec.slots:
            self.coef_states = spec.new_state(self.coef)
            self.intercept_states = spec.new_state(self.intercept)
            self.counters[:] = 0
            self.scalars[:] = 1.0
            self.l1_q = self.l1_u = None
            self.optimizer, self.slots = spec.name, spec.slots

    def l1_state(self, penalty: int) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """The cumulative L1 penalty's state (l1_q, l1_u) for the mini-batch
        loop: created at zero on first use (or when coef changed shape);
        (None, None) for penalties without an L1 part."""
        if penalty not in (2, 3):
            return None, None
        if (self.l1_q is None or self.l1_q.shape != self.coef.shape or self.l1_u is None
                or self.l1_u.size != self.coef.size):
            self.l1_q = np.zeros_like(self.coef)
            self.l1_u = np.zeros(self.coef.size, dtype=np.float64)
        elif self.l1_q.dtype != self.coef.dtype:
            self.l1_q = np.ascontiguousarray(self.l1_q, dtype=self.coef.dtype)
        return self.l1_q, self.l1_u

    def reset_state(self) -> None:
        self.optimizer = None
        self.slots = None


class _Progress:
    """A tqdm bar over epochs when tqdm is installed, else a one-line counter."""

    def __init__(self, enabled: bool, total: int, desc: str) -> None:
        self.bar = None
        self.enabled = enabled
        self.total = total
        self.done = 0
        self.loss = float("nan")
        if not enabled:
            return
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="epoch", leave=False)
        except ImportError:  # tqdm is an optional extra: a one-line counter
            self.bar = None

    def update(self, n: int, loss: float) -> None:
        if not self.enabled:
            return
        self.done += n
        self.loss = loss
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.6g}", refresh=False)
            self.bar.update(n)
        else:
            self._write()

    def _write(self) -> None:
        sys.stderr.write(f"\repoch {self.done}/{self.total}  loss {self.loss:.6g}")
        sys.stderr.flush()

    def skip(self, n: int) -> None:
        """``n`` epochs of the total will not run (a problem converged)."""
        if not self.enabled or n <= 0:
            return
        self.total -= n
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()
        else:
            self._write()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


def block_rows(X: Any) -> int:
    """Rows per block of ``shuffle="block"`` for X: BLOCK_BYTES of its rows."""
    n = X.shape[0]
    row_bytes = data_bytes(X) / n if n else 1.0
    return int(min(max(BLOCK_BYTES // max(row_bytes, 1.0), BLOCK_MIN_ROWS), BLOCK_MAX_ROWS))


def block_order(idx: Any, rng: np.random.Generator, block: int,
                out: Optional[np.ndarray] = None, inner: bool = True) -> np.ndarray:
    """Rows in contiguous blocks of ``block``, the blocks in random order and,
    with ``inner``, the rows shuffled inside each block (otherwise in order).

    ``idx``: increasing row indices, or a count n for the rows 0 … n-1.  One
    random within-block permutation is drawn per call and used for every
    block (the short last block keeps its entries in the same relative
    order); the order is written straight into ``out`` (an int64 buffer of
    idx's length) by the compiled ``block_order`` on gdcore's threads."""
    every = isinstance(idx, numbers.Integral)
    n = int(idx) if every else idx.shape[0]
    out = np.empty(n, dtype=np.int64) if out is None else out
    if n == 0:
        return out
    n_blocks = -(-n // block)
    within = rng.permutation(min(block, n)) if inner else np.arange(min(block, n))
    blocks = rng.permutation(n_blocks)
    _core.block_order(blocks, within, block, out)
    if every:
        return out
    if int(idx[-1]) - int(idx[0]) == n - 1:  # consecutive rows
        if idx[0]:
            out += idx[0]
    else:
        np.take(idx, out, out=out)
    return out


def data_bytes(X: Any) -> int:
    """Bytes of X's values (and, when sparse, column indices)."""
    if is_sparse(X):
        return int(X.data.nbytes + X.indices.nbytes)
    return int(X.nbytes)


def looks_ordered(y: np.ndarray, classifier: bool, counts: Optional[np.ndarray] = None,
                  changes: Optional[int] = None) -> bool:
    """Whether the rows look sorted or grouped by target: neighbouring rows
    agree far more often than in a random order.  Classification: the share
    of neighbours with different labels is under half its expectation
    1 - Σ p_c²; regression: one sign dominates the neighbour differences.
    ``counts`` / ``changes``: how often each label occurs and how many
    neighbouring labels differ, when known (label_stats)."""
    n = y.shape[0]
    if n < 3:
        return False
    if classifier:
        if counts is None:
            _, counts, changes = label_stats(y)
        p = counts / n
        expected = 1.0 - float(np.sum(p * p))
        if changes is None:
            changes = int(np.count_nonzero(y[1:] != y[:-1]))
        return float(changes) / (n - 1) < 0.5 * expected
    diff = np.diff(y.astype(np.float64))
    moves = np.count_nonzero(diff)
    return moves > 0 and abs(int(np.count_nonzero(diff > 0)) * 2 - moves) > 0.8 * moves


def resolve_shuffle(shuffle: Any, X: Any, y: np.ndarray, classifier: bool,
                    label_counts: Optional[np.ndarray] = None,
                    label_changes: Optional[int] = None) -> Any:
    """shuffle="auto": "block" on data larger than AUTO_BLOCK_BYTES whose
    rows do not look ordered by target, True otherwise.  ``label_counts``,
    ``label_changes``: the count of each label of y and of neighbouring
    labels that differ, when known."""
    if shuffle != "auto":
        return shuffle
    if data_bytes(X) > AUTO_BLOCK_BYTES and not looks_ordered(y, classifier, label_counts,
                                                              label_changes):
        return "block"
    return True


class _BufferPool:
    """int64 buffers kept from one fit to the next, up to MAX_BYTES in all
    (the two row orders of a 2M-row fit): a fresh large array costs page
    faults on its first pass (~1 ms per 4 MB here, against ~0.2 ms to write
    a reused one).  Thread-safe (one-vs-rest problems train side by side)."""

    MAX_BYTES = 32 << 20
    #: smaller buffers come from malloc's heap, where they cost no page
    #: faults (and the pool's lock and bookkeeping cost more than they save)
    MIN_BYTES = 128 << 10

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: List[np.ndarray] = []

    def take(self, n: int) -> np.ndarray:
        if 8 * n < self.MIN_BYTES:
            return np.empty(n, dtype=np.int64)
        with self._lock:
            for i, buf in enumerate(self._free):
                if buf.shape[0] >= n:
                    return self._free.pop(i)[:n]
        return np.empty(n, dtype=np.int64)

    def give(self, buf: np.ndarray) -> None:
        base = buf if buf.base is None else buf.base
        if not isinstance(base, np.ndarray) or base.dtype != np.int64 or base.ndim != 1:
            return  # pragma: no cover - buffers come from take()
        if base.nbytes < self.MIN_BYTES:
            return
        with self._lock:
            kept = sum(b.nbytes for b in self._free)
            if kept + base.nbytes <= self.MAX_BYTES:
                self._free.append(base)


ORDER_BUFFERS = _BufferPool()


class _Pieces:
    """A pass's row order read in pieces: iterating yields (order[a:b],
    y[a:b], sample_weight[a:b]) for consecutive pieces, each once drawn
    (``done``: each piece's draw, None when drawn already).  y and
    sample_weight are the rows' targets gathered in the order's order, or
    None when not gathered."""

    def __init__(self, order: np.ndarray, bounds: List[int], done: List[Any],
                 y: Optional[np.ndarray] = None, sample_weight: Optional[np.ndarray] = None) -> None:
        self.order, self.bounds, self.done = order, bounds, done
        self.y, self.sample_weight = y, sample_weight

    def __iter__(self) -> Iterator[Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]]:
        for (a, b), done in zip(zip(self.bounds[:-1], self.bounds[1:]), self.done):
            if done is not None:
                done.result()
            yield (self.order[a:b], None if self.y is None else self.y[a:b],
                   None if self.sample_weight is None else self.sample_weight[a:b])


class _EpochOrders:
    """The row order of each epoch (``shuffle``: True, "block" or False;
    ``block`` rows per block, ``inner``: shuffle the rows inside a block).

    shuffle=True draws a fresh permutation per epoch with the compiled
    forward Fisher–Yates shuffle (``_core.shuffle_order``), its generator
    seeded once from ``rng`` and carried from epoch to epoch.  On large data,
    when the epoch loop runs on one thread (``ahead``), the next epoch's
    order is drawn on a helper thread while the current epoch runs (the
    compiled loops and the draws release the GIL).  With ``targets`` (y and
    the sample weights or None; the per-sample loop, which can run a pass
    in pieces) and shuffle=True on that helper, every order comes as
    :class:`_Pieces` with the rows' targets gathered in its order, and the
    first epoch's later pieces are drawn while the pass reads the earlier
    ones.  The orders are the same either way.  Orders are written into two
    buffers in turn (fresh large arrays cost page faults every epoch), so an
    order is valid until the next-but-one call of next()."""

    #: rows from which drawing ahead pays for the helper thread
    AHEAD_ROWS = 20_000
    #: the first piece of an order drawn in pieces (later pieces double)
    FIRST_PIECE = 4096

    def __init__(self, shuffle: Any, idx: Any, rng: np.random.Generator,
                 ahead: bool = True, block: int = BLOCK_MAX_ROWS, inner: bool = True,
                 targets: Optional[Tuple[np.ndarray, Optional[np.ndarray]]] = None) -> None:
        # idx: the rows (increasing), or their count n for every row 0 … n-1
        n = int(idx) if isinstance(idx, numbers.Integral) else idx.shape[0]
        if shuffle != "block" and isinstance(idx, numbers.Integral):
            idx = np.arange(n, dtype=np.int64)
        self.shuffle, self.idx, self.rng = shuffle, idx, rng
        self.block, self.inner = int(block), inner
        self.pool: Any = None
        self.pending: Any = None
        self.buffers: List[np.ndarray] = []
        self.turn = 0
        self.n = n
        #: the shuffle's generator state (shuffle=True)
        self.state = np.zeros(1, dtype=np.uint64)
        if shuffle is True:
            self.state[0] = rng.integers(2**64, dtype=np.uint64)
        if shuffle is not False:
            self.buffers = [ORDER_BUFFERS.take(n) for _ in range(2)]
        if ahead and shuffle is not False and n >= self.AHEAD_ROWS:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(max_workers=1)
        self.pieces = targets is not None and shuffle is True and self.pool is not None
        #: the targets and their gathered copies, one per order buffer
        self.targets = targets if self.pieces else None
        self.gathered: List[Tuple[np.ndarray, Optional[np.ndarray]]] = []
        if self.targets is not None:
            y, sw = self.targets
            self.gathered = [(np.empty(n, y.dtype), None if sw is None else np.empty(n, sw.dtype))
                             for _ in range(2)]

    def _buffer(self) -> Tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
        buf = self.buffers[self.turn]
        ty, tsw = self.gathered[self.turn] if self.gathered else (None, None)
        self.turn ^= 1
        return buf, ty, tsw

    def _draw_range(self, buf: np.ndarray, ty: Optional[np.ndarray], tsw: Optional[np.ndarray],
                    a: int, b: int) -> None:
        """Draw positions [a, b) of buf's shuffle and gather their targets."""
        _core.shuffle_order(buf, a, b, self.state)
        if ty is not None:
            y, sw = self.targets
            np.take(y, buf[a:b], out=ty[a:b], mode="clip")  # (valid rows: no clipping)
            if tsw is not None:
                np.take(sw, buf[a:b], out=tsw[a:b], mode="clip")

    def _draw(self) -> Any:
        if self.shuffle is False:
            return self.idx
        buf, ty, tsw = self._buffer()
        if self.shuffle == "block":
            return block_order(self.idx, self.rng, self.block, out=buf, inner=self.inner)
        buf[...] = self.idx
        self._draw_range(buf, ty, tsw, 0, self.n)
        if self.pieces:
            return _Pieces(buf, [0, self.n], [None], ty, tsw)
        return buf

    def _draw_in_pieces(self) -> _Pieces:
        """The first order: its first piece drawn now, the others queued on
        the helper thread (in order, before anything submitted later)."""
        buf, ty, tsw = self._buffer()
        buf[...] = self.idx
        bounds = [0, min(self.FIRST_PIECE, self.n)]
        while bounds[-1] < self.n:
            bounds.append(min(self.n, 2 * bounds[-1]))
        self._draw_range(buf, ty, tsw, 0, bounds[1])
        done = [None] + [self.pool.submit(self._draw_range, buf, ty, tsw, a, b)
                         for a, b in zip(bounds[1:-1], bounds[2:])]
        return _Pieces(buf, bounds, done, ty, tsw)

    def next_many(self, k: int) -> np.ndarray:
        """The next k epochs' orders, one after the other in one array: the
        orders k calls of next() would give (without a helper thread)."""
        assert self.pool is None
        out = np.empty(k * self.n, dtype=np.int64)
        for j in range(k):
            out[j * self.n : (j + 1) * self.n] = self._draw()
        return out

    def next(self, more: bool) -> Any:
        """This epoch's order (an int64 array, or :class:`_Pieces` of one);
        ``more``: another epoch may follow."""
        if self.pool is None:
            return self._draw()
        if self.pending is not None:
            order = self.pending.result()
        elif self.pieces:
            order = self._draw_in_pieces()
        else:
            order = self._draw()
        self.pending = self.pool.submit(self._draw) if more else None
        return order

    def close(self) -> None:
        """Wait for draws in flight; the buffers go back to the pool (the
        orders handed out must not be used after this)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        for buf in self.buffers:
            ORDER_BUFFERS.give(buf)
        self.buffers = []


def squared_norm(w: np.ndarray) -> float:
    """w·w in float64 on gdcore's own kernel.  (numpy's dot calls BLAS, whose
    worker threads then spin for a while and take the cores from the epoch
    loop's threads.)"""
    if not (w.dtype == np.float64 and w.ndim == 1 and w.flags.c_contiguous):
        w = np.ascontiguousarray(w, dtype=np.float64).reshape(-1)
    return float(_core.dot(w, w))


def penalty_value(penalty: int, alpha: float, l1_ratio: float, w: Optional[np.ndarray],
                  sq_norm: Optional[float] = None) -> float:
    """The regularisation term the epoch loop minimises (its gradient is the
    one minibatch_epoch adds): α(½(1-ρ)‖w‖² + ρ‖w‖₁).  ``sq_norm``: ‖w‖²
    known already (minibatch_passes reports it; w is then read only for an
    L1 part)."""
    if penalty == 0:
        return 0.0
    rho = 0.0 if penalty == 1 else 1.0 if penalty == 2 else l1_ratio
    if sq_norm is None and rho < 1.0:
        sq_norm = squared_norm(w)
    # (Python floats from here, which never warn, but for the |w| sum)
    l2 = (1.0 - rho) * 0.5 * sq_norm if rho < 1.0 else 0.0
    l1 = 0.0
    if rho > 0.0:
        with np.errstate(over="ignore", invalid="ignore"):
            l1 = rho * float(np.abs(w.astype(np.float64, copy=False)).sum())
    return float(alpha * (l2 + l1))


class _Config:
    """Everything one fit needs, resolved once from the estimator's parameters."""

    def __init__(self, est: Any, dtype: np.dtype, sparse: bool = False, shuffle: Any = True,
                 stream: bool = False) -> None:
        loss_name = est.loss
        if loss_name in ("huber", "epsilon_insensitive", "squared_epsilon_insensitive"):
            self.loss = losses.get(loss_name, epsilon=float(est.epsilon))
        else:
            self.loss = losses.get(loss_name)
        self.penalty = PENALTIES[est.penalty]
        self.alpha = float(est.alpha)
        self.l1_ratio = 0.0 if est.l1_ratio is None else float(est.l1_ratio)
        if self.penalty == 1:
            self.l1_ratio_eff = 0.0
        elif self.penalty == 2:
            self.l1_ratio_eff = 1.0
        else:
            self.l1_ratio_eff = self.l1_ratio
        self.fit_intercept = bool(est.fit_intercept)
        #: scikit-learn damps intercept updates by 0.01 on sparse data
        self.intercept_decay = 1.0
        #: > 0: softmax regression over this many classes
        self.multinomial_k = 0
        self.batch_size = est.batch_size
        name = AUTO_OPTIMIZER if est.optimizer == "auto" else est.optimizer
        self.opt = optimizer_spec(name, est.optimizer_params, dtype)
        self.learning_rate = est.learning_rate
        self.schedule = est.schedule
        self.eta0 = float(est.eta0)
        self.power_t = float(est.power_t)
        self.average = int(est.average)
        self.tol = -np.inf if est.tol is None else float(est.tol)
        self.n_iter_no_change = int(est.n_iter_no_change)
        self.early_stopping = bool(est.early_stopping)
        #: the resolved shuffle (True, "block" or False; see resolve_shuffle)
        self.shuffle = shuffle
        self.verbose = int(est.verbose)
        #: partial_fit: one pass over a chunk of a stream (no step scaling
        #: by the chunk's size)
        self.stream = bool(stream)
        #: multiplies every learning rate (the regressor's target scale)
        self.lr_scale = 1.0
        self.optimal_init = 0.0
        #: the last constant-rate array checked_rates made: ((nb, eta, lr_scale), rates)
        self._constant_rates: Any = None
        if (
            sparse
            and est.optimizer == "auto"
            and not est.optimizer_params
            and est.batch_size == DEFAULT_BATCH_SIZE
            and est.learning_rate == DEFAULT_LEARNING_RATE
            and self.schedule is None
            and self.alpha > 0
            and getattr(est, "multi_class", "ovr") == "ovr"
            and self.loss.classification
        ):
            # Sparse data with every step-size setting left at "auto":
            # scikit-learn's per-sample algorithm, O(nnz) per sample (the
            # mini-batch optimizers update all weights once per batch).
            self.opt = optimizer_spec("sgd", None, dtype)
            self.batch_size = 1
            self.learning_rate = "optimal"
        if self.learning_rate == "optimal" and self.schedule is None:
            # Léon Bottou's heuristic, as scikit-learn: eta at the first step
            # is typw / max(1, |dloss(1, -typw)|).
            typw = math.sqrt(1.0 / math.sqrt(self.alpha))
            d = float(self.loss.derivative(1.0, -typw))
            initial_eta0 = typw / max(1.0, d)
            self.optimal_init = 1.0 / (initial_eta0 * self.alpha)

    def batch_rows(self, n_rows: int) -> int:
        """Rows per batch for a pass over ``n_rows`` rows."""
        if self.batch_size == "auto":
            return auto_batch_size(n_rows)
        return int(self.batch_size)

    def constant_rate(self) -> bool:
        """Whether every batch of an epoch takes its step ``eta`` (no
        schedule, a learning rate of CONSTANT_RATES)."""
        return self.schedule is None and self.learning_rate in CONSTANT_RATES

    def rates(self, t_first: float, nb: int, eta: float) -> np.ndarray:
        """Learning rate of each of the next ``nb`` batches; ``t_first`` is the
        1-based count of the first one (scikit-learn's ``t``)."""
        if self.constant_rate():
            # (scaled as a Python float: the same product, and an overflow
            # gives inf without numpy's error state)
            return self._rates(t_first, nb, float(eta) * self.lr_scale)
        r = self._rates(t_first, nb, eta)
        if self.lr_scale != 1.0:
            r = r * self.lr_scale
        return r

    def checked_rates(self, t_first: float, nb: int, eta: float, epoch: int) -> np.ndarray:
        """rates(), and scikit-learn's overflow error (at this epoch) when a
        rate is beyond the floating-point range (eta0 / t**power_t with a
        very negative power_t, or a target scale on top of a huge eta0)."""
        # (constant rates: the same array every epoch until the step
        # changes -- the fits on small data run many short epochs -- and
        # its entries all one value)
        if self.constant_rate():
            key = (nb, eta, self.lr_scale)
            cached = self._constant_rates
            if cached is not None and cached[0] == key:
                return cached[1]
            r = self.rates(t_first, nb, eta)
            if r.size and not math.isfinite(r[0]):
                raise overflow_error(epoch)
            r.flags.writeable = False
            self._constant_rates = (key, r)
            return r
        with np.errstate(over="ignore", divide="ignore"):
            r = self.rates(t_first, nb, eta)
        if not np.all(np.isfinite(r)):
            raise overflow_error(epoch)
        return r

    def _rates(self, t_first: float, nb: int, eta: float) -> np.ndarray:
        if self.constant_rate():
            return np.full(nb, eta, dtype=np.float64)
        t = t_first + np.arange(nb, dtype=np.float64)
        if self.schedule is not None:
            steps = (t - 1.0).astype(np.int64)
            try:
                raw = np.asarray(self.schedule(steps))
                if raw.shape != (nb,):
                    raise ValueError
            except Exception:
                raw = np.asarray([self.schedule(int(s)) for s in steps])
            if raw.dtype.kind not in "iuf" or raw.shape != (nb,):
                bad = raw.ravel()[0] if raw.size else raw
                raise TypeError(
                    f"schedule must return a real learning rate for a step, got {bad!r} "
                    f"({type(bad).__name__})"
                )
            r = raw.astype(np.float64)
            if not np.all(np.isfinite(r)) or np.any(r < 0):
                bad = float(r[~(np.isfinite(r) & (r >= 0))][0])
                raise ValueError(f"schedule returned the learning rate {bad!r}; rates must be finite and >= 0")
            return np.ascontiguousarray(r)
        if self.learning_rate == "optimal":
            return 1.0 / (self.alpha * (self.optimal_init + t - 1.0))
        return self.eta0 / np.power(t, self.power_t)


def auto_batch_size(n_rows: int) -> int:
    """batch_size="auto": n_rows // 32 clipped to [8, 128] -- at least 32
    updates per epoch on small data (where a few large batches per epoch
    make the per-epoch convergence test stop too early), 128 rows from 4096
    rows on -- and, beyond 131 072 rows, n_rows // 1024 up to 1024 rows:
    1024 updates per epoch are plenty there, and larger batches both cost
    less per row (fewer synchronisations) and average out more noise."""
    cap = min(AUTO_BATCH_CAP, max(AUTO_BATCH_MAX, n_rows // AUTO_BATCH_UPDATES))
    return int(min(cap, max(AUTO_BATCH_MIN, n_rows // AUTO_BATCH_DIVISOR)))


def auto_step_scale(updates_per_epoch: int) -> float:
    """learning_rate="auto" in fit, with tol set and a scale-free optimizer:
    the scale s of a fit making ``updates_per_epoch`` weight updates per
    epoch, sqrt(1024 / updates) clipped to [1, 10].  Its steps are eta0 * s,
    and its annealing divides the step by AUTO_DECAY ** (1 / s) per epoch.

    Adam takes steps of about lr in every coordinate, so an epoch moves the
    weights about lr * updates, and the per-epoch plateau test stops a fit
    whose epochs move too little: on small data (few batches per epoch) it
    stopped Adam at eta0 far from the optimum (iris: test accuracy 0.87
    where the optimum gives 0.97).  Larger steps alone end noisier (the
    softmax fit of digits, alpha=1e-3: 9.5 % above the optimum against
    1.7 %); the slower annealing then spends the extra epochs, which are
    short on such data, bringing the noise down (1.0 %).  From 1024
    updates per epoch on (the "auto" batch size on more than 131 072 rows)
    s is 1: steps of eta0, divided by AUTO_DECAY."""
    u = max(int(updates_per_epoch), 1)
    return float(min(AUTO_STEP_MAX_SCALE, max(1.0, math.sqrt(AUTO_STEP_UPDATES / u))))


def model_arrays(p: _Problem) -> List[np.ndarray]:
    """The weights and the optimizer's state of a problem, flat: what
    check_finite_model reads (listed once per fit)."""
    return [a.reshape(-1) for a in [p.coef, p.intercept] + p.coef_states + p.intercept_states
            if a is not None]


def check_finite_model(arrays: List[np.ndarray], epoch: int) -> None:
    """The weights, and the optimizer's state (``model_arrays``): gradients
    whose square overflows (Adam's second moment becomes inf) stall the
    weights at finite values instead of making them NaN."""
    # one compiled pass over all of them (this runs between epochs, when
    # the Python and numpy code it would run is out of the caches); the sum
    # of |x| is finite when every element is, unless it overflows
    if math.isfinite(_core.total_norm(arrays, 1.0)):
        return
    if not all(all_finite(a) for a in arrays):
        raise overflow_error(epoch)


def overflow_error(epoch: int) -> ValueError:
    """scikit-learn's error for a fit that left the floating-point range."""
    return ValueError(
        f"Floating-point under-/overflow occurred at epoch #{epoch}. Scaling input data "
        "with StandardScaler or MinMaxScaler might help."
    )


def _minibatch(X, *args, multinomial_k: int = 0, check: bool = True,
               l1: Tuple[Optional[np.ndarray], Optional[np.ndarray]] = (None, None)):
    """One fused mini-batch pass over dense or CSR rows (softmax regression
    over multinomial_k classes when it is > 0).  ``check=False``: the CSR
    structure passed an earlier call of this fit (its O(nnz) check is
    skipped).  ``l1``: the cumulative L1 penalty's state (_Problem.l1_state)."""
    l1_q, l1_u = l1
    if multinomial_k:
        (y, sw, order, _kind, _param, penalty, alpha, l1_ratio, fit_intercept, bs, okind, hyper,
         lr, coef, intercept, cst, ist, counters, scalars) = args
        rest = (order, multinomial_k, penalty, alpha, l1_ratio, fit_intercept, bs, okind, hyper,
                lr, coef, intercept, cst, ist, counters, scalars)
        if is_sparse(X):
            data, indices, indptr = csr_arrays(X)
            return _core.multinomial_epoch_csr(data, indices, indptr, X.shape[1], y, sw, *rest,
                                               check=check, l1_q=l1_q, l1_u=l1_u)
        return _core.multinomial_epoch(X, y, sw, *rest, l1_q=l1_q, l1_u=l1_u)
    if is_sparse(X):
        data, indices, indptr = csr_arrays(X)
        return _core.minibatch_epoch_csr(data, indices, indptr, X.shape[1], *args, check=check,
                                         l1_q=l1_q, l1_u=l1_u)
    return _core.minibatch_epoch(X, *args, l1_q=l1_q, l1_u=l1_u)


LEARNING_RATE_IDS = {"constant": 0, "adaptive": 0, "optimal": 1, "invscaling": 2}


def uses_plain_sgd(cfg: "_Config", bs: int) -> bool:
    """optimizer="sgd" without momentum or weight decay, batch_size=1 and a
    scikit-learn learning rate: scikit-learn's own per-sample algorithm
    (weight-scale trick, cumulative L1, averaging), fused in C++."""
    if cfg.opt.kind != "sgd" or bs != 1 or cfg.schedule is not None or cfg.multinomial_k:
        return False
    lr, momentum, dampening, weight_decay, nesterov, maximize = cfg.opt.hyper
    return (
        momentum == 0 and weight_decay == 0 and not nesterov and not maximize
        and cfg.learning_rate in LEARNING_RATE_IDS and cfg.lr_scale == 1.0
    )


class _PlainRun:
    """State of scikit-learn's per-sample SGD across the epochs of one fit:
    the weights live as v with w = wscale * v until finish()."""

    def __init__(self, cfg: "_Config", p: "_Problem", t: float, block: int = 0) -> None:
        self.cfg, self.p = cfg, p
        dtype = p.coef.dtype
        if cfg.penalty in (2, 3):
            # the cumulative L1 penalty restarts with every call, its total u
            # (state below) and each weight's q alike, as scikit-learn's
            # _plain_sgd allocates both per call
            p.q = np.zeros_like(p.coef)
        # intercept, average intercept, wscale, average_a, average_b, u, t, and
        # scikit-learn's running norms and objective_sum (its WeightVector
        # starts from the full norms of the weights at every fit)
        coef64 = p.coef.astype(np.float64)
        self.state = np.array(
            [float(p.intercept[0]),
             float(p.avg_intercept[0]) if p.avg_intercept is not None else 0.0,
             1.0, 0.0, 1.0, 0.0, float(t), squared_norm(coef64),
             float(np.abs(coef64).sum()), 0.0], dtype=np.float64)
        if cfg.average > 0:
            # the running average restarts from the current average
            self.state[3], self.state[4] = 0.0, 1.0
        self.dtype = dtype
        #: > 0: the orders visit rows r in blocks r // block (the loop then
        #: fetches the next block while it visits one)
        self.block = block
        # (as scikit-learn: unless early stopping scores a validation set;
        # and only when something reads it: the tol test or verbose output)
        self.track = bool(cfg.verbose) or (not cfg.early_stopping and cfg.tol > -np.inf)
        # the pass's arguments before and after the step size (the same for
        # every pass of the fit), and X's CSR arrays (None: dense)
        self.head = (cfg.loss.kind, cfg.loss.param, cfg.penalty, cfg.alpha, cfg.l1_ratio,
                     LEARNING_RATE_IDS[cfg.learning_rate])
        self.tail = (cfg.power_t, cfg.optimal_init, cfg.fit_intercept, cfg.intercept_decay,
                     int(cfg.average), p.coef, p.avg_coef if cfg.average > 0 else None,
                     p.q if cfg.penalty in (2, 3) else None, self.state, self.track, block)
        self.csr: Any = None

    def epoch(self, X, y, sw, order, eta: float, check: bool = True) -> Tuple[float, Optional[float]]:
        """One pass: (scikit-learn's sumloss, and its objective_sum when
        tracked, else None).  ``order``: an int64 array (y and sw indexed by
        row), or the :class:`_Pieces` of one, with the targets gathered in
        its order or not (one compiled call per piece: the steps are the
        same; the sums of the pieces' losses are added here).
        ``check=False``: X's CSR structure passed an earlier pass of this fit."""
        self.state[9] = 0.0
        rest = self.head + (float(eta),) + self.tail
        total = 0.0
        parts = [(order, None, None)] if isinstance(order, np.ndarray) else order
        if self.csr is None and is_sparse(X):  # (X is the same throughout a fit)
            self.csr = csr_arrays(X)
        csr = self.csr
        for k, (piece, y_in_order, sw_in_order) in enumerate(parts):
            # targets gathered in the order's order, or indexed by row
            in_order = y_in_order is not None
            yk, swk = (y_in_order, sw_in_order) if in_order else (y, sw)
            if csr is not None:
                total += _core.plain_sgd_epoch_csr(*csr, X.shape[1], yk, swk,
                                                   piece, *rest, check=check and k == 0,
                                                   targets_in_order=in_order)
            else:
                total += _core.plain_sgd_epoch_dense(X, yk, swk, piece, *rest,
                                                     targets_in_order=in_order)
        return total, (float(self.state[9]) if self.track else None)

    def finite(self) -> bool:
        """Whether the weights (wscale · v, wscale in (0, 1]) and the
        intercept are finite."""
        st = self.state
        b = float(st[0])
        # (the intercept is kept in float64: in float32 it must stay below
        # 2**128 - 2**103, from where it rounds to infinity)
        limit = F32_ROUNDS_TO_INF if self.dtype == np.float32 else math.inf
        if not (abs(b) < limit and math.isfinite(st[2])):
            return False
        coef = self.p.coef
        return math.isfinite(_core.total_norm([coef], 1.0)) or all_finite(coef)

    def current(self) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
        """The true weights now (copies): coef, intercept, averaged coef and intercept."""
        st = self.state
        w = self.p.coef * self.dtype.type(st[2])
        b = np.array([st[0]], dtype=self.dtype)
        aw = ab = None
        if self.cfg.average > 0:
            aw = ((self.p.avg_coef + self.dtype.type(st[3]) * self.p.coef)
                  * self.dtype.type(1.0 / st[4])).astype(self.dtype)
            ab = np.array([st[1]], dtype=self.dtype)
        return w, b, aw, ab

    def finish(self) -> None:
        p = self.p
        _core.plain_sgd_finalize(p.coef, p.avg_coef if self.cfg.average > 0 else None, self.state)
        p.intercept[0] = self.state[0]
        if self.cfg.average > 0:
            p.avg_intercept[0] = self.state[1]


def train_problem(
    cfg: _Config,
    X: np.ndarray,
    y: np.ndarray,
    sw: Optional[np.ndarray],
    p: _Problem,
    train_idx: Optional[np.ndarray],
    score_fn: Optional[Callable[[np.ndarray, np.ndarray], float]],
    max_iter: int,
    seed: int,
    t_start: float,
    progress: _Progress,
) -> Tuple[int, List[float], int]:
    """Run up to ``max_iter`` epochs on one problem (in place on ``p``) over
    the rows ``train_idx`` (increasing; None: every row).

    Returns (epochs run, objective per epoch, weight updates made)."""
    p.ensure_state(cfg.opt)
    rng = np.random.default_rng(seed)
    n_train = X.shape[0] if train_idx is None else train_idx.shape[0]
    bs = cfg.batch_rows(n_train)
    lazy = cfg.opt.sparse_step_is_lazy(cfg.penalty)
    if cfg.multinomial_k:
        lazy = False  # (the softmax loop always updates every weight)
    if cfg.batch_size == "auto" and is_sparse(X) and X.shape[0] > 0 and not lazy:
        # The optimizer's update of the weights is dense (O(d) per batch) while
        # the gradient costs O(nnz of the batch): take batches holding at least
        # about d non-zeros so the dense update stays a small share.  (Plain
        # SGD with an L2 penalty or none updates only the weights a batch
        # touches.)
        nnz_row = max(1.0, X.nnz / X.shape[0])
        bs = int(min(max(bs, math.ceil(X.shape[1] / nnz_row)), max(1, n_train)))
    if cfg.average > 0 and p.avg_coef is None:
        if t_start - 1 >= cfg.average:
            # (a zero average weighted by the update count would shrink the
            # model towards 0: R^2 1.0 -> -0.74 after one more chunk)
            raise ValueError(
                f"average={int(cfg.average)} was set after {int(t_start - 1)} updates made "
                f"without averaging: the running mean from update {int(cfg.average)} on cannot "
                f"be formed; call fit to start again, or set average above {int(t_start - 1)}"
            )
        p.avg_coef = np.zeros_like(p.coef)
        p.avg_intercept = np.zeros_like(p.intercept)
    t = float(t_start)
    t0 = time.time()
    # scikit-learn damps intercept updates by 0.01 on sparse data (its
    # per-sample algorithm); the mini-batch loop does not need it.
    cfg.intercept_decay = 0.01 if is_sparse(X) else 1.0
    block = block_rows(X)
    # The per-sample loop prefetches by blocks when block r // block holds
    # row r: train_idx is every row, 0..n-1.
    by_blocks = cfg.shuffle == "block" and n_train == X.shape[0]
    plain = _PlainRun(cfg, p, t, block if by_blocks else 0) if uses_plain_sgd(cfg, bs) else None
    # A helper thread would compete with the mini-batch loop's own threads.
    one_thread = plain is not None or _core.get_num_threads() == 1
    # Per-sample steps visit a block's rows shuffled.  Mini-batches read each
    # block in order (streaming reads: shuffled inside the blocks, epochs on
    # 400 MB took 1.4x the time) when X outgrows the caches; on smaller X
    # (or a single block) they shuffle inside the blocks too, so that the
    # batches are not the same groups of rows every epoch.
    inner = (plain is not None or data_bytes(X) <= AUTO_BLOCK_BYTES or n_train <= block)
    orders = _EpochOrders(cfg.shuffle, n_train if train_idx is None else train_idx, rng,
                          ahead=one_thread, block=block, inner=inner,
                          targets=(y, sw) if plain is not None else None)
    try:
        return _train_epochs(cfg, X, y, sw, p, score_fn, max_iter, t, bs, progress, plain, t0,
                             orders, n_train, train_idx)
    finally:
        orders.close()
        if plain is not None:
            plain.finish()


def _train_epochs(cfg, X, y, sw, p, score_fn, max_iter, t, bs, progress, plain, t0, orders,
                  n_train, train_idx):
    kind, param = cfg.loss.kind, cfg.loss.param
    opt = cfg.opt
    averaging = cfg.average > 0
    nb = -(-n_train // bs)
    checked = model_arrays(p) if plain is None else []
    sparse = is_sparse(X)
    # learning_rate="auto" with its plateau test (tol not None): steps of
    # eta0 * scale, and annealing that divides the step by
    # AUTO_DECAY ** (1 / scale) per epoch (scale 1 from 1024 updates per
    # epoch on).  Without the test (tol=None) there is no annealing, and
    # the step stays eta0.
    scale = 1.0
    if (cfg.learning_rate == "auto" and cfg.schedule is None and not cfg.stream
            and cfg.tol > -np.inf and cfg.opt.kind != "sgd"):
        scale = auto_step_scale(nb)
    eta = cfg.eta0 * scale
    decay = AUTO_DECAY ** (1.0 / scale)
    count = 0
    best_obj, best_score = np.inf, -np.inf
    no_improve = 0
    annealing = False
    curve: List[float] = []
    updates = 0
    epoch = 0
    # Small dense data: several epochs per compiled call (minibatch_passes),
    # up to the next epoch whose outcome can change the steps (see
    # batch_epochs); their losses, weight norms and finiteness come back per
    # epoch, and each epoch is then taken through the steps below as if it
    # had run alone (the same bits).
    batchable = (plain is None and not averaging and not sparse and not cfg.multinomial_k
                 and cfg.penalty in (0, 1) and not cfg.verbose and score_fn is None
                 and not progress.enabled and orders.pool is None
                 and n_train * X.shape[1] <= BATCH_EPOCHS_VALUES)
    passes: List[Tuple[float, float, bool]] = []
    for epoch in range(1, max_iter + 1):
        if cfg.verbose:
            print(f"-- Epoch {epoch}")
        objective_sum = None
        batched = None
        if batchable and not passes:
            k = batch_epochs(cfg, max_iter - epoch + 1, no_improve, annealing, eta, decay)
            if k > 1:
                passes = _run_passes(cfg, X, y, sw, p, orders, k, t, nb, bs, eta,
                                     decay if annealing else None, epoch)
        if passes:
            batched = passes.pop(0)
            total = batched[0]
        elif plain is not None:
            order = orders.next(epoch < max_iter)
            total, objective_sum = plain.epoch(X, y, sw, order, eta, check=epoch == 1)
        elif not averaging:
            order = orders.next(epoch < max_iter)
            lr = cfg.checked_rates(t, nb, eta, epoch)
            total = _minibatch(
                X, y, sw, order, kind, param, cfg.penalty, cfg.alpha, cfg.l1_ratio,
                cfg.fit_intercept, bs, opt.kind, opt.hyper, lr, p.coef, p.intercept,
                p.coef_states, p.intercept_states, p.counters, p.scalars,
                multinomial_k=cfg.multinomial_k, check=epoch == 1, l1=p.l1_state(cfg.penalty),
            )
        else:
            order = orders.next(epoch < max_iter)
            lr = cfg.checked_rates(t, nb, eta, epoch)
            # Averaged SGD: the running mean of the weights after every update
            # from update number `average` on (one compiled call per batch).
            total = 0.0
            start = cfg.average
            for k in range(nb):
                total += _minibatch(
                    X, y, sw, order[k * bs : (k + 1) * bs], kind, param, cfg.penalty, cfg.alpha,
                    cfg.l1_ratio, cfg.fit_intercept, bs, opt.kind, opt.hyper, lr[k : k + 1],
                    p.coef, p.intercept, p.coef_states, p.intercept_states, p.counters, p.scalars,
                    multinomial_k=cfg.multinomial_k, check=epoch == 1 and k == 0,
                    l1=p.l1_state(cfg.penalty),
                )
                tk = t + k
                if start <= tk:
                    m = tk - start + 1.0
                    p.avg_coef += (p.coef - p.avg_coef) / p.coef.dtype.type(m)
                    p.avg_intercept += (p.intercept - p.avg_intercept) / p.coef.dtype.type(m)
        if not math.isfinite(total):
            if epoch == 1 and not sparse and not all_finite(X):
                # (the estimators defer X's NaN / infinity check to this first
                # pass, which returns a NaN loss when a margin is not finite;
                # compat.finite_first turns this into scikit-learn's error)
                raise ValueError("Input X contains NaN or infinity.")
            # margins or losses beyond the floating-point range: the weights
            # may still be finite (an optimizer's state can stall them), but
            # the fit has diverged
            raise overflow_error(epoch)
        t += nb
        updates += nb
        count += n_train
        # (the sums are Python floats, whose arithmetic never warns)
        if plain is not None:
            if not plain.finite():
                raise overflow_error(epoch)
            # the model's weights, formed only when something reads them
            w_now = b_now = None
            # scikit-learn's sumloss is unweighted
            avg_loss = float(total) / n_train
        else:
            if batched is None:
                check_finite_model(checked, epoch)
            elif not batched[2]:
                raise overflow_error(epoch)
            # the objective the steps descend: (1/n) sum s_i loss_i, whatever
            # the weights sum to (the gradient averages over a batch's rows)
            avg_loss = float(total) / n_train
            w_now, b_now = p.coef, p.intercept
            if averaging and cfg.average <= t - 1:
                # the model the fit returns is the average: its objective
                # (one more pass over the rows), not the iterates', is the
                # one the curve and the tol test read
                w_now, b_now = p.avg_coef, p.avg_intercept
                with np.errstate(over="ignore", invalid="ignore"):
                    avg_loss = weighted_loss_sum(cfg, X, y, sw, train_idx, w_now, b_now) / n_train
        if plain is not None and (objective_sum is None or cfg.verbose or score_fn is not None):
            w_now, b_now, aw_now, ab_now = plain.current()
            if averaging and cfg.average <= t - 1:
                w_now, b_now = aw_now, ab_now
        if objective_sum is not None:
            # scikit-learn's per-sample algorithm stops on its objective_sum
            obj = objective_sum / n_train
        else:
            obj = avg_loss + penalty_value(cfg.penalty, cfg.alpha, cfg.l1_ratio_eff, w_now,
                                           None if batched is None else batched[1])
        curve.append(obj)
        progress.update(1, obj)
        line = ""
        if cfg.verbose:
            with np.errstate(over="ignore", invalid="ignore"):
                norm = math.sqrt(squared_norm(w_now))
            line = (
                f"Norm: {norm:.2f}, NNZs: {int(np.count_nonzero(w_now))}, "
                f"Bias: {float(b_now[0]):.6f}, T: {count}, Avg. loss: {avg_loss:.6f}, "
                f"Objective: {obj:.6f}"
            )
        if score_fn is not None:
            score = score_fn(w_now, b_now)
            if cfg.verbose:
                print(line + f", Validation score: {score:.6f}")
                print(f"Total training time: {time.time() - t0:.2f} seconds.")
            if cfg.tol > -np.inf and score < best_score + cfg.tol:
                no_improve += 1
            else:
                no_improve = 0
            if score > best_score:
                best_score = score
        else:
            if cfg.verbose:
                print(line)
                print(f"Total training time: {time.time() - t0:.2f} seconds.")
            if cfg.tol > -np.inf and obj > best_obj - plateau_margin(cfg, best_obj):
                no_improve += 1
            else:
                no_improve = 0
            if obj < best_obj:
                best_obj = obj
        if cfg.learning_rate == "auto" and cfg.schedule is None:
            # gdcore's default: the constant step eta0 * scale until
            # n_iter_no_change epochs in a row fail to improve by tol
            # (scikit-learn's plateau test), then an annealing phase that
            # divides the step by `decay` every epoch and ends after
            # n_iter_no_change more epochs without improvement (or once the
            # step is below eta0 * AUTO_MIN_RATIO).
            if annealing:
                if no_improve >= cfg.n_iter_no_change or annealing_ends(cfg, eta, decay):
                    if cfg.verbose:
                        print(f"Convergence after {epoch} epochs took {time.time() - t0:.2f} seconds")
                    break
                eta = eta / decay
            elif no_improve >= cfg.n_iter_no_change:
                annealing = True
                no_improve = 0
                eta = eta / decay
            continue
        if no_improve >= cfg.n_iter_no_change:
            if cfg.learning_rate == "adaptive" and cfg.schedule is None and eta > ADAPTIVE_MIN_ETA:
                eta = eta / 5.0
                no_improve = 0
            else:
                if cfg.verbose:
                    print(f"Convergence after {epoch} epochs took {time.time() - t0:.2f} seconds")
                break
    progress.skip(max_iter - epoch)
    return epoch, curve, updates


#: dense data of at most this many values (training rows × features) runs
#: several epochs per compiled call: there an epoch is short next to the
#: Python steps around it (iris: about 10 µs of them, against 14 µs)
BATCH_EPOCHS_VALUES = 1 << 18
#: the most epochs one call runs
BATCH_EPOCHS_MAX = 16


def annealing_ends(cfg: "_Config", eta: float, decay: float) -> bool:
    """Whether learning_rate="auto"'s annealing stops after an epoch at step
    ``eta``: its next step would fall below ``eta0 * AUTO_MIN_RATIO``."""
    return eta / decay < cfg.eta0 * AUTO_MIN_RATIO


def batch_epochs(cfg: "_Config", left: int, no_improve: int, annealing: bool, eta: float,
                 decay: float) -> int:
    """How many epochs from this one can run in one compiled call: up to the
    first epoch whose outcome can change what follows -- the plateau test
    can end the run, lower the step ("adaptive") or start the annealing
    ("auto") only once ``n_iter_no_change`` epochs in a row did not improve;
    the annealing ends, at the latest, when its next step would fall below
    ``eta0 * AUTO_MIN_RATIO`` -- and at most BATCH_EPOCHS_MAX."""
    k = min(left, BATCH_EPOCHS_MAX)
    if cfg.tol > -np.inf:
        k = min(k, cfg.n_iter_no_change - no_improve)
    if annealing:
        # (the steps the annealing takes, as _train_epochs divides them)
        j, step = 1, eta
        while j < k and not annealing_ends(cfg, step, decay):
            step = step / decay
            j += 1
        k = j
    return max(k, 1)


def _run_passes(cfg: "_Config", X: np.ndarray, y: np.ndarray, sw: Optional[np.ndarray],
                p: _Problem, orders: _EpochOrders, k: int, t: float, nb: int, bs: int,
                eta: float, decay: Optional[float], epoch: int) -> List[Tuple[float, float, bool]]:
    """Run the next k epochs (fewer when a later epoch's learning rates are
    out of range: that epoch then runs alone and raises) in one compiled
    call; per epoch (loss sum, squared norm of the weights, all finite).
    ``decay``: what divides the step after each epoch (None: the step stays)."""
    rates = []
    step = eta
    for j in range(k):
        try:
            rates.append(cfg.checked_rates(t + j * nb, nb, step, epoch + j))
        except ValueError:
            if j == 0:
                raise
            break
        if decay is not None:
            step = step / decay
    k = len(rates)
    order = orders.next_many(k)
    loss, sq_norm, finite = _core.minibatch_passes(
        X, y, sw, order, order.shape[0] // k, cfg.loss.kind, cfg.loss.param, cfg.penalty,
        cfg.alpha, cfg.l1_ratio, cfg.fit_intercept, bs, cfg.opt.kind, cfg.opt.hyper,
        np.concatenate(rates), p.coef, p.intercept, p.coef_states, p.intercept_states,
        p.counters, p.scalars)
    return list(zip(loss.tolist(), sq_norm.tolist(), finite.tolist()))


def weighted_loss_sum(cfg: "_Config", X: Any, y: np.ndarray, sw: Optional[np.ndarray],
                      rows: Optional[np.ndarray], coef: np.ndarray, intercept: np.ndarray) -> float:
    """sum_i s_i loss(y_i, x_i . coef + b) over ``rows`` (None: every row), in
    double: a training pass's loss sum at given weights (coef of k·d values
    for softmax regression over k classes)."""
    W = np.asarray(coef).reshape(cfg.multinomial_k or 1, -1)
    margins = decision(X, W, intercept, rows).astype(np.float64)
    yr = np.asarray(y if rows is None else y[rows], dtype=np.float64)
    if cfg.multinomial_k:
        values = losses.MultinomialLogLoss().value(yr.astype(np.int64), margins)
    else:
        values = cfg.loss.value(yr, margins[:, 0])
    weights = 1.0 if sw is None else np.asarray(sw if rows is None else sw[rows], np.float64)
    return float(np.sum(weights * values))


def plateau_margin(cfg: "_Config", best: float) -> float:
    """How much an epoch must lower the best objective so far to count as
    an improvement: ``tol`` (scikit-learn's test), or for a regression with
    ``learning_rate="auto"`` ``tol * |best|``.  The regressor's objective is
    in the target's units squared: an absolute test stopped fits whose
    objective is small (a standardized target: 0.2 above the optimum, where
    the raw target's fit ends 5e-5 above it), and with steps that scale
    with the target's spread the relative test makes the fit independent of
    the target's units.  (A classifier's objective has no such unit; near a
    tiny optimum -- separable classes -- the relative test would keep
    counting its noise as progress.)"""
    if (cfg.learning_rate == "auto" and cfg.schedule is None and not cfg.loss.classification
            and math.isfinite(best)):
        return cfg.tol * abs(best)
    return cfg.tol


def convergence_warning() -> None:
    warnings.warn(
        "Maximum number of iteration reached before convergence. Consider increasing "
        "max_iter to improve the fit.",
        ConvergenceWarning,
    )


class SparseCoefMixin:
    """scikit-learn's ``densify()`` / ``sparsify()`` for the linear models:
    ``coef_`` as a scipy.sparse CSR matrix and back.  Prediction, score,
    ``partial_fit`` and warm-started ``fit`` work on either form (they read
    a dense copy); a fit leaves ``coef_`` dense."""

    #: ndim of the dense ``coef_`` (the regressor's is 1-D)
    _coef_ndim = 2

    def densify(self) -> Any:
        """Convert ``coef_`` back to a numpy array (the form fit makes);
        returns the estimator."""
        check_is_fitted(self)
        self.coef_ = dense_coef(self.coef_, self._coef_ndim)
        return self

    def sparsify(self) -> Any:
        """Convert ``coef_`` to a scipy.sparse CSR matrix of its shape, as
        scikit-learn (a classifier's (n_classes or 1, n_features); the
        regressor's (n_features,) where scipy has 1-D sparse arrays, else
        (1, n_features)); returns the estimator.  Worth it when most weights
        are exactly 0 -- an L1 or elastic-net penalty makes them so -- for
        the memory it saves; needs scipy."""
        check_is_fitted(self)
        import scipy.sparse as sp

        coef = dense_coef(self.coef_, self._coef_ndim)
        if coef.ndim == 1:
            try:
                self.coef_ = sp.csr_array(coef)
                return self
            except (TypeError, ValueError):  # scipy without 1-D sparse arrays
                coef = coef[None, :]
        self.coef_ = sp.csr_matrix(coef)
        return self


def dense_coef(coef: Any, ndim: int) -> Any:
    """``coef_`` as a numpy array of ``ndim`` dimensions (from a sparse
    matrix after ``sparsify()``; any other value as it is)."""
    if is_sparse(coef):
        coef = coef.toarray()
        return coef.reshape(-1) if ndim == 1 else coef
    return coef


def start_fit(est: Any, coef_init: Any, intercept_init: Any, fitted: Tuple[str, ...]
              ) -> Tuple[Any, Any]:
    """fit's common start: with ``warm_start`` the previous solution is the
    initial one unless coef_init / intercept_init are given; the fitted
    attributes are dropped and the update count restarts."""
    if est.warm_start and getattr(est, "coef_", None) is not None:
        coef_init = dense_coef(est.coef_, est._coef_ndim) if coef_init is None else coef_init
        intercept_init = est.intercept_ if intercept_init is None else intercept_init
    for attr in fitted:
        est.__dict__.pop(attr, None)
    est.t_ = 1.0
    return coef_init, intercept_init


def averaged_in_use(est: Any) -> bool:
    """Whether ``coef_`` / ``intercept_`` are the averaged weights: averaging
    on, and at least ``average`` updates made (scikit-learn's rule)."""
    return int(est.average) > 0 and int(est.average) <= est.t_ - 1


def adopt_edited_weights(est: Any, problems: List["_Problem"], coef_shape: Tuple[int, ...]) -> None:
    """partial_fit continues from ``coef_`` / ``intercept_`` as they are
    now, as scikit-learn's does, also when they were assigned or edited in
    place since the last call (the problems are this call's copies).
    ``coef_shape``: the shape ``coef_`` has for this model (intercept_ has
    coef_shape[0] values, or 1 for a 1-D coef_).  While averaging is in use
    ``coef_`` holds the averaged weights and training continues from its
    own (scikit-learn's rule too).  The model keeps its dtype."""
    coef = getattr(est, "coef_", None)
    icpt = getattr(est, "intercept_", None)
    if coef is None or icpt is None:
        return
    if averaged_in_use(est):
        return
    coef = np.asarray(dense_coef(coef, len(coef_shape)))
    icpt = np.asarray(icpt)
    icpt_shape = (coef_shape[0] if len(coef_shape) == 2 else 1,)
    if coef.shape != coef_shape or icpt.shape != icpt_shape:
        raise ValueError(
            f"coef_ of shape {coef.shape} and intercept_ of shape {icpt.shape} do not match "
            f"the fitted model ({coef_shape} and {icpt_shape}); call fit to start again"
        )
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(icpt))):
        raise ValueError("coef_ and intercept_ must be finite to continue training from them")
    if len(problems) == 1:  # binary, regressor, multinomial
        targets = [(problems[0], coef.reshape(-1), icpt.reshape(-1))]
    else:
        targets = [(p, coef[i], icpt[i : i + 1]) for i, p in enumerate(problems)]
    for p, c, b in targets:
        p.coef[...] = c
        p.intercept[...] = b


def end_fit(est: Any) -> None:
    """scikit-learn's ConvergenceWarning when fit used every epoch."""
    if est.tol is not None and est.n_iter_ == est.max_iter:
        convergence_warning()


def problem_seeds(random_state: Any, n: int) -> np.ndarray:
    """n seeds drawn from random_state, as scikit-learn draws its SGD seeds."""
    if isinstance(random_state, numbers.Integral):
        return _int_seeds(int(random_state), n)
    rs = check_random_state(random_state)
    return rs.randint(MAX_INT, size=n)


@functools.lru_cache(maxsize=32)
def _int_seeds(random_state: int, n: int) -> np.ndarray:
    """problem_seeds of an int, kept: constructing a RandomState costs about
    0.17 ms (its bit generator first seeds itself from the OS), a sixth of
    a small fit."""
    seeds = check_random_state(random_state).randint(MAX_INT, size=n)
    seeds.flags.writeable = False
    return seeds


def make_validation(
    classifier: bool, y: np.ndarray, sample_weight: np.ndarray, fraction: float, random_state: Any
) -> Tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows) for early stopping, as scikit-learn."""
    n = y.shape[0]
    idx_train, idx_val = validation_split(classifier, y, fraction, random_state)
    if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
        raise ValueError(
            f"Splitting {n} samples into a train set and a validation set with "
            f"validation_fraction={fraction!r} led to an empty set ({idx_train.shape[0]} and "
            f"{idx_val.shape[0]} samples). Please either change validation_fraction, increase "
            "number of samples, or disable early_stopping."
        )
    if not np.any(sample_weight[idx_val] > 0):
        raise ValueError(
            "The sample weights for validation set are all zero, consider using a different "
            "random state."
        )
    return np.sort(idx_train).astype(np.int64), np.sort(idx_val).astype(np.int64)


def decision(X: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
             rows: Optional[np.ndarray] = None) -> np.ndarray:
    """X · coefᵀ + intercept over the rows ``rows`` of X (None: every row),
    dense X with the compiled fixed-order dot products, sparse X with
    scipy's product (one pass for all k columns); coef is (k, d); returns
    (rows, k).  Computed in float32 only when both X and the model are
    float32."""
    dtype = np.float32 if (X.dtype == np.float32 and coef.dtype == np.float32) else np.float64
    if is_sparse(X):
        Xs = (X if rows is None else X[rows]).astype(dtype)
        out = np.asarray(Xs @ np.ascontiguousarray(coef, dtype=dtype).T, dtype=dtype)
        return out + np.asarray(intercept, dtype=dtype)[None, :]
    Xc = np.ascontiguousarray(X, dtype=dtype)
    out = np.empty((X.shape[0] if rows is None else rows.shape[0], coef.shape[0]), dtype=dtype)
    for k in range(coef.shape[0]):
        out[:, k] = _core.decision_function(Xc, np.ascontiguousarray(coef[k], dtype=dtype),
                                            float(intercept[k]), rows=rows)
    return out


def validate_common(est: Any, for_partial_fit: bool) -> None:
    validate_params(est, est._parameter_constraints)
    if est.early_stopping and for_partial_fit:
        raise ValueError("early_stopping should be False with partial_fit")
    if est.learning_rate == "optimal" and est.alpha == 0 and est.schedule is None:
        raise ValueError(
            "alpha must be > 0 since learning_rate is 'optimal'. alpha is used to compute "
            "the optimal learning rate."
        )
    if est.penalty == "elasticnet" and est.l1_ratio is None:
        raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
