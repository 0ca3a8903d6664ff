"""The gdcore command: demo end to end (quick mode), info, bench, --help,
and the error paths (exit status 2 with a message)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import gdcore as gd
from gdcore import cli


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


def _needs_demo_extra():
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")


def test_demo_out_is_an_existing_file_exits_2(tmp_path):
    _needs_demo_extra()
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    for out in (afile, afile / "sub"):
        r = gdcore("demo", "--quick", "--no-progress", "--out", str(out))
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("gdcore demo: error: argument --out: ")
        assert str(out) in r.stderr and "Traceback" not in r.stderr
        assert r.stdout == ""  # nothing ran
    assert "exists and is not a directory" in gdcore("demo", "--out", str(afile)).stderr
    assert "a parent of it is a file" in gdcore("demo", "--out", str(afile / "a" / "b")).stderr
    assert afile.read_text() == "keep me"


def test_demo_out_not_writable_exits_2(tmp_path, monkeypatch, capsys):
    _needs_demo_extra()
    import gdcore.demo

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(gdcore.demo.tempfile, "TemporaryFile", refuse)
    assert cli.main(["demo", "--quick", "--no-progress", "--out", str(tmp_path / "d")]) == 2
    captured = capsys.readouterr()
    assert "not writable (Permission denied)" in captured.err and captured.out == ""


@pytest.mark.parametrize("module, extra",
                         [("matplotlib", "matplotlib"), ("sklearn", "scikit-learn")])
def test_demo_without_its_extra_fails_before_doing_anything(tmp_path, module, extra):
    if module == "sklearn":  # (the check names matplotlib first when both are missing)
        pytest.importorskip("matplotlib")
    out = tmp_path / "demo"
    script = textwrap.dedent(f"""
        import sys
        sys.modules[{module!r}] = None  # import {module} fails
        from gdcore.cli import main
        raise SystemExit(main(["demo", "--quick", "--out", {str(out)!r}]))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert r.stderr.startswith("gdcore demo: ") and extra in r.stderr and "gdcore[demo]" in r.stderr
    assert "Traceback" not in r.stderr and "race" not in r.stderr  # no progress line
    assert r.stdout == ""
    assert not out.exists()


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
