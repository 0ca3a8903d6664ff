# cython: language_level=3, boundscheck=False, wraparound=False
# Calls gdcore's C++ kernels from Cython, without the GIL, on numpy arrays.
# Build it against the installed gdcore (needs Cython, setuptools and a C++17
# compiler), then use it from Python:
#
#     cd examples/cython && python setup.py build_ext --inplace
#     python -c "import numpy as np, adam_example as ex; print(ex.adam_quadratic(np.ones(5), 100, 0.1))"
#
# The module links its own copy of gdcore: use() picks its instruction set
# and thread count (gdcore.set_isa in Python does not reach it).

import numpy as np

from gdcore.cgdcore cimport (
    AdamOptions, DenseData, Loss, LossKind, ParamSlot, adam_step, decision_function,
    get_num_threads, has_openmp, isa_active, loss_value, set_isa, set_num_threads, version,
)

ctypedef fused real:
    float
    double


def use(str isa="auto", int threads=1):
    """Run this module's kernels on ISA path `isa` with `threads` threads;
    ValueError (std::invalid_argument from C++) for a path or a count that
    gdcore refuses."""
    set_isa(isa.encode())
    set_num_threads(threads)


def runtime():
    """Version, active ISA path, threads and OpenMP of this module's gdcore."""
    return {"version": version().decode(), "isa_active": isa_active().decode(),
            "num_threads": get_num_threads(), "openmp": has_openmp()}


def adam_quadratic(real[::1] x, Py_ssize_t steps, double lr=1e-3, double beta1=0.9,
                   double beta2=0.999, double eps=1e-8):
    """Minimise f(x) = ½ Σ (i + 1)·x_i² with Adam: `steps` times, compute
    the gradient g_i = (i + 1)·x_i and update x in place with gdcore's fused
    Adam -- the whole loop without the GIL.  Returns (exp_avg, exp_avg_sq,
    step), Adam's state afterwards.  A bad option raises ValueError before
    x is written."""
    cdef Py_ssize_t n = x.shape[0], i, t
    dtype = np.float32 if real is float else np.float64
    grad, exp_avg, exp_avg_sq = np.zeros(n, dtype), np.zeros(n, dtype), np.zeros(n, dtype)
    cdef real[::1] g = grad, m = exp_avg, v = exp_avg_sq

    cdef AdamOptions options       # torch.optim.Adam's defaults, then ours
    options.lr = lr
    options.beta1 = beta1
    options.beta2 = beta2
    options.eps = eps
    cdef ParamSlot[real] slot      # one tensor; Adam uses state[0] and [1]
    slot.size = n
    if n > 0:
        slot.param = &x[0]
        slot.grad = &g[0]
        slot.state[0] = &m[0]
        slot.state[1] = &v[0]

    with nogil:
        for t in range(steps):
            for i in range(n):
                g[i] = (i + 1) * x[i]
            adam_step(options, &slot, 1)    # C++ exception -> Python exception
    return exp_avg, exp_avg_sq, slot.step


def log_loss(const real[:, ::1] X, const real[::1] y, const real[::1] w, real b):
    """The decision values p = X·w + b (gdcore's fixed-order dot products)
    and each row's log loss log(1 + exp(−y·p)), y in {−1, +1}, both
    computed without the GIL.  Returns (p, loss)."""
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1]
    if y.shape[0] != n or w.shape[0] != d:
        raise ValueError(f"X is {n} x {d}, y has {y.shape[0]} entries, w {w.shape[0]}")
    if n == 0 or d == 0:
        raise ValueError("X must have rows and columns")
    dtype = np.float32 if real is float else np.float64
    p, loss = np.empty(n, dtype), np.empty(n, dtype)
    cdef real[::1] p_view = p, loss_view = loss

    cdef DenseData[real] data
    data.X = &X[0, 0]
    data.y = &y[0]
    data.n = n
    data.d = d
    cdef Loss kind
    kind.kind = LossKind.log_loss
    with nogil:
        decision_function(data, &w[0], b, &p_view[0])
        loss_value(kind, &y[0], &p_view[0], &loss_view[0], n)
    return p, loss
