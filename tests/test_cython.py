"""The Cython API: gdcore/cgdcore.pxd ships in the package and declares what
the installed headers declare; a Cython consumer (examples/cython), built
against the installed package with gdcore.get_extension_kwargs(), runs
gdcore's kernels from nogil loops and matches the plain-numpy oracles of
tests/reference, and C++'s std::invalid_argument arrives as ValueError."""

from __future__ import annotations

import collections
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from helpers import ISAS, THREADS
from numpy.testing import assert_allclose, assert_array_equal
from reference import linear as ref_linear
from reference.optim import Adam as AdamOracle

import gdcore as gd

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cython"
DECLARATIONS = Path(__file__).resolve().parent / "cython" / "declarations.pyx"
PXD = Path(gd.__file__).parent / "cgdcore.pxd"
HEADERS = Path(gd.get_include()) / "gdcore"


# ------------------------------------------------ the .pxd against the headers
def _names(declaration: str) -> set:
    """The names a C++ or Cython declaration declares: ``double a = 1, b``
    gives {a, b}; ``T* state[3] = {...}`` gives {state}."""
    declaration = re.sub(r"\{[^}]*\}", "", declaration)
    declaration = re.sub(r"=[^,]*", "", declaration)
    declaration = re.sub(r"\[\d+\]", "", declaration)
    return {re.findall(r"\w+", part)[-1] for part in declaration.split(",") if part.strip()}


def _header_api() -> dict:
    """What the installed headers declare in namespace gd: functions (with
    their number of overloads), types, constants, enumerators, struct fields.
    The headers put every declaration of namespace scope at column 0."""
    functions: collections.Counter = collections.Counter()
    types, constants, enumerators, fields = set(), set(), set(), {}
    declaration = re.compile(r"^(?![#/\s}]|template\b|struct\b|enum\b|using\b|namespace\b"
                             r"|inline\b|GDCORE_)[^(]*?\b(\w+)\(", re.M)
    for header in sorted(HEADERS.glob("*.hpp")):
        text = header.read_text(encoding="utf-8")
        functions.update(declaration.findall(text))
        for name in re.findall(r"^GDCORE_DECLARE_STEP\((\w+), \w+\)", text, re.M):
            functions.update([f"{name}_step", f"{name}_step", "validate"])
        types.update(re.findall(r"^(?:struct|enum class|using) (\w+)", text, re.M))
        constants.update(re.findall(r"^inline constexpr [\w:]+ (\w+) =", text, re.M))
        for body in re.findall(r"^enum class \w+ : int \{(.*?)\};", text, re.M | re.S):
            enumerators.update(re.findall(r"(\w+) = \d+", re.sub(r"//[^\n]*", "", body)))
        for name, body in re.findall(r"^struct (\w+) \{(.*?)^\};", text, re.M | re.S):
            body = re.sub(r"//[^\n]*", "", body)
            fields[name] = set().union(*(_names(d) for d in body.split(";") if d.strip()))
    return dict(functions=functions, types=types, constants=constants,
                enumerators=enumerators, fields=fields)


def _pxd_api() -> dict:
    """The same, read from cgdcore.pxd (4 spaces: declarations of an extern
    block; 8: members of a class or an enum)."""
    text = PXD.read_text(encoding="utf-8")
    functions = collections.Counter(re.findall(
        r"^    (?![#\s]|cdef\b|enum\b|const \w+ \w+$)[^(]*?\b(\w+)\(", text, re.M))
    types = set(re.findall(r"^    (?:cdef cppclass|enum class) (\w+)", text, re.M))
    constants = set(re.findall(r"^    const \w+ (\w+)$", text, re.M))
    enumerators, fields = set(), {}
    for body in re.findall(r"^    enum class \w+\(int\):\n((?:        [^\n]*\n)*)", text, re.M):
        enumerators.update(line.split()[0] for line in body.splitlines())
    for name, body in re.findall(r"^    cdef cppclass (\w+)[^\n]*:\n((?:        [^\n]*\n|\n)*)",
                                 text, re.M):
        decls = [line.split("#")[0] for line in body.splitlines()
                 if "(" not in line and line.split("#")[0].strip()]
        fields[name] = set().union(set(), *(_names(d) for d in decls))
    return dict(functions=functions, types=types, constants=constants,
                enumerators=enumerators, fields=fields)


def test_pxd_is_installed_and_declares_every_header():
    assert PXD.is_file(), "cgdcore.pxd is not in the installed package"
    text = PXD.read_text(encoding="utf-8")
    for header in sorted(HEADERS.glob("*.hpp")):
        if header.name != "gdcore.hpp":  # (the umbrella header declares nothing)
            assert f'cdef extern from "gdcore/{header.name}" namespace "gd" nogil:' in text


def test_pxd_declares_what_the_headers_declare():
    # every function with all its overloads, every type, constant and
    # enumerator, every field of every struct: a header that gains a
    # declaration fails here until the .pxd has it too
    want, got = _header_api(), _pxd_api()
    assert sum(want["functions"].values()) > 60  # (the parsing found the API)
    assert got["functions"] == want["functions"]
    assert want["types"] <= got["types"], want["types"] - got["types"]
    assert got["constants"] == want["constants"]
    assert got["enumerators"] == want["enumerators"]
    assert {name: got["fields"].get(name) for name in want["fields"]} == want["fields"]


def test_pxd_marks_the_functions_that_throw():
    # a function that validates its arguments throws std::invalid_argument:
    # without `except +` a bad call would terminate the process
    text = PXD.read_text(encoding="utf-8")
    for name in ("adam_step", "validate", "set_isa", "set_num_threads", "total_norm",
                 "loss_value", "minibatch_epoch", "decision_function", "block_order"):
        declarations = re.findall(rf"^    [^#\n]*\b{name}\((?:[^)]*)\)[^\n]*", text, re.M)
        assert declarations, name
        assert all(d.endswith("except +") for d in declarations), (name, declarations)


# ------------------------------------------------------- building with Cython
def _cannot_build() -> str:
    """Why a Cython extension cannot be built here ("" if it can)."""
    for module in ("Cython", "setuptools"):
        if importlib.util.find_spec(module) is None:
            return f"{module} not installed"
    if not Path(sysconfig.get_paths()["include"], "Python.h").is_file():
        return "Python's C headers not installed"
    if os.name != "nt":
        cxx = (sysconfig.get_config_var("CXX") or "c++").split()[0]
        if shutil.which(cxx) is None:
            return f"no C++ compiler ({cxx})"
    return ""


def _load(path: Path):
    """Import the extension module at ``path``."""
    name = path.name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """examples/cython built as its header says (python setup.py build_ext
    --inplace) in a copy of its directory, and imported."""
    if not EXAMPLE.exists():
        pytest.skip("examples/ not present (installed-wheel test run)")
    reason = _cannot_build()
    if reason:
        pytest.skip(reason)
    where = tmp_path_factory.mktemp("cython") / "example"
    shutil.copytree(EXAMPLE, where)
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=where,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = [p for p in where.iterdir() if p.name.startswith("adam_example.")
             and p.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))]
    assert len(built) == 1, sorted(p.name for p in where.iterdir())
    module = _load(built[0])
    yield module
    module.use("auto", gd.get_num_threads())


@pytest.mark.slow
@pytest.mark.parametrize("n_threads", THREADS)
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_from_a_nogil_loop_matches_the_oracle_bitwise(example, dtype, isa, n_threads):
    example.use(isa, n_threads)
    info = example.runtime()
    assert info["isa_active"] == isa
    assert info["num_threads"] == (n_threads if info["openmp"] else 1)
    rng = np.random.default_rng(7)
    steps, hyper = 20, dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)  # not Adam's defaults
    for n in (0, 1, 17, 1000, 70_001):
        start = rng.standard_normal(n).astype(dtype)
        x = start.copy()
        exp_avg, exp_avg_sq, step = example.adam_quadratic(x, steps, **hyper)
        oracle = AdamOracle([start], lr=hyper["lr"], betas=(hyper["beta1"], hyper["beta2"]),
                            eps=hyper["eps"])
        k = np.arange(1, n + 1).astype(dtype)
        for _ in range(steps):
            oracle.step([k * oracle.params[0]])
        assert step == steps
        assert_array_equal(x, oracle.params[0], strict=True, err_msg=f"x, n={n}")
        assert_array_equal(exp_avg, oracle.state[0]["exp_avg"], strict=True)
        assert_array_equal(exp_avg_sq, oracle.state[0]["exp_avg_sq"], strict=True)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_decision_function_and_loss_match_the_oracles(example, dtype):
    rng = np.random.default_rng(11)
    n, d, b = 37, 19, dtype(0.25)
    X = rng.standard_normal((n, d)).astype(dtype)
    w = rng.standard_normal(d).astype(dtype)
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0).astype(dtype)
    p, loss = example.log_loss(X, y, w, b)
    # the fixed-order dot product of the row kernels, bit for bit
    want_p = np.array([ref_linear.fixed_dot(X[i], w) + b for i in range(n)], dtype=dtype)
    assert_array_equal(p, want_p, strict=True)
    value, _ = ref_linear.loss("log_loss")
    want_loss = value(y.astype(np.float64), want_p.astype(np.float64))
    assert loss.dtype == dtype
    assert_allclose(loss, want_loss, rtol=1e-12 if dtype == np.float64 else 1e-6, atol=0)


@pytest.mark.slow
def test_cpp_exceptions_arrive_as_value_error(example):
    example.use("auto", 1)
    x = np.linspace(-1.0, 1.0, 9)
    before = x.copy()
    # gd::adam_step validates before it writes, then throws std::invalid_argument
    with pytest.raises(ValueError, match=r"^lr must be a finite number >= 0, got -1$"):
        example.adam_quadratic(x, 3, lr=-1.0)
    with pytest.raises(ValueError, match=r"^beta1 \(betas\[0\]\) must be in \[0, 1\), got 1$"):
        example.adam_quadratic(x, 3, beta1=1.0)
    assert_array_equal(x, before, strict=True)
    with pytest.raises(ValueError, match=r"^num_threads must be in \[1, 4096\], got 0$"):
        example.use("auto", 0)
    with pytest.raises(ValueError, match=r"^ISA 'sse9' is unknown; choose 'auto' or one of"):
        example.use("sse9")
    assert example.runtime()["num_threads"] == 1


@pytest.mark.slow
def test_the_consumer_has_its_own_copy_of_the_runtime(example):
    info = example.runtime()
    assert info["version"] == gd.__version__
    assert info["openmp"] == gd.build_info()["openmp"]
    example.use("auto", 1)
    assert example.runtime()["isa_active"] == ISAS[-1]  # the best path of this CPU
    # (documented: gdcore.set_isa changes the Python package's copy only)
    gd.set_isa(ISAS[0])
    try:
        assert example.runtime()["isa_active"] == ISAS[-1]
    finally:
        gd.set_isa("auto")


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="checked with a GCC/Clang command line")
@pytest.mark.skipif(not DECLARATIONS.exists(), reason="tests/cython not present")
def test_every_declaration_compiles_against_the_headers(tmp_path):
    # Cython trusts a cdef extern block; the C++ compiler checks it.  The
    # module uses every struct field and every overload of the .pxd.
    reason = _cannot_build()
    if reason:
        pytest.skip(reason)
    cpp = tmp_path / "declarations.cpp"
    proc = subprocess.run([sys.executable, "-m", "cython", "-3", "--cplus", str(DECLARATIONS),
                           "-o", str(cpp)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cxx = (sysconfig.get_config_var("CXX") or "c++").split()
    proc = subprocess.run([*cxx, "-std=c++17", "-fsyntax-only", f"-I{gd.get_include()}",
                           f"-I{sysconfig.get_paths()['include']}", str(cpp)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
