"""The optimizer base class: param groups, state and state_dict, torch-style.

Parameters are writeable, C-contiguous float32/float64 numpy arrays that are
updated in place.  A param group's update is one call into the compiled
kernels: the arrays and their state buffers are validated once, when the group
is first stepped, and each later step only checks the gradients.
"""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _core

__all__ = ["Optimizer"]

ParamsT = Union[np.ndarray, Iterable[np.ndarray], Iterable[Dict[str, Any]]]
LR = Union[float, Callable[[int], float]]

#: torch.optim's param-group switches that choose how torch runs an update
#: (not what it computes): load_state_dict accepts and drops them, so that a
#: torch optimizer's state_dict loads.
TORCH_EXECUTION_KEYS = ("foreach", "fused", "capturable", "differentiable")

#: The largest saved step count load_state_dict takes (whole numbers up to
#: it are exact in a float, and fit the compiled int64 counter).
MAX_STEP = 2**53


class _Record:
    """One parameter's state: its buffers and per-tensor scalars."""

    __slots__ = ("param", "buffers", "step", "scalar", "initialized")

    def __init__(self, param: np.ndarray) -> None:
        self.param = param
        self.buffers: Dict[str, np.ndarray] = {}
        self.step = 0
        self.scalar = 1.0
        self.initialized = False


def _check_param(p: Any, where: str) -> np.ndarray:
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{where} must be a numpy.ndarray, got {type(p).__name__}")
    if p.dtype.kind == "f" and p.dtype.itemsize in (4, 8) and not p.dtype.isnative:
        raise TypeError(f"{where} must be in native byte order, got dtype {p.dtype.str}")
    if p.dtype not in (np.float32, np.float64):
        raise TypeError(f"{where} must have dtype float32 or float64, got {p.dtype}")
    if not p.flags.writeable:
        raise ValueError(f"{where} is read-only; parameters are updated in place")
    if not (p.flags.c_contiguous and p.flags.aligned):
        raise ValueError(
            f"{where} must be C-contiguous (parameters are updated in place; "
            "use numpy.ascontiguousarray before creating the optimizer)"
        )
    return p


class Optimizer:
    """Base class of gdcore's optimizers (the torch.optim.Optimizer contract).

    Subclasses set ``_kind`` (the compiled kernel), and implement
    ``_hyper(group, lr)`` (the hyperparameter tuple the kernel takes),
    ``_slots(group)`` (state buffer names in kernel slot order, ``None`` for
    an unused slot) and optionally ``_init_buffer``.

    Attributes:
      param_groups: list of dicts, each with ``"params"`` (a list of arrays)
        and that group's hyperparameters.  Changing a hyperparameter here
        takes effect at the next :meth:`step`.
      defaults: the constructor's hyperparameters.
      state: per-parameter state, keyed by the parameter's index in the
        flattened ``param_groups`` order (the ``state_dict`` layout).
    """

    _kind: str = ""
    _scalar_state: Tuple[str, ...] = ("step",)

    def __init__(self, params: ParamsT, defaults: Dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: List[Dict[str, Any]] = []
        self._records: Dict[int, _Record] = {}
        self._plans: List[Optional[Tuple[Any, Tuple[Optional[str], ...], List[np.ndarray]]]] = []
        self._step_count = 0
        if isinstance(params, np.ndarray):
            params = [params]
        elif isinstance(params, dict):
            raise TypeError(
                "params must be an array, an iterable of arrays or an iterable of dicts, "
                "got a dict (wrap a single param group in a list)"
            )
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                "params must be an array, an iterable of arrays or an iterable of dicts, "
                f"got {type(params).__name__}"
            ) from None
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a param group (a dict with ``"params"`` and any hyperparameters
        that differ from the defaults).  Unknown keys are a ValueError."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param group has no 'params' key")
        unknown = sorted(set(param_group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(
                f"unknown keys in param group: {unknown}; known: {sorted(self.defaults)}"
            )
        params = param_group["params"]
        if isinstance(params, np.ndarray):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("params must be an ordered collection (list or tuple), not a set")
        else:
            try:
                params = list(params)
            except TypeError:
                raise TypeError(
                    f"'params' must be an array or a list of arrays, got {type(params).__name__}"
                ) from None
        base = sum(len(g["params"]) for g in self.param_groups)
        for i, p in enumerate(params):
            _check_param(p, f"parameter {base + i}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids) or seen.intersection(ids):
            raise ValueError("some parameters appear more than once (in one or several groups)")
        group = dict(param_group)
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)
        self._plans.append(None)

    def _check_group(self, group: Dict[str, Any]) -> None:
        """Validate a group's hyperparameters (ValueError/TypeError naming them)."""
        lr = group["lr"]
        if callable(lr):
            value = lr(self._step_count)
        else:
            value = lr
        _core.validate_hyper(self._kind, self._hyper(group, _as_lr(value)))

    # --------------------------------------------------------------- subclass
    def _hyper(self, group: Dict[str, Any], lr: float) -> tuple:  # pragma: no cover
        raise NotImplementedError

    def _slots(self, group: Dict[str, Any]) -> Tuple[Optional[str], ...]:  # pragma: no cover
        raise NotImplementedError

    def _init_buffer(self, name: str, param: np.ndarray, group: Dict[str, Any]) -> np.ndarray:
        return np.zeros_like(param)

    def _visible(self, rec: _Record) -> bool:
        """Whether a parameter has state to show (torch creates it lazily)."""
        return rec.step > 0

    # ------------------------------------------------------------------ plans
    def _sync(self) -> None:
        """Pull per-tensor counters from the compiled groups into records."""
        for gi, entry in enumerate(self._plans):
            if entry is None:
                continue
            plan, _, params = entry
            for p, step, scalar, init in zip(
                params, plan.steps(), plan.scalars(), plan.initialized()
            ):
                rec = self._records.get(id(p))
                if rec is not None and rec.param is p:
                    rec.step, rec.scalar, rec.initialized = step, scalar, bool(init)

    def _build(self, gi: int, slots: Tuple[Optional[str], ...]) -> Any:
        self._sync()
        group = self.param_groups[gi]
        params = group["params"]
        if not isinstance(params, list):
            params = group["params"] = list(params)
        base = sum(len(g["params"]) for g in self.param_groups[:gi])
        for i, p in enumerate(params):
            _check_param(p, f"parameter {base + i}")
        states, steps, scalars, inited = [], [], [], []
        for p in params:
            rec = self._records.get(id(p))
            if rec is None or rec.param is not p:
                rec = self._records[id(p)] = _Record(p)
            row = []
            for name in slots:
                if name is None:
                    row.append(None)
                    continue
                buf = rec.buffers.get(name)
                if buf is None:
                    buf = rec.buffers[name] = self._init_buffer(name, p, group)
                    if name == "momentum_buffer":
                        rec.initialized = False
                row.append(buf)
            states.append(row)
            steps.append(rec.step)
            scalars.append(rec.scalar)
            inited.append(int(rec.initialized))
        plan = _core.ParamGroup(self._kind, params, states, steps, scalars, inited, base)
        # Keep the list the plan was built from: _sync pairs counters with it
        # even after the user edits group["params"].
        self._plans[gi] = (plan, slots, list(params))
        return plan

    def _plan(self, gi: int, group: Dict[str, Any]) -> Any:
        slots = self._slots(group)
        entry = self._plans[gi]
        if entry is None or entry[1] != slots:
            return self._build(gi, slots)
        return entry[0]

    # ------------------------------------------------------------------- step
    def step(self, grads: Union[np.ndarray, Sequence[Optional[np.ndarray]]]) -> None:
        """Update every parameter in place from its gradient.

        ``grads`` lists one gradient per parameter, in the flattened
        ``param_groups`` order, each an array of the parameter's shape and
        dtype (or ``None`` to skip that parameter, as torch skips a parameter
        whose ``.grad`` is None).  A single array is accepted when the
        optimizer has one parameter.  Everything is checked before anything
        is written: a call that raises leaves parameters and state unchanged.
        """
        if type(grads) is not list and type(grads) is not tuple:
            grads = _grads_list(grads)
        groups = self.param_groups
        t = self._step_count
        if len(groups) == 1:
            group = groups[0]
            lr = group["lr"]
            if type(lr) is not float:
                lr = _as_lr(lr(t) if callable(lr) else lr)
            hyper = self._hyper(group, lr)
            entry = self._plans[0]
            if entry is None or entry[1] != self._slots(group):
                plan = self._build(0, self._slots(group))
            else:
                plan = entry[0]
            if not plan.step(group["params"], grads, hyper):
                plan = self._build(0, self._slots(group))
                plan.step(group["params"], grads, hyper)
        else:
            total = sum(len(g["params"]) for g in groups)
            if len(grads) != total:
                raise ValueError(
                    f"expected {total} gradients (one per parameter), got {len(grads)}"
                )
            work = []
            start = 0
            for gi, group in enumerate(groups):
                n = len(group["params"])
                lr = group["lr"]
                hyper = self._hyper(group, _as_lr(lr(t) if callable(lr) else lr))
                plan = self._plan(gi, group)
                if not plan.matches(group["params"]):
                    plan = self._build(gi, self._slots(group))
                part = list(grads[start : start + n])
                plan.check(group["params"], part, hyper, start)
                start += n
                work.append((gi, group, plan, part, hyper))
            start = 0
            for _, group, plan, part, hyper in work:
                plan.step(group["params"], part, hyper, start)
                start += len(part)
        self._step_count = t + 1

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Present for torch compatibility; gradients are passed to step()."""

    # ------------------------------------------------------------------ state
    def _flat_params(self) -> List[np.ndarray]:
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def state(self) -> Dict[int, Dict[str, Any]]:
        """Per-parameter state keyed by flattened parameter index.  The arrays
        are the live buffers (updated in place by later steps)."""
        self._sync()
        out: Dict[int, Dict[str, Any]] = {}
        for i, p in enumerate(self._flat_params()):
            rec = self._records.get(id(p))
            if rec is None or rec.param is not p or not self._visible(rec):
                continue
            out[i] = self._state_entry(rec, copy_arrays=False)
        return out

    def _state_entry(self, rec: _Record, copy_arrays: bool) -> Dict[str, Any]:
        entry: Dict[str, Any] = {}
        if "step" in self._scalar_state:
            entry["step"] = float(rec.step)
        if "mu_product" in self._scalar_state:
            entry["mu_product"] = float(rec.scalar)
        for name, buf in rec.buffers.items():
            entry[name] = buf.copy() if copy_arrays else buf
        return entry

    def state_dict(self) -> Dict[str, Any]:
        """torch's layout: ``{"state": {index: {...}}, "param_groups": [...]}``
        with each group's ``"params"`` a list of indices, plus ``"step_count"``
        (the number of step() calls, which drives schedules).  Arrays are
        copies, so the dict is a snapshot that later steps do not change."""
        self._sync()
        state: Dict[int, Dict[str, Any]] = {}
        groups = []
        index = 0
        for g in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                rec = self._records.get(id(p))
                if rec is not None and rec.param is p and self._visible(rec):
                    state[index] = self._state_entry(rec, copy_arrays=True)
                ids.append(index)
                index += 1
            packed["params"] = ids
            groups.append(packed)
        return {"state": state, "param_groups": groups, "step_count": self._step_count}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (torch's layout).  Everything is
        checked first — group count and sizes, state names, shapes and dtypes —
        and a mismatch is a ValueError that leaves the optimizer unchanged.
        Resuming gives results bitwise identical to an uninterrupted run."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError("state_dict must be a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        saved_state = state_dict.get("state", {})
        if not isinstance(saved_state, dict):
            raise ValueError(
                f"state_dict['state'] must be a dict of parameter index -> state, got "
                f"{type(saved_state).__name__}"
            )
        if not isinstance(saved_groups, (list, tuple)):
            raise ValueError(
                f"state_dict['param_groups'] must be a list, got {type(saved_groups).__name__}"
            )
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"optimizer has {len(self.param_groups)}"
            )
        index_to_param: Dict[int, Tuple[np.ndarray, Dict[str, Any]]] = {}
        new_groups = []
        for gi, (g, sg) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(sg, dict) or "params" not in sg:
                raise ValueError(f"saved parameter group {gi} is not a dict with 'params'")
            if len(sg["params"]) != len(g["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group {gi} of "
                    f"{len(sg['params'])} parameters; the optimizer's group has {len(g['params'])}"
                )
            unknown = sorted(set(sg) - set(self.defaults) - {"params"} - set(TORCH_EXECUTION_KEYS))
            if unknown:
                raise ValueError(f"unknown keys in saved parameter group {gi}: {unknown}")
            # (torch's execution switches -- foreach, fused, capturable,
            # differentiable -- choose how torch runs the same update; they
            # are taken as read and dropped)
            ng = {k: copy.deepcopy(v) for k, v in sg.items()
                  if k != "params" and (k in self.defaults or k not in TORCH_EXECUTION_KEYS)}
            ng["params"] = g["params"]
            for k, v in self.defaults.items():
                ng.setdefault(k, v)
            self._check_group(ng)
            new_groups.append(ng)
            for idx, p in zip(sg["params"], g["params"]):
                index_to_param[int(idx)] = (p, ng)
        known = self._buffer_names()
        new_records: Dict[int, _Record] = {}
        for key, entry in saved_state.items():
            try:
                idx = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"state key {key!r} is not a parameter index") from None
            if idx not in index_to_param:
                raise ValueError(f"state for parameter {idx}, which no group holds")
            p, _ = index_to_param[idx]
            if not isinstance(entry, dict):
                raise ValueError(f"state of parameter {idx} must be a dict")
            rec = _Record(p)
            for name, value in entry.items():
                if name == "step":
                    try:
                        step = float(np.asarray(value))
                    except (TypeError, ValueError):
                        step = math.nan
                    # (a whole number the compiled step counter holds exactly)
                    if not (0 <= step <= MAX_STEP and step == int(step)):
                        raise ValueError(
                            f"state step of parameter {idx} must be a whole number in "
                            f"[0, 2**53], got {value!r}"
                        )
                    rec.step = int(step)
                elif name == "mu_product" and "mu_product" in self._scalar_state:
                    try:
                        mu = float(np.asarray(value))
                    except (TypeError, ValueError):
                        mu = math.nan
                    if not math.isfinite(mu):
                        raise ValueError(
                            f"state mu_product of parameter {idx} must be a finite number, "
                            f"got {value!r}"
                        )
                    rec.scalar = mu
                elif name in known:
                    if value is None:
                        continue
                    arr = np.asarray(value)
                    if arr.shape != p.shape:
                        raise ValueError(
                            f"state '{name}' of parameter {idx} has shape {arr.shape}, "
                            f"the parameter has shape {p.shape}"
                        )
                    if arr.dtype != p.dtype:
                        raise ValueError(
                            f"state '{name}' of parameter {idx} has dtype {arr.dtype}, "
                            f"the parameter has dtype {p.dtype}"
                        )
                    rec.buffers[name] = np.array(arr, dtype=p.dtype, order="C", copy=True)
                    rec.initialized = True
                else:
                    raise ValueError(
                        f"unknown state '{name}' for parameter {idx}; "
                        f"{type(self).__name__} keeps {sorted(known | set(self._scalar_state))}"
                    )
            new_records[id(p)] = rec
        step_count = state_dict.get("step_count", self._step_count)
        if isinstance(step_count, bool) or not isinstance(step_count, numbers.Integral) or step_count < 0:
            raise ValueError(f"step_count must be an int >= 0, got {step_count!r}")
        # Everything checked: commit.
        for g, ng in zip(self.param_groups, new_groups):
            g.clear()
            g.update(ng)
        self._records = new_records
        self._plans = [None] * len(self.param_groups)
        self._step_count = int(step_count)

    def _buffer_names(self) -> set:
        """Every state buffer name this optimizer can keep."""
        return set(self._all_buffers)

    _all_buffers: Tuple[str, ...] = ()

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self) -> Dict[str, Any]:
        self._sync()
        d = dict(self.__dict__)
        d["_plans"] = [None] * len(self._plans)
        return d

    def __setstate__(self, d: Dict[str, Any]) -> None:
        self.__dict__.update(d)
        # ids change on unpickling; pickle keeps identity, so re-key by the arrays.
        self._records = {id(rec.param): rec for rec in d["_records"].values()}


def _grads_list(grads: Any) -> list:
    if isinstance(grads, np.ndarray):
        return [grads]
    if isinstance(grads, (list, tuple)):
        return list(grads)
    if grads is None or isinstance(grads, (str, bytes, dict)) or not hasattr(grads, "__iter__"):
        raise TypeError(
            f"grads must be a list of arrays (one per parameter), got {type(grads).__name__}"
        )
    return list(grads)


def _as_lr(lr: Any) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (numbers.Real, np.floating, np.integer)):
        raise TypeError(
            f"lr must be a real number or a schedule (a callable of the step), got {type(lr).__name__}"
        )
    return float(lr)


def _betas(group: Dict[str, Any]) -> Tuple[float, float]:
    b = group["betas"]
    try:
        b1, b2 = b
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {b!r}") from None
    return b1, b2
