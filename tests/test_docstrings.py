"""The examples in the docstrings of every gdcore module run and print what
they show (doctest, with ``...`` and free whitespace)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import gdcore

# (the command-line entry points run the CLI when imported)
_SKIP = {"gdcore.__main__"}
_MODULES = ["gdcore"] + sorted(
    m.name for m in pkgutil.walk_packages(gdcore.__path__, "gdcore.") if m.name not in _SKIP
)
_OPTIONAL = {"gdcore.plot": "matplotlib", "gdcore.torch": "torch"}


@pytest.mark.parametrize("name", _MODULES)
def test_docstring_examples(name):
    if name in _OPTIONAL:
        pytest.importorskip(_OPTIONAL[name])
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"


def test_the_examples_are_found():
    # (a module whose examples doctest cannot see would pass unchecked)
    counts = {}
    for name in ("gdcore", "gdcore.linear._classifier", "gdcore.optim._adam", "gdcore.minimize"):
        finder = doctest.DocTestFinder()
        counts[name] = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert all(c > 0 for c in counts.values()), counts
