"""The run report: the HTML page parses, every figure it shows exists and loads, and it renders.

One VEGAS run and one neural run of ee_mumu with tiny budgets; the neural
run's madnis card drops channels early (threshold 0.2, check every 4 steps)
so that the dropping figure has something to show: the Z diagram's channel
carries about 12% of the cross section at 500 GeV beams, below 0.2.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from madnis_plugin.report import FIGURE_DIR, REPORT_FILE, event_observables
from madnis_plugin.runfolder import EVENTS_FILE, launch, output

QUIET = dict(say=lambda line: None)


class _Page(HTMLParser):
    """Collects image sources, headings and text of an HTML page (raises on malformed markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.text: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag not in ("meta", "br"):
            self.open_tags.append(tag)

    def handle_endtag(self, tag):
        assert self.open_tags and self.open_tags[-1] == tag, f"</{tag}> closes <{self.open_tags[-1:]}>"
        self.open_tags.pop()

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.open_tags == [], "every element is closed"
    return page


def _set_card(path: Path, values: dict[str, object]) -> None:
    text = path.read_text()
    for key, value in values.items():
        text, n = re.subn(rf"^\s*\S+\s*=\s*{key}\b", f" {value} = {key}", text, flags=re.M)
        assert n == 1, key
    path.write_text(text)


@pytest.fixture(scope="module")
def vegas_run(tmp_path_factory) -> Path:
    folder = output("ee_mumu", tmp_path_factory.mktemp("report") / "vegas")
    launch(folder, nevents=60, points=3000, train_batches=2, integrator="vegas", report_points=3000, **QUIET)
    return folder / "Events" / "run_01"


@pytest.fixture(scope="module")
def madnis_run(tmp_path_factory) -> Path:
    folder = output("ee_mumu", tmp_path_factory.mktemp("report") / "madnis")
    _set_card(folder / "Cards" / "madnis_card.dat", {
        "vegas_iterations": 2, "vegas_points": 2000, "batch_size": 256, "drop_interval": 4,
        "drop_threshold": 0.2, "drop_max_total": 0.2, "flow_hidden": 8, "cwnet_hidden": 8})
    # The amplitude prior gives the Z channel about 12% of e+ e- -> mu+ mu- at 1 TeV, below
    # the threshold; the default propagator prior splits it about evenly with the photon.
    run_card = folder / "Cards" / "run_card.dat"
    run_card.write_text(run_card.read_text() + " 1 = sde_strategy\n")
    launch(folder, nevents=60, points=3000, train_batches=8, integrator="madnis", report_points=3000, **QUIET)
    return folder / "Events" / "run_01"


@pytest.mark.parametrize("run", ["vegas_run", "madnis_run"])
def test_report_parses_and_every_image_loads(run, request):
    run_dir: Path = request.getfixturevalue(run)
    page = _parse(run_dir / REPORT_FILE)
    assert len(page.images) >= 5
    for src in page.images:
        assert not Path(src).is_absolute() and src.startswith(f"{FIGURE_DIR}/"), "relative, movable links"
        pixels = mpimg.imread(run_dir / src)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert np.ptp(pixels[..., :3]) > 0, f"{src} is blank"
    for png in (run_dir / FIGURE_DIR).glob("*.png"):
        assert f"{FIGURE_DIR}/{png.name}" in page.images, f"{png.name} is written but not shown"


def test_vegas_report_says_it_has_no_flow_training(vegas_run):
    text = " ".join(_parse(vegas_run / REPORT_FILE).text)
    assert "VEGAS integrator" in text and "no flow training" in text
    assert "no channels were dropped" in text
    assert not (vegas_run / FIGURE_DIR / "channel_weights.png").exists()


def test_madnis_report_shows_training_dropping_and_channel_weights(madnis_run):
    page = _parse(madnis_run / REPORT_FILE)
    text = " ".join(page.text)
    assert f"{FIGURE_DIR}/channel_weights.png" in page.images
    assert "no flow training" not in text
    assert re.search(r"Dropped channels: g0\.d2", text), "the Z channel (~12% < 0.2) is dropped"
    assert "before the first dropping check" in text


def test_report_tables_carry_the_run_numbers(vegas_run):
    import json

    results = json.loads((vegas_run / "results.json").read_text())
    text = " ".join(_parse(vegas_run / REPORT_FILE).text)
    assert f"{results['cross_section_pb']:.6e}" in text
    assert results["files"]["report"] == REPORT_FILE


def test_observables_of_ee_events_follow_the_kinematics(vegas_run):
    """e+ e- at 2 x 500 GeV: the final state's mass is 1000 GeV and no pT exceeds 500 GeV."""
    obs = event_observables(vegas_run / EVENTS_FILE)
    assert obs["m_final"].size == 60 and obs["pt"].size == 120
    # 1e-6 relative: the LHE file prints momenta with 11 significant digits.
    np.testing.assert_allclose(obs["m_final"], 1000.0, rtol=1e-6)
    assert obs["pt"].max() <= 500.0 * (1 + 1e-9)
    assert obs["m_resonance"].size == 0 or np.all(obs["m_resonance"] > 0)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None or shutil.which("chromedriver") is None,
                    reason="headless Chromium and chromedriver are not installed "
                           "(Debian: apt-get install -y chromium chromium-driver)")
def test_report_renders_in_headless_chromium(madnis_run):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _chromium()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.get((madnis_run / REPORT_FILE).resolve().as_uri())
        loaded = driver.execute_script(
            "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);")
        title = driver.title
    finally:
        driver.quit()
    assert "ee_mumu" in title
    assert len(loaded) >= 5
    for src, complete, width in loaded:
        assert complete and width > 0, f"{src} did not load in the browser"
