"""Event files as MadGraph writes them: init block, weights, kinematics, resonances, colour, bytes.

The files come from short runs (a few VEGAS iterations); the properties
checked here hold event by event, whatever the sampler's quality.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pylhe
import pytest

from madnis_plugin import api, load_process, resources
from madnis_plugin.cards import read_param_card

QUICK = dict(train_batches=3, points=5000, batch_points=2000)

#: Relative tolerance of quantities printed with 11 significant digits and summed over a few legs.
PRINT_RTOL = 1e-8


def _run_card_with(tmp_path: Path, event_norm: str) -> Path:
    text = resources.default_card("run_card.dat").read_text()
    text = re.sub(r"^\s*\S+\s*=\s*event_norm", f" {event_norm} = event_norm", text, flags=re.M)
    path = tmp_path / f"run_card_{event_norm}.dat"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def ee_files(tmp_path_factory):
    """ee_mumu files for each event_norm, plus a second seed."""
    folder = tmp_path_factory.mktemp("ee")
    files = {}
    for norm in ("average", "sum", "unity"):
        out = folder / f"ee_{norm}.lhe.gz"
        files[norm] = (out, api.generate("ee_mumu", 1500, out, seed=4, run_card=_run_card_with(folder, norm),
                                         **QUICK))
    other = folder / "ee_seed5.lhe.gz"
    files["seed5"] = (other, api.generate("ee_mumu", 1500, other, seed=5,
                                          run_card=_run_card_with(folder, "average"), **QUICK))
    return files


@pytest.fixture(scope="module")
def tt_file(tmp_path_factory):
    """A hadron-collider file with top and W resonances."""
    out = tmp_path_factory.mktemp("tt") / "tt.lhe"
    result = api.generate("ttbar_dilepton", 300, out, seed=2, **QUICK)
    return out, result


def _events(path: Path) -> list[pylhe.LHEEvent]:
    return list(pylhe.LHEFile.fromfile(str(path)).events)


@pytest.mark.parametrize("norm", ["average", "sum", "unity"])
def test_weights_add_up_as_event_norm_prescribes(ee_files, norm):
    path, result = ee_files[norm]
    weights = np.array([e.eventinfo.weight for e in _events(path)])
    sigma, n = result["cross_section_pb"], result["events_written"]
    # Kept overweights raise the total by exactly their reported share (at most ~0.1% by construction).
    excess = 1.0 / (1.0 - result["overweight_fraction"])
    expected = {"average": sigma * n, "sum": sigma, "unity": float(n)}[norm] * excess
    assert weights.sum() == pytest.approx(expected, rel=1e-6)
    nominal = {"average": sigma, "sum": sigma / n, "unity": 1.0}[norm]
    assert np.all(weights >= nominal * (1 - PRINT_RTOL))


def test_init_block_names_beams_pdfs_strategy_and_cross_sections(ee_files, tt_file):
    for path, result in (ee_files["average"][0], ee_files["average"][1]), tt_file:
        init = pylhe.LHEFile.fromfile(str(path)).init
        info = init.initInfo
        assert info.weightingStrategy == -4
        xsecs = sum(p.xSection for p in init.procInfo)
        assert xsecs == pytest.approx(result["cross_section_pb"], rel=1e-6)
        weights = [e.eventinfo.weight for e in _events(path)]
        assert max(p.unitWeight for p in init.procInfo) == pytest.approx(max(weights), rel=1e-6)
    ee_info = pylhe.LHEFile.fromfile(str(ee_files["average"][0])).init.initInfo
    assert (ee_info.beamA, ee_info.beamB, ee_info.energyA, ee_info.energyB) == (-11, 11, 500.0, 500.0)
    assert (ee_info.PDFsetA, ee_info.PDFsetB) == (0, 0)
    tt_info = pylhe.LHEFile.fromfile(str(tt_file[0])).init.initInfo
    assert (tt_info.beamA, tt_info.beamB, tt_info.energyA) == (2212, 2212, 6500.0)
    # MadGraph's default PDF, NNPDF23_lo_as_0130_qed, is LHAPDF set 247000.
    assert (tt_info.PDFsetA, tt_info.PDFsetB) == (247000, 247000)


def test_header_carries_cards_and_generator(tt_file):
    with open(tt_file[0]) as handle:
        text = handle.read(200_000)
    header = text[: text.index("</header>")]
    for tag in ("<MGVersion>", "<MGRunCard>", "<slha>", "<MGGenerationInfo>", "<MG5ProcCard>"):
        assert tag in header
    assert "= event_norm" in header and "BLOCK MASS" in header.upper()
    assert '<generator name="madnis-plugin"' in text


def _kinematics(event: pylhe.LHEEvent):
    p = np.array([[q.e, q.px, q.py, q.pz] for q in event.particles])
    m = np.array([q.m for q in event.particles])
    status = np.array([q.status for q in event.particles])
    return p, m, status


def test_energies_masses_and_momentum_balance_against_the_beams(tt_file, ee_files):
    for path, ebeam, hadron in ((tt_file[0], 6500.0, True), (ee_files["average"][0], 500.0, False)):
        for event in _events(path):
            p, m, status = _kinematics(event)
            scale = p[:, 0].max()
            # E^2 = p^2 + m^2 for every line (resonances carry their virtual mass).
            mass2 = p[:, 0] ** 2 - (p[:, 1:] ** 2).sum(axis=1)
            np.testing.assert_allclose(mass2, m**2, atol=1e-6 * scale**2)
            incoming, outgoing = p[status == -1], p[status == 1]
            np.testing.assert_allclose(incoming.sum(axis=0), outgoing.sum(axis=0), atol=PRINT_RTOL * scale * 10)
            # Incoming partons along the beams: x1 = E1/Ebeam, x2 = E2/Ebeam in (0, 1].
            np.testing.assert_allclose(incoming[:, 1:3], 0.0, atol=1e-12)
            assert incoming[0, 3] > 0 > incoming[1, 3]
            x = incoming[:, 0] / ebeam
            assert np.all((x > 0) & (x <= 1 + 1e-12))
            if not hadron:
                np.testing.assert_allclose(x, 1.0, rtol=1e-12)
            # The partonic invariant mass is sqrt(x1 x2 s).
            total = outgoing.sum(axis=0)
            s_hat = total[0] ** 2 - (total[1:] ** 2).sum()
            assert s_hat == pytest.approx(x[0] * x[1] * 4 * ebeam**2, rel=1e-7)


def test_resonances_are_on_shell_massive_and_mother_their_decay_products(tt_file):
    card = read_param_card(resources.default_card("param_card.dat"))
    seen = set()
    for event in _events(tt_file[0]):
        p, m, status = _kinematics(event)
        for line, particle in enumerate(event.particles, start=1):
            if particle.status != 2:
                continue
            seen.add(abs(particle.id))
            assert abs(particle.id) in (6, 23, 24, 25)
            pole, width = card.mass(abs(particle.id)), card.width(abs(particle.id))
            assert abs(particle.m - pole) < 15.0 * width
            children = [i for i, q in enumerate(event.particles) if q.mother1 == line]
            assert children and all(event.particles[i].mother2 == line for i in children)
            np.testing.assert_allclose(p[children].sum(axis=0), p[line - 1], atol=1e-7 * p[line - 1, 0])
            # Mothers come before daughters; the first resonance in a chain hangs off the incoming pair.
            assert particle.mother1 < line and (particle.mother1, particle.mother2) != (0, 0)
        assert not any(q.id == 22 and q.status == 2 for q in event.particles)
    assert {6, 24} <= seen


def test_colour_lines_connect(tt_file):
    for event in _events(tt_file[0]):
        tags: dict[int, int] = {}
        for q in event.particles:
            if q.status == 2:
                continue
            # An incoming colour flows like an outgoing anticolour.
            colour, anticolour = (q.color2, q.color1) if q.status == -1 else (q.color1, q.color2)
            for tag, sign in ((colour, 1), (anticolour, -1)):
                if tag:
                    tags[tag] = tags.get(tag, 0) + sign
        assert all(v == 0 for v in tags.values()), tags


def test_process_ids_and_flavours_come_from_the_process_metadata(tt_file):
    proc = load_process("ttbar_dilepton")
    # MadGraph gives one id to all subprocesses of a P* folder.
    known: dict[int, set[tuple[int, ...]]] = {}
    for sub in proc.metadata.subprocesses:
        known.setdefault(sub.mg_process_id, set()).add(tuple(sub.pdg))
    for event in _events(tt_file[0]):
        pdgs = tuple(int(q.id) for q in event.particles if q.status != 2)
        assert pdgs in known[event.eventinfo.pid]
        assert 0 < event.eventinfo.aqcd < 0.2 and event.eventinfo.scale > 0
        assert event.eventinfo.aqed == pytest.approx(1 / 132.507, rel=1e-4)


def test_gzip_output_has_no_timestamp_and_seeds_give_independent_samples(ee_files):
    path, _ = ee_files["average"]
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\x00\x00\x00\x00"
    text = gzip.decompress(raw).decode()
    assert "<LesHouchesEvents" in text and text.rstrip().endswith("</LesHouchesEvents>")

    def leading_pt(p):
        return np.array([np.hypot(e.particles[2].px, e.particles[2].py) for e in _events(p)])

    a, b = leading_pt(path), leading_pt(ee_files["seed5"][0])
    n = min(a.size, b.size)
    # Independent samples: event-by-event correlation within 5 sigma of zero (sigma = 1/sqrt(n)).
    assert abs(np.corrcoef(a[:n], b[:n])[0, 1]) < 5 / np.sqrt(n)
    assert not np.array_equal(a[:n], b[:n])
