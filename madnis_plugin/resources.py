"""Where the shipped data lives, and the per-user cache.

An installed package carries the project's top-level ``processes/``,
``cards/`` and ``csrc/`` folders as package data under
``madnis_plugin/_data/``; a source checkout (or an editable install) uses the
folders at the project root. Compiled libraries never go into either: they
go to the cache, ``$MADNIS_PLUGIN_CACHE`` or ``$XDG_CACHE_HOME/madnis_plugin``
(default ``~/.cache/madnis_plugin``).

Example:
    >>> from madnis_plugin import resources
    >>> "ee_mumu" in resources.builtin_processes()
    True
    >>> resources.default_card("param_card.dat").name
    'param_card.dat'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "data_root",
    "processes_dir",
    "cards_dir",
    "csrc_dir",
    "builtin_processes",
    "builtin_process_dir",
    "default_card",
    "cache_dir",
]

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder holding ``processes/``, ``cards/`` and ``csrc/``."""
    installed = _PACKAGE / "_data"
    if (installed / "processes").is_dir():
        return installed
    return _PACKAGE.parent


def processes_dir() -> Path:
    return data_root() / "processes"


def cards_dir() -> Path:
    return data_root() / "cards"


def csrc_dir() -> Path:
    return data_root() / "csrc"


def builtin_processes() -> list[str]:
    """Names of the built-in processes (folders with a ``process.json``)."""
    root = processes_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "process.json").is_file())


def builtin_process_dir(name: str) -> Path | None:
    """The folder of built-in process ``name``, or None if there is none."""
    folder = processes_dir() / name
    return folder if (folder / "process.json").is_file() else None


def default_card(name: str) -> Path:
    """A shipped default card, e.g. ``default_card("run_card.dat")``."""
    return cards_dir() / name


def cache_dir() -> Path:
    """The per-user cache for compiled libraries (created on demand)."""
    explicit = os.environ.get("MADNIS_PLUGIN_CACHE")
    if explicit:
        root = Path(explicit)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(base) / "madnis_plugin"
    root.mkdir(parents=True, exist_ok=True)
    return root
