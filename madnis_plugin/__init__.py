"""madnis-plugin: neural importance sampling for LHC event generation.

A user hands it a hard process (a built-in one, or MadGraph5_aMC@NLO output),
MadGraph run and param cards and a budget; it returns a cross section with an
honest error and a file of unweighted Les Houches events.

Example:
    >>> import madnis_plugin
    >>> proc = madnis_plugin.load_process("ee_mumu")
    >>> proc.subprocesses
    [(-11, 11, -13, 13)]
"""

__version__ = "0.1.0"

__all__ = ["__version__", "load_process", "integrate", "generate"]


def __getattr__(name: str):
    # Imported on first use, so that `import madnis_plugin.bridge` (or the CLI's
    # error path) does not load every layer.
    if name == "load_process":
        from .process import load_process

        return load_process
    if name in ("integrate", "generate"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'madnis_plugin' has no attribute {name!r}")
