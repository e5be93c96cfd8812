"""Run folders: ``output`` and ``launch`` write what a MadGraph user expects, ``--reuse`` is a gridpack.

Budgets are tiny (VEGAS, two iterations, a few thousand points, tens of
events): these tests check the folder layout, the records and the reuse
rules, not the precision of the integration, which the sampler and
generation tests cover.
"""

from __future__ import annotations

import filecmp
import gzip
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pylhe
import pytest

from madnis_plugin import resources
from madnis_plugin.api import UsageError
from madnis_plugin.cli import main
from madnis_plugin.api import prepare_run
from madnis_plugin.process import load_process
from madnis_plugin.runfolder import EVENTS_FILE, RESULTS_FILE, launch, next_run_name, output

FIXTURES = Path(__file__).parent / "fixtures"
#: Small budgets shared by every launch here.
# The run-folder mechanics do not depend on the sampler: the quick VEGAS one (the neural
# default is launched in tests/test_report.py).
FAST = dict(points=3000, train_batches=2, integrator="vegas", report=False, say=lambda line: None)


def _events(path: Path) -> list[pylhe.LHEEvent]:
    return list(pylhe.LHEFile.fromfile(str(path), with_attributes=False, generator=False).events)


@pytest.fixture(scope="module")
def ee_folder(tmp_path_factory) -> Path:
    """A run folder for ee_mumu with one finished run (run_01, 40 events, event_norm overridden)."""
    folder = output("ee_mumu", tmp_path_factory.mktemp("runs") / "ee")
    launch(folder, nevents=40, set_options={"event_norm": "sum"}, **FAST)
    return folder


def test_output_fills_cards_with_the_defaults(tmp_path):
    folder = output("ee_mumu", tmp_path / "ee")
    cards = folder / "Cards"
    assert filecmp.cmp(cards / "run_card.dat", resources.default_card("run_card.dat"), shallow=False)
    assert filecmp.cmp(cards / "param_card.dat", resources.default_card("param_card.dat"), shallow=False)
    assert filecmp.cmp(cards / "madnis_card.dat", resources.default_card("madnis_card.dat"), shallow=False)
    assert "generate e+ e- > mu+ mu-" in (cards / "proc_card_mg5.dat").read_text()
    assert (folder / "Process" / "process.json").is_file()


def test_output_of_a_hadron_process_gets_the_pp_run_card(tmp_path):
    folder = output("drell_yan", tmp_path / "dy")
    assert filecmp.cmp(folder / "Cards" / "run_card.dat", resources.default_card("run_card_pp.dat"), shallow=False)


def test_output_refuses_an_existing_folder_without_force(tmp_path):
    output("ee_mumu", tmp_path / "ee")
    with pytest.raises(UsageError, match="already exists"):
        output("ee_mumu", tmp_path / "ee")
    output("ee_mumu", tmp_path / "ee", force=True)


def test_output_refuses_an_unknown_process(tmp_path):
    with pytest.raises(UsageError, match="unknown process"):
        output("no_such_process", tmp_path / "x")


def test_launch_writes_the_madgraph_run_layout(ee_folder):
    run = ee_folder / "Events" / "run_01"
    for name in (EVENTS_FILE, "run_01_banner.txt", RESULTS_FILE, "sampler.npz"):
        assert (run / name).is_file(), name
    results = json.loads((run / RESULTS_FILE).read_text())
    for key in ("cross_section_pb", "error_pb", "events", "unweighting_efficiency", "generation_efficiency",
                "overweight_fraction", "events_per_call_end_to_end", "timings", "phases"):
        assert key in results, key
    assert results["events"] == 40
    assert {"vegas", "setup_and_integration", "generation"} <= set(results["phases"])
    assert sum(p["n_calls"] for p in results["phases"].values()) == results["n_integrand_calls"]
    assert results["cross_section_pb"] > 0 and results["error_pb"] > 0


def test_events_match_the_results_and_the_override(ee_folder):
    run = ee_folder / "Events" / "run_01"
    results = json.loads((run / RESULTS_FILE).read_text())
    events = _events(run / EVENTS_FILE)
    assert len(events) == 40
    # event_norm = sum (a command-line override): the weights add up to the cross
    # section; 1e-6 covers the LHE's printed precision, and overweights (<= 0.1%
    # of sigma by construction) can add at most that share.
    total = sum(e.eventinfo.weight for e in events)
    assert total == pytest.approx(results["cross_section_pb"], rel=2e-3)


def test_banner_holds_every_card_and_the_overrides(ee_folder):
    banner = (ee_folder / "Events" / "run_01" / "run_01_banner.txt").read_text()
    assert banner.startswith('<LesHouchesEvents version="3.0">')
    assert "<MGRunCard>" in banner and "<slha>" in banner and "<MadnisCard>" in banner
    assert "event_norm = sum" in banner.split("<MadnisCommandLine>")[1]
    assert "nevents = 40" in banner.split("<MadnisCommandLine>")[1]
    assert "vegas_bins" in banner
    # The effective run card in the banner carries the override; the folder's card does not.
    run_card = banner.split("<MGRunCard>")[1].split("</MGRunCard>")[0]
    assert "sum = event_norm" in run_card
    assert "sum = event_norm" not in (ee_folder / "Cards" / "run_card.dat").read_text()


def test_run_names_increment_and_name_overrides(ee_folder):
    assert next_run_name(ee_folder / "Events") == "run_02"
    second = launch(ee_folder, nevents=10, **FAST)
    assert second["run_name"] == "run_02"
    named = launch(ee_folder, nevents=10, name="my_run", **FAST)
    assert (ee_folder / "Events" / "my_run" / "my_run_banner.txt").is_file()
    assert named["seed"] not in (second["seed"],), "iseed = 0: every run gets a fresh seed"
    with pytest.raises(UsageError, match="already exists"):
        launch(ee_folder, nevents=10, name="my_run", **FAST)


def test_reuse_generates_without_training(ee_folder):
    first = json.loads((ee_folder / "Events" / "run_01" / RESULTS_FILE).read_text())
    reused = launch(ee_folder, reuse="run_01", nevents=30, name="reuse_a", **FAST)
    assert reused["reused_from"] == "run_01"
    assert "vegas" not in reused["phases"] and "training" not in reused["phases"]
    # Only this run's calls count: the fresh estimate (FAST's 3000 points) and the generation.
    assert reused["n_integrand_calls"] == 3000 + reused["phases"]["generation"]["n_calls"]
    assert reused["events"] == 30
    assert reused["seed"] != first["seed"]
    assert not (ee_folder / "Events" / "reuse_a" / "sampler.npz").exists()
    # A fresh seed gives a fresh sample: the first events differ.
    a = _events(ee_folder / "Events" / "run_01" / EVENTS_FILE)[0].particles[2]
    b = _events(ee_folder / "Events" / "reuse_a" / EVENTS_FILE)[0].particles[2]
    assert (a.px, a.py, a.pz) != (b.px, b.py, b.pz)
    # Same physics: the two fresh estimates agree within 5 combined standard errors.
    diff = abs(reused["cross_section_pb"] - first["cross_section_pb"])
    assert diff < 5 * np.hypot(reused["error_pb"], first["error_pb"])


def test_reuse_refuses_a_physics_change_of_the_run_card(ee_folder):
    with pytest.raises(UsageError, match="ebeam1"):
        launch(ee_folder, reuse="run_01", nevents=10, set_options={"ebeam1": 400}, **FAST)


def test_reuse_refuses_a_param_card_change(tmp_path):
    folder = output("ee_mumu", tmp_path / "ee")
    launch(folder, nevents=10, **FAST)
    card = folder / "Cards" / "param_card.dat"
    card.write_text(card.read_text().replace("9.118800e+01", "9.000000e+01"))
    assert "9.000000e+01" in card.read_text(), "the test must change MZ"
    with pytest.raises(UsageError, match="cannot reuse run_01: .*process fingerprint"):
        launch(folder, reuse="run_01", nevents=10, **FAST)


def test_reuse_refuses_a_seed_that_would_repeat_events(ee_folder):
    first = json.loads((ee_folder / "Events" / "run_01" / RESULTS_FILE).read_text())
    with pytest.raises(UsageError, match="would repeat"):
        launch(ee_folder, reuse="run_01", nevents=10, seed=first["seed"], **FAST)


def test_reuse_of_a_run_without_sampler_is_refused(ee_folder):
    with pytest.raises(UsageError, match="no stored sampler"):
        launch(ee_folder, reuse="run_99", nevents=10, **FAST)


def test_launch_refused_before_training_leaves_no_run_folder(tmp_path):
    folder = output("ee_mumu", tmp_path / "ee")
    with pytest.raises(Exception, match="lpp1"):
        launch(folder, nevents=10, set_options={"lpp1": 7}, **FAST)
    assert list((folder / "Events").iterdir()) == []


def test_launch_failing_after_training_keeps_the_sampler_and_says_why(tmp_path):
    folder = output("ee_mumu", tmp_path / "ee")
    # ptl above the beam energy: the cross section is zero, generation must refuse.
    with pytest.raises(UsageError, match="cross section"):
        launch(folder, nevents=10, set_options={"ptl": 1000}, **FAST)
    results = json.loads((folder / "Events" / "run_01" / RESULTS_FILE).read_text())
    assert results["status"] == "failed" and "cross section" in results["error"]
    assert (folder / "Events" / "run_01" / "sampler.npz").is_file()
    assert not (folder / "Events" / "run_01" / EVENTS_FILE).exists()
    assert next_run_name(folder / "Events") == "run_02"


def test_cli_output_then_launch(tmp_path, capsys):
    folder = tmp_path / "cli"
    assert main(["output", "ee_mumu", str(folder)]) == 0
    assert main(["launch", str(folder), "-n", "10", "--points", "2000", "--train-batches", "1",
                 "--no-report", "--seed", "7", "--json"]) == 0
    results = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert results["seed"] == 7 and results["events"] == 10
    banner = (folder / "Events" / "run_01" / "run_01_banner.txt").read_text()
    assert "madnis-plugin launch" in banner and "--seed 7" in banner


def test_cli_launch_of_a_missing_folder_exits_2(tmp_path, capsys):
    assert main(["launch", str(tmp_path / "nowhere")]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_bad_set_option_exits_2(tmp_path, capsys):
    folder = output("ee_mumu", tmp_path / "ee")
    assert main(["launch", str(folder), "--set", "nevents"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


needs_gfortran = pytest.mark.skipif(shutil.which(os.environ.get("FC", "gfortran").split()[0]) is None,
                                    reason="gfortran is needed to compile MadGraph output")


@needs_gfortran
def test_madgraph_standalone_folder_gets_default_cards_and_one_flat_channel(tmp_path):
    folder = tmp_path / "mg"
    shutil.copytree(FIXTURES / "mg5_standalone_ee_mumu", folder)
    assert not (folder / "Cards" / "run_card.dat").exists()
    notices: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        launch(folder, nevents=30, **{**FAST, "say": notices.append})
    assert (folder / "Cards" / "run_card.dat").is_file()
    assert any("run card" in n for n in notices)
    assert any("flat channel" in str(w.message) for w in caught)
    # Several P* folders integrated together: the LHE process ids are MadGraph's
    # ids of the subprocesses, and the written flavours are the declared ones.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        process = load_process(folder)
    declared = {s.pdg: s.mg_process_id for s in process.metadata.subprocesses}
    assert len(set(declared.values())) == 2, "the fixture's P1 and P2 have ids 1 and 2"
    events = _events(folder / "Events" / "run_01" / EVENTS_FILE)
    assert len(events) == 30
    for event in events:
        pdgs = tuple(int(p.id) for p in event.particles)
        assert pdgs in declared
        assert int(event.eventinfo.pid) == declared[pdgs]


@needs_gfortran
def test_madgraph_madevent_folder_launches_with_its_channels(tmp_path):
    folder = tmp_path / "me"
    shutil.copytree(FIXTURES / "mg5_madevent_ee_mumu", folder)
    results = launch(folder, nevents=20, **FAST)
    assert results["madgraph_folder"] and results["events"] == 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        setup = prepare_run(folder, run_card=folder / "Cards" / "run_card.dat")
    assert setup.integrand.n_channels == 2, "e+ e- > mu+ mu-: photon and Z diagrams, one channel each"


def test_multi_subprocess_process_samples_every_group(tmp_path):
    """drell_yan has two groups (q q~ and the beam-swapped q~ q): both must be sampled and written."""
    folder = output("drell_yan", tmp_path / "dy")
    launch(folder, nevents=60, **FAST)
    declared = {s.pdg: s.mg_process_id for s in load_process("drell_yan").metadata.subprocesses}
    with gzip.open(folder / "Events" / "run_01" / EVENTS_FILE, "rt") as handle:
        assert handle.read().count("<event>") == 60
    events = _events(folder / "Events" / "run_01" / EVENTS_FILE)
    first_beam_is_quark = set()
    for event in events:
        pdgs = tuple(int(p.id) for p in event.particles if int(p.status) != 2)
        assert pdgs in declared
        assert int(event.eventinfo.pid) == declared[pdgs]
        first_beam_is_quark.add(pdgs[0] > 0)
    # With 60 events and the two orderings equally likely at pp, missing one has probability ~1e-18.
    assert first_beam_is_quark == {True, False}


def test_interrupted_run_resumes_to_the_requested_events(tmp_path, monkeypatch):
    """Ctrl-C during generation keeps the run's checkpoint; --resume finishes it with no lost events."""
    from madnis_plugin.events import lhe

    folder = output("ee_mumu", tmp_path / "ee")
    original = lhe.LHEWriter.write_text
    calls = {"n": 0}

    def interrupted_write(self, events):
        # Stop as Ctrl-C would, right after the first batch reached the file.
        calls["n"] += 1
        original(self, events)
        raise KeyboardInterrupt

    monkeypatch.setattr(lhe.LHEWriter, "write_text", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        launch(folder, nevents=2000, **FAST)
    assert calls["n"] == 1
    state = json.loads((folder / "Events" / "run_01" / RESULTS_FILE).read_text())
    assert state["status"] == "interrupted" and state["resumable"]
    assert not (folder / "Events" / "run_01" / EVENTS_FILE).exists(), "no file poses as complete"
    monkeypatch.setattr(lhe.LHEWriter, "write_text", original)
    with pytest.raises(UsageError, match="no --name"):
        launch(folder, resume="run_01", nevents=10, **FAST)
    finished = launch(folder, resume="run_01", **FAST)
    assert finished["status"] == "done" and finished["resumed"] and finished["seed"] == state["seed"]
    with gzip.open(folder / "Events" / "run_01" / EVENTS_FILE, "rt") as handle:
        assert handle.read().count("<event>") == 2000
    with pytest.raises(UsageError, match="finished"):
        launch(folder, resume="run_01", **FAST)
