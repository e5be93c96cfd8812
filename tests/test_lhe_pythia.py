"""Pythia 8 showers our files: every event of every built-in process, no errors, none skipped.

Needs the ``pythia8mc`` wheel (``pip install pythia8mc==8.317.2``). Pythia runs
in a subprocess because it reports problems by printing them; the test reads
that output and Pythia's event counters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from madnis_plugin import api, resources

pytest.importorskip("pythia8mc")

PROCESSES = sorted(p.parent.name for p in resources.processes_dir().glob("*/process.json")
                   if not p.parent.name.startswith("_"))
N_EVENTS = 300

SHOWER = textwrap.dedent("""
    import json, sys
    import pythia8mc
    path, lepton = sys.argv[1], sys.argv[2] == "1"
    pythia = pythia8mc.Pythia("", False)
    settings = ["Beams:frameType = 4", f"Beams:LHEF = {path}", "Next:numberCount = 0", "Check:event = on",
                "Random:setSeed = on", "Random:seed = 1"]
    if lepton:
        settings.append("PDF:lepton = off")  # the file's leptons already carry the full beam energy
    for line in settings:
        assert pythia.readString(line), line
    ok = pythia.init()
    showered = failed = 0
    while ok:
        if pythia.next():
            showered += 1
        elif pythia.infoPython().atEndOfFile():
            break
        else:
            failed += 1
    info = pythia.infoPython()
    print("RESULT " + json.dumps({"init": ok, "showered": showered, "failed": failed,
                                   "tried": info.nTried(), "accepted": info.nAccepted(),
                                   "sigma_mb": info.sigmaGen()}))
""")


@pytest.mark.slow
@pytest.mark.parametrize("process", PROCESSES)
def test_pythia_showers_every_event_without_errors(process, tmp_path):
    out = tmp_path / f"{process}.lhe"
    result = api.generate(process, N_EVENTS, out, seed=3, train_batches=3, points=5000)
    lepton = not api.prepare_run(process).integrand.hadronic
    run = subprocess.run([sys.executable, "-c", SHOWER, str(out), "1" if lepton else "0"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    # Reaching the end of the file is how Pythia reports that all events were read.
    problems = [line for line in lines if ("PYTHIA Error" in line or "PYTHIA Abort" in line)
                and "reached end of Les Houches Events File" not in line]
    assert not problems, "\n".join(problems[:10])
    counts = json.loads(next(line for line in lines if line.startswith("RESULT "))[len("RESULT "):])
    assert counts["init"]
    assert counts["showered"] == counts["accepted"] == counts["tried"] == N_EVENTS
    assert counts["failed"] == 0
    # IDWTUP = -4: Pythia's cross section is the mean event weight, ours (mb -> pb), overweights included.
    sigma_pb = result["cross_section_pb"] / (1 - result["overweight_fraction"])
    assert counts["sigma_mb"] * 1e9 == pytest.approx(sigma_pb, rel=1e-6)
