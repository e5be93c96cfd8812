"""A Fortran program links against libmadnis_bridge.so and evaluates a built-in process."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import madnis_plugin
from madnis_plugin import load_process

HERE = Path(__file__).parent
PACKAGE = Path(madnis_plugin.__file__).resolve().parent

pytestmark = pytest.mark.skipif(shutil.which("gfortran") is None,
                                reason="gfortran is not installed (the README's test command installs it)")


@pytest.fixture(scope="module")
def fortran_program(tmp_path_factory) -> Path:
    build = tmp_path_factory.mktemp("fortran")
    include, lib = PACKAGE / "include", PACKAGE / "lib"
    assert (lib / "libmadnis_bridge.so").is_file(), "the install must ship the plain bridge library"
    program = build / "evaluate_process"
    subprocess.run(["gfortran", "-c", str(include / "madnis_bridge.f90"), f"-J{build}", "-o", str(build / "m.o")],
                   check=True, capture_output=True)
    subprocess.run(["gfortran", f"-I{build}", str(HERE / "fortran" / "evaluate_process.f90"), str(build / "m.o"),
                    f"-L{lib}", "-lmadnis_bridge", f"-Wl,-rpath,{lib}", "-o", str(program)],
                   check=True, capture_output=True)
    return program


def _ee_points(n: int, rng: np.random.Generator, e_beam: float = 500.0) -> np.ndarray:
    cos = rng.uniform(-1, 1, n)
    phi = rng.uniform(0, 2 * np.pi, n)
    sin = np.sqrt(1 - cos**2)
    p = np.zeros((n, 4, 4))
    p[:, 0] = [e_beam, 0, 0, e_beam]
    p[:, 1] = [e_beam, 0, 0, -e_beam]
    direction = np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], axis=1) * e_beam
    p[:, 2, 0] = p[:, 3, 0] = e_beam
    p[:, 2, 1:] = direction
    p[:, 3, 1:] = -direction
    return p


def test_fortran_program_reproduces_python_matrix_elements(fortran_program):
    process = load_process("ee_mumu")
    momenta = _ee_points(5, np.random.default_rng(3))
    lines = [str(len(momenta))] + [" ".join(repr(float(x)) for x in particle) for event in momenta for particle in event]
    result = subprocess.run([str(fortran_program), str(process.library.path), str(process.param_card_path)],
                            input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    from_fortran = np.array([[float(x) for x in line.split()] for line in result.stdout.splitlines()])
    assert from_fortran.shape == (len(momenta), 2)
    # Both callers hand the same doubles to the same library: bit-identical up to the text round trip,
    # through the event-major entry point and the column-layout one alike.
    for column in range(2):
        np.testing.assert_allclose(from_fortran[:, column], process.matrix_element(momenta), rtol=1e-15)
    assert np.all(from_fortran > 0)


def test_fortran_program_reports_a_failed_open(fortran_program, tmp_path):
    result = subprocess.run([str(fortran_program), str(tmp_path / "missing.so"), "none"], input="0\n",
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "MP_ERROR_LOAD" in result.stderr
