"""gdcore's optimizers as ``torch.optim.Optimizer`` subclasses (the ``torch`` extra).

A drop-in for ``torch.optim`` in a PyTorch training loop on the CPU::

    import gdcore.torch
    opt = gdcore.torch.Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

Each class takes the torch optimizer's arguments and keeps its param groups,
``zero_grad``, step hooks and learning-rate schedulers
(``torch.optim.lr_scheduler``) as torch does; ``step`` runs the update of
:mod:`gdcore.optim` — the same algorithm and defaults, fused C++ kernels, one
call per param group — directly on the parameters' and gradients' memory (no
copies).  ``state_dict()`` is torch's layout with tensors (``step`` a 0-d
tensor, as torch keeps it), so a state dict moves between ``gdcore.torch``
and ``torch.optim`` in both directions and a run resumes where it stopped.

Parameters must be CPU tensors of dtype float32 or float64, dense and not
sparse (a TypeError or ValueError naming the parameter otherwise): contiguous,
or contiguous in another order of their dimensions — ``channels_last``
convolution weights, a transposed matrix.  Such a parameter is updated in
its own memory order, its state is laid out as the parameter is (as
torch's ``zeros_like`` keeps it), and a gradient in another layout is
copied into the parameter's for the step.
torch's execution switches ``foreach`` and ``fused`` are accepted and have
no effect (gdcore always runs its fused kernels); ``capturable=True`` and
``differentiable=True`` are not supported.  Replacing a parameter's storage
(``p.data = ...``, ``model.to(...)``) after the optimizer is made is a
RuntimeError at the next step: make the optimizer after moving the model.

``opt.state[p]`` gives each parameter's state as tensors that share memory
with the optimizer's buffers (read them; load a state with
``load_state_dict``).  torch's state-dict hooks
(``register_state_dict_pre_hook`` and the like) are not called; the step
hooks are.  Lion (``gdcore.optim.Lion``, which torch does not
have) is here too.

Example:
  >>> import torch, gdcore.torch
  >>> w = torch.tensor([1.0, -1.0], requires_grad=True)
  >>> opt = gdcore.torch.Adam([w], lr=0.1)
  >>> (w ** 2).sum().backward()
  >>> opt.step()
  >>> w.detach()
  tensor([ 0.9000, -0.9000])
  >>> float(opt.state_dict()["state"][0]["step"])
  1.0
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from . import optim as _optim
from .optim._optimizer import TORCH_EXECUTION_KEYS

#: the optimizers, each gdcore.optim's class of the same name
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
              "RAdam", "Lion")

__all__ = ["Optimizer", *OPTIMIZERS]

_DTYPES = (torch.float32, torch.float64)


def _scalar_dtype() -> torch.dtype:
    # torch keeps a state's 'step' (and NAdam's 'mu_product') as a 0-d tensor
    # of this dtype
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _check_tensor(p: Any, where: str) -> Optional[Tuple[int, ...]]:
    """A parameter's checks; its memory order (see _memory_order)."""
    if not isinstance(p, torch.Tensor):
        raise TypeError(f"{where} must be a torch.Tensor, got {type(p).__name__}")
    if p.layout != torch.strided:
        raise TypeError(f"{where} must be a dense tensor, got layout {p.layout}")
    if p.device.type != "cpu":
        raise ValueError(f"{where} is on {p.device}; gdcore.torch updates CPU tensors")
    if p.dtype not in _DTYPES:
        raise TypeError(f"{where} must have dtype float32 or float64, got {p.dtype}")
    return _memory_order(p, where)


def _memory_order(p: torch.Tensor, where: str) -> Optional[Tuple[int, ...]]:
    """None for a contiguous tensor; for one that is contiguous in another
    order of its dimensions (channels_last, a transpose), that order (its
    dimensions from the largest stride to the smallest); a ValueError for
    any other layout (gaps or overlaps: the update runs on dense memory)."""
    if p.is_contiguous():
        return None
    strides = p.stride()
    order = tuple(sorted(range(p.dim()), key=lambda k: (-strides[k], k)))
    if not p.permute(order).is_contiguous():
        raise ValueError(
            f"{where} must be dense (updated in place): contiguous, or contiguous in another "
            f"order of its dimensions such as channels_last; got shape {tuple(p.shape)}, "
            f"strides {strides}")
    return order


def _in_order(t: torch.Tensor, order: Optional[Tuple[int, ...]]) -> torch.Tensor:
    """t with its dimensions in a parameter's memory order (a view)."""
    return t if order is None else t.permute(order)


def _in_shape(t: torch.Tensor, order: Optional[Tuple[int, ...]]) -> torch.Tensor:
    """A tensor in a parameter's memory order back in the parameter's shape
    (a view: the parameter's strides)."""
    if order is None or t.dim() != len(order):
        return t
    inverse = [0] * len(order)
    for k, dim in enumerate(order):
        inverse[dim] = k
    return t.permute(inverse)


def _hyper(key: str, value: Any) -> Any:
    """A hyperparameter as gdcore takes it: torch allows a tensor lr."""
    if key == "lr" and isinstance(value, torch.Tensor):
        return float(value)
    return value


def _view(t: torch.Tensor) -> np.ndarray:
    """The tensor's memory as a numpy array (shared, not copied)."""
    return t.detach().numpy()


class Optimizer(torch.optim.Optimizer):
    """Base class: a ``torch.optim.Optimizer`` whose ``step`` is the
    :mod:`gdcore.optim` optimizer ``_gd`` on the parameters' memory.

    Subclasses set ``_gd``; the constructor takes that class's arguments
    (torch's), plus torch's ``foreach`` and ``fused`` (no effect)."""

    _gd: type = _optim.Optimizer

    def __init__(self, params: Any, *args: Any, foreach: Optional[bool] = None,
                 fused: Optional[bool] = None, capturable: bool = False,
                 differentiable: bool = False, **kwargs: Any) -> None:
        if capturable or differentiable:
            raise ValueError("gdcore.torch supports neither capturable=True nor differentiable=True")
        self._inner: Optional[_optim.Optimizer] = None
        # each parameter's address and memory order (None: contiguous), kept
        # by add_param_group (which torch's constructor calls for each group)
        self._ptrs: List[int] = []
        self._orders: List[Optional[Tuple[int, ...]]] = []
        if args:
            args = (_hyper("lr", args[0]),) + tuple(args[1:])
        kwargs = {k: _hyper(k, v) for k, v in kwargs.items()}
        # the arguments checked, and the defaults, by gdcore's own class
        probe = self._gd([np.zeros(1)], *args, **kwargs)
        super().__init__(params, dict(probe.defaults))
        groups, start = [], 0
        for g in self.param_groups:
            end = start + len(g["params"])
            groups.append(self._inner_group(g, self._orders[start:end]))
            start = end
        self._inner = self._gd(groups, *args, **kwargs)

    def _inner_group(self, group: Dict[str, Any],
                     orders: List[Optional[Tuple[int, ...]]]) -> Dict[str, Any]:
        """gdcore's group of a torch group (its parameters' memory orders
        given): each parameter's memory as an array in its memory order
        (C-contiguous)."""
        g = {k: _hyper(k, group[k]) for k in self.defaults}
        g["params"] = [_view(_in_order(p, order)) for p, order in zip(group["params"], orders)]
        return g

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a param group (torch's rules; its tensors checked as above, a
        refused group not kept)."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        base = len(self._orders)  # (the parameters of the groups before)
        try:
            orders = [_check_tensor(p, f"parameter {base + i}")
                      for i, p in enumerate(group["params"])]
            if self._inner is not None:
                self._inner.add_param_group(self._inner_group(group, orders))
        except Exception:
            self.param_groups.pop()
            raise
        self._ptrs.extend(p.data_ptr() for p in group["params"])
        self._orders.extend(orders)

    def _sync_groups(self) -> None:
        """torch's param groups (where schedulers and users set lr and the
        other hyperparameters) into gdcore's."""
        for tg, ig in zip(self.param_groups, self._inner.param_groups):
            for k in self.defaults:
                ig[k] = _hyper(k, tg[k])

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """One update of every parameter that has a gradient (``p.grad``
        None: skipped, as torch skips it).  ``closure`` re-evaluates the
        model and returns the loss, which step returns."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._sync_groups()
        grads: List[Optional[np.ndarray]] = []
        ptrs, orders = self._ptrs, self._orders
        i = 0
        for g in self.param_groups:
            for p in g["params"]:
                if p.data_ptr() != ptrs[i]:
                    raise RuntimeError(
                        f"parameter {i} no longer uses the memory it had when the optimizer was "
                        "made (its .data was replaced, or the model moved); make the optimizer "
                        "again after moving the model")
                grad = p.grad
                if grad is None:
                    grads.append(None)
                else:
                    try:
                        # (shares the gradient's memory; copied below unless
                        # laid out as the parameter is)
                        order = orders[i]
                        view = (grad if order is None else grad.permute(order)).numpy()
                    except (TypeError, RuntimeError):
                        view = self._grad_view(grad, i, orders[i])
                    grads.append(view if view.flags.c_contiguous else np.ascontiguousarray(view))
                i += 1
        self._inner.step(grads)
        return loss

    @staticmethod
    def _grad_view(grad: torch.Tensor, i: int, order: Optional[Tuple[int, ...]]) -> np.ndarray:
        """A gradient numpy cannot take as it is: a clear error, or (one that
        requires grad itself) its detached view."""
        if grad.layout != torch.strided:
            raise TypeError(f"gradient {i} is sparse; gdcore.torch takes dense gradients")
        if not grad.is_cpu:
            raise ValueError(f"gradient {i} is on {grad.device}, not the CPU")
        return _view(_in_order(grad, order))

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> Dict[torch.Tensor, Dict[str, torch.Tensor]]:  # type: ignore[override]
        """Each stepped parameter's state: buffers as tensors sharing the
        optimizer's memory, ``step`` (and NAdam's ``mu_product``) as 0-d
        tensors."""
        if self._inner is None:
            return defaultdict(dict)
        params = [p for g in self.param_groups for p in g["params"]]
        # (a defaultdict, as torch's: a parameter without state gives {})
        out: Dict[torch.Tensor, Dict[str, torch.Tensor]] = defaultdict(dict)
        for idx, entry in self._inner.state.items():
            out[params[idx]] = {k: _in_shape(self._to_tensor(v, share=True), self._orders[idx])
                                for k, v in entry.items()}
        return out

    @state.setter
    def state(self, value: Any) -> None:
        # (torch's constructor assigns an empty state; the state lives in the
        # gdcore optimizer)
        pass

    @staticmethod
    def _to_tensor(v: Any, share: bool = False) -> torch.Tensor:
        if isinstance(v, np.ndarray):
            return torch.from_numpy(v if share else v.copy())
        return torch.tensor(float(v), dtype=_scalar_dtype())

    def state_dict(self) -> Dict[str, Any]:
        """torch's layout: ``{"state": {index: {name: tensor}}, "param_groups":
        [...]}`` (copies), the groups with every key torch's groups hold (a
        scheduler's ``initial_lr`` too)."""
        sd = self._inner.state_dict()
        state = {idx: {k: _in_shape(self._to_tensor(v), self._orders[idx])
                       for k, v in entry.items()}
                 for idx, entry in sd["state"].items()}
        groups = []
        for tg, ig in zip(self.param_groups, sd["param_groups"]):
            g = {k: v for k, v in tg.items() if k != "params"}
            g["params"] = list(ig["params"])
            groups.append(g)
        out = {"state": state, "param_groups": groups}
        if "step_count" in sd:
            out["step_count"] = sd["step_count"]
        return out

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Load a state dict of this class or of the torch optimizer of the
        same name (checked whole first: a failing call changes nothing)."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError("state_dict must be a dict with 'state' and 'param_groups'")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(groups)} parameter groups, the optimizer has "
                f"{len(self.param_groups)}")

        def plain(v: Any, order: Optional[Tuple[int, ...]] = None) -> Any:
            if isinstance(v, torch.Tensor):
                v = v.detach().cpu()
                if v.dim() == 0:
                    return float(v)
                if order is not None and v.dim() == len(order):
                    # (in the parameter's memory order, as gdcore keeps it)
                    return np.ascontiguousarray(v.permute(order).numpy())
                return v.numpy()
            return v

        def order_of(k: Any) -> Optional[Tuple[int, ...]]:
            ok = isinstance(k, int) and 0 <= k < len(self._orders)
            return self._orders[k] if ok else None

        inner_sd: Dict[str, Any] = {
            "state": {k: {n: plain(v, order_of(k)) for n, v in entry.items()}
                      for k, entry in state_dict.get("state", {}).items()},
            "param_groups": [{k: plain(v) for k, v in g.items()
                              if k == "params" or k in self.defaults
                              or k in TORCH_EXECUTION_KEYS}
                             for g in groups],
        }
        if "step_count" in state_dict:
            inner_sd["step_count"] = state_dict["step_count"]
        self._inner.load_state_dict(inner_sd)
        for tg, sg in zip(self.param_groups, groups):
            for k, v in sg.items():
                if k != "params" and k not in TORCH_EXECUTION_KEYS:
                    tg[k] = plain(v) if k in self.defaults else v

    def __getstate__(self) -> Dict[str, Any]:
        raise TypeError(f"{type(self).__name__} cannot be pickled; save its state_dict()")


def _make(name: str) -> type:
    gd_cls = getattr(_optim, name)
    doc = (f"``torch.optim``-compatible {name}: :class:`gdcore.optim.{name}`'s update on "
           f"torch tensors.\n\nArguments as for :class:`gdcore.optim.{name}` "
           f"(torch's names and defaults); see :mod:`gdcore.torch`.\n")
    return type(name, (Optimizer,), {"_gd": gd_cls, "__doc__": doc, "__module__": __name__})


SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, Lion = (
    _make(name) for name in OPTIMIZERS)
