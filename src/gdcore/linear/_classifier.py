"""SGDClassifier: linear classifiers trained by fused mini-batch epochs."""

from __future__ import annotations

import numbers
from typing import Any, Optional

import numpy as np

from . import _base
from ._base import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_ETA0,
    DEFAULT_LEARNING_RATE,
    DEFAULT_OPTIMIZER,
    DEFAULT_SHUFFLE,
    NONE,
    Interval,
    StrOptions,
    _Config,
    _Problem,
    _Progress,
)
from ._compat import (
    HAVE_SKLEARN,
    BaseEstimator,
    ClassifierMixin,
    _check_sample_weight,
    available_if,
    check_classification_targets,
    check_is_fitted,
    compute_class_weight,
    finite_first,
    label_stats,
    signed_targets,
    validate_data,
)
from ._fitting import sum_curves, transaction
from ._params import DICT

CLASSIFIER_LOSSES = (
    "hinge",
    "squared_hinge",
    "perceptron",
    "log_loss",
    "modified_huber",
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
)


#: data with fewer values than this trains its one-vs-rest problems in turn
#: on the calling thread (see n_jobs)
SIDE_BY_SIDE_MIN_VALUES = 1 << 16


def _n_workers(n_jobs, k: int) -> int:
    """Threads for one-vs-rest training: n_jobs (None: gdcore's thread count,
    -1: all cores), at most one per class."""
    import os

    from .. import get_num_threads

    if n_jobs is None:
        n = get_num_threads()
    elif n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: use None, a positive count, or -1 for "
                         "all cores")
    elif n_jobs < 0:
        n = (os.cpu_count() or 1) + 1 + n_jobs
    else:
        n = n_jobs
    return max(1, min(int(n), k))


def _not_in(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """np.setdiff1d(labels, classes) for sorted unique labels and classes:
    by binary search when both are numbers (np.isin's set-up costs about
    60 µs, per partial_fit call)."""
    if labels.dtype.kind in "biuf" and classes.dtype.kind in "biuf" and classes.size:
        at = np.minimum(np.searchsorted(classes, labels), classes.size - 1)
        return labels[classes[at] != labels]
    return np.setdiff1d(labels, classes)


def _check_targets(y: np.ndarray) -> None:
    """scikit-learn's check that y holds class labels; a 1-D integer or
    boolean y always does (and the check's three passes over y are skipped)."""
    if not (y.ndim == 1 and y.dtype.kind in "biu"):
        check_classification_targets(y)


class SGDClassifier(_base.SparseCoefMixin, ClassifierMixin, BaseEstimator):
    r"""Linear classifiers (SVM, logistic regression, ...) trained by
    mini-batch gradient descent with any gdcore optimizer.

    scikit-learn's ``SGDClassifier`` API — same parameter names, attributes
    and methods — on gdcore's fused C++ epoch loop: each epoch is one call
    that gathers the mini-batches, computes margins, loss derivatives and the
    gradient, and applies the optimizer's fused update (see
    ``gdcore.linear._base`` for the exact algorithm).  Multiclass problems
    are solved one-vs-rest.  Results do not depend on the number of threads
    (``gdcore.set_num_threads``).

    **Defaults are gdcore's own**: ``optimizer="auto"`` (Adam; on sparse
    X, scikit-learn's per-sample SGD, see Notes), ``batch_size="auto"``
    (n_samples // 32 rows, clipped to [8, 128]; on more than 131 072 rows
    n_samples // 1024, up to 1024), ``learning_rate="auto",
    eta0=0.01`` — Adam at a constant step until the training objective
    stops improving, then an annealing phase; on small data (few batches
    per epoch) larger steps and a slower annealing (see ``learning_rate``)
    — and ``shuffle="auto"`` (blocks of rows on large data, see
    ``shuffle``).  How close they get, from ``python
    bench/bench_linear_defaults.py`` (log_loss, alpha=1e-4, standardized
    features, 75/25 splits, medians of three seeds; "gap" is the relative
    excess of the regularised training objective over its exact optimum,
    the largest over the one-vs-rest problems; then the test accuracy and
    the epochs):

    ==========================  =======================  =======================  =========
    data (training rows × d)    gdcore defaults          scikit-learn defaults    optimum's
                                                                                  accuracy
    ==========================  =======================  =======================  =========
    iris (112 × 4, 3 classes)   gap 0.99, 0.974, 52      gap 3.2, 0.974, 25       0.974
    wine (133 × 13, 3 classes)  gap 0.62, 1.000, 38      gap 34, 1.000, 46        1.000
    breast cancer (426 × 30)    gap 0.22, 0.951, 25      gap 6.1, 0.951, 23       0.951
    digits (1 347 × 64, 10)     gap 2.0, 0.964, 44       gap 98, 0.951, 182       0.960
    synthetic 1 500 × 20        gap 3.1e-3, 0.986, 19    gap 0.25, 0.982, 32      0.984
    synthetic 15 000 × 50       gap 9.7e-5, 0.877, 17    gap 5.0e-2, 0.872, 39    0.877
    synthetic 15 000 × 200      gap 1.6e-4, 0.868, 21    gap 9.1e-2, 0.849, 96    0.868
    ==========================  =======================  =======================  =========

    (Nearly separable classes have optima with large weights and tiny
    losses, which first-order methods approach slowly: hence the large
    relative gaps of the first four rows, at the optimum's accuracy.  On
    sparse input the default is scikit-learn's per-sample algorithm, with
    gaps of scikit-learn's order: 6.9e-3 against 8.3e-3 on 15 000 × 5 000
    CSR rows of 30 non-zeros.)  On
    200 000 × 50, ``bench/bench_linear.py`` measures the default fit at a
    gap of about 1e-4 in 13 epochs, in less time than scikit-learn's
    ``LogisticRegression(lbfgs)``.  scikit-learn's "adaptive" rule with
    the same optimizer ends slightly closer on the two 15 000-row sets
    (gaps 5.5e-5 and 1.2e-4) in about twice the epochs, and further away
    on the small ones (iris 7.4, digits 8.2, synthetic 1 500 × 20 5.6e-2).

    **scikit-learn's algorithm** is ``optimizer="sgd", batch_size=1,
    learning_rate="optimal"`` with ``shuffle=True`` or False (plain
    per-sample SGD with Bottou's step 1/(alpha (t0 + t)), the weight-scale
    trick, cumulative L1 truncation, averaging): with ``shuffle=False`` it
    gives scikit-learn's weights to rounding, including ``average`` and
    class / sample weights.

    Parameters
    ----------
    loss : str, default="hinge"
        "hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron",
        or a regression loss ("squared_error", "huber", "epsilon_insensitive",
        "squared_epsilon_insensitive"), as scikit-learn (see
        :mod:`gdcore.losses`).
    penalty : {"l2", "l1", "elasticnet", None}, default="l2"
        Regulariser α(½(1-ρ)‖w‖² + ρ‖w‖₁) with ρ = 0 (l2), 1 (l1) or
        ``l1_ratio`` (elasticnet).  The L2 part's gradient (1-ρ)α w is added
        to each mini-batch gradient; the L1 part is applied after each
        optimizer step as the cumulative penalty with truncation (Tsuruoka,
        Tsujii and Ananiadou 2009, as scikit-learn's SGD), so unneeded
        weights become exactly 0 (see :mod:`gdcore.linear._base`).  The
        intercept is not penalised.  Each weight's threshold grows by
        lr·α·ρ times the optimizer's own step scale in that coordinate (1
        for SGD and Lion, 1/(√v̂ + eps) for Adam, ...: the proximal step in
        the optimizer's metric).  On 2 000 rows with 5 informative features
        of 50 (hinge, α=0.01), the exact optimum (a linear program) has an
        objective of 0.187 and 15 non-zero weights; the Adam defaults end at
        0.1872 with 13 (test accuracy on 5 000 fresh rows 0.962), RMSprop
        at 0.1874 with 10 (0.959), ``optimizer="sgd", batch_size=32,
        learning_rate="optimal"`` at 0.1876 with 9 (0.962), Adagrad at
        0.207 with 19 (0.960) and ``optimizer="sgd", batch_size=32`` at
        0.204 with 17 (0.961).  scikit-learn's per-sample algorithm
        (``optimizer="sgd", batch_size=1, learning_rate="optimal"``, and
        scikit-learn itself) keeps 5 or 6 (0.964-0.965) but ends far above
        the optimum (0.56 and 0.91): its sparsity comes from stopping
        early, not from the penalty.  Elasticnet (``l1_ratio=0.5``):
        scikit-learn 10 non-zero, Adam 18, sgd batch 32 28.
    alpha : float, default=1e-4
        Regularisation strength (≥ 0); also sets the "optimal" learning rate.
    l1_ratio : float or None, default=0.15
        Elastic-net mixing ρ in [0, 1].
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Maximum number of epochs (passes over the training rows) of ``fit``.
    tol : float or None, default=1e-3
        Stop (or, with "adaptive"/"auto", lower the step) when the epoch's
        training objective — the weighted losses summed over the rows and
        divided by their number, plus the penalty — has not fallen below
        the best so far minus ``tol`` (:class:`SGDRegressor` with "auto":
        minus ``tol`` times the best) for ``n_iter_no_change``
        consecutive epochs (the validation score with ``early_stopping``).
        None disables the check.  scikit-learn's algorithm (``optimizer="sgd",
        batch_size=1``) tests scikit-learn's own objective instead: the mean
        over the epoch's samples of the (unweighted) loss plus the penalty at
        its running norms, so that it stops at the same epoch (with hinge and
        perceptron, whose updates match bit for bit; with other losses
        rounding differences can grow over many epochs and move it).
    shuffle : bool, "block" or "auto", default="auto"
        True: a fresh permutation of the rows every epoch; "block": the rows
        in contiguous blocks of about 128 KiB (between 16 and 4096 rows),
        the blocks in random order, the rows shuffled inside each block
        (with ``batch_size=1`` the next block is fetched while one is
        visited).  Mini-batches on X larger than 32 MiB take a block's rows
        in order instead (shuffling them inside the block made those epochs
        1.4x slower): the batches then join a few random blocks of
        contiguous rows.  Memory then sees nearly streaming reads: on large
        data an epoch costs about half as much as with ``shuffle=True``.  False: the rows in order.  "auto"
        is "block" when X takes more than 32 MiB and its rows do not look
        sorted or grouped by target (neighbouring labels agree much more
        often than in a random order), and True otherwise.  Data grouped by
        target in a way that check misses (for example sorted by a feature
        that predicts the label) should use ``shuffle=True``.
    verbose : int, default=0
        >= 1 prints scikit-learn's per-epoch lines ("-- Epoch N", "Norm: ...,
        Bias: ..., T: ..., Avg. loss: ...", "Total training time: ...").
    epsilon : float, default=0.1
        Epsilon of "huber", "epsilon_insensitive" and
        "squared_epsilon_insensitive".
    multi_class : {"ovr", "multinomial"}, default="ovr"
        "ovr" trains one binary model per class (scikit-learn's SGD);
        "multinomial" (with loss="log_loss") trains softmax regression: one
        fused pass updates the whole n_classes × n_features matrix, and
        predict_proba is the softmax of the decision values.  Dense or CSR
        input (see Notes).  With two classes it fits the binary log-loss
        model, as "ovr" does (one weight vector; the penalty is on it, not
        on the two vectors of a two-class softmax, whose difference it
        would penalise half as strongly).
    n_jobs : int or None, default=None
        Threads that train the one-vs-rest problems of a multiclass fit
        side by side (None: gdcore's thread count, ``gdcore.set_num_threads``;
        -1: all cores).  The model does not depend on it: each problem is
        trained exactly as it would be alone.  Data of fewer than 65 536
        values (rows × features, or stored entries when sparse) is trained
        on the calling thread whatever n_jobs says: the epochs there are so
        short that the threads would mostly wait for each other's Python
        steps between them (iris: 7 ms a fit side by side, 2.7 ms in turn).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling (and the early-stopping split).
    learning_rate : {"auto", "constant", "optimal", "invscaling", "adaptive"}, default="auto"
        The step η of batch number t (t = 1, 2, ... counts *batches*, i.e.
        weight updates, continuing across ``partial_fit`` calls; with
        ``batch_size=1`` that is scikit-learn's sample count), given to the
        optimizer as its ``lr``.  scikit-learn's formulas:
        "constant": ``eta0``; "optimal": 1/(alpha (t0 + t − 1)) with
        scikit-learn's t0 heuristic; "invscaling": ``eta0 / t**power_t``;
        "adaptive": ``eta0``, divided by 5 each time ``n_iter_no_change``
        epochs in a row fail to improve by ``tol`` (training stops when that
        happens with η ≤ 1e-6).  gdcore's "auto": ``eta0 * s`` until
        ``n_iter_no_change`` epochs in a row fail to improve, then η is
        divided by 3 ** (1/s) after every epoch, and training stops after
        ``n_iter_no_change`` more epochs without improvement or once
        η < eta0/1000.  (In :class:`SGDRegressor` its plateau test is
        relative: an epoch improves when it lowers the best objective so
        far by more than ``tol * |best|``, so that a fit does not stop
        early because its objective is small -- a standardized target --
        and, with the steps scaling with the target's spread, the squared
        losses give the same fit whatever the target's units.  Classifiers,
        whose objective has no such unit, keep scikit-learn's test.)  In
        ``fit``
        with ``tol`` set and any optimizer but "sgd" (whose steps scale
        with the gradient), s = sqrt(1024 / updates per epoch) clipped to
        [1, 10]: Adam-like steps move each weight by about η, so epochs of
        few batches (small data) take larger steps, then anneal more
        slowly.  Otherwise s = 1: from 1024 updates per epoch on (the
        "auto" batch size beyond 131 072 rows), in ``partial_fit`` (a
        chunk is not an epoch) and with ``tol=None`` (no plateau test, so
        steps of ``eta0`` throughout).
    eta0 : float, default=0.01
        Initial / constant step (> 0): the optimizer's ``lr``.  0.01 suits
        "adam" (the default) and "sgd"; "adadelta" scales its own step by
        ``lr`` (torch's default 1.0: pass ``eta0=1.0``), and "lion" takes
        steps of ``lr`` in every coordinate (torch-style defaults use 1e-4).
    power_t : float, default=0.5
        Exponent of "invscaling".
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified) and stop when
        the validation accuracy stops improving by ``tol``.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    class_weight : dict, "balanced" or None, default=None
        Weights multiplying each row's sample weight; "balanced" uses
        n_samples / (n_classes · bincount(y)).  For one-vs-rest problem k the
        positive rows get class k's weight and the others 1 (as scikit-learn).
    warm_start : bool, default=False
        Start ``fit`` from the previous solution (the optimizer state and the
        step counter t are reset).  With ``average``, the previous solution
        is ``coef_`` -- the averaged weights -- and a fresh average starts,
        as in scikit-learn's SGDClassifier.
    average : bool or int, default=False
        Averaged SGD: ``coef_`` and ``intercept_`` are the running means of
        the weights after every update from update number ``average`` on
        (True: from the first).  Exact, but each batch is one compiled call
        (slower per epoch than the fused loop, noticeably so with
        ``batch_size=1`` on large data).
    optimizer : str, default="auto"
        Any gdcore optimizer by name: "sgd", "adam", "adamw", "rmsprop",
        "adagrad", "adadelta", "adamax", "nadam", "radam", "lion"; "auto" is
        "adam", except on sparse X when ``batch_size``, ``learning_rate``
        are "auto" too, ``schedule`` and ``optimizer_params`` are unset and
        ``multi_class="ovr"``: then scikit-learn's per-sample algorithm (see
        Notes).  A named optimizer is always used as named.
    optimizer_params : dict or None, default=None
        Keyword arguments of that optimizer class (e.g. ``{"betas": (0.9,
        0.99)}`` or ``{"momentum": 0.9}``), except ``lr`` and
        ``maximize=True``.  Its state (moments
        etc.) lives per one-vs-rest problem and carries over across
        ``partial_fit`` calls, as does the cumulative L1 penalty's.
    batch_size : int or "auto", default="auto"
        Rows per update; the gradient is the mean over the batch's rows of
        the weighted loss gradient, plus the L2 penalty's (the L1 penalty
        is applied after the step, see ``penalty``).  "auto":
        n_rows // 32 clipped to [8, 128] (n_rows of the training rows of each
        fit / partial_fit call), so small data sets still get at least 32
        updates per epoch; beyond 131 072 rows n_rows // 1024 (up to 1024),
        so large ones get about 1024 (cheaper per row, less noisy).
    schedule : callable or None, default=None
        A step → learning-rate callable (e.g. ``gdcore.schedules.cosine(0.01,
        T_max=1000)``); called with the int64 array of 0-based batch counts of
        an epoch (or with ints if it is not vectorised).  Overrides
        ``learning_rate``/``eta0``/``power_t``.
    progress : bool, default=False
        Show a progress bar over epochs (tqdm, when installed).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        In the dtype of the training data (float32 stays float32).
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Epochs run (maximum over the one-vs-rest problems).
    t_ : float
        1 + number of weight updates (batches) made since the last ``fit``:
        with ``batch_size=1``, scikit-learn's sample count, except with
        ``early_stopping``, where scikit-learn's counts the validation rows
        too (1 + n_iter_ × n_samples) and gdcore's the updates it made.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.
    loss_curve_ : list of float
        Training objective after each epoch -- the weighted losses summed
        over the rows and divided by their number, plus the penalty; each
        row's loss at the weights its batch saw (with ``average``: at the
        averaged weights after the epoch, the model the fit returns) -- the
        objective the ``tol`` test reads, so scikit-learn's own for its
        algorithm when ``tol`` is set; for one-vs-rest models the sum over
        the binary problems.

    Notes
    -----
    Sparse input: scipy.sparse CSR (CSC, COO and others are converted to CSR
    once). With ``optimizer="sgd", batch_size=1`` each sample costs
    O(nnz): scikit-learn's algorithm with the lazy, scaled L2 and the
    cumulative L1 penalty, and its intercept decay of 0.01 on sparse data.
    The mini-batch path computes margins and gradients in O(nnz of the batch);
    with ``optimizer="sgd"`` (no momentum) and an L2 penalty or none, a step
    also costs O(nnz of the batch) (the weights are kept as a scale times a
    vector, so the penalty's decay is one multiplication), while other
    optimizers, L1 and elastic-net penalties and ``average`` update all
    weights densely once per mini-batch.  When ``optimizer``, ``batch_size``
    and ``learning_rate`` are all "auto" (their defaults), a sparse fit uses
    scikit-learn's per-sample algorithm (``optimizer="sgd", batch_size=1,
    learning_rate="optimal"``): O(nnz) per sample, where Adam would update
    every weight once per batch.  A sparse and a dense fit of the same data
    with the same explicit settings give the same model (up to rounding;
    with ``batch_size=1`` scikit-learn's intercept decay of 0.01 on sparse
    data makes them differ, as in scikit-learn); with "auto" settings they
    are these two different algorithms.  ``multi_class="multinomial"``
    accepts CSR too (always the mini-batch loop, with the optimizer as
    given: "auto" is Adam): the logits and the gradient of a batch cost
    O(n_classes × nnz of the batch), and the optimizer updates all
    n_classes × n_features weights densely once per batch; a sparse and a
    dense fit give the same model up to rounding.

    Threads: mini-batches of more than 64 rows share their rows out to
    gdcore's threads.  Smaller batches, the lazy sparse step and
    ``batch_size=1`` run their steps on one thread; on more than 4 MiB of
    rows a second thread, where one is free, reads the rows ahead of them
    (by blocks with ``batch_size=1, shuffle="block"``, row by row
    otherwise).  Neither changes the model.

    Examples
    --------
    >>> import numpy as np
    >>> from gdcore.linear import SGDClassifier
    >>> X = np.array([[-1.0, -1.0], [-2.0, -1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> y = np.array([1, 1, 2, 2])
    >>> clf = SGDClassifier(random_state=0).fit(X, y)
    >>> clf.predict([[-0.8, -1.0]])
    array([1])
    """

    _parameter_constraints: dict = {
        **_base._base_constraints(CLASSIFIER_LOSSES),
        "n_jobs": [Interval(numbers.Integral, None, None, "neither"), NONE],
        "class_weight": [StrOptions(("balanced",)), DICT, NONE],
        "multi_class": [StrOptions(("ovr", "multinomial"))],
    }

    def __init__(
        self,
        loss: str = "hinge",
        *,
        penalty: Optional[str] = "l2",
        alpha: float = 0.0001,
        l1_ratio: Optional[float] = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: Optional[float] = 1e-3,
        shuffle: Any = DEFAULT_SHUFFLE,
        verbose: int = 0,
        epsilon: float = 0.1,
        n_jobs: Optional[int] = None,
        random_state: Any = None,
        learning_rate: str = DEFAULT_LEARNING_RATE,
        eta0: float = DEFAULT_ETA0,
        power_t: float = 0.5,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        class_weight: Any = None,
        warm_start: bool = False,
        average: Any = False,
        optimizer: str = DEFAULT_OPTIMIZER,
        optimizer_params: Optional[dict] = None,
        batch_size: Any = DEFAULT_BATCH_SIZE,
        schedule: Any = None,
        progress: bool = False,
        multi_class: str = "ovr",
    ) -> None:
        self.multi_class = multi_class
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.epsilon = epsilon
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.batch_size = batch_size
        self.schedule = schedule
        self.progress = progress

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, coef_init: Any = None, intercept_init: Any = None,
            sample_weight: Any = None) -> "SGDClassifier":
        """Fit the model by mini-batch gradient descent.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        coef_init : array-like of shape (n_classes, n_features), optional
            Initial weights ((n_features,) or (1, n_features) for two classes).
        intercept_init : array-like of shape (n_classes,), optional
        sample_weight : array-like of shape (n_samples,), optional
            Multiplied with ``class_weight``.

        Returns
        -------
        self
        """
        with transaction(self):
            _base.validate_common(self, for_partial_fit=False)
            X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], order="C", reset=True,
                                 defer_finite=not self.early_stopping)
            with finite_first(self, X):
                _check_targets(y)
                classes, counts, changes = label_stats(y)
                coef_init, intercept_init = _base.start_fit(
                    self, coef_init, intercept_init,
                    ("classes_", "_problems", "coef_", "intercept_", "loss_curve_"))
                self._fit_epochs(X, y, classes, sample_weight, coef_init, intercept_init,
                                 self.max_iter, label_counts=counts, label_changes=changes)
                _base.end_fit(self)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> "SGDClassifier":
        """One epoch over (X, y), continuing from the current model and
        optimizer state.  ``classes`` (all labels) is required on the first
        call.  A call that raises leaves the estimator exactly as it was."""
        with transaction(self):
            first = not hasattr(self, "classes_")
            _base.validate_common(self, for_partial_fit=True)
            if first and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' is not supported for partial_fit. In order to use "
                    "'balanced' weights, use compute_class_weight('balanced', classes=classes, y=y). "
                    "In place of y you can use a large enough sample of the full training set "
                    "target to properly estimate the class frequency distributions. Pass the "
                    "resulting weights as the class_weight parameter."
                )
            dtype = [np.float64, np.float32] if first else self._problems[0].coef.dtype
            X, y = validate_data(self, X, y, dtype=dtype, order="C", reset=first,
                                 defer_finite=not self.early_stopping)
            with finite_first(self, X):
                _check_targets(y)
                if first:
                    if classes is None:
                        raise ValueError("classes must be passed on the first call to partial_fit.")
                    classes = np.unique(np.asarray(classes))
                else:
                    if classes is not None and not np.array_equal(self.classes_,
                                                                  np.unique(np.asarray(classes))):
                        raise ValueError(
                            f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                            f"was: {self.classes_!r}"
                        )
                    classes = self.classes_
                if not hasattr(self, "t_"):
                    self.t_ = 1.0
                self._fit_epochs(X, y, classes, sample_weight, None, None, 1, stream=True)
        return self

    def _fit_epochs(self, X, y, classes, sample_weight, coef_init, intercept_init, max_iter,
                    label_counts: Optional[np.ndarray] = None, stream: bool = False,
                    label_changes: Optional[int] = None) -> None:
        """``label_counts``: how often each label of y occurs, when ``classes``
        came from y (fit); otherwise (partial_fit) the labels are counted here
        and must all be in ``classes``.  ``label_changes``: how many
        neighbouring labels differ, when known (see label_stats)."""
        n, d = X.shape
        dtype = X.dtype
        n_classes = classes.shape[0]
        if n_classes < 2:
            raise ValueError(
                f"The number of classes has to be greater than one; got {n_classes} class"
            )
        # (fit takes its classes from y; partial_fit's y may hold others)
        if label_counts is None:
            labels, label_counts, label_changes = label_stats(y)
            unseen = _not_in(labels, classes)
            if len(unseen):
                raise ValueError(
                    f"classes should include all valid labels that can be in y: y contains "
                    f"labels {unseen.tolist()} not in classes {classes.tolist()}"
                )
        unweighted = sample_weight is None and self.class_weight is None
        multinomial = self.multi_class == "multinomial" and n_classes > 2
        # (an unweighted binary or one-vs-rest fit needs no weight array)
        sw = (_check_sample_weight(sample_weight, X, dtype=dtype)
              if not unweighted or multinomial or self.early_stopping else None)
        # (classes holds every label of y here: fit takes them from y, and
        # partial_fit has just checked)
        cw = (np.ones(n_classes) if self.class_weight is None
              else compute_class_weight(self.class_weight, classes=classes, y=y))
        if self.multi_class == "multinomial" and self.loss != "log_loss":
            raise ValueError(
                f"multi_class='multinomial' needs loss='log_loss' (softmax cross-entropy), "
                f"got loss={self.loss!r}"
            )
        k = 1 if n_classes == 2 else n_classes
        problems = self._initial_problems(k, d, dtype, coef_init, intercept_init)
        # optimizer="auto" resolves on the data of the first call and keeps
        # that algorithm (and its state) for the later partial_fit calls
        if getattr(self, "_problems", None) is None or not hasattr(self, "_auto_sparse"):
            self._auto_sparse = _base.is_sparse(X)
        cfg = _Config(self, dtype, sparse=self._auto_sparse,
                      shuffle=_base.resolve_shuffle(self.shuffle, X, y, classifier=True,
                                                    label_counts=label_counts,
                                                    label_changes=label_changes),
                      stream=stream)
        if multinomial:
            return self._fit_multinomial(X, y, classes, sw, cw, problems, cfg, max_iter, k, d)
        if self.early_stopping:
            idx_train, idx_val = _base.make_validation(True, y, sw, self.validation_fraction, self.random_state)
        else:
            idx_train, idx_val = None, None
        seeds = _base.problem_seeds(self.random_state, k)
        progress = _Progress(bool(self.progress), k * max_iter, type(self).__name__)
        n_iter, updates, curves = 0, 0, []
        # the held-out rows, copied once for all one-vs-rest problems
        X_val = X[idx_val] if idx_val is not None else None

        def run(i):
            pos = classes[1] if k == 1 else classes[i]
            y_i = signed_targets(y, pos, dtype)  # ±1
            w_pos, w_neg = (cw[1], cw[0]) if k == 1 else (cw[i], 1.0)
            s = None
            if not unweighted:
                s = sw * np.where(y_i > 0, w_pos, w_neg).astype(dtype)
                s = None if np.all(s == 1) else np.ascontiguousarray(s, dtype=dtype)
            score_fn = None
            if idx_val is not None:
                Xv, yv, swv = X_val, y_i[idx_val], sw[idx_val].astype(np.float64)

                def score_fn(w, b, Xv=Xv, yv=yv, swv=swv):
                    m = _base.decision(Xv, w[None, :], b)[:, 0]
                    pred = np.where(m > 0, 1.0, -1.0)
                    return float(np.average(pred == yv, weights=swv))

            return _base.train_problem(
                cfg, X, y_i, s, problems[i], idx_train, score_fn, max_iter, int(seeds[i]),
                self.t_, progress,
            )

        workers = _n_workers(self.n_jobs, k) if not self.verbose else 1
        values = X.nnz if _base.is_sparse(X) else n * d
        if values < SIDE_BY_SIDE_MIN_VALUES:
            workers = 1
        try:
            if workers > 1:
                # One-vs-rest problems are independent: train them on
                # several threads (the compiled loops release the GIL).
                # Each problem's result does not depend on this.
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(max_workers=workers) as pool:
                    results = list(pool.map(run, range(k)))
            else:
                results = [run(i) for i in range(k)]
            for it, curve, upd in results:
                n_iter, updates = max(n_iter, it), max(updates, upd)
                curves.append(curve)
        finally:
            progress.close()
        self.classes_ = classes
        self._problems = problems
        self.t_ = float(self.t_ + updates)
        self.n_iter_ = int(n_iter)
        self.loss_curve_ = list(getattr(self, "loss_curve_", [])) + sum_curves(curves)
        self._set_coef(problems)

    def _initial_problems(self, k, d, dtype, coef_init, intercept_init):
        old = getattr(self, "_problems", None)
        if old is not None and coef_init is None:
            if len(old) == 1 and k > 1 and old[0].coef.shape == (k * d,):
                if self.multi_class != "multinomial":
                    raise ValueError(
                        f"multi_class={self.multi_class!r}, but the model was trained with "
                        f"multi_class='multinomial'; call fit to train a new model"
                    )
                problems = [old[0].astype(dtype)]  # a multinomial model
            elif len(old) == k and k > 1 and self.multi_class == "multinomial":
                raise ValueError(
                    "multi_class='multinomial', but the model was trained with "
                    "multi_class='ovr'; call fit to train a new model"
                )
            elif len(old) != k:  # pragma: no cover - classes are fixed after the first call
                raise ValueError("number of one-vs-rest problems changed")
            else:
                problems = [p.astype(dtype) for p in old]
            _base.adopt_edited_weights(self, problems, (k, d))
            return problems
        if coef_init is not None:
            coef_init = np.asarray(coef_init, dtype=dtype, order="C")
            if k > 1:
                if coef_init.shape != (k, d):
                    raise ValueError("Provided ``coef_`` does not match dataset. ")
            else:
                coef_init = coef_init.ravel()
                if coef_init.shape != (d,):
                    raise ValueError("Provided coef_init does not match dataset.")
                coef_init = coef_init[None, :]
        else:
            coef_init = np.zeros((k, d), dtype=dtype)
        if intercept_init is not None:
            intercept_init = np.asarray(intercept_init, dtype=dtype)
            if k > 1:
                if intercept_init.shape != (k,):
                    raise ValueError("Provided intercept_init does not match dataset.")
            elif intercept_init.shape not in ((1,), ()):
                raise ValueError("Provided intercept_init does not match dataset.")
            intercept_init = intercept_init.reshape(k)
        else:
            intercept_init = np.zeros(k, dtype=dtype)
        return [_Problem(coef_init[i], intercept_init[i : i + 1]) for i in range(k)]

    def _set_coef(self, problems) -> None:
        use_avg = _base.averaged_in_use(self)
        coefs = [p.avg_coef if use_avg else p.coef for p in problems]
        ints = [p.avg_intercept if use_avg else p.intercept for p in problems]
        if len(problems) == 1 and ints[0].shape[0] > 1:  # multinomial: (k*d,) and (k,)
            k = ints[0].shape[0]
            self.coef_ = np.ascontiguousarray(coefs[0].reshape(k, -1))
            self.intercept_ = np.ascontiguousarray(ints[0])
            return
        self.coef_ = np.ascontiguousarray(np.stack(coefs))
        self.intercept_ = np.ascontiguousarray(np.concatenate(ints))

    def _fit_multinomial(self, X, y, classes, sw, cw, problems, cfg, max_iter, k, d) -> None:
        """Softmax regression: one problem whose weights are the k × d matrix."""
        if len(problems) != 1:
            coef = np.ascontiguousarray(np.stack([p.coef for p in problems]).ravel())
            icpt = np.ascontiguousarray(np.concatenate([p.intercept for p in problems]))
            problems = [_base._Problem(coef, icpt)]
        dtype = X.dtype
        y_idx = np.searchsorted(classes, y)
        s = sw * np.asarray(cw, dtype=dtype)[y_idx]
        s = None if np.all(s == 1) else np.ascontiguousarray(s, dtype=dtype)
        y_f = np.ascontiguousarray(y_idx, dtype=dtype)
        cfg.multinomial_k = k
        if self.early_stopping:
            idx_train, idx_val = _base.make_validation(True, y, sw, self.validation_fraction,
                                                       self.random_state)
        else:
            idx_train, idx_val = None, None
        score_fn = None
        if idx_val is not None:
            Xv, yv, swv = X[idx_val], y_idx[idx_val], sw[idx_val].astype(np.float64)

            def score_fn(w, b):
                pred = _base.decision(Xv, w.reshape(k, d), b).argmax(axis=1)
                return float(np.average(pred == yv, weights=swv))

        progress = _Progress(bool(self.progress), max_iter, type(self).__name__)
        try:
            it, curve, upd = _base.train_problem(
                cfg, X, y_f, s, problems[0], idx_train, score_fn, max_iter,
                int(_base.problem_seeds(self.random_state, 1)[0]), self.t_, progress,
            )
        finally:
            progress.close()
        self.classes_ = classes
        self._problems = problems
        self.t_ = float(self.t_ + upd)
        self.n_iter_ = int(it)
        self.loss_curve_ = list(getattr(self, "loss_curve_", [])) + list(curve)
        self._set_coef(problems)

    # -------------------------------------------------------------- predict
    def decision_function(self, X: Any) -> np.ndarray:
        """Signed distances to the hyperplanes: (n_samples,) for two classes
        (positive means ``classes_[1]``), else (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C", reset=False)
        scores = _base.decision(X, _base.dense_coef(self.coef_, self._coef_ndim), self.intercept_)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """Class labels of the rows of X."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            idx = (scores > 0).astype(np.intp)
        else:
            idx = scores.argmax(axis=1)
        return self.classes_[idx]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``self.predict(X)`` against ``y`` (scikit-learn's
        ``ClassifierMixin.score``).  Integer or boolean labels in a 1-D
        array, unweighted, are compared directly: scikit-learn's target
        checks cost about 1 ms a call, which GridSearchCV pays on every
        fold of a small data set; anything else goes through them."""
        check_is_fitted(self)
        if (sample_weight is None and type(y) is np.ndarray and y.ndim == 1
                and y.dtype.kind in "biu" and self.classes_.dtype.kind in "biu"):
            pred = self.predict(X)
            if pred.shape == y.shape:
                return float(np.average(pred == y))
        return super().score(X, y, sample_weight=sample_weight)

    def _check_proba(self) -> bool:
        if self.loss not in ("log_loss", "modified_huber"):
            raise AttributeError(f"probability estimates are not available for loss={self.loss!r}")
        return True

    @available_if(_check_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (log_loss and modified_huber only), as
        scikit-learn: log_loss uses the logistic function, one-vs-rest
        probabilities normalised to sum to one; modified_huber uses
        (clip(decision, -1, 1) + 1) / 2, normalised likewise."""
        check_is_fitted(self)
        scores = self.decision_function(X)
        if self.loss == "log_loss":
            return np.exp(self._log_proba_log_loss(scores))
        binary = scores.ndim == 1
        prob = (np.clip(scores, -1, 1) + 1.0) / 2.0
        if binary:
            return np.stack([1 - prob, prob], axis=1)
        total = prob.sum(axis=1)
        zero = total == 0
        if np.any(zero):
            prob[zero, :] = 1
            total[zero] = prob.shape[1]
        return prob / total[:, None]

    def _log_proba_log_loss(self, scores: np.ndarray) -> np.ndarray:
        """log_loss's class log-probabilities from the decision values, in
        log space: log σ(s) = −log(1 + e^(−s)) for the binary case; the
        one-vs-rest σ(s_k) normalised to sum to one, and the multinomial
        softmax, through a log-sum-exp (no row underflows to 0/0 when every
        decision value is very negative)."""
        if scores.ndim == 1:
            return np.stack([-np.logaddexp(0.0, scores), -np.logaddexp(0.0, -scores)], axis=1)
        # (the kind of model fitted, whatever multi_class says now)
        softmax = len(self._problems) == 1
        z = scores if softmax else -np.logaddexp(0.0, -scores)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    @available_if(_check_proba)
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba` (for log_loss computed in log space,
        so that it is finite wherever the decision values are)."""
        if self.loss == "log_loss":
            check_is_fitted(self)
            return self._log_proba_log_loss(self.decision_function(X))
        return np.log(self.predict_proba(X))

    if HAVE_SKLEARN:

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.sparse = True
            return tags

