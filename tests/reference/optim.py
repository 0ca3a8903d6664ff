"""Plain-numpy oracles for gdcore.optim, written from torch.optim's documented
single-tensor algorithms (``torch/optim/<name>.py``, ``_single_tensor_<name>``)
and, for Lion, from Chen et al. 2023 (Algorithm 2).

Nothing here imports gdcore: these are the independent expected values.

Each oracle is a small class named like the optimizer it checks::

    ref = Adam([p0, p1], lr=1e-2, amsgrad=True)   # copies the parameters
    ref.step([g0, g1])                             # one step, torch's order
    ref.params, ref.state                          # arrays, torch's state names

Torch's tensor-op semantics are emulated in the parameter's dtype:

- every Python scalar that meets an array is first rounded to the array's
  dtype (``T(x)``, T = numpy.float32 or numpy.float64), as torch wraps the
  scalar into the tensor's dtype;
- scalar coefficient maths (bias corrections, step sizes, ``beta1 ** step``,
  ``bias_correction2 ** 0.5``, NAdam's mu) is Python float arithmetic written
  exactly as torch's Python code writes it;
- ``x.lerp_(y, w)`` is ``x + w*(y - x)`` when ``|w| < 0.5``, else
  ``y - (y - x)*(1 - w)`` (torch's two-branch lerp, ``1 - w`` in the dtype);
- ``addcmul_(t1, t2, value=v)`` is ``self + (v*t1)*t2``,
  ``addcdiv_(t1, t2, value=v)`` is ``self + v*(t1/t2)``,
  ``add_(t, alpha=a)`` is ``self + a*t``, ``mul_(b)`` is ``self*b``;
- ``torch.maximum`` propagates NaN (numpy.maximum does too);
- ``scalar / tensor`` is ``tensor.reciprocal() * scalar`` (torch's
  ``Tensor.__rtruediv__``);
- NAdam's ``mu_product`` lives in a float32 scalar tensor.

Every operation here is one correctly rounded IEEE operation (no fused
multiply-add), so an implementation that follows the same order bit for bit
gives bitwise-equal results.  torch's own CPU kernels use FMA in places, so
torch agrees with these oracles only to rounding.

``CONFORMANCE`` is the conformance table shared by the tests: one row
``(optimizer class name, kwargs)`` per configuration; a new optimizer is a
new oracle here plus new rows.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "Lion",
    "ORACLES",
    "CONFORMANCE",
    "row_id",
]


def lerp(a: np.ndarray, b: np.ndarray, w: Any) -> np.ndarray:
    """torch's ``a.lerp(b, w)`` with a scalar weight, in a's dtype."""
    T = a.dtype.type
    w = T(w)
    if abs(w) < T(0.5):
        return a + w * (b - a)
    return b - (b - a) * (T(1) - w)


class _Oracle:
    """Base: holds copies of the parameters, per-parameter state dicts and
    the hyperparameters (defaults overridden by the constructor's kwargs)."""

    defaults: Dict[str, Any] = {}

    def __init__(self, params: Sequence[np.ndarray], **hyper: Any) -> None:
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown hyperparameters {sorted(unknown)}")
        self.h = {**self.defaults, **hyper}
        self.params: List[np.ndarray] = [np.array(p, copy=True) for p in params]
        self.state: List[Dict[str, Any]] = [{} for _ in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        if len(grads) != len(self.params):
            raise ValueError("one gradient per parameter")
        for i, (p, g) in enumerate(zip(self.params, grads)):
            g = np.asarray(g)
            if g.dtype != p.dtype or g.shape != p.shape:
                raise ValueError("gradient must match its parameter's dtype and shape")
            self.params[i] = self._update(p, g, self.state[i], p.dtype.type)

    def _update(self, p: np.ndarray, g: np.ndarray, st: Dict[str, Any], T: type) -> np.ndarray:
        raise NotImplementedError


class SGD(_Oracle):
    """torch.optim.SGD (``_single_tensor_sgd``).  The momentum buffer is a
    copy of the (weight-decayed, sign-flipped) gradient on the first step."""

    defaults = dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                    nesterov=False, maximize=False)

    def _update(self, p, g, st, T):
        h = self.h
        grad = -g if h["maximize"] else g
        if h["weight_decay"] != 0:
            grad = grad + T(h["weight_decay"]) * p
        if h["momentum"] != 0:
            buf = st.get("momentum_buffer")
            if buf is None:
                buf = grad.copy()
            else:
                buf = buf * T(h["momentum"]) + T(1 - h["dampening"]) * grad
            st["momentum_buffer"] = buf
            if h["nesterov"]:
                grad = grad + T(h["momentum"]) * buf
            else:
                grad = buf
        return p + T(-h["lr"]) * grad


class Adam(_Oracle):
    """torch.optim.Adam (``_single_tensor_adam``, non-capturable branch)."""

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    amsgrad=False, maximize=False, decoupled_weight_decay=False)

    def _update(self, p, g, st, T):
        h = self.h
        lr, wd, eps = h["lr"], h["weight_decay"], h["eps"]
        beta1, beta2 = h["betas"]
        if not st:
            st["step"] = 0.0
            st["exp_avg"] = np.zeros_like(p)
            st["exp_avg_sq"] = np.zeros_like(p)
            if h["amsgrad"]:
                st["max_exp_avg_sq"] = np.zeros_like(p)
        grad = -g if h["maximize"] else g
        st["step"] += 1.0
        step = st["step"]
        if wd != 0:
            if h["decoupled_weight_decay"]:
                p = p * T(1 - lr * wd)
            else:
                grad = grad + T(wd) * p
        exp_avg = lerp(st["exp_avg"], grad, 1 - beta1)
        exp_avg_sq = st["exp_avg_sq"] * T(beta2) + (T(1 - beta2) * grad) * grad
        st["exp_avg"], st["exp_avg_sq"] = exp_avg, exp_avg_sq
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if h["amsgrad"]:
            st["max_exp_avg_sq"] = np.maximum(st["max_exp_avg_sq"], exp_avg_sq)
            denom = np.sqrt(st["max_exp_avg_sq"]) / T(bias_correction2_sqrt) + T(eps)
        else:
            denom = np.sqrt(exp_avg_sq) / T(bias_correction2_sqrt) + T(eps)
        return p + T(-step_size) * (exp_avg / denom)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay, default 1e-2."""

    defaults = dict(Adam.defaults, weight_decay=1e-2, decoupled_weight_decay=True)

    def __init__(self, params: Sequence[np.ndarray], **hyper: Any) -> None:
        if "decoupled_weight_decay" in hyper:
            raise TypeError("AdamW's weight decay is always decoupled")
        super().__init__(params, **hyper)


class RMSprop(_Oracle):
    """torch.optim.RMSprop (``_single_tensor_rmsprop``)."""

    defaults = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False, maximize=False)

    def _update(self, p, g, st, T):
        h = self.h
        alpha = h["alpha"]
        if not st:
            st["step"] = 0.0
            st["square_avg"] = np.zeros_like(p)
            if h["momentum"] > 0:
                st["momentum_buffer"] = np.zeros_like(p)
            if h["centered"]:
                st["grad_avg"] = np.zeros_like(p)
        grad = -g if h["maximize"] else g
        st["step"] += 1.0
        if h["weight_decay"] != 0:
            grad = grad + T(h["weight_decay"]) * p
        square_avg = st["square_avg"] * T(alpha) + (T(1 - alpha) * grad) * grad
        st["square_avg"] = square_avg
        if h["centered"]:
            grad_avg = lerp(st["grad_avg"], grad, 1 - alpha)
            st["grad_avg"] = grad_avg
            avg = np.sqrt(square_avg + (T(-1) * grad_avg) * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg = avg + T(h["eps"])
        if h["momentum"] > 0:
            buf = st["momentum_buffer"] * T(h["momentum"]) + T(1) * (grad / avg)
            st["momentum_buffer"] = buf
            return p + T(-h["lr"]) * buf
        return p + T(-h["lr"]) * (grad / avg)


class Adagrad(_Oracle):
    """torch.optim.Adagrad, dense gradients (``_single_tensor_adagrad``).
    The ``sum`` state starts at ``initial_accumulator_value`` (torch creates
    it, with ``step`` 0, when the optimizer is built)."""

    defaults = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10, maximize=False)

    def __init__(self, params: Sequence[np.ndarray], **hyper: Any) -> None:
        super().__init__(params, **hyper)
        for p, st in zip(self.params, self.state):
            st["step"] = 0.0
            st["sum"] = np.full_like(p, self.h["initial_accumulator_value"])

    def _update(self, p, g, st, T):
        h = self.h
        st["step"] += 1.0
        step = st["step"]
        grad = -g if h["maximize"] else g
        if h["weight_decay"] != 0:
            grad = grad + T(h["weight_decay"]) * p
        clr = h["lr"] / (1 + (step - 1) * h["lr_decay"])
        state_sum = st["sum"] + (T(1) * grad) * grad
        st["sum"] = state_sum
        std = np.sqrt(state_sum) + T(h["eps"])
        return p + T(-clr) * (grad / std)


class Adadelta(_Oracle):
    """torch.optim.Adadelta (``_single_tensor_adadelta``)."""

    defaults = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)

    def _update(self, p, g, st, T):
        h = self.h
        rho, eps = h["rho"], h["eps"]
        if not st:
            st["step"] = 0.0
            st["square_avg"] = np.zeros_like(p)
            st["acc_delta"] = np.zeros_like(p)
        st["step"] += 1.0
        grad = -g if h["maximize"] else g
        if h["weight_decay"] != 0:
            grad = grad + T(h["weight_decay"]) * p
        square_avg = st["square_avg"] * T(rho) + (T(1 - rho) * grad) * grad
        std = np.sqrt(square_avg + T(eps))
        delta = np.sqrt(st["acc_delta"] + T(eps))
        delta = (delta / std) * grad
        acc_delta = st["acc_delta"] * T(rho) + (T(1 - rho) * delta) * delta
        st["square_avg"], st["acc_delta"] = square_avg, acc_delta
        return p + T(-h["lr"]) * delta


class Adamax(_Oracle):
    """torch.optim.Adamax (``_single_tensor_adamax``, non-capturable)."""

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False)

    def _update(self, p, g, st, T):
        h = self.h
        beta1, beta2 = h["betas"]
        if not st:
            st["step"] = 0.0
            st["exp_avg"] = np.zeros_like(p)
            st["exp_inf"] = np.zeros_like(p)
        grad = -g if h["maximize"] else g
        st["step"] += 1.0
        if h["weight_decay"] != 0:
            grad = grad + T(h["weight_decay"]) * p
        exp_avg = lerp(st["exp_avg"], grad, 1 - beta1)
        exp_inf = np.maximum(st["exp_inf"] * T(beta2), np.abs(grad) + T(h["eps"]))
        st["exp_avg"], st["exp_inf"] = exp_avg, exp_inf
        bias_correction = 1 - beta1 ** st["step"]
        clr = h["lr"] / bias_correction
        return p + T(-clr) * (exp_avg / exp_inf)


class NAdam(_Oracle):
    """torch.optim.NAdam (``_single_tensor_nadam``, non-capturable).
    ``mu_product`` is a float32 scalar, as torch keeps it."""

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False)

    def _update(self, p, g, st, T):
        h = self.h
        lr, wd, md = h["lr"], h["weight_decay"], h["momentum_decay"]
        beta1, beta2 = h["betas"]
        if not st:
            st["step"] = 0.0
            st["mu_product"] = 1.0
            st["exp_avg"] = np.zeros_like(p)
            st["exp_avg_sq"] = np.zeros_like(p)
        grad = -g if h["maximize"] else g
        st["step"] += 1.0
        step = st["step"]
        bias_correction2 = 1 - beta2**step
        if wd != 0:
            if h["decoupled_weight_decay"]:
                p = p * T(1 - lr * wd)
            else:
                grad = grad + T(wd) * p
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * md)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * md)))
        mu_product = float(np.float32(st["mu_product"]) * np.float32(mu))
        st["mu_product"] = mu_product
        exp_avg = lerp(st["exp_avg"], grad, 1 - beta1)
        exp_avg_sq = st["exp_avg_sq"] * T(beta2) + (T(1 - beta2) * grad) * grad
        st["exp_avg"], st["exp_avg_sq"] = exp_avg, exp_avg_sq
        denom = np.sqrt(exp_avg_sq / T(bias_correction2))
        mu_product_next = mu_product * mu_next
        denom = denom + T(h["eps"])
        p = p + T(-lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denom)
        p = p + T((-lr * mu_next) / (1.0 - mu_product_next)) * (exp_avg / denom)
        return p


class RAdam(_Oracle):
    """torch.optim.RAdam (``_single_tensor_radam``, non-capturable)."""

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    decoupled_weight_decay=False, maximize=False)

    def _update(self, p, g, st, T):
        h = self.h
        lr, wd = h["lr"], h["weight_decay"]
        beta1, beta2 = h["betas"]
        if not st:
            st["step"] = 0.0
            st["exp_avg"] = np.zeros_like(p)
            st["exp_avg_sq"] = np.zeros_like(p)
        grad = -g if h["maximize"] else g
        st["step"] += 1.0
        step = st["step"]
        if wd != 0:
            if h["decoupled_weight_decay"]:
                p = p * T(1 - lr * wd)
            else:
                grad = grad + T(wd) * p
        exp_avg = lerp(st["exp_avg"], grad, 1 - beta1)
        exp_avg_sq = st["exp_avg_sq"] * T(beta2) + (T(1 - beta2) * grad) * grad
        st["exp_avg"], st["exp_avg_sq"] = exp_avg, exp_avg_sq
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        bias_corrected_exp_avg = exp_avg / T(bias_correction1)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            exp_avg_sq_sqrt = np.sqrt(exp_avg_sq) + T(h["eps"])
            # (bias_correction2 ** 0.5) / tensor == tensor.reciprocal() * scalar
            adaptive_lr = (T(1) / exp_avg_sq_sqrt) * T(bias_correction2**0.5)
            update = ((bias_corrected_exp_avg * T(lr)) * adaptive_lr) * T(rect)
        else:
            update = bias_corrected_exp_avg * T(lr)
        return p + T(-1.0) * update


class Lion(_Oracle):
    """Lion (Chen et al. 2023, "Symbolic Discovery of Optimization
    Algorithms", Algorithm 2), torch-style ops:
    ``c = lerp(m, g, 1-b1)``; ``p = p*(1 - lr*wd)`` (only when wd != 0)
    ``+ (-lr)*sign(c)``; ``m = lerp(m, g, 1-b2)``.  No ``step`` state."""

    defaults = dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False)

    def _update(self, p, g, st, T):
        h = self.h
        lr, wd = h["lr"], h["weight_decay"]
        beta1, beta2 = h["betas"]
        if not st:
            st["exp_avg"] = np.zeros_like(p)
        grad = -g if h["maximize"] else g
        m = st["exp_avg"]
        c = lerp(m, grad, 1 - beta1)
        if wd != 0:
            p = p * T(1 - lr * wd)
        p = p + T(-lr) * np.sign(c)
        st["exp_avg"] = lerp(m, grad, 1 - beta2)
        return p


ORACLES = {
    cls.__name__: cls
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, Lion)
}


# The conformance table: (optimizer class name, kwargs).  Each flag appears on
# and off; weight decay coupled and decoupled where supported; betas with
# beta1 >= 0.5 (lerp's small-weight branch, w = 1 - beta1 < 0.5) and beta1 < 0.5
# (the other branch).  A new optimizer is one new oracle above plus rows here.
CONFORMANCE: List[Tuple[str, Dict[str, Any]]] = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.3, nesterov=True, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.1, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=1e-2, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=1e-2, betas=(0.3, 0.9), eps=1e-6)),
    ("Adam", dict(lr=1e-2, betas=(0.0, 0.5), amsgrad=True, weight_decay=0.1,
                  decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=1e-2, betas=(0.3, 0.9), maximize=True)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.0)),
    ("RMSprop", dict()),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(alpha=0.3, centered=True, maximize=True, eps=1e-4)),
    ("RMSprop", dict(alpha=0.9, weight_decay=0.05, momentum=0.5, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, lr_decay=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adadelta", dict(lr=0.1, rho=0.0)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-2, weight_decay=0.1)),
    ("Adamax", dict(lr=1e-2, betas=(0.3, 0.9), maximize=True, eps=1e-3)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=1e-2, betas=(0.3, 0.9), momentum_decay=0.1, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=1e-2, betas=(0.9, 0.9))),
    ("RAdam", dict(lr=1e-2, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=1e-2, betas=(0.3, 0.9), weight_decay=0.1, decoupled_weight_decay=True,
                   maximize=True)),
    ("Lion", dict()),
    ("Lion", dict(lr=1e-3, weight_decay=0.1)),
    ("Lion", dict(lr=1e-3, betas=(0.3, 0.9), maximize=True)),
    ("Lion", dict(lr=1e-3, betas=(0.95, 0.3), weight_decay=0.5)),
]


def row_id(row: Tuple[str, Dict[str, Any]]) -> str:
    """A readable pytest id for a conformance row."""
    name, kw = row
    if not kw:
        return f"{name}()"
    args = ",".join(f"{k}={v}" for k, v in kw.items()).replace(" ", "")
    return f"{name}({args})"
