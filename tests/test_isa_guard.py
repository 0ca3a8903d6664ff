"""Guard against the classic trap of per-ISA builds: code compiled for AVX2 or
AVX-512 (for example an inline helper that the linker merged across ISA
translation units) reachable from the baseline path.

The scalar path runs under ``qemu-x86_64 -cpu Nehalem`` — a CPU without AVX,
on which any AVX instruction is an illegal-instruction crash — and its
results must equal, bit for bit, those of the scalar path run natively.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

QEMU = shutil.which("qemu-x86_64")

WORKLOAD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import gdcore as gd

    out = sys.argv[1]
    results = {"isa": np.array(gd.build_info()["isa_active"])}
    configs = [
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
        ("AdamW", dict(lr=1e-2, betas=(0.3, 0.9))),
        ("RMSprop", dict(lr=1e-2, centered=True, momentum=0.5)),
        ("Adagrad", dict(lr=1e-2, lr_decay=0.01)),
        ("Adadelta", dict(weight_decay=0.1)),
        ("Adamax", dict(lr=1e-2)),
        ("NAdam", dict(lr=1e-2, decoupled_weight_decay=True, weight_decay=0.1)),
        ("RAdam", dict(lr=1e-2, weight_decay=0.1)),
        ("Lion", dict(lr=1e-3, weight_decay=0.1)),
    ]
    sizes = [1, 7, 33, 1000, 70001]
    for name, kw in configs:
        for dtype in (np.float32, np.float64):
            rng = np.random.default_rng(7)
            ps = [rng.standard_normal(n).astype(dtype) for n in sizes]
            opt = getattr(gd.optim, name)(ps, **kw)
            for _ in range(3):
                opt.step([rng.standard_normal(n).astype(dtype) for n in sizes])
            for i, p in enumerate(ps):
                results[f"{name}-{dtype.__name__}-{i}"] = p
    rng = np.random.default_rng(8)
    gs = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    for ord_ in (1.0, 2.0, float("inf")):
        results[f"norm-{ord_}"] = np.array(gd.optim.total_norm(gs, ord_))
    gd.optim.clip_grad_norm_(gs, 1.0)
    gd.optim.clip_grad_value_(gs, 0.001)
    for i, g in enumerate(gs):
        results[f"clip-{i}"] = g
    # the fused linear-model epoch (dot products, axpy, loss definitions)
    from gdcore import _core
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((300, 37)).astype(dtype)
        y = np.where(rng.standard_normal(300) > 0, 1, -1).astype(dtype)
        w, b = np.zeros(37, dtype), np.zeros(1, dtype)
        st = [np.zeros(37, dtype), np.zeros(37, dtype)]
        sb = [np.zeros(1, dtype), np.zeros(1, dtype)]
        _core.minibatch_epoch(X, y, None, np.arange(300, dtype=np.int64), 4, 0.0, 3, 1e-3, 0.5,
                              True, 32, "adam", (0.01, 0.9, 0.999, 1e-8, 0.0, False, False, False),
                              np.full(10, 0.01), w, b, st, sb, np.zeros(4, np.int64), np.ones(2))
        results[f"linear-{dtype.__name__}"] = np.concatenate([w, b])
        results[f"decision-{dtype.__name__}"] = _core.decision_function(X, w, float(b[0]))
        # CSR rows: every third entry of X kept
        keep = (np.arange(X.size).reshape(X.shape) % 3) == 0
        indptr = np.concatenate([[0], np.cumsum(keep.sum(1))]).astype(np.int64)
        results[f"decision-csr-{dtype.__name__}"] = _core.decision_function_csr(
            X[keep], np.nonzero(keep)[1].astype(np.int64), indptr, 37, w, float(b[0]))
    np.savez(out, **results)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 only")
@pytest.mark.skipif(QEMU is None, reason="qemu-x86_64 (Debian's qemu-user) is not installed")
def test_scalar_path_runs_without_avx(tmp_path):
    script = tmp_path / "workload.py"
    script.write_text(WORKLOAD)
    env = dict(os.environ)
    env.pop("GDCORE_ISA", None)
    env["OMP_NUM_THREADS"] = "2"

    native = tmp_path / "native.npz"
    subprocess.run(
        [sys.executable, str(script), str(native)],
        env={**env, "GDCORE_ISA": "scalar"},
        check=True,
        timeout=300,
    )
    emulated = tmp_path / "emulated.npz"
    proc = subprocess.run(
        [QEMU, "-cpu", "Nehalem", sys.executable, str(script), str(emulated)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"scalar path failed on a CPU without AVX (exit {proc.returncode}; "
        f"-4 or 132 means an AVX instruction was reached):\n{proc.stderr[-2000:]}"
    )
    a, b = np.load(native), np.load(emulated)
    assert str(a["isa"]) == "scalar"
    assert str(b["isa"]) == "scalar", "dispatch must pick the scalar path on a CPU without AVX"
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
