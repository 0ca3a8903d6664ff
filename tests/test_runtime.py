"""The runtime: build_info, ISA dispatch (set_isa, GDCORE_ISA), threads, and
the paths C++/Cython users need (get_include, --cmake-dir, the CLI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gdcore as gd

KNOWN_ISAS = {"scalar", "avx2", "avx512", "neon"}


def _best_supported():
    """The path "auto" must choose: the widest this CPU supports."""
    supported = gd.build_info()["isa_supported"]
    return next(x for x in ("avx512", "avx2", "neon", "scalar") if x in supported)


def _python(code, **env):
    """Run ``python -c code`` in a fresh interpreter with extra environment."""
    full_env = {k: v for k, v in os.environ.items() if k != "GDCORE_ISA"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=120)


def _module(*args):
    env = {k: v for k, v in os.environ.items() if k != "GDCORE_ISA"}
    return subprocess.run([sys.executable, "-m", "gdcore", *args], env=env, capture_output=True, text=True,
                          timeout=120)


# ---------------------------------------------------------------- build_info
def test_build_info_keys_and_types():
    info = gd.build_info()
    assert set(info) >= {"version", "compiler", "isa_compiled", "isa_supported", "isa_active", "openmp",
                         "num_threads"}
    assert isinstance(info["version"], str) and info["version"] == gd.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", info["version"])
    assert isinstance(info["compiler"], str) and info["compiler"]
    assert isinstance(info["isa_compiled"], list) and all(isinstance(x, str) for x in info["isa_compiled"])
    assert isinstance(info["isa_supported"], list) and all(isinstance(x, str) for x in info["isa_supported"])
    assert isinstance(info["isa_active"], str)
    assert isinstance(info["openmp"], bool)
    assert isinstance(info["num_threads"], int) and info["num_threads"] >= 1
    assert info["num_threads"] == gd.get_num_threads()


def test_isa_sets_are_consistent():
    info = gd.build_info()
    compiled, supported = info["isa_compiled"], info["isa_supported"]
    assert set(compiled) <= KNOWN_ISAS
    assert "scalar" in compiled and "scalar" in supported  # the portable path is always there
    assert set(supported) <= set(compiled)
    assert info["isa_active"] in supported
    assert len(set(compiled)) == len(compiled)


def test_build_info_returns_a_fresh_dict():
    info = gd.build_info()
    info["isa_compiled"].append("bogus")
    info["version"] = "x"
    assert "bogus" not in gd.build_info()["isa_compiled"]
    assert gd.build_info()["version"] == gd.__version__


# ------------------------------------------------------------------- set_isa
def test_set_isa_round_trip():
    supported = gd.build_info()["isa_supported"]
    try:
        for name in supported:
            gd.set_isa(name)
            assert gd.build_info()["isa_active"] == name
        gd.set_isa("auto")
        # auto picks the widest supported path
        assert gd.build_info()["isa_active"] == _best_supported()
    finally:
        gd.set_isa("auto")


def test_set_isa_changes_the_path_not_the_result():
    def adam_run():
        p = np.linspace(-1, 1, 1001)
        opt = gd.optim.Adam([p], lr=0.01)
        for k in range(3):
            opt.step([np.sin(p * (k + 1))])
        return p.tobytes()

    results = set()
    try:
        for name in gd.build_info()["isa_supported"]:
            gd.set_isa(name)
            results.add(adam_run())
    finally:
        gd.set_isa("auto")
    assert len(results) == 1


def test_set_isa_unknown_name():
    before = gd.build_info()["isa_active"]
    with pytest.raises(ValueError, match=r"ISA 'sse9' is unknown; choose 'auto' or one of") as info:
        gd.set_isa("sse9")
    for name in gd.build_info()["isa_supported"]:
        assert name in str(info.value)  # the message names the choices
    assert gd.build_info()["isa_active"] == before


def test_set_isa_message_shows_unprintable_names():
    # (a NUL in the name ended the message there: "ISA 'avx2")
    with pytest.raises(ValueError, match=r"ISA 'avx2\?x' is unknown; choose"):
        gd.set_isa("avx2\x00x")


@pytest.mark.parametrize("name", ["", "AVX2", " avx2", "auto "])
def test_set_isa_is_exact(name):
    with pytest.raises(ValueError, match=r"choose 'auto' or one of"):
        gd.set_isa(name)


def test_set_isa_not_a_string():
    with pytest.raises(TypeError, match=r"must be a str"):
        gd.set_isa(2)


def test_set_isa_compiled_but_unsupported():
    info = gd.build_info()
    unsupported = [x for x in info["isa_compiled"] if x not in info["isa_supported"]]
    if not unsupported:
        pytest.skip("every compiled ISA path is supported by this CPU")
    before = info["isa_active"]
    for name in unsupported:
        with pytest.raises(ValueError, match=rf"ISA '{name}' is not supported by this CPU; choose 'auto' or one of"):
            gd.set_isa(name)
        assert gd.build_info()["isa_active"] == before


def test_set_isa_known_but_not_compiled():
    missing = sorted(KNOWN_ISAS - set(gd.build_info()["isa_compiled"]))
    if not missing:
        pytest.skip("every known ISA path is compiled in")
    with pytest.raises(ValueError, match=rf"ISA '{missing[0]}' is not compiled into this build"):
        gd.set_isa(missing[0])


# ------------------------------------------------------------------ GDCORE_ISA
def test_env_scalar():
    r = _python("import gdcore; print(gdcore.build_info()['isa_active'])", GDCORE_ISA="scalar")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "scalar"


def test_env_auto_and_empty():
    best = _best_supported()
    for value in ("auto", ""):
        r = _python("import gdcore; print(gdcore.build_info()['isa_active'])", GDCORE_ISA=value)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == best


def test_env_bogus_fails_import():
    r = _python("import gdcore", GDCORE_ISA="bogus")
    assert r.returncode != 0
    assert re.search(r"ValueError: .*GDCORE_ISA='bogus'.*unknown", r.stderr), r.stderr


def test_env_bogus_is_a_catchable_value_error():
    r = _python(
        "try:\n    import gdcore\nexcept ValueError as e:\n    print('caught', e)\n",
        GDCORE_ISA="bogus",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("caught") and "GDCORE_ISA" in r.stdout


def test_env_unsupported_fails_import():
    info = gd.build_info()
    unsupported = [x for x in info["isa_compiled"] if x not in info["isa_supported"]]
    if not unsupported:
        pytest.skip("every compiled ISA path is supported by this CPU")
    r = _python("import gdcore", GDCORE_ISA=unsupported[0])
    assert r.returncode != 0
    assert "GDCORE_ISA" in r.stderr and "not supported by this CPU" in r.stderr


def test_env_then_set_isa_auto():
    r = _python(
        "import gdcore as gd\nprint(gd.build_info()['isa_active'])\ngd.set_isa('auto')\n"
        "print(gd.build_info()['isa_active'])",
        GDCORE_ISA="scalar",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["scalar", _best_supported()]


# -------------------------------------------------------------------- threads
def test_set_num_threads_round_trip():
    old = gd.get_num_threads()
    try:
        for n in (1, 2, 3):
            gd.set_num_threads(n)
            assert gd.get_num_threads() == n
            assert gd.build_info()["num_threads"] == n
        gd.set_num_threads(np.int64(2))  # any integer type
        assert gd.get_num_threads() == 2
    finally:
        gd.set_num_threads(old)


@pytest.mark.parametrize("bad", [0, -1, 4097, 10**9, 2**31, 2**64])
def test_set_num_threads_out_of_range(bad):
    # (10**9 threads started that many OpenMP threads -- an Adam step took
    # 40x as long, or the process died when thread creation failed; 2**31
    # did not fit the compiled int)
    old = gd.get_num_threads()
    with pytest.raises(ValueError, match=r"number of threads must be in \[1, 4096\], got"):
        gd.set_num_threads(bad)
    assert gd.get_num_threads() == old


def test_compiled_set_num_threads_checks_the_range_too():
    from gdcore import _core

    old = gd.get_num_threads()
    for bad in (0, 4097):
        with pytest.raises(ValueError, match=r"num_threads must be in \[1, 4096\]"):
            _core.set_num_threads(bad)
    assert gd.get_num_threads() == old


FORK_CHILD = """
import os, sys
import numpy as np
import gdcore as gd
gd.set_num_threads(2)
p = np.zeros(1_000_003)
gd.optim.Adam([p], lr=0.1).step([np.linspace(-1, 1, p.size)])  # a parallel region in the parent
want = p.copy()
gd.optim.Adam([want], lr=0.1).step([np.linspace(-1, 1, p.size)])
pid = os.fork()
if pid == 0:
    # a forked child: OpenMP's workers are gone; the kernels run on one thread
    q = p.copy()
    gd.optim.Adam([q], lr=0.1).step([np.linspace(-1, 1, p.size)])
    gd.set_num_threads(2)  # (still one thread)
    ok = gd.get_num_threads() == 1 and q.tobytes() == want.tobytes()
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
print("child", os.waitstatus_to_exitcode(status), "parent threads", gd.get_num_threads())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_runs_kernels_on_one_thread():
    # GNU OpenMP is not fork-safe: a child's first parallel region waited for
    # the parent's worker threads forever
    r = subprocess.run([sys.executable, "-c", FORK_CHILD], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["child", "0", "parent", "threads", "2"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_fork_pool_workers_fit_linear_models():
    script = """
import multiprocessing as mp
import numpy as np
from gdcore.linear import SGDClassifier
rng = np.random.default_rng(0)
X = rng.standard_normal((40_000, 20)); y = (X[:, 0] > 0).astype(int)
def fit(seed):
    return SGDClassifier(random_state=seed, max_iter=3, tol=None).fit(X, y).coef_
here = fit(1)  # the parent's threads run first
with mp.get_context("fork").Pool(2) as pool:
    there = pool.map(fit, [1, 2])
print(np.array_equal(there[0], here))
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True"]


@pytest.mark.parametrize("bad", [1.5, 2.0, "2", None, True])
def test_set_num_threads_not_an_int(bad):
    old = gd.get_num_threads()
    with pytest.raises(TypeError, match=r"number of threads must be an int"):
        gd.set_num_threads(bad)
    assert gd.get_num_threads() == old


# ------------------------------------------------------------ C++ / CMake paths
def test_get_include():
    inc = Path(gd.get_include())
    assert inc.is_dir()
    assert (inc / "gdcore" / "optim.hpp").is_file()
    assert (inc / "gdcore" / "gdcore.hpp").is_file()
    # public headers are free of Python
    for h in (inc / "gdcore").glob("*.hpp"):
        assert "Python.h" not in h.read_text() and "pybind11" not in h.read_text(), h


def test_get_extension_kwargs():
    kw = gd.get_extension_kwargs()
    assert set(kw) == {"include_dirs", "library_dirs", "libraries", "language",
                       "extra_compile_args", "extra_link_args"}
    assert kw["include_dirs"] == [gd.get_include()]
    assert kw["libraries"] == ["gdcore"] and kw["language"] == "c++"
    (lib_dir,) = kw["library_dirs"]
    static = "gdcore.lib" if os.name == "nt" else "libgdcore.a"
    assert (Path(lib_dir) / static).is_file()
    assert any(arg.endswith("std:c++17") or arg == "-std=c++17" for arg in kw["extra_compile_args"])
    if os.name != "nt":  # the static library needs OpenMP's runtime when built with it
        assert ("-fopenmp" in kw["extra_link_args"]) == gd.build_info()["openmp"]
    # a new dict with new lists on every call
    kw["libraries"].append("m")
    assert gd.get_extension_kwargs()["libraries"] == ["gdcore"]


def test_get_extension_kwargs_are_setuptools_extension_arguments():
    setuptools = pytest.importorskip("setuptools")
    # (an unknown keyword would be a warning, an error under this suite's settings)
    ext = setuptools.Extension("consumer", ["consumer.pyx"], **gd.get_extension_kwargs())
    assert ext.language == "c++" and ext.libraries == ["gdcore"]


def test_cmake_dir_module():
    r = _module("--cmake-dir")
    assert r.returncode == 0, r.stderr
    d = Path(r.stdout.strip())
    assert d.is_dir()
    assert (d / "gdcoreConfig.cmake").is_file()
    assert str(d) == gd.get_cmake_dir()


def test_include_dir_module():
    r = _module("--include-dir")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == gd.get_include()


def test_cli_info():
    r = _module("info")
    assert r.returncode == 0, r.stderr
    assert gd.__version__ in r.stdout
    for key in ("version", "compiler", "isa_compiled", "isa_active", "openmp", "num_threads"):
        assert re.search(rf"^{key}\s", r.stdout, re.M), key


def test_cli_without_command_prints_help():
    r = _module()
    assert r.returncode == 2
    assert "usage: gdcore" in r.stderr


def test_cli_unknown_command():
    r = _module("frobnicate")
    assert r.returncode == 2
    assert "invalid choice" in r.stderr
