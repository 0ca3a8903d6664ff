"""The gdcore command: demo end to end (quick mode), info, bench, --help,
and the error paths (exit status 2 with a message)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import gdcore as gd


def gdcore(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "gdcore", *args], capture_output=True, text=True, timeout=timeout
    )


def test_info_prints_build_info():
    r = gdcore("info")
    assert r.returncode == 0, r.stderr
    info = gd.build_info()
    assert info["version"] in r.stdout
    assert info["isa_active"] in r.stdout
    assert "openmp" in r.stdout


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["info", "--help"], ["bench", "--help"]])
def test_help_everywhere(args):
    r = gdcore(*args)
    assert r.returncode == 0
    assert "usage:" in r.stdout


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["frobnicate"], "invalid choice"),
        (["demo", "--bogus"], "unrecognized arguments"),
        (["bench", "--quick", "extra"], "unrecognized arguments"),
        (["demo", "--out"], "expected one argument"),
        (["--cmake-dir", "info"], "take no command"),
        ([], "usage:"),
    ],
)
def test_wrong_arguments_exit_2(args, pattern):
    r = gdcore(*args)
    assert r.returncode == 2
    assert pattern in r.stderr


def test_cmake_dir():
    r = gdcore("--cmake-dir")
    assert r.returncode == 0
    assert r.stdout.strip() == gd.get_cmake_dir()


@pytest.mark.slow
def test_demo_quick_end_to_end(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    out = tmp_path / "demo"
    r = gdcore("demo", "--out", str(out), "--quick", "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    # the two tables
    assert "optimizer" in r.stdout and "iterations" in r.stdout
    assert "test accuracy" in r.stdout
    for opt in ("adam", "sgd", "lion"):
        assert opt in r.stdout
    files = sorted(p.name for p in out.iterdir())
    for name in ("race_rosenbrock.png", "race_loss_rosenbrock.png", "logreg_loss.png",
                 "logreg_loss_time.png", "schedule.png", "race.gif"):
        assert name in files, files
    for p in out.glob("*.png"):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "race.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    # the logistic regression learns: every run beats 90% test accuracy
    rows = [line.split() for line in r.stdout.splitlines()
            if line.split() and line.split()[0] in ("sgd", "momentum", "adam", "rmsprop", "adagrad", "lion")
            and len(line.split()) == 6]
    assert len(rows) >= 6
    assert all(float(row[-1]) > 0.9 for row in rows), rows
