"""Properties of the built-in matrix elements (processes/*, csrc/helas.c).

Independent checks of every built-in process: closed-form |M|^2 where one
exists (ee_mumu, drell_yan, w_production, ttbar, gg_ggg), Lorentz invariance,
gauge invariance (a gluon or photon polarisation replaced by its momentum
gives zero once widths vanish), beam-swap and flavour symmetries between
subprocesses, alpha_s scaling, per-diagram weights, and the colour- and
helicity-selection outputs. MadGraph reference points live in
test_reference_me.py.

Tolerances: the closed forms and the helicity sums are the same function
evaluated two ways in double precision, so they agree to ~1e-13; 1e-10 is
the project's requirement. Lorentz transformations of momenta of O(500 GeV)
lose a few digits to cancellations in the invariants: 1e-10 still leaves
room.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import math
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import madnis_plugin
from madnis_plugin.bridge import UmamiError, UmamiLibrary

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ["ee_mumu", "ee_qqg", "drell_yan", "w_production", "w_jet", "ttbar", "ttbar_jet", "gg_ggg",
             "ttbar_dilepton"]
SQRT_S = 1000.0
N_POINTS = 6
TOLERANCE = 1e-10


# ------------------------------------------------------------------ helpers --

def rambo(out_masses: list[float], sqrt_s: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``(n, 2 + len(out_masses), 4)`` momenta: massless beams along +-z in the
    centre-of-mass frame, final state from RAMBO (massive by xi rescaling)."""
    k = len(out_masses)
    r = rng.random((n, k, 4))
    cos = 2.0 * r[..., 0] - 1.0
    sin = np.sqrt(1.0 - cos * cos)
    phi = 2.0 * np.pi * r[..., 1]
    q0 = -np.log(r[..., 2] * r[..., 3])
    q = np.stack([q0, q0 * sin * np.cos(phi), q0 * sin * np.sin(phi), q0 * cos], axis=-1)
    total = q.sum(axis=1)
    mass = np.sqrt(total[:, 0] ** 2 - (total[:, 1:] ** 2).sum(-1))
    b = -total[:, 1:] / mass[:, None]
    gamma = total[:, 0] / mass
    a = 1.0 / (1.0 + gamma)
    x = sqrt_s / mass
    bq = (b[:, None, :] * q[..., 1:]).sum(-1)
    p = np.empty_like(q)
    p[..., 0] = x[:, None] * (gamma[:, None] * q[..., 0] + bq)
    p[..., 1:] = x[:, None, None] * (q[..., 1:] + b[:, None, :] * q[..., :1]
                                     + a[:, None, None] * bq[..., None] * b[:, None, :])
    m = np.asarray(out_masses, dtype=float)
    if m.any():
        xi = np.full(n, np.sqrt(1.0 - (m.sum() / sqrt_s) ** 2))
        for _ in range(60):  # Newton: sum_i sqrt(m_i^2 + xi^2 E_i^2) = sqrt_s
            e = np.sqrt(m ** 2 + xi[:, None] ** 2 * p[..., 0] ** 2)
            xi = xi - (e.sum(1) - sqrt_s) / (xi[:, None] * p[..., 0] ** 2 / e).sum(1)
        e = np.sqrt(m ** 2 + xi[:, None] ** 2 * p[..., 0] ** 2)
        p[..., 1:] *= xi[:, None, None]
        p[..., 0] = e
    beams = np.zeros((n, 2, 4))
    beams[:, 0] = [sqrt_s / 2, 0.0, 0.0, sqrt_s / 2]
    beams[:, 1] = [sqrt_s / 2, 0.0, 0.0, -sqrt_s / 2]
    return np.concatenate([beams, p], axis=1)


def boost_and_rotate(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random Lorentz boost (|beta| < 0.87) followed by a random rotation."""
    beta = rng.uniform(-0.5, 0.5, 3)
    b2 = beta @ beta
    gamma = 1.0 / np.sqrt(1.0 - b2)
    e, v = p[..., 0], p[..., 1:]
    bv = v @ beta
    e2 = gamma * (e + bv)
    v2 = v + ((gamma - 1.0) * bv / b2 + gamma * e)[..., None] * beta
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rot = np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * k @ k
    return np.concatenate([e2[..., None], v2 @ rot.T], axis=-1)


def minkowski(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] - (a[..., 1:] * b[..., 1:]).sum(-1)


def points_for(proc, pdgs: tuple, n: int, rng: np.random.Generator) -> np.ndarray:
    masses = [proc.param_card.mass(abs(p)) for p in pdgs[proc.n_incoming:]]
    return rambo(masses, SQRT_S, n, rng)


@pytest.fixture(scope="module")
def zero_width_card(tmp_path_factory) -> Path:
    """The default param card with every DECAY width set to zero."""
    lines = []
    for line in (ROOT / "cards" / "param_card.dat").read_text().splitlines():
        fields = line.split()
        if fields[:1] and fields[0].upper() == "DECAY":
            line = f"DECAY {fields[1]} 0.0"
        lines.append(line)
    path = tmp_path_factory.mktemp("cards") / "param_card_zero_widths.dat"
    path.write_text("\n".join(lines) + "\n")
    return path


_LOADED: dict = {}


def load(name: str, param_card: Path | None = None, zerowidth_tchannel: bool = False):
    key = (name, str(param_card), zerowidth_tchannel)
    if key not in _LOADED:
        _LOADED[key] = madnis_plugin.load_process(name, param_card=param_card,
                                                  zerowidth_tchannel=zerowidth_tchannel)
    return _LOADED[key]


def all_subprocesses():
    for name in PROCESSES:
        meta = json.loads((ROOT / "processes" / name / "process.json").read_text())
        for group in meta["groups"]:
            for sub in group["subprocesses"]:
                yield name, tuple(sub["pdg"])


# ------------------------------------------------------- Standard Model inputs --

class SM:
    """Tree-level electroweak parameters from the card inputs, written out
    independently of csrc/sm_parameters.c."""

    def __init__(self, proc):
        get = lambda name: proc.library.get_parameter(name).real  # noqa: E731 - card inputs only
        self.aEWM1, self.Gf, self.MZ = get("aEWM1"), get("Gf"), get("MZ")
        self.WZ, self.WW, self.aS = get("WZ"), get("WW"), get("aS")
        alpha = 1.0 / self.aEWM1
        mz2 = self.MZ ** 2
        self.MW = math.sqrt(mz2 / 2 + math.sqrt(mz2 ** 2 / 4 - alpha * math.pi * mz2 / (self.Gf * math.sqrt(2))))
        self.sw2 = 1.0 - self.MW ** 2 / mz2
        self.e = math.sqrt(4.0 * math.pi * alpha)
        self.gw = self.e / math.sqrt(self.sw2)
        self.gz = self.e / math.sqrt(self.sw2 * (1.0 - self.sw2))

    # charge and weak isospin of the left-handed fermion
    QT3 = {1: (-1 / 3, -0.5), 2: (2 / 3, 0.5), 3: (-1 / 3, -0.5), 4: (2 / 3, 0.5),
           11: (-1.0, -0.5), 13: (-1.0, -0.5)}

    def neutral_amplitudes(self, a: int, b: int, s: np.ndarray) -> dict:
        """Reduced photon + Z amplitudes A_ij (i, j = chirality of fermions a, b)."""
        qa, t3a = self.QT3[a]
        qb, t3b = self.QT3[b]
        z = {"L": lambda q, t3: self.gz * (t3 - q * self.sw2), "R": lambda q, t3: -self.gz * q * self.sw2}
        bw = s - self.MZ ** 2 + 1j * self.MZ * self.WZ
        return {i + j: self.e ** 2 * qa * qb / s + z[i](qa, t3a) * z[j](qb, t3b) / bw
                for i in "LR" for j in "LR"}


def neutral_current_me2(sm: SM, a: int, b: int, p_fermion_in, p_antifermion_in, p_antifermion_out,
                        p_fermion_out, colour_average: float) -> np.ndarray:
    """f_a fbar_a -> fbar_b f_b through photon and Z, massless, averaged:
    same chiralities go with u^2, opposite with t^2 (u = (p_f,in - p_fbar,out)^2)."""
    s = minkowski(p_fermion_in + p_antifermion_in, p_fermion_in + p_antifermion_in)
    t = minkowski(p_fermion_in - p_fermion_out, p_fermion_in - p_fermion_out)
    u = minkowski(p_fermion_in - p_antifermion_out, p_fermion_in - p_antifermion_out)
    amp = sm.neutral_amplitudes(a, b, s)
    summed = 4.0 * ((abs(amp["LL"]) ** 2 + abs(amp["RR"]) ** 2) * u ** 2
                    + (abs(amp["LR"]) ** 2 + abs(amp["RL"]) ** 2) * t ** 2)
    return summed / 4.0 * colour_average


# ------------------------------------------------------------- closed forms --

def test_ee_mumu_matches_photon_z_formula() -> None:
    proc = load("ee_mumu")
    p = rambo([0, 0], SQRT_S, 50, np.random.default_rng(11))
    expected = neutral_current_me2(SM(proc), 11, 13, p[:, 1], p[:, 0], p[:, 2], p[:, 3], 1.0)
    np.testing.assert_allclose(proc.matrix_element(p), expected, rtol=TOLERANCE, atol=0.0)


def test_ee_mumu_formula_holds_near_the_z_pole_with_a_modified_card(tmp_path: Path) -> None:
    # a changed Z width must reach the propagator: compare on the pole, where it dominates
    card = (ROOT / "cards" / "param_card.dat").read_text().replace(
        "DECAY  23 2.441404e+00", "DECAY  23 3.000000e+00")
    path = tmp_path / "param_card.dat"
    path.write_text(card)
    proc = madnis_plugin.load_process("ee_mumu", param_card=path)
    assert proc.library.get_parameter("WZ").real == 3.0
    p = rambo([0, 0], 91.188, 10, np.random.default_rng(12))
    expected = neutral_current_me2(SM(proc), 11, 13, p[:, 1], p[:, 0], p[:, 2], p[:, 3], 1.0)
    np.testing.assert_allclose(proc.matrix_element(p), expected, rtol=TOLERANCE, atol=0.0)


@pytest.mark.parametrize("pdgs", [s for n, s in all_subprocesses() if n == "drell_yan"])
def test_drell_yan_matches_photon_z_formula(pdgs: tuple) -> None:
    proc = load("drell_yan")
    p = rambo([0, 0], SQRT_S, 30, np.random.default_rng(13))
    quark = 0 if pdgs[0] > 0 else 1
    expected = neutral_current_me2(SM(proc), abs(pdgs[0]), 11, p[:, quark], p[:, 1 - quark], p[:, 2], p[:, 3],
                                   1.0 / 3.0)
    np.testing.assert_allclose(proc.matrix_element(p, pdgs=pdgs), expected, rtol=TOLERANCE, atol=0.0)


@pytest.mark.parametrize("pdgs", [s for n, s in all_subprocesses() if n == "w_production"])
def test_w_production_matches_w_formula(pdgs: tuple) -> None:
    # only left-handed fermions: sum_hel |M|^2 = 4 |A|^2 u^2, A = (g^2/2) / (s - MW^2 + i MW GW)
    proc = load("w_production")
    sm = SM(proc)
    p = rambo([0, 0], SQRT_S, 30, np.random.default_rng(14))
    up = 0 if pdgs[0] > 0 else 1
    s = minkowski(p[:, 0] + p[:, 1], p[:, 0] + p[:, 1])
    u = minkowski(p[:, up] - p[:, 2], p[:, up] - p[:, 2])
    amp = sm.gw ** 2 / 2 / (s - sm.MW ** 2 + 1j * sm.MW * sm.WW)
    expected = 4 * abs(amp) ** 2 * u ** 2 / 4 / 3
    np.testing.assert_allclose(proc.matrix_element(p, pdgs=pdgs), expected, rtol=TOLERANCE, atol=0.0)


@pytest.mark.parametrize("pdgs", [s for n, s in all_subprocesses() if n == "ttbar"])
def test_ttbar_matches_heavy_quark_formulas(pdgs: tuple) -> None:
    # Ellis-Stirling-Webber eq. (10.12), no top width: compare with t-channel widths dropped
    proc = load("ttbar", zerowidth_tchannel=True)
    mt = proc.param_card.mass(6)
    p = points_for(proc, pdgs, 30, np.random.default_rng(15))
    alpha_s = 0.13
    g4 = (4 * math.pi * alpha_s) ** 2
    s = minkowski(p[:, 0] + p[:, 1], p[:, 0] + p[:, 1])
    tau1 = 2 * minkowski(p[:, 0], p[:, 2]) / s
    tau2 = 2 * minkowski(p[:, 1], p[:, 2]) / s
    rho = 4 * mt ** 2 / s
    if pdgs[0] == 21:
        expected = g4 * (1 / (6 * tau1 * tau2) - 3 / 8) * (tau1 ** 2 + tau2 ** 2 + rho - rho ** 2 / (4 * tau1 * tau2))
    else:
        expected = g4 * 4 / 9 * (tau1 ** 2 + tau2 ** 2 + rho / 2)
    np.testing.assert_allclose(proc.matrix_element(p, pdgs=pdgs, alpha_s=alpha_s), expected,
                               rtol=TOLERANCE, atol=0.0)


def test_gg_ggg_matches_parke_taylor_sum() -> None:
    # Five gluons: the colour sum of the (anti-)MHV amplitudes is exact at n = 5,
    # sum |M|^2 = 2 g^6 N^3 (N^2 - 1) sum_{i<j} s_ij^4 sum_{P in S4} 1/(s_1P2 s_P2P3 ... s_P5 1)
    # (the 2: MHV and anti-MHV configurations); average 1/256, identical gluons 1/3!.
    proc = load("gg_ggg")
    p = rambo([0, 0, 0], SQRT_S, 20, np.random.default_rng(16))
    k = p.copy()
    k[:, :2] *= -1  # all outgoing
    s = {(i, j): 2 * minkowski(k[:, i], k[:, j]) for i in range(5) for j in range(5) if i != j}
    numerator = sum(s[(i, j)] ** 4 for i, j in itertools.combinations(range(5), 2))
    cyclic = sum(1 / np.prod([s[(o[a], o[(a + 1) % 5])] for a in range(5)], axis=0)
                 for o in ([0] + list(perm) for perm in itertools.permutations(range(1, 5))))
    g = math.sqrt(4 * math.pi * 0.118)
    expected = 2 * g ** 6 * 27 * 8 * numerator * cyclic / 256 / 6
    np.testing.assert_allclose(proc.matrix_element(p), expected, rtol=TOLERANCE, atol=0.0)


def _two_body_decays(parent: np.ndarray, m1: float, m2: float, rng: np.random.Generator):
    """Isotropic two-body decays of ``parent`` (n, 4) into masses m1, m2 (a parent at rest included)."""
    mass = np.sqrt(minkowski(parent, parent))
    q = np.sqrt((mass ** 2 - (m1 + m2) ** 2) * (mass ** 2 - (m1 - m2) ** 2)) / (2 * mass)
    cos = rng.uniform(-1, 1, len(parent))
    phi = rng.uniform(0, 2 * np.pi, len(parent))
    sin = np.sqrt(1 - cos ** 2)
    direction = np.stack([sin * np.cos(phi), sin * np.sin(phi), cos], axis=-1)
    rest = [np.concatenate([np.sqrt(m ** 2 + q ** 2)[:, None], sign * q[:, None] * direction], axis=-1)
            for m, sign in ((m1, 1.0), (m2, -1.0))]
    beta = parent[:, 1:] / parent[:, :1]
    b2 = (beta ** 2).sum(-1)
    gamma = 1 / np.sqrt(1 - b2)
    out = []
    for p in rest:
        bp = (beta * p[:, 1:]).sum(-1)
        e = gamma * (p[:, 0] + bp)
        v = p[:, 1:] + ((gamma - 1) * bp / np.where(b2 > 0, b2, 1.0) + gamma * p[:, 0])[:, None] * beta
        out.append(np.concatenate([e[:, None], v], axis=-1))
    return out


@pytest.mark.parametrize("production", [(21, 21, 6, -6), (2, -2, 6, -6)])
def test_ttbar_dilepton_factorises_into_production_and_decays_on_shell(production: tuple) -> None:
    # With on-shell tops and Ws, averaging over the decay angles removes the spin
    # correlations: <|M|^2> = |M(prod)|^2 * prod_tops [(1/2) <sum |M(t -> b l nu)|^2>] / (mt wt)^4,
    # sum |M(t -> b e+ ve)|^2 = 4 gw^4 (pt.pe)(pb.pnu) / (MW WW)^2 (b mass drops out of V-A).
    # Monte Carlo over 40000 decay configurations: statistical error ~0.3%, tolerance 2%.
    dilepton, ttbar = load("ttbar_dilepton"), load("ttbar")
    sm = SM(dilepton)
    mt, wt, mb = dilepton.param_card.mass(6), dilepton.library.get_parameter("WT").real, dilepton.param_card.mass(5)
    rng = np.random.default_rng(101)
    prod = points_for(ttbar, production, 1, rng)
    n = 40000
    p = np.repeat(prod, n, axis=0)
    b, w_plus = _two_body_decays(p[:, 2], mb, sm.MW, rng)
    e_plus, nu = _two_body_decays(w_plus, 0.0, 0.0, rng)
    b_bar, w_minus = _two_body_decays(p[:, 3], mb, sm.MW, rng)
    mu, nu_bar = _two_body_decays(w_minus, 0.0, 0.0, rng)
    full = np.stack([p[:, 0], p[:, 1], b, e_plus, nu, b_bar, mu, nu_bar], axis=1)
    pdgs = production[:2] + (5, -11, 12, -5, 13, -14)
    me_full = dilepton.matrix_element(full, pdgs=pdgs)
    me_prod = ttbar.matrix_element(prod, pdgs=production)[0]
    bw_w = (sm.MW * sm.WW) ** 2
    decay_t = 4 * sm.gw ** 4 * minkowski(p[:, 2], e_plus) * minkowski(b, nu) / bw_w
    decay_tbar = 4 * sm.gw ** 4 * minkowski(p[:, 3], mu) * minkowski(b_bar, nu_bar) / bw_w
    expected = me_prod * (0.5 * decay_t.mean()) * (0.5 * decay_tbar.mean()) / (mt * wt) ** 4
    assert me_full.mean() == pytest.approx(expected, rel=0.02)


# ------------------------------------------------------------- invariances --

def _lorentz_cases():
    for name, pdgs in all_subprocesses():
        if name == "ttbar_dilepton" and 21 in pdgs[:2]:
            continue  # the doubly resonant subset is not gauge invariant, so polarisation sums depend on the frame
        yield name, pdgs


@pytest.mark.parametrize("name, pdgs", list(_lorentz_cases()))
def test_lorentz_invariance_with_zero_widths(name: str, pdgs: tuple, zero_width_card: Path) -> None:
    # Widths break gauge invariance and with it the frame independence of the
    # polarisation sums of external gluons; with zero widths every process is invariant.
    proc = load(name, param_card=zero_width_card)
    rng = np.random.default_rng(zlib.crc32(repr((name, pdgs)).encode()))
    p = points_for(proc, pdgs, N_POINTS, rng)
    np.testing.assert_allclose(proc.matrix_element(boost_and_rotate(p, rng), pdgs=pdgs),
                               proc.matrix_element(p, pdgs=pdgs), rtol=TOLERANCE, atol=0.0)


@pytest.mark.parametrize("name", ["ee_mumu", "drell_yan", "w_production", "ttbar_dilepton"])
def test_lorentz_invariance_with_widths_without_external_gauge_bosons(name: str) -> None:
    proc = load(name)
    rng = np.random.default_rng(21)
    for pdgs in proc.subprocesses:
        if 21 in pdgs or 22 in pdgs:
            continue
        p = points_for(proc, pdgs, N_POINTS, rng)
        np.testing.assert_allclose(proc.matrix_element(boost_and_rotate(p, rng), pdgs=pdgs),
                                   proc.matrix_element(p, pdgs=pdgs), rtol=TOLERANCE, atol=0.0)


def _gauge_cases():
    for name, pdgs in all_subprocesses():
        if name == "ttbar_dilepton":
            continue  # doubly resonant subset: not gauge invariant (issue 3)
        for leg, pdg in enumerate(pdgs):
            if pdg in (21, 22):
                yield name, pdgs, leg


@pytest.mark.parametrize("name, pdgs, leg", list(_gauge_cases()))
def test_gauge_invariance_polarisation_replaced_by_momentum_vanishes(name: str, pdgs: tuple, leg: int,
                                                                    zero_width_card: Path) -> None:
    # |M(eps -> k)|^2 / (|M|^2 E^2) is a ratio of amplitudes squared: rounding leaves ~1e-30;
    # a wrong sign or colour factor leaves O(1). 1e-20 is the amplitude-level 1e-10.
    proc = madnis_plugin.load_process(name, param_card=zero_width_card)
    flavor = proc.flavor_index(pdgs)
    p = points_for(proc, pdgs, N_POINTS, np.random.default_rng(31 + leg))
    physical = proc.evaluate(p, flavor_index=flavor).me2
    proc.library.set_parameter("gauge_probe_leg", leg + 1)
    probed = proc.evaluate(p, flavor_index=flavor).me2
    proc.library.set_parameter("gauge_probe_leg", 0)
    assert np.all(physical > 0)
    assert np.max(np.abs(probed) / (physical * p[:, leg, 0] ** 2)) < 1e-20


def test_gauge_probe_is_not_zero_for_a_non_gauge_invariant_subset(zero_width_card: Path) -> None:
    # the probe itself must be able to fail: the doubly resonant gg -> tt~ -> 6 subset is not invariant
    proc = madnis_plugin.load_process("ttbar_dilepton", param_card=zero_width_card)
    p = points_for(proc, proc.subprocesses[0], N_POINTS, np.random.default_rng(32))
    physical = proc.evaluate(p).me2
    proc.library.set_parameter("gauge_probe_leg", 1)
    probed = proc.evaluate(p).me2
    assert np.min(np.abs(probed) / (physical * p[:, 0, 0] ** 2)) > 1e-12


def _swap_pairs():
    for name in PROCESSES:
        subs = set(s for n, s in all_subprocesses() if n == name)
        for pdgs in sorted(subs):
            swapped = (pdgs[1], pdgs[0]) + pdgs[2:]
            if swapped in subs and pdgs[0] > swapped[0]:
                yield name, pdgs, swapped


@pytest.mark.parametrize("name, pdgs, swapped", list(_swap_pairs()))
def test_beam_swapped_subprocesses_agree(name: str, pdgs: tuple, swapped: tuple) -> None:
    # crossing of the two beams: |M|^2_ab(p1, p2, ...) = |M|^2_ba(p2, p1, ...)
    proc = load(name)
    p = points_for(proc, pdgs, N_POINTS, np.random.default_rng(41))
    q = p.copy()
    q[:, [0, 1]] = p[:, [1, 0]]
    np.testing.assert_allclose(proc.matrix_element(q, pdgs=swapped), proc.matrix_element(p, pdgs=pdgs),
                               rtol=TOLERANCE, atol=0.0)


def _flavour_pairs():
    rename = {4: 2, -4: -2, 3: 1, -3: -1}
    for name, pdgs in all_subprocesses():
        light = tuple(rename.get(x, x) for x in pdgs)
        if light != pdgs:
            yield name, pdgs, light


@pytest.mark.parametrize("name, pdgs, light", list(_flavour_pairs()))
def test_second_generation_equals_first_generation(name: str, pdgs: tuple, light: tuple) -> None:
    # massless quarks, CKM = 1: c behaves as u and s as d
    proc = load(name)
    p = points_for(proc, pdgs, N_POINTS, np.random.default_rng(42))
    np.testing.assert_allclose(proc.matrix_element(p, pdgs=pdgs), proc.matrix_element(p, pdgs=light),
                               rtol=TOLERANCE, atol=0.0)


@pytest.mark.parametrize("name, power", [("ee_mumu", 0), ("drell_yan", 0), ("ee_qqg", 1), ("w_jet", 1),
                                         ("ttbar", 2), ("ttbar_dilepton", 2), ("ttbar_jet", 3),
                                         ("gg_ggg", 3)])
def test_alpha_s_input_scales_as_the_qcd_order(name: str, power: int) -> None:
    proc = load(name)
    rng = np.random.default_rng(51)
    for pdgs in proc.subprocesses[:3]:
        p = points_for(proc, pdgs, N_POINTS, rng)
        ratio = proc.matrix_element(p, pdgs=pdgs, alpha_s=0.2) / proc.matrix_element(p, pdgs=pdgs, alpha_s=0.1)
        np.testing.assert_allclose(ratio, 2.0 ** power, rtol=1e-12)


def test_zerowidth_tchannel_drops_only_tchannel_widths() -> None:
    # gg -> tt~ has t-channel tops (changes), q q~ -> tt~ only an s-channel gluon (unchanged)
    with_width, without = load("ttbar"), load("ttbar", zerowidth_tchannel=True)
    p = points_for(with_width, (21, 21, 6, -6), N_POINTS, np.random.default_rng(52))
    gg_w, gg_0 = with_width.matrix_element(p), without.matrix_element(p)
    assert np.all(np.abs(gg_w / gg_0 - 1) > 1e-9)
    qq = (2, -2, 6, -6)
    np.testing.assert_array_equal(with_width.matrix_element(p, pdgs=qq), without.matrix_element(p, pdgs=qq))


def test_library_defaults_equal_the_shipped_param_card() -> None:
    for name in ("ttbar_dilepton", "ee_mumu"):
        proc = load(name)
        defaults = UmamiLibrary(proc.library.path, None)
        rng = np.random.default_rng(53)
        for flavor, pdgs in enumerate(proc.subprocesses[:2]):
            p = points_for(proc, pdgs, N_POINTS, rng)
            np.testing.assert_array_equal(defaults.evaluate(p, flavor_index=flavor).me2,
                                          proc.evaluate(p, flavor_index=flavor).me2)


def test_helicity_filter_changes_nothing() -> None:
    # the filter skips configurations that vanish at two generic points; summing all must agree
    for name in ("ttbar_jet", "ttbar_dilepton", "gg_ggg"):
        proc = load(name)
        rng = np.random.default_rng(54)
        p = points_for(proc, proc.subprocesses[0], N_POINTS, rng)
        q = boost_and_rotate(p, rng)
        filtered = proc.matrix_element(p), proc.matrix_element(q)
        proc.library.set_parameter("helicity_filter", 0)
        try:
            np.testing.assert_allclose(proc.matrix_element(p), filtered[0], rtol=1e-13)
            np.testing.assert_allclose(proc.matrix_element(q), filtered[1], rtol=1e-13)
        finally:
            proc.library.set_parameter("helicity_filter", 1)


# ------------------------------------------------- diagrams, colour, helicity --

@pytest.mark.parametrize("name", PROCESSES)
def test_diagram_amp2_normalised_and_four_point_slots_zero(name: str) -> None:
    proc = load(name)
    meta = json.loads((ROOT / "processes" / name / "process.json").read_text())
    assert proc.diagram_count == max(d["number"] for g in meta["groups"] for d in g["diagrams"])
    rng = np.random.default_rng(61)
    for group in meta["groups"]:
        with_channel = {d["number"] - 1 for d in group["diagrams"] if not d["four_point"]}
        for sub in group["subprocesses"][:2]:
            p = points_for(proc, tuple(sub["pdg"]), N_POINTS, rng)
            amp2 = proc.evaluate(p, flavor_index=sub["flavor_index"]).amp2
            np.testing.assert_allclose(amp2.sum(axis=1), 1.0, rtol=1e-12)
            others = [d for d in range(proc.diagram_count) if d not in with_channel]
            assert np.all(amp2[:, others] == 0.0)
            assert np.all(amp2[:, sorted(with_channel)] > 0.0)


@pytest.mark.parametrize("name", PROCESSES)
def test_color_and_helicity_indices_in_range_and_allowed(name: str) -> None:
    proc = load(name)
    meta = json.loads((ROOT / "processes" / name / "process.json").read_text())
    helicities = np.array(meta["helicities"])
    rng = np.random.default_rng(62)
    for group in meta["groups"]:
        for sub in group["subprocesses"][:2]:
            pdgs = tuple(sub["pdg"])
            p = points_for(proc, pdgs, 50, rng)
            res = proc.evaluate(p, flavor_index=sub["flavor_index"], random_color=rng.random(50),
                                random_helicity=rng.random(50))
            assert np.all((res.color_index >= 0) & (res.color_index < len(sub["color_flows"])))
            assert np.all((res.helicity_index >= 0) & (res.helicity_index < len(helicities)))
            # massless fermion lines conserve chirality: an incoming massless
            # fermion-antifermion pair annihilating into a vector has opposite helicities
            hel = helicities[res.helicity_index]
            if pdgs[0] == -pdgs[1] and abs(pdgs[0]) in (1, 2, 3, 4, 11):
                assert np.all(hel[:, 0] == -hel[:, 1])


def test_color_flows_are_valid_lhe_colour_connections() -> None:
    for name in PROCESSES:
        meta = json.loads((ROOT / "processes" / name / "process.json").read_text())
        for group in meta["groups"]:
            for sub in group["subprocesses"]:
                for flow in sub["color_flows"]:
                    # each tag appears twice: (in colour, out colour), (in anti, out anti),
                    # (in colour, in anti) or (out colour, out anti)
                    seen: dict = {}
                    for leg, (c, a) in enumerate(flow):
                        incoming = leg < meta["n_incoming"]
                        for tag, is_colour in ((c, True), (a, False)):
                            if tag:
                                seen.setdefault(tag, []).append(is_colour != incoming)
                    for tag, roles in seen.items():
                        assert len(roles) == 2 and roles[0] != roles[1], (name, sub["pdg"], flow)


def test_helicity_selection_follows_analytic_helicity_shares() -> None:
    # e+ e- -> mu+ mu-: the weight of (e-, mu-) chiralities (i, j) is |A_ij|^2 u^2 (same) or t^2
    proc = load("ee_mumu")
    sm = SM(proc)
    meta = json.loads((ROOT / "processes" / "ee_mumu" / "process.json").read_text())
    helicities = np.array(meta["helicities"])
    p = rambo([0, 0], SQRT_S, 1, np.random.default_rng(71))
    s = minkowski(p[:, 0] + p[:, 1], p[:, 0] + p[:, 1])[0]
    t = minkowski(p[:, 1] - p[:, 3], p[:, 1] - p[:, 3])[0]
    u = minkowski(p[:, 1] - p[:, 2], p[:, 1] - p[:, 2])[0]
    amp = sm.neutral_amplitudes(11, 13, s)
    weight = {(i, j): abs(amp[i + j]) ** 2 * (u ** 2 if i == j else t ** 2) for i in "LR" for j in "LR"}
    total = sum(weight.values())
    n = 4000
    r = (np.arange(n) + 0.5) / n
    res = proc.evaluate(np.repeat(p, n, axis=0), random_color=r, random_helicity=r)
    chosen = helicities[res.helicity_index]
    chirality = {-1: "L", 1: "R"}
    for (i, j), w in weight.items():
        share = np.mean([(chirality[h[1]], chirality[h[3]]) == (i, j) for h in chosen])
        assert share == pytest.approx(w / total, abs=1.5 / n)  # a deterministic grid of r: error <= 1/n
    assert np.all(chosen[:, 0] == -chosen[:, 1]) and np.all(chosen[:, 2] == -chosen[:, 3])


def test_color_selection_follows_leading_colour_shares() -> None:
    # q q~ -> t t~ through one gluon: T^a_ij T^a_kl = (d_il d_kj - d_ij d_kl / 3) / 2,
    # so |JAMP|^2 are in the ratio 1 : 9, the larger carrying the quark's colour into the top
    proc = load("ttbar")
    pdgs = (2, -2, 6, -6)
    flows = [s for g in proc.metadata.raw["groups"] for s in g["subprocesses"] if tuple(s["pdg"]) == pdgs][0]
    flows = flows["color_flows"]
    p = points_for(proc, pdgs, 3, np.random.default_rng(72))
    n = 2000
    r = (np.arange(n) + 0.5) / n
    res = proc.evaluate(np.repeat(p, n, axis=0), flavor_index=proc.flavor_index(pdgs), random_color=np.tile(r, 3),
                        random_helicity=np.tile(r, 3))
    shares = np.bincount(res.color_index, minlength=2) / len(res.color_index)
    leading = int(np.argmax(shares))
    assert shares[leading] == pytest.approx(0.9, abs=1.5 / n)
    assert flows[leading][0][0] == flows[leading][2][0]  # u colour == t colour


# ----------------------------------------------------------- the UMAMI ABI --

def _umami(name: str):
    """The process library opened directly with ctypes, with one fresh handle."""
    lib = ctypes.CDLL(str(load(name).library.path))
    lib.umami_initialize.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p]
    lib.umami_matrix_element.argtypes = [ctypes.c_void_p] + [ctypes.c_size_t] * 4 + [
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_void_p)]
    lib.umami_free.argtypes = [ctypes.c_void_p]
    handle = ctypes.c_void_p()
    assert lib.umami_initialize(ctypes.byref(handle), None) == 0
    return lib, handle


def test_umami_metadata_matches_process_json() -> None:
    for name in PROCESSES:
        lib, handle = _umami(name)
        meta = json.loads((ROOT / "processes" / name / "process.json").read_text())
        value = ctypes.c_int()
        expected = {1: meta["n_external"], 3: 2 ** meta["n_external"], 6: 1, 7: 1,
                    2: max(d["number"] for g in meta["groups"] for d in g["diagrams"]),
                    4: max(len(s["color_flows"]) for g in meta["groups"] for s in g["subprocesses"])}
        for key, want in expected.items():
            assert lib.umami_get_meta(key, ctypes.byref(value)) == 0 and value.value == want, (name, key)
        fingerprint = ctypes.c_char_p()
        assert lib.umami_get_meta(8, ctypes.byref(fingerprint)) == 0
        assert name in fingerprint.value.decode()
        assert lib.umami_get_meta(99, ctypes.byref(value)) == 6  # UNSUPPORTED_META
        lib.umami_free(handle)


def test_umami_offset_and_stride_address_the_documented_layout() -> None:
    # momenta[stride * (n_particles * mu + p) + offset + i]; outputs at [offset + i] and [stride * d + offset + i]
    proc = load("ttbar")
    lib, handle = _umami("ttbar")
    p = points_for(proc, proc.subprocesses[0], 8, np.random.default_rng(91))
    momenta = np.ascontiguousarray(p.transpose(2, 1, 0))  # (mu, particle, event)
    me = np.full(8, -1.0)
    amp2 = np.full((3, 8), -1.0)
    in_keys = (ctypes.c_int * 1)(0)
    inputs = (ctypes.c_void_p * 1)(momenta.ctypes.data)
    out_keys = (ctypes.c_int * 2)(0, 1)
    outputs = (ctypes.c_void_p * 2)(me.ctypes.data, amp2.ctypes.data)
    assert lib.umami_matrix_element(handle, 3, 8, 2, 1, in_keys, inputs, 2, out_keys, outputs) == 0
    reference = proc.evaluate(p)
    np.testing.assert_array_equal(me[2:5], reference.me2[2:5])
    np.testing.assert_array_equal(amp2[:, 2:5].T, reference.amp2[2:5])
    assert np.all(me[:2] == -1.0) and np.all(me[5:] == -1.0) and np.all(amp2[:, 5:] == -1.0)
    # G_STRONG is the same coupling as ALPHA_S = g^2 / (4 pi)
    alpha, g = np.full(8, 0.1), np.full(8, math.sqrt(4 * math.pi * 0.1))
    me_alpha, me_g = np.zeros(8), np.zeros(8)
    for key, value, out in ((1, alpha, me_alpha), (9, g, me_g)):
        keys = (ctypes.c_int * 2)(0, key)
        values = (ctypes.c_void_p * 2)(momenta.ctypes.data, value.ctypes.data)
        assert lib.umami_matrix_element(handle, 8, 8, 0, 2, keys, values, 1, out_keys,
                                        (ctypes.c_void_p * 1)(out.ctypes.data)) == 0
    np.testing.assert_allclose(me_g, me_alpha, rtol=1e-14)
    # a window past the end of the batch, an unknown input and a missing momentum array are errors
    assert lib.umami_matrix_element(handle, 7, 8, 2, 1, in_keys, inputs, 2, out_keys, outputs) == 1
    bad_keys = (ctypes.c_int * 1)(8)  # CHANNEL_INDEX: not supported
    assert lib.umami_matrix_element(handle, 1, 8, 0, 1, bad_keys, inputs, 2, out_keys, outputs) == 3
    assert lib.umami_matrix_element(handle, 1, 8, 0, 0, None, None, 2, out_keys, outputs) == 7
    lib.umami_free(handle)


# -------------------------------------------------------------- robustness --

def test_bad_inputs_raise_instead_of_crashing() -> None:
    proc = load("ttbar")
    p = points_for(proc, proc.subprocesses[0], 2, np.random.default_rng(81))
    with pytest.raises(UmamiError):
        proc.evaluate(p, flavor_index=len(proc.subprocesses))
    with pytest.raises(UmamiError):
        proc.evaluate(p, flavor_index=-1)
    with pytest.raises(UmamiError):
        proc.evaluate(p, alpha_s=-0.1)
    with pytest.raises(UmamiError):
        proc.library.set_parameter("no_such_parameter", 1.0)
    with pytest.raises(UmamiError):
        proc.library.set_parameter("gauge_probe_leg", 99)


@pytest.mark.parametrize("name", ["ee_mumu", "ttbar_jet", "gg_ggg"])
def test_non_finite_or_zero_momenta_give_nan_and_valid_indices(name: str) -> None:
    # garbage in must not crash the library nor produce out-of-range indices
    proc = load(name)
    p = np.full((3, proc.n_external, 4), np.nan)
    p[1], p[2] = 0.0, 1e300
    res = proc.evaluate(p, random_color=np.array([0.1, 0.5, 0.9]), random_helicity=np.array([0.1, 0.5, 0.9]))
    assert np.all(np.isnan(res.me2))
    assert np.all((res.color_index >= 0) & (res.color_index < proc.library.n_colors))
    assert np.all((res.helicity_index >= 0) & (res.helicity_index < proc.library.n_helicities))
    np.testing.assert_allclose(res.amp2.sum(axis=1), 1.0)


def test_malformed_param_card_is_an_initialisation_error(tmp_path: Path) -> None:
    card = tmp_path / "param_card.dat"
    card.write_text("BLOCK MASS\n  6 not-a-number\n")
    with pytest.raises(UmamiError):
        UmamiLibrary(load("ee_mumu").library.path, card)
    with pytest.raises(UmamiError):
        UmamiLibrary(load("ee_mumu").library.path, tmp_path / "missing.dat")


@pytest.mark.slow
def test_generated_sources_are_reproducible(tmp_path: Path) -> None:
    # the committed C and process.json are exactly what the generator writes
    subprocess.run([sys.executable, str(ROOT / "processes" / "_generate" / "generate.py"), "--output",
                    str(tmp_path)], check=True, capture_output=True)
    for name in PROCESSES:
        for filename in (f"{name}.c", "process.json"):
            assert (tmp_path / name / filename).read_text() == (ROOT / "processes" / name / filename).read_text()
