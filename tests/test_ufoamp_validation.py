"""Built-in matrix elements against an independent calculation: ufoamp + ufo-sm.

First ufoamp's own conventions are pinned down: it reproduces MadGraph's
SMATRIX on the reference points of shared/reference/me (widths in every massive
propagator, t-channel included; tree-level electroweak inputs), and it does
not divide by the identical-particle factor (checked against the textbook
q q~ -> g g formula). Then every subprocess of every built-in process is
compared with it on random RAMBO points, with identical parameters (both read
the process's param card).

Tolerance 1e-10 relative: both sides are double-precision tree amplitudes of a
handful of terms; MadGraph and ufoamp agree to ~1e-14 on the reference points,
so 1e-10 leaves room for cancellations near zeros of |M|^2 but none for a
wrong coupling, width or sign.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ufoamp", reason="the ufoamp package is not installed (pip install ufoamp ufo-sm)")
pytest.importorskip("ufo_sm", reason="the ufo-sm UFO model is not installed (pip install ufo-sm)")

from ufoamp_reference import (  # noqa: E402  (after the import checks)
    MADGRAPH_SM_DEFAULTS,
    identical_particle_factor,
    reference_params_to_ufo,
    ufoamp_matrix_element,
    ufoamp_me2,
)

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT.parent / "shared" / "reference" / "me"
PROCESSES_DIR = ROOT / "processes"
RTOL = 1e-10
POINTS_PER_SUBPROCESS = 3
SQRT_S = 1000.0

#: Processes ufoamp cannot express: it sums all diagrams of a final state, with
#: no decay-chain restriction to the doubly resonant (not gauge-invariant) subset.
NO_UFOAMP_COUNTERPART = {
    "ttbar_dilepton": "the doubly resonant t t~ subset (decay-chain syntax) has no ufoamp counterpart; "
                      "ufoamp would add the single-top and non-resonant diagrams",
}

#: The built-in suite of issue 3; the ones not (yet) in processes/ are skipped.
BUILTIN_PROCESSES = ("ee_mumu", "ee_qqg", "drell_yan", "w_production", "w_jet", "ttbar", "ttbar_jet",
                     "gg_ggg", "ttbar_dilepton")


def _reference_files() -> list[Path]:
    return sorted(REFERENCE_DIR.glob("me_*.json")) if REFERENCE_DIR.is_dir() else []


def _minkowski_square(p: np.ndarray) -> np.ndarray:
    return p[..., 0] ** 2 - (p[..., 1:] ** 2).sum(-1)


def _rambo_points(masses: np.ndarray, n: int, seed: int) -> np.ndarray:
    from madnis_plugin.phasespace import Rambo

    rambo = Rambo(masses, e_cm=SQRT_S)
    points = rambo.map(np.random.default_rng(seed).random((n, rambo.dim)))
    assert points.valid.all()
    return points.momenta


@pytest.mark.parametrize("reference", _reference_files(), ids=lambda p: p.stem)
def test_ufoamp_reproduces_madgraph_reference_points(reference: Path):
    data = json.loads(reference.read_text())
    params = reference_params_to_ufo(data["params"])
    momenta = np.array([point["momenta"] for point in data["points"]])
    expected = np.array([point["me2"] for point in data["points"]])
    got = ufoamp_me2(data["pdg_ids"], momenta, params)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0)


def test_ufoamp_params_of_reference_give_its_derived_w_mass_and_strong_coupling():
    reference = REFERENCE_DIR / "me_ee_mumu.json"
    if not reference.is_file():
        pytest.skip(f"{reference} not found")
    params = json.loads(reference.read_text())["params"]
    me = ufoamp_matrix_element((-11, 11, -13, 13), reference_params_to_ufo(params))
    assert complex(me.param("MW")).real == pytest.approx(params["MW"], rel=1e-14)
    assert complex(me.param("G")).real == pytest.approx(params["G_strong"], rel=1e-14)


def test_ufoamp_does_not_divide_by_identical_particle_factor():
    # q q~ -> g g, summed over final and averaged over initial spins and
    # colours WITHOUT the 1/2! of the two gluons (Ellis, Stirling, Webber,
    # table 7.1): g^4 [32/27 (t^2+u^2)/(t u) - 8/3 (t^2+u^2)/s^2].
    pdgs = (2, -2, 21, 21)
    p = _rambo_points(np.zeros(4), 4, seed=11)
    s = _minkowski_square(p[:, 0] + p[:, 1])
    t = _minkowski_square(p[:, 0] - p[:, 2])
    u = _minkowski_square(p[:, 0] - p[:, 3])
    g4 = (4 * math.pi * MADGRAPH_SM_DEFAULTS["aS"]) ** 2
    textbook = g4 * (32 / 27 * (t**2 + u**2) / (t * u) - 8 / 3 * (t**2 + u**2) / s**2)
    raw = ufoamp_matrix_element(pdgs, MADGRAPH_SM_DEFAULTS).m2_events(p)
    np.testing.assert_allclose(raw, textbook, rtol=RTOL)
    assert identical_particle_factor(pdgs) == 2
    np.testing.assert_allclose(ufoamp_me2(pdgs, p, MADGRAPH_SM_DEFAULTS), textbook / 2, rtol=RTOL)


def _is_slow(pdgs: tuple[int, ...], position: int) -> bool:
    """ufoamp's cost grows as 8^(gluons) and with the leg count; keep big cases out of the fast run."""
    gluons = sum(1 for p in pdgs if p == 21)
    return gluons >= 3 or len(pdgs) >= 6 or position >= 2


def _builtin_cases() -> list:
    cases = []
    for name in BUILTIN_PROCESSES:
        meta_path = PROCESSES_DIR / name / "process.json"
        if not meta_path.is_file():
            cases.append(pytest.param(name, None, id=f"{name}-absent",
                                      marks=pytest.mark.skip(reason=f"processes/{name} does not exist yet")))
            continue
        try:
            meta = json.loads(meta_path.read_text())
            subprocesses = [tuple(s["pdg"]) for g in meta["groups"] for s in g["subprocesses"]]
        except (ValueError, KeyError, TypeError) as exc:
            cases.append(pytest.param(name, None, id=f"{name}-unreadable",
                                      marks=pytest.mark.skip(reason=f"{meta_path}: {exc!r}")))
            continue
        for position, pdgs in enumerate(subprocesses):
            marks = [pytest.mark.slow] if _is_slow(pdgs, position) else []
            if name in NO_UFOAMP_COUNTERPART:
                marks.append(pytest.mark.skip(reason=NO_UFOAMP_COUNTERPART[name]))
            cases.append(pytest.param(name, pdgs, id=f"{name}-{'_'.join(map(str, pdgs))}", marks=marks))
    return cases


@pytest.fixture(scope="module")
def loaded_processes():
    from madnis_plugin import load_process

    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_process(name)
        return cache[name]

    return get


@pytest.mark.parametrize(("name", "pdgs"), _builtin_cases())
def test_builtin_matrix_element_agrees_with_ufoamp(loaded_processes, name: str, pdgs: tuple[int, ...]):
    process = loaded_processes(name)
    masses = np.array([process.param_card.mass(p) for p in pdgs])
    seed = 1000 + sum((i + 1) * abs(p) for i, p in enumerate(pdgs))
    # ufoamp needs about two minutes per g g > g g g point on a loaded core: one point there.
    n_points = 1 if sum(1 for p in pdgs if p == 21) >= 5 else POINTS_PER_SUBPROCESS
    momenta = _rambo_points(masses, n_points, seed)
    ours = process.matrix_element(momenta, pdgs=pdgs)
    theirs = ufoamp_me2(pdgs, momenta, process.param_card_path, n_incoming=process.n_incoming)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=0)
