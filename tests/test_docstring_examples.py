"""Every docstring example in the package runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import madnis_plugin

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(madnis_plugin.__path__, "madnis_plugin.")
    if info.name not in ("madnis_plugin._bridge", "madnis_plugin._bridge_build")
)


@pytest.mark.parametrize("name", ["madnis_plugin", *MODULES])
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
