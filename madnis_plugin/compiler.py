"""Compile C and Fortran sources into shared libraries in the per-user cache.

A library is keyed by a hash of its sources, headers, flags and compiler, so
an edited source is rebuilt and an unchanged one is reused. The build runs in
a temporary folder and is moved into place with an atomic rename, so
concurrent workers never load a half-written library.

Example:
    >>> from madnis_plugin.compiler import compile_shared_library
    >>> from madnis_plugin import resources
    >>> lib = compile_shared_library(                      # doctest: +SKIP
    ...     "ee_mumu", sorted((resources.processes_dir() / "ee_mumu").glob("*.c")))
    >>> lib.name                                           # doctest: +SKIP
    'libee_mumu.so'
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

from . import resources

__all__ = ["CompileError", "compile_shared_library", "build_into_cache", "c_compiler", "fortran_compiler", "HELAS_SOURCES"]

#: C sources every built-in process links with, relative to ``csrc/``.
HELAS_SOURCES = ("helas.c", "slha.c", "sm_parameters.c")


class CompileError(RuntimeError):
    """A compiler is missing or failed; the message carries its output."""


def c_compiler() -> list[str]:
    """The C compiler command: ``$CC``, else Python's, else ``cc``."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    command = shlex.split(cc)
    if shutil.which(command[0]) is None:
        command = ["cc"]
    return command


def fortran_compiler() -> list[str]:
    """The Fortran compiler command: ``$FC``, else ``gfortran``."""
    return shlex.split(os.environ.get("FC") or "gfortran")


def _fingerprint(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()[:20]


def _headers(include_dirs: Sequence[Path]) -> list[Path]:
    headers: list[Path] = []
    for folder in include_dirs:
        for pattern in ("*.h", "*.inc"):
            headers.extend(sorted(Path(folder).glob(pattern)))
    return headers


def compile_shared_library(
    name: str,
    sources: Sequence[Path | str],
    include_dirs: Sequence[Path | str] = (),
    flags: Sequence[str] = ("-O2", "-fPIC"),
    libraries: Sequence[str] = ("m",),
    fortran: bool = False,
) -> Path:
    """Build ``lib<name>.so`` from ``sources`` into the cache and return its path.

    Args:
        name: library stem.
        sources: C (or, with ``fortran=True``, Fortran and C) source files.
        include_dirs: folders searched for headers; their ``*.h``/``*.inc`` are
            part of the hash. ``csrc/`` is always added.
        flags: compiler flags.
        libraries: libraries to link (``-l``).
        fortran: link with the Fortran compiler (needed for Fortran sources).
    """
    sources = [Path(s).resolve() for s in sources]
    if not sources:
        raise CompileError(f"no sources to compile for {name}")
    for source in sources:
        if not source.is_file():
            raise CompileError(f"source file not found: {source}")
    include_dirs = [Path(d).resolve() for d in include_dirs] + [resources.csrc_dir().resolve()]
    cc = c_compiler()
    fc = fortran_compiler() if fortran else []
    key = _fingerprint(
        [s.name.encode() + s.read_bytes() for s in sources]
        + [h.read_bytes() for h in _headers(include_dirs)]
        + [" ".join([*cc, *fc, *flags, *libraries]).encode()]
    )

    def build(tmp_path: Path) -> list[Path]:
        objects = []
        for i, source in enumerate(sources):
            is_fortran = source.suffix.lower() in (".f", ".f90", ".for", ".f77")
            compiler = fc if is_fortran else cc
            if is_fortran and not fortran:
                raise CompileError(f"{source} is Fortran: compile with fortran=True")
            obj = tmp_path / f"{i}_{source.stem}.o"
            command = [*compiler, *flags, *[f"-I{d}" for d in include_dirs], "-c", str(source), "-o", str(obj)]
            if is_fortran:
                command[len(compiler):len(compiler)] = [f"-J{tmp_path}"]
            _run(command, name)
            objects.append(str(obj))
        linker = fc if fortran else cc
        built = tmp_path / f"lib{name}.so"
        _run([*linker, "-shared", *flags, *objects, "-o", str(built), *[f"-l{lib}" for lib in libraries]], name)
        return [built]

    return build_into_cache(name, key, build)


def build_into_cache(name: str, key: str, build: Callable[[Path], list[Path]]) -> Path:
    """``<cache>/<name>-<key>/lib<name>.so``, built by ``build`` unless it is there already.

    ``build(folder)`` compiles in a fresh temporary folder and returns the files
    to keep, the library ``lib<name>.so`` among them; they are moved into place
    with one atomic rename, so concurrent workers never see a partial build.
    """
    target_dir = resources.cache_dir() / f"{name}-{key}"
    target = target_dir / f"lib{name}.so"
    if target.is_file():
        return target
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target_dir.parent, prefix=f".{name}-") as tmp:
        staged = Path(tmp) / "staged"
        staged.mkdir()
        for kept in build(Path(tmp)):
            shutil.move(str(kept), staged / Path(kept).name)
        try:
            os.rename(staged, target_dir)
        except OSError:
            # Another process finished the same build first; its result is identical.
            if not target.is_file():
                raise
    return target


def _run(command: list[str], name: str) -> None:
    if shutil.which(command[0]) is None:
        raise CompileError(f"cannot build {name}: compiler '{command[0]}' not found")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise CompileError(f"cannot build {name}: {' '.join(command[:1])} failed:\n{output}")
