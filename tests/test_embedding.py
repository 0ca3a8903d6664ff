"""A C++ consumer builds against the installed package (headers, static
library and CMake config shipped in the wheel) and runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gdcore as gd

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cpp"


def build_against_installed_package(source: Path, target: str, tmp_path: Path) -> Path:
    """Configure and build the CMake project ``source`` against the installed
    package's CMake config; the path of its executable ``target``."""
    cmake_dir = subprocess.run(
        [sys.executable, "-m", "gdcore", "--cmake-dir"], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert Path(cmake_dir, "gdcoreConfig.cmake").is_file()
    build = tmp_path / "build"
    subprocess.run(
        ["cmake", "-S", str(source), "-B", str(build), f"-Dgdcore_DIR={cmake_dir}",
         "-DCMAKE_BUILD_TYPE=Release"],
        check=True, capture_output=True, text=True,
    )
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True, text=True)
    return build / (target + ".exe" if os.name == "nt" else target)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/ not present (installed-wheel test run)")
def test_cpp_consumer_builds_and_converges(tmp_path):
    assert Path(gd.get_include(), "gdcore", "gdcore.hpp").is_file()
    exe = build_against_installed_package(EXAMPLE, "adam_example", tmp_path)
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "steps=2000" in proc.stdout
    assert f"isa={gd.build_info()['isa_active']}" in proc.stdout


API_CHECKS = Path(__file__).resolve().parent / "cpp"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
@pytest.mark.skipif(not API_CHECKS.exists(), reason="tests/cpp not present")
def test_cpp_api_checks_hold_when_called_from_cpp(tmp_path):
    # the documented argument checks of the public C++ API (null arrays with
    # entries, rates that cannot be finite, unknown enums, overlapping
    # outputs, ...) throw std::invalid_argument before writing, when called
    # directly from C++ -- not only behind the Python bindings' checks
    exe = build_against_installed_package(API_CHECKS, "api_checks", tmp_path)
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "checks: 31 passed, 0 failed" in proc.stdout
