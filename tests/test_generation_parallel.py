"""Scale-out: shards merge with the right normalisation, jobs and Dask give correct files, saved samplers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pylhe
import pytest

from madnis_plugin import api, resources
from madnis_plugin.events.merge import merge_lhe, read_shard_info
from madnis_plugin.events.sampler_io import SamplerFileError, load_sampler
from madnis_plugin.phasespace import MAPS_VERSION

QUICK = dict(seed=21, points=5000, batch_points=1000)


@pytest.fixture(scope="module")
def saved_sampler(tmp_path_factory) -> Path:
    """A trained ee_mumu sampler file (short VEGAS training)."""
    folder = tmp_path_factory.mktemp("sampler")
    path = folder / "ee.sampler"
    api.generate("ee_mumu", 10, folder / "warmup.lhe", train_batches=3, save_sampler=path, **QUICK)
    return path


def _card(tmp_path: Path, key: str, value: str) -> Path:
    text = resources.default_card("run_card.dat").read_text()
    text = re.sub(rf"^\s*\S+\s*=\s*{key}\b", f" {value} = {key}", text, flags=re.M)
    path = tmp_path / f"run_card_{key}_{value}.dat"
    path.write_text(text)
    return path


def _weights(path: Path) -> np.ndarray:
    return np.array([e.eventinfo.weight for e in pylhe.LHEFile.fromfile(str(path)).events])


@pytest.mark.parametrize("norm", ["average", "sum"])
def test_merged_shards_are_normalised_as_one_sample(tmp_path, saved_sampler, norm):
    card = _card(tmp_path, "event_norm", norm)
    shards = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}.lhe.gz"
        res = api.generate("ee_mumu", 1000, out, run_card=card, sampler=saved_sampler, shard=f"{k}/3", **QUICK)
        shards.append((out, res))
    assert [r["events_written"] for _, r in shards] == [334, 333, 333]
    sigma = shards[0][1]["cross_section_pb"]
    merged = merge_lhe([s for s, _ in shards], tmp_path / "all.lhe")
    assert merged["events_written"] == 1000
    weights = _weights(tmp_path / "all.lhe")
    overweight = np.mean([r["overweight_fraction"] for _, r in shards])
    expected = {"average": sigma * 1000, "sum": sigma}[norm] / (1 - overweight)
    # Overweight shares differ slightly between shards: allow their spread (at most ~0.1% each).
    assert weights.sum() == pytest.approx(expected, rel=2e-3)
    nominal = {"average": sigma, "sum": sigma / 1000}[norm]
    assert weights.min() == pytest.approx(nominal, rel=1e-9)
    info = read_shard_info(tmp_path / "all.lhe")
    assert info.n_events == 1000 and info.cross_section == pytest.approx(sigma, rel=1e-9)
    init = pylhe.LHEFile.fromfile(str(tmp_path / "all.lhe")).init
    assert sum(p.xSection for p in init.procInfo) == pytest.approx(sigma, rel=1e-6)


def test_shards_are_independent_streams(tmp_path, saved_sampler):
    files = []
    for k in (1, 2):
        out = tmp_path / f"s{k}.lhe"
        api.generate("ee_mumu", 400, out, sampler=saved_sampler, shard=f"{k}/2", **QUICK)
        files.append(out)
    body = [f.read_text().split("</init>")[1] for f in files]
    assert body[0] != body[1]


def test_a_sampler_trained_for_other_physics_is_refused(tmp_path, saved_sampler):
    card = _card(tmp_path, "ebeam1", "400.0")
    with pytest.raises(SamplerFileError, match="ebeam1"):
        api.generate("ee_mumu", 10, tmp_path / "x.lhe", run_card=card, sampler=saved_sampler, **QUICK)
    with pytest.raises(SamplerFileError):
        api.generate("ttbar", 10, tmp_path / "y.lhe", sampler=saved_sampler, **QUICK)
    assert not (tmp_path / "x.lhe").exists()


def test_a_sampler_trained_on_other_phase_space_maps_is_refused(tmp_path, saved_sampler):
    # Files from before the maps changed carry another version (or none).
    setup = api.prepare_run("ee_mumu", seed=21)
    sampler = load_sampler(saved_sampler, setup)
    old = tmp_path / "old_maps.pt"
    sampler.save(old, fingerprint={**sampler.fingerprint, "maps": MAPS_VERSION - 1})
    with pytest.raises(SamplerFileError, match="phase-space maps of version"):
        load_sampler(old, setup)
    sampler.save(old, fingerprint={k: v for k, v in sampler.fingerprint.items() if k != "maps"})
    with pytest.raises(SamplerFileError, match="phase-space maps of version None"):
        api.generate("ee_mumu", 10, tmp_path / "x.lhe", sampler=old, **QUICK)


def test_merge_command_line(tmp_path, saved_sampler):
    for k in (1, 2):
        api.generate("ee_mumu", 200, tmp_path / f"c{k}.lhe", sampler=saved_sampler, shard=f"{k}/2", **QUICK)
    run = subprocess.run([sys.executable, "-m", "madnis_plugin.cli", "merge", str(tmp_path / "c1.lhe"),
                          str(tmp_path / "c2.lhe"), "-o", str(tmp_path / "c.lhe.gz"), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert len(_weights(tmp_path / "c.lhe.gz")) == 200


@pytest.mark.slow
def test_jobs_give_the_same_file_as_a_sequential_run(tmp_path, saved_sampler):
    files = []
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}.lhe.gz"
        api.generate("ee_mumu", 3000, out, sampler=saved_sampler, jobs=jobs, **QUICK)
        files.append(out.read_bytes())
    assert files[0] == files[1]


@pytest.mark.slow
def test_dask_executor_runs_shards_and_merges(tmp_path, saved_sampler):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        res = api.generate("ee_mumu", 900, tmp_path / "d.lhe.gz", sampler=saved_sampler, jobs=3,
                           executor="dask", scheduler=client, **QUICK)
    weights = _weights(tmp_path / "d.lhe.gz")
    assert res["events_written"] == len(weights) == 900
    assert weights.min() == pytest.approx(res["cross_section_pb"], rel=1e-9)
    assert not list(tmp_path.glob(".d.lhe.gz.shard*"))
