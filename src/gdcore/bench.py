"""Optimizer benchmark: gdcore against numpy, torch and the memory roofline.

Every number in the table is a ratio or a rate measured side by side in one
run (the candidates are interleaved in every repeat) and reduced to a median,
because machines are shared and noisy.  The roofline is the in-place
streaming bandwidth ``a[i] += s * b[i]`` over arrays far larger than the last
cache, measured in the same run with gdcore's own threads.

Run it with ``gdcore bench`` (``--quick`` for small sizes) or
``python bench/bench_optim.py``.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

from . import _core, build_info, get_num_threads
from .optim import SGD, Adam

__all__ = ["run_optim_bench", "stream_bandwidth"]

# Arrays from this size on are far larger than the last-level cache: their
# rows measure the streaming roofline side by side.
STREAM_MIN = 10_000_000


def _median_times(fns: Dict[str, Callable[[], None]], repeats: int, inner: int) -> Dict[str, float]:
    """Median seconds per call of each function, interleaved per repeat."""
    for f in fns.values():  # warm-up: page faults, thread pools, caches
        for _ in range(max(1, inner // 4)):
            f()
    samples: Dict[str, List[float]] = {k: [] for k in fns}
    names = list(fns)
    for r in range(repeats):
        # Rotate the order every repeat so that no candidate always runs
        # right after the same neighbour (caches, page faults, clock boosts).
        for k in names[r % len(names) :] + names[: r % len(names)]:
            f = fns[k]
            t0 = time.perf_counter()
            for _ in range(inner):
                f()
            samples[k].append((time.perf_counter() - t0) / inner)
    return {k: float(np.median(v)) for k, v in samples.items()}


def stream_bandwidth(n: int = 50_000_000, repeats: int = 7) -> float:
    """In-place streaming bandwidth in GB/s: a += s*b counts 3 × 4 bytes per
    float32 element (read a, read b, write a)."""
    a = np.ones(n, dtype=np.float32)
    b = np.ones(n, dtype=np.float32)
    t = _median_times({"axpy": lambda: _core.axpy_(a, b, 1e-9)}, repeats, 1)["axpy"]
    return 3 * 4 * n / t / 1e9


def _numpy_adam(p, g, m, v, tmp, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, t=1):
    """Adam in numpy as a careful user writes it: in place, one scratch array."""
    m *= b1
    np.multiply(g, 1 - b1, out=tmp)
    m += tmp
    v *= b2
    np.multiply(g, g, out=tmp)
    tmp *= 1 - b2
    v += tmp
    np.sqrt(v, out=tmp)
    tmp /= np.sqrt(1 - b2**t)
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= lr / (1 - b1**t)
    p -= tmp


def _numpy_sgd(p, g, buf, tmp, lr=1e-3, mu=0.9):
    """SGD with momentum in numpy, in place."""
    buf *= mu
    buf += g
    np.multiply(buf, lr, out=tmp)
    p -= tmp


def _try_torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - optional
        return None
    torch.set_num_threads(get_num_threads())
    return torch


def _rows_large(sizes: Sequence[int], repeats: int, torch) -> List[Tuple]:
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        p = rng.standard_normal(n, dtype=np.float32)
        g = rng.standard_normal(n, dtype=np.float32) * np.float32(1e-3)
        inner = max(1, int(2e6 // n))
        for name, bytes_per in (("sgd-momentum", 5 * 4), ("adam", 7 * 4)):
            fns: Dict[str, Callable[[], None]] = {}
            pg = p.copy()
            if name == "adam":
                opt = Adam([pg], lr=1e-3)
                mn, vn, pn = np.zeros(n, np.float32), np.zeros(n, np.float32), p.copy()
                tmp = np.empty(n, np.float32)
                fns["numpy"] = lambda pn=pn, mn=mn, vn=vn, tmp=tmp: _numpy_adam(pn, g, mn, vn, tmp)
            else:
                opt = SGD([pg], lr=1e-3, momentum=0.9)
                bn, pn, tmp = np.zeros(n, np.float32), p.copy(), np.empty(n, np.float32)
                fns["numpy"] = lambda pn=pn, bn=bn, tmp=tmp: _numpy_sgd(pn, g, bn, tmp)
            fns["gdcore"] = lambda opt=opt: opt.step([g])
            if n >= STREAM_MIN:
                # The roofline, measured side by side with the candidates.
                sa, sb = np.ones(n, np.float32), np.ones(n, np.float32)
                fns["stream"] = lambda sa=sa, sb=sb: _core.axpy_(sa, sb, 1e-9)
            if torch is not None:
                tp = torch.tensor(p.copy(), requires_grad=True)
                tp.grad = torch.from_numpy(g)
                if name == "adam":
                    topt = torch.optim.Adam([tp], lr=1e-3, fused=True)
                else:
                    topt = torch.optim.SGD([tp], lr=1e-3, momentum=0.9)
                fns["torch"] = topt.step
            t = _median_times(fns, repeats if n < STREAM_MIN else max(repeats, 11), inner)
            gbs = bytes_per * n / t["gdcore"] / 1e9
            if "stream" in t:
                t["stream_gbs"] = 3 * 4 * n / t.pop("stream") / 1e9
            rows.append((name, n, gbs, t))
            del fns
    return rows


def _rows_small(shapes: Sequence[Tuple[int, int]], repeats: int, torch) -> List[Tuple]:
    rng = np.random.default_rng(1)
    rows = []
    for k, n in shapes:
        ps = [rng.standard_normal(n, dtype=np.float32) for _ in range(k)]
        gs = [rng.standard_normal(n, dtype=np.float32) * np.float32(1e-3) for _ in range(k)]
        opt = Adam([p.copy() for p in ps], lr=1e-3)
        fns: Dict[str, Callable[[], None]] = {"gdcore": lambda: opt.step(gs)}
        if torch is not None:
            tps = [torch.tensor(p.copy(), requires_grad=True) for p in ps]
            for tp, g in zip(tps, gs):
                tp.grad = torch.from_numpy(g)
            fused = torch.optim.Adam(tps, lr=1e-3, fused=True)
            fns["torch fused"] = fused.step
            tps2 = [torch.tensor(p.copy(), requires_grad=True) for p in ps]
            for tp, g in zip(tps2, gs):
                tp.grad = torch.from_numpy(g)
            fns["torch foreach"] = torch.optim.Adam(tps2, lr=1e-3, foreach=True).step
            # gdcore's Adam as a torch.optim.Optimizer on the same tensors
            from . import torch as gdcore_torch

            tps3 = [torch.tensor(p.copy(), requires_grad=True) for p in ps]
            for tp, g in zip(tps3, gs):
                tp.grad = torch.from_numpy(g)
            fns["gdcore.torch"] = gdcore_torch.Adam(tps3, lr=1e-3).step
        inner = max(1, int(4e5 // (k * n)))
        t = _median_times(fns, repeats, inner)
        rows.append((k, n, 7 * 4 * k * n / t["gdcore"] / 1e9, t))
    return rows


def run_optim_bench(quick: bool = False, out: Optional[TextIO] = None) -> Dict[str, object]:
    """Run the benchmark and print its tables; returns the raw numbers."""
    out = out or sys.stdout
    torch = _try_torch()
    info = build_info()
    repeats = 5 if quick else 9
    sizes = [1_000, 100_000, 1_000_000, 10_000_000] if quick else [1_000, 10_000, 100_000, 1_000_000, 10_000_000, 50_000_000]
    shapes = [(1, 20_000), (20, 1000)] if quick else [(1, 20_000), (20, 1000), (200, 10_000)]
    large = _rows_large(sizes, repeats, torch)
    measured = [t["stream_gbs"] for _, _, _, t in large if "stream_gbs" in t]
    stream = float(np.median(measured)) if measured else stream_bandwidth(20_000_000, repeats)
    print(
        f"gdcore {info['version']} | ISA {info['isa_active']} | threads {info['num_threads']} | "
        f"torch {torch.__version__ if torch is not None else 'not installed'} | "
        f"in-place stream roofline {stream:.1f} GB/s (a += s*b, {len(measured) or 1} side-by-side "
        f"measurements, median of {repeats} each)",
        file=out,
    )
    print("", file=out)
    print("Update of one float32 array (median time ratios; >1 means gdcore is faster).", file=out)
    print("Rows from 1e7 elements on compare with the roofline measured in the same repeats;", file=out)
    print("smaller arrays live in cache and can exceed it.", file=out)
    print("| update | elements | gdcore GB/s | % of roofline | vs numpy | vs torch |", file=out)
    print("|---|---:|---:|---:|---:|---:|", file=out)
    for name, n, gbs, t in large:
        vs_torch = f"{t['torch'] / t['gdcore']:.2f}x" if "torch" in t else "n/a"
        roof = t.get("stream_gbs", stream)
        print(
            f"| {name} | {n:.0e} | {gbs:.1f} | {100 * gbs / roof:.0f}% | "
            f"{t['numpy'] / t['gdcore']:.2f}x | {vs_torch} |",
            file=out,
        )
    small = _rows_small(shapes, repeats, torch)
    print("", file=out)
    print("Adam step of a small model: many float32 arrays in one param group", file=out)
    print("(gdcore: gdcore.optim on numpy arrays; gdcore.torch: the same update as a", file=out)
    print("torch.optim.Optimizer on tensors, reading each parameter's .grad)", file=out)
    print("| arrays x elements | gdcore us/step | gdcore.torch us/step | torch fused us/step "
          "| torch foreach us/step | fused / gdcore | fused / gdcore.torch |", file=out)
    print("|---|---:|---:|---:|---:|---:|---:|", file=out)
    for k, n, gbs, t in small:
        f = t.get("torch fused")
        fe = t.get("torch foreach")
        gt = t.get("gdcore.torch")
        print(
            f"| {k} x {n} | {1e6 * t['gdcore']:.1f} | {1e6 * gt:.1f} | "
            f"{1e6 * f:.1f} | {1e6 * fe:.1f} | {f / t['gdcore']:.1f}x | {f / gt:.1f}x |"
            if f is not None
            else f"| {k} x {n} | {1e6 * t['gdcore']:.1f} | n/a | n/a | n/a | n/a | n/a |",
            file=out,
        )
    out.flush()
    return {"stream_gbs": stream, "large": large, "small": small, "info": info}


if __name__ == "__main__":  # pragma: no cover
    run_optim_bench(quick="--quick" in sys.argv)
