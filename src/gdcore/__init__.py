"""gdcore: gradient descent on fused C++ SIMD/OpenMP kernels.

>>> import numpy as np, gdcore as gd
>>> w = np.zeros(3)
>>> opt = gd.optim.Adam([w], lr=0.1)
>>> opt.step([np.array([1.0, -1.0, 0.0])])
>>> w.round(3)
array([-0.1,  0.1,  0. ])
"""

from __future__ import annotations

import os as _os
from pathlib import Path as _Path

from . import _core
from ._core import __version__

__all__ = [
    "OptimizeResult",
    "__version__",
    "check_grad",
    "landscapes",
    "linear",
    "minimize",
    "plot",
    "build_info",
    "get_cmake_dir",
    "get_extension_kwargs",
    "get_include",
    "get_num_threads",
    "losses",
    "optim",
    "schedules",
    "set_isa",
    "set_num_threads",
]

_ISA_CHOICES = ("auto", "scalar", "avx2", "avx512", "neon")


def build_info() -> dict:
    """How this build was made and what it runs on.

    Returns a dict with ``version``, ``compiler``, ``isa_compiled`` (the
    instruction-set paths built into the extension), ``isa_supported`` (those
    this CPU can run), ``isa_active`` (the path kernels use now), ``openmp``
    and ``num_threads``.
    """
    return {
        "version": _core.version(),
        "compiler": _core.compiler(),
        "isa_compiled": list(_core.isa_compiled()),
        "isa_supported": list(_core.isa_supported()),
        "isa_active": _core.isa_active(),
        "openmp": bool(_core.has_openmp()),
        "num_threads": int(_core.get_num_threads()),
    }


def set_isa(name: str) -> None:
    """Run kernels on instruction-set path ``name``.

    ``"auto"`` picks the best path this CPU supports (the default at import,
    unless the environment variable ``GDCORE_ISA`` names a path).  Asking for
    a path that is not compiled in or that the CPU lacks raises ValueError.
    All paths give bitwise-identical results; only speed differs.
    """
    if not isinstance(name, str):
        raise TypeError(f"ISA name must be a str, got {type(name).__name__}")
    _core.set_isa(name)


def set_num_threads(n: int) -> None:
    """Number of threads the kernels use (1 to 4096).  Results do not depend
    on it.  A process forked from one that had imported gdcore (for example
    a ``multiprocessing`` worker under the "fork" start method) runs its
    kernels on one thread whatever is set: OpenMP's worker threads do not
    survive fork, and waiting for them would hang the child."""
    if isinstance(n, bool):
        raise TypeError("number of threads must be an int, got bool")
    if not isinstance(n, int):
        try:
            import operator

            n = operator.index(n)
        except TypeError:
            raise TypeError(f"number of threads must be an int, got {type(n).__name__}") from None
    if not 1 <= n <= _MAX_THREADS:
        raise ValueError(f"number of threads must be in [1, {_MAX_THREADS}], got {n}")
    _core.set_num_threads(int(n))


# the most threads set_num_threads takes (gd::kMaxThreads)
_MAX_THREADS = 4096


def get_num_threads() -> int:
    """Number of threads the kernels use."""
    return int(_core.get_num_threads())


def get_include() -> str:
    """Directory of gdcore's C++ headers (``#include <gdcore/gdcore.hpp>``)."""
    return str(_Path(__file__).parent / "include")


def get_cmake_dir() -> str:
    """Directory holding ``gdcoreConfig.cmake`` for ``find_package(gdcore)``."""
    return str(_Path(__file__).parent / "cmake")


def get_extension_kwargs() -> dict:
    """Keyword arguments for ``setuptools.Extension`` that build a C++ or
    Cython extension against gdcore's public C++ API.

    The module is compiled as C++17 with gdcore's headers
    (:func:`get_include`) and linked with the static library ``libgdcore``
    shipped in the package (position-independent code), plus OpenMP's
    runtime when this build uses OpenMP.  Cython finds ``gdcore/cgdcore.pxd``
    (``from gdcore.cgdcore cimport adam_step``) on ``sys.path`` by itself.
    Returns a new dict, with new lists, on every call: add to them freely::

        from setuptools import Extension
        ext = Extension("mymod", ["mymod.pyx"], **gdcore.get_extension_kwargs())

    The extension holds its own copy of the library, with its own ISA choice
    and thread count (``set_isa`` / ``set_num_threads`` of the C++ API).

    >>> kwargs = get_extension_kwargs()
    >>> kwargs["libraries"], kwargs["language"]
    (['gdcore'], 'c++')
    """
    here = _Path(__file__).parent
    msvc = _core.compiler().startswith("MSVC")
    # GCC and Clang link OpenMP's runtime with -fopenmp; MSVC's objects name
    # it (vcomp) themselves.
    openmp = bool(_core.has_openmp()) and not msvc
    return {
        "include_dirs": [get_include()],
        "library_dirs": [str(here / "lib")],
        "libraries": ["gdcore"],
        "language": "c++",
        "extra_compile_args": ["/std:c++17"] if msvc else ["-std=c++17"],
        "extra_link_args": ["-fopenmp"] if openmp else [],
    }


_env_isa = _os.environ.get("GDCORE_ISA", "")
if _env_isa and _env_isa != "auto":
    try:
        _core.set_isa(_env_isa)
    except ValueError as exc:
        raise ValueError(f"environment variable GDCORE_ISA={_env_isa!r}: {exc}") from None

from . import landscapes, losses, optim, plot, schedules  # noqa: E402
from .minimize import OptimizeResult, check_grad, minimize  # noqa: E402


def __getattr__(name: str):
    # gdcore.linear imports scikit-learn when it is installed: load it lazily.
    if name == "linear":
        import importlib

        return importlib.import_module(".linear", __name__)
    raise AttributeError(f"module 'gdcore' has no attribute {name!r}")
