"""An interrupted generation leaves no complete-looking file and resumes to the same bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from madnis_plugin import api
from madnis_plugin.events.checkpoint import ResumeError
from madnis_plugin.events.sampler_io import load_sampler, save_sampler
from madnis_plugin.sampler import MadnisConfig, MadnisSampler
from madnis_plugin.toys import ThinRing

# Small, fast runs: a short VEGAS training and small batches so the run has many commits.
RUN = dict(seed=11, train_batches=2, points=4000, batch_points=400)
# Production takes ~1 s of the run; the signal must land inside it, well before the file is finalised.
N_EVENTS = 10000


def _generate(output: Path, **extra) -> dict:
    return api.generate("ee_mumu", N_EVENTS, output, **RUN, **extra)


def _child_command(output: Path) -> list[str]:
    # A shell starts background jobs with SIGINT ignored, and Python keeps an ignored SIGINT:
    # the child gets the handler a foreground run has, so that the signal is Ctrl-C however
    # the suite was started (`.ci/run &` failed here while a foreground run passed).
    code = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"from madnis_plugin import api; api.generate('ee_mumu', {N_EVENTS}, {str(output)!r}, "
            f"**{RUN!r})")
    return [sys.executable, "-c", code]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> bytes:
    """The file of an uninterrupted run."""
    path = tmp_path_factory.mktemp("ref") / "events.lhe.gz"
    _generate(path)
    return path.read_bytes()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_killed_run_resumes_to_the_uninterrupted_file(tmp_path, reference, sig):
    output = tmp_path / "events.lhe.gz"
    state = tmp_path / "events.lhe.gz.resume.json"
    child = subprocess.Popen(_child_command(output), stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    written = 0
    # Wait until some batches are committed but the run is not finished.
    while time.monotonic() < deadline and child.poll() is None:
        if state.is_file():
            try:
                written = json.loads(state.read_text())["tally"]["written"]
            except (ValueError, KeyError):
                written = 0
            if written >= 300:
                break
        time.sleep(0.05)
    assert child.poll() is None, "the run finished before it could be interrupted"
    assert written < N_EVENTS // 2, "the run was too far along when the test looked"
    os.kill(child.pid, sig)
    child.wait(timeout=60)
    assert not output.exists(), "an interrupted run must not leave the output file"
    assert state.is_file()
    result = _generate(output, resume=True)
    assert result["events_written"] == N_EVENTS
    assert output.read_bytes() == reference
    assert not state.exists() and not (tmp_path / "events.lhe.gz.events.part").exists()


def test_resume_without_a_checkpoint_is_refused(tmp_path):
    with pytest.raises(ResumeError, match="nothing to resume"):
        _generate(tmp_path / "events.lhe", resume=True)


def test_resume_refuses_a_run_started_with_other_inputs(tmp_path):
    from madnis_plugin.events.checkpoint import Checkpoint
    from madnis_plugin.events.generation import GenerationPlan, GenerationTally

    output = tmp_path / "events.lhe"
    plan = GenerationPlan(seed=1, shard=(1, 1), n_events=10, batch_points=100, channel_probabilities=[1.0],
                          threshold=1.0, event_norm="average", nominal_weight=1.0, cross_section=1.0,
                          error=0.1, unweighting_efficiency=0.5)
    started = Checkpoint(output, {"seed": 1, "n": 10})
    started.body_path.write_bytes(b"")
    started.sampler_path.write_bytes(b"")
    started.commit(plan, GenerationTally(), 0)
    with pytest.raises(ResumeError, match="seed"):
        Checkpoint.resume(output, {"seed": 2, "n": 10})
    resumed = Checkpoint.resume(output, {"seed": 1, "n": 10})
    assert resumed.plan == plan and resumed.offset == 0


no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine where torch sees no GPU")


def _trained_ee_mumu(device: str = "auto"):
    """A run setup and a neural sampler briefly trained on it."""
    setup = api.prepare_run("ee_mumu", seed=3)
    config = MadnisConfig(vegas_iterations=2, vegas_points=1000, train_batches=2, batch_size=128, device=device)
    trained = MadnisSampler(setup.integrand, config, seed=3)
    trained.train()
    return setup, trained


@pytest.mark.parametrize("device", ["auto", "cpu"])
def test_a_saved_sampler_loads_for_the_device_it_was_trained_for(tmp_path, device):
    """A resumed run must evaluate the networks where the uninterrupted run did.

    On a GPU machine ``auto`` trains and generates on CUDA; a checkpoint that
    loaded on the CPU instead gave other float32 bits and so other events.
    """
    setup, trained = _trained_ee_mumu(device)
    save_sampler(trained, tmp_path / "s.sampler", setup)
    loaded = load_sampler(tmp_path / "s.sampler", setup)
    assert loaded.config.device == device and loaded.device == trained.device


@no_gpu
def test_a_cuda_device_on_a_machine_without_one_is_refused_by_name():
    with pytest.raises(ValueError, match="device = cuda, but torch sees no CUDA device"):
        MadnisSampler(ThinRing(), MadnisConfig(device="cuda"))


@no_gpu
def test_a_sampler_trained_for_cuda_loads_on_the_cpu_of_a_machine_without_a_gpu(tmp_path):
    setup, trained = _trained_ee_mumu()
    path = tmp_path / "s.sampler"
    save_sampler(trained, path, setup)
    state = torch.load(path, weights_only=True)
    state["config"]["device"] = "cuda"          # as written on a GPU machine with `cuda = device`
    torch.save(state, path)
    with pytest.warns(UserWarning, match="torch sees no GPU here, so it runs on the CPU"):
        loaded = load_sampler(path, setup)
    assert loaded.device.type == "cpu"
    r = np.random.default_rng(0).random((500, setup.integrand.dim))
    np.testing.assert_array_equal(loaded.density(0, r), trained.density(0, r))
