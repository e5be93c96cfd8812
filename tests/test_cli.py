"""The command line: JSON output, and bad input as a one-line error with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from madnis_plugin.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "madnis_plugin.cli", *args], capture_output=True, text=True)


def test_processes_lists_the_builtin_default():
    result = run_cli("processes")
    assert result.returncode == 0
    assert "ee_mumu" in result.stdout


def test_integrate_json_has_the_documented_fields():
    result = run_cli("integrate", "ee_mumu", "--json", "--seed", "3", "--points", "20000", "--train-batches", "20")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["integrator"] == "madnis"   # the default
    for key in ("process", "cross_section_pb", "error_pb", "integrator", "n_integrand_calls", "rel_std",
                "unweighting_efficiency", "wall_s"):
        assert key in data
    assert result.stderr == ""  # piped: no progress output


def test_generate_json_has_the_documented_fields(tmp_path):
    out = tmp_path / "ev.lhe"
    result = run_cli("generate", "ee_mumu", "-n", "20", "-o", str(out), "--json", "--seed", "2",
                     "--points", "20000", "--train-batches", "20")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("events_written", "file", "cross_section_pb", "error_pb", "unweighting_efficiency",
                "overweight_fraction", "wall_s"):
        assert key in data
    assert data["events_written"] == 20 and out.is_file()


def _assert_one_line_error(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert fragment in lines[0]


def test_unknown_process_is_a_one_line_error():
    _assert_one_line_error(run_cli("integrate", "no_such_process"), "no_such_process")


def test_missing_card_is_a_one_line_error(tmp_path):
    _assert_one_line_error(run_cli("integrate", "ee_mumu", "--run-card", str(tmp_path / "nope.dat")), "nope.dat")
    _assert_one_line_error(run_cli("integrate", "ee_mumu", "--param-card", str(tmp_path / "nope.dat")),
                           "nope.dat")


def test_malformed_run_card_is_a_one_line_error(tmp_path):
    card = tmp_path / "run_card.dat"
    card.write_text("  500.0 = ebeam1\n  this line is not a card entry\n")
    _assert_one_line_error(run_cli("integrate", "ee_mumu", "--run-card", str(card)), "run_card.dat")


def test_malformed_param_card_is_a_one_line_error(tmp_path):
    card = tmp_path / "param_card.dat"
    card.write_text("BLOCK MASS\n  23 not-a-number\n")
    _assert_one_line_error(run_cli("integrate", "ee_mumu", "--param-card", str(card)), "param_card.dat")


def test_a_madnis_card_value_out_of_its_choices_is_a_one_line_error(tmp_path):
    card = tmp_path / "madnis_card.dat"
    card.write_text("  spline = vegas_layer\n")
    _assert_one_line_error(run_cli("integrate", "ee_mumu", "--madnis-card", str(card)), "vegas_layer")


@pytest.mark.parametrize("n", ["0", "-5"])
def test_non_positive_event_count_is_refused_without_output(tmp_path, n):
    out = tmp_path / "ev.lhe"
    _assert_one_line_error(run_cli("generate", "ee_mumu", "-n", n, "-o", str(out)), "positive")
    assert not out.exists()


def test_unwritable_output_is_refused_before_any_work(tmp_path):
    out = tmp_path / "missing_folder" / "ev.lhe"
    _assert_one_line_error(run_cli("generate", "ee_mumu", "-n", "10", "-o", str(out)), "missing_folder")
    bad_suffix = tmp_path / "ev.txt"
    _assert_one_line_error(run_cli("generate", "ee_mumu", "-n", "10", "-o", str(bad_suffix)), ".lhe")
    assert not bad_suffix.exists()


def test_interrupted_run_leaves_no_file_posing_as_complete(tmp_path, monkeypatch):
    # Interrupt generation after the first batch is written: the output file must not
    # exist, and whatever stays behind (the checkpoint for --resume) must not look like
    # an event file.
    from madnis_plugin.events import lhe

    out = tmp_path / "ev.lhe.gz"
    calls = {"n": 0}
    original = lhe.LHEWriter.write_text

    def interrupted_write(self, events):
        calls["n"] += 1
        original(self, events)
        raise KeyboardInterrupt

    monkeypatch.setattr(lhe.LHEWriter, "write_text", interrupted_write)
    code = main(["generate", "ee_mumu", "-n", "100000", "-o", str(out), "--points", "20000", "--integrator", "vegas"])
    assert code == 130 and calls["n"] == 1
    assert not out.exists()
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert not [name for name in leftovers if name.endswith((".lhe", ".lhe.gz"))], leftovers
