"""MadGraph run and param cards: parsing, defaults, round trips, errors."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from madnis_plugin.cards import (
    RUN_CARD_DEFAULTS,
    SUPPORTED_CUT_KEYS,
    TECHNICAL_KEYS,
    CardError,
    ParamCard,
    RunCard,
    read_param_card,
    read_run_card,
)

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "cards"
DATA = Path(__file__).resolve().parent / "data"

SLHA = """\
######################################################################
## PARAM_CARD (test fixture in SLHA format)                         ##
######################################################################
BLOCK MASS #
      5 4.700000e+00 # mb
      6 1.730000e+02 # mt
      23 9.118800e+01 # mz
      25 1.250000e+02 # mh
Block SMINPUTS # lower-case 'Block' occurs in real cards
      1 1.325070e+02 # aewm1
      2 1.166390e-05 # gf
      3 1.180000d-01 # as (Fortran exponent)
BLOCK YUKAWA #
      6 1.730000e+02 # ymt
BLOCK QNUMBERS 9000005 # a BSM particle's quantum numbers
      1 0 # 3 times electric charge
DECAY  6 1.491500e+00 # wt
   1.000000e+00   2    5  24 # t > b w+
DECAY  23 2.441404e+00 # wz
DECAY  25 6.382339e-03 # wh
"""


# ---------------------------------------------------------------- param card
def test_param_card_reads_masses_widths_and_block_values():
    pc = ParamCard.from_text(SLHA)
    assert pc.mass(6) == 173.0 and pc.mass(-6) == 173.0
    assert pc.width(-6) == 1.4915
    assert pc.value("sminputs", 3) == 0.118  # d exponent and lower-case name
    assert pc.value("SMINPUTS", 1) == 132.507
    assert pc.branchings[6] == [(1.0, (5, 24))]
    assert pc.value("qnumbers 9000005", 1) == 0.0


def test_param_card_absent_particles_are_massless_and_stable():
    pc = ParamCard.from_text(SLHA)
    assert pc.mass(21) == 0.0 and pc.width(11) == 0.0


def test_param_card_missing_entry_names_block_and_index():
    with pytest.raises(KeyError, match="SMINPUTS 7"):
        ParamCard.from_text(SLHA).value("SMINPUTS", 7)


def test_param_card_round_trip_is_identical(tmp_path):
    pc = ParamCard.from_text(SLHA)
    pc.write(tmp_path / "p.dat")
    again = read_param_card(tmp_path / "p.dat")
    assert again.blocks == pc.blocks and again.widths == pc.widths and again.text == SLHA


@pytest.mark.parametrize("bad_line, problem", [
    ("      6 abc # mt", "not a number"),
    ("      x 1.0 # mt", "not an integer"),
    ("DECAY six 1.0", "malformed DECAY"),
])
def test_param_card_malformed_line_error_names_file_and_line(tmp_path, bad_line, problem):
    path = tmp_path / "param_card.dat"
    path.write_text("BLOCK MASS\n  5 4.7\n" + bad_line + "\n")
    with pytest.raises(CardError, match=rf"param_card\.dat:3: .*{problem}") as info:
        read_param_card(path)
    assert "\n" not in str(info.value)


def test_param_card_entry_outside_block_is_an_error():
    with pytest.raises(CardError, match="<text>:1: .*outside any BLOCK"):
        ParamCard.from_text("  5 4.7\n")


def test_shipped_param_card_if_present_is_readable():
    path = CARDS / "param_card.dat"
    if not path.exists():
        pytest.skip("cards/param_card.dat not written yet")
    pc = read_param_card(path)
    assert pc.mass(23) > 0 and pc.width(23) > 0


# ------------------------------------------------------------------ run card
def test_run_card_types_values_by_key():
    rc = RunCard.from_text(
        " .true. = fixed_ren_scale\n T = fixed_fac_scale\n 1d3 = ebeam1 ! Fortran float\n"
        " 2.5D2 = scale\n 5 = lpp1\n", strict=False)
    assert rc["fixed_ren_scale"] is True and rc["fixed_fac_scale"] is True
    assert rc["ebeam1"] == 1000.0 and isinstance(rc["ebeam1"], float)
    assert rc["scale"] == 250.0
    assert rc["lpp1"] == 5 and isinstance(rc["lpp1"], int)


def test_run_card_absent_keys_take_madgraph_defaults():
    rc = RunCard.from_text("  0 = lpp1\n  0 = lpp2\n")
    assert rc["ebeam1"] == RUN_CARD_DEFAULTS["ebeam1"]
    assert rc.get("ptj") == RUN_CARD_DEFAULTS["ptj"]
    assert rc.get("no_such_key", "fallback") == "fallback"
    assert not rc.is_set("ptj") and rc.is_set("lpp1")


def test_run_card_keys_are_case_insensitive():
    rc = RunCard.from_text(" 0.3 = R0gamma\n 7000 = EBEAM1\n")
    assert rc["r0gamma"] == 0.3 and rc["Ebeam1"] == 7000.0


@pytest.mark.parametrize("name", ["mg5_run_card_pp.dat", "mg5_run_card_ee.dat"])
def test_madgraph_format_run_cards_are_read_without_unknown_keys(name):
    rc = read_run_card(DATA / name)
    assert rc.unknown_keys == []
    assert rc["event_norm"] == "average" and rc["bwcutoff"] == 15.0


def test_madgraph_pp_card_keeps_list_and_dict_values():
    rc = read_run_card(DATA / "mg5_run_card_pp.dat")
    assert rc["systematics_arguments"].startswith("['--mur=0.5,1,2'")
    assert rc["pdgs_for_merging_cut"] == "1, 2, 3, 4, 5, 6, 21"
    assert rc["mxx_only_part_antipart"] == "{'default': False}"


def test_shipped_lepton_card_is_a_1_tev_ee_collider_with_fixed_scale():
    rc = read_run_card(CARDS / "run_card.dat")
    assert (rc["lpp1"], rc["lpp2"]) == (0, 0)
    assert rc["ebeam1"] + rc["ebeam2"] == 1000.0
    assert rc["fixed_ren_scale"] and rc["fixed_fac_scale"] and rc["scale"] == 91.188
    assert rc["ptl"] == 0.0 and rc["etal"] == -1.0 and rc["drll"] == 0.0
    assert rc.unknown_keys == []


def test_shipped_pp_card_has_madgraph_default_values():
    rc = read_run_card(CARDS / "run_card_pp.dat")
    assert rc.unknown_keys == []
    for key in rc:
        if key in RUN_CARD_DEFAULTS and key not in TECHNICAL_KEYS:
            assert rc[key] == RUN_CARD_DEFAULTS[key], key


def test_every_shipped_card_line_is_a_known_key():
    for name in ("run_card.dat", "run_card_pp.dat"):
        rc = read_run_card(CARDS / name)
        assert all(rc.is_set(k) for k in ("lpp1", "ebeam1", "ptj", "etal", "drll", "mmll"))


def test_run_card_round_trip_gives_equal_card(tmp_path):
    for source in (CARDS / "run_card.dat", CARDS / "run_card_pp.dat", DATA / "mg5_run_card_pp.dat"):
        rc = read_run_card(source)
        rc.write(tmp_path / "out.dat")
        again = read_run_card(tmp_path / "out.dat")
        assert again == rc and again.text == rc.text


def test_overrides_are_applied_recorded_and_survive_a_round_trip(tmp_path):
    rc = read_run_card(CARDS / "run_card_pp.dat")
    new = rc.with_overrides({"nevents": 500, "ptj": "3d1", "iseed": 7, "mmll": 50})
    assert new["nevents"] == 500 and new["ptj"] == 30.0 and new["mmll"] == 50.0
    assert new.overrides == {"nevents": 500, "ptj": 30.0, "iseed": 7, "mmll": 50.0}
    assert rc["ptj"] == 20.0  # the original is unchanged
    new.write(tmp_path / "o.dat")
    again = read_run_card(tmp_path / "o.dat")
    assert again == new


def test_override_of_a_key_absent_from_the_card_is_appended():
    rc = RunCard.from_text(" 0 = lpp1\n 0 = lpp2\n").with_overrides({"ptl": 15})
    assert rc.is_set("ptl") and rc["ptl"] == 15.0
    assert re.search(r"15\.0 = ptl", rc.text)


def test_physics_values_exclude_event_count_and_seed():
    rc = read_run_card(CARDS / "run_card_pp.dat")
    reseeded = rc.with_overrides({"nevents": 123, "iseed": 99, "use_syst": False})
    assert reseeded.physics_values() == rc.physics_values()
    assert "nevents" not in rc.physics_values() and "iseed" not in rc.physics_values()


def test_physics_values_change_with_a_cut_or_beam_energy():
    rc = read_run_card(CARDS / "run_card_pp.dat")
    assert rc.with_overrides({"ptj": 25}).physics_values() != rc.physics_values()
    assert rc.with_overrides({"ebeam1": 7000}).physics_values() != rc.physics_values()


def test_physics_values_cover_every_supported_cut():
    values = read_run_card(CARDS / "run_card.dat").physics_values()
    assert SUPPORTED_CUT_KEYS <= set(values)


# ------------------------------------------------------------------- errors
def test_missing_run_card_error_names_the_file(tmp_path):
    with pytest.raises(CardError, match=r"nope\.dat: no such file"):
        read_run_card(tmp_path / "nope.dat")


@pytest.mark.parametrize("bad_line, problem", [
    (" 6500 ebeam1", "expected 'value = key'"),
    (" abc = ebeam1", "'abc' of 'ebeam1' is not a number"),
    (" maybe = fixed_ren_scale", "is not a boolean"),
    (" 1.5 = nevents", "is not an integer"),
    (" = ebeam1", "no value"),
    (" 1 = 2key", "is not a run-card key"),
])
def test_malformed_run_card_line_error_names_file_and_line(tmp_path, bad_line, problem):
    path = tmp_path / "run_card.dat"
    path.write_text("# comment\n 0 = lpp1\n" + bad_line + " ! comment\n")
    with pytest.raises(CardError, match=rf"run_card\.dat:3: .*{re.escape(problem)}") as info:
        read_run_card(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("line, key", [
    (" 1 = ickkw", "ickkw"),
    (" 80.0 = polbeam1", "polbeam1"),
    (" 20.0 = ptgmin", "ptgmin"),
    (" {6: 100} = pt_min_pdg", "pt_min_pdg"),
    (" 2 = lpp1", "lpp1"),
    (" cteq6l1 = pdlabel", "pdlabel"),
    (" 0 = dynamical_scale_choice", "dynamical_scale_choice"),
    (" bias = event_norm", "event_norm"),
    (" ptj_bias = bias_module", "bias_module"),
])
def test_unsupported_physics_is_refused_by_name(tmp_path, line, key):
    path = tmp_path / "run_card.dat"
    path.write_text(" 1 = lpp1\n" + line + "\n")
    with pytest.raises(CardError, match=rf"run_card\.dat:2: {key} = "):
        read_run_card(path)


def test_unsupported_physics_at_its_inactive_value_is_accepted():
    rc = RunCard.from_text(" 0 = ickkw\n 0.0 = polbeam1\n {} = pt_min_pdg\n 0 = ptgmin\n")
    assert rc["ickkw"] == 0


def test_pdlabel_is_irrelevant_for_lepton_beams():
    rc = RunCard.from_text(" 0 = lpp1\n 0 = lpp2\n none = pdlabel\n")
    assert rc["pdlabel"] == "none"


def test_any_scale_choice_is_accepted_when_both_scales_are_fixed():
    rc = RunCard.from_text(" T = fixed_ren_scale\n T = fixed_fac_scale\n 0 = dynamical_scale_choice\n")
    assert rc["dynamical_scale_choice"] == 0


def test_unknown_keys_are_kept_with_a_warning_naming_them():
    with pytest.warns(UserWarning, match="my_extension"):
        rc = RunCard.from_text(" 3 = my_extension\n")
    assert rc["my_extension"] == 3 and rc.unknown_keys == ["my_extension"]


def test_non_positive_energy_is_refused():
    with pytest.raises(CardError, match="ebeam1 = -1.0 must be a positive number"):
        RunCard.from_text(" -1 = ebeam1\n")


def test_unused_scale_values_are_not_checked():
    rc = RunCard.from_text(" F = fixed_ren_scale\n F = fixed_fac_scale\n 0 = scale\n 0 = dsqrt_q2fact1\n")
    assert rc["scale"] == 0.0
    with pytest.raises(CardError, match="scale = 0.0 must be a positive number"):
        RunCard.from_text(" T = fixed_ren_scale\n 0 = scale\n")


def test_non_strict_reading_skips_the_support_check():
    rc = RunCard.from_text(" 1 = ickkw\n", strict=False)
    assert rc["ickkw"] == 1 and math.isfinite(rc["xqcut"])
