"""The C bridge: loading, layout, and every failure as a named Python exception."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from madnis_plugin.bridge import UmamiError, UmamiLibrary
from madnis_plugin.compiler import compile_shared_library

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def status_library() -> Path:
    return compile_shared_library("test_status_lib", [FIXTURES / "umami_status" / "status_lib.c"])


def test_momenta_layout_reaches_the_library_unchanged(status_library):
    # The toy library returns the sum of the three energies: any mix-up of the
    # (event, particle, component) transposition, or of chunk offsets (batch
    # longer than the bridge's 512-event chunk), changes it.
    rng = np.random.default_rng(7)
    p = rng.normal(size=(1500, 3, 4))
    lib = UmamiLibrary(status_library)
    me2 = lib.evaluate(p).me2
    np.testing.assert_array_equal(me2, p[:, :, 0].sum(axis=1))


@pytest.mark.parametrize("status, name", [
    (1, "UMAMI_ERROR"), (2, "UMAMI_ERROR_NOT_IMPLEMENTED"), (3, "UMAMI_ERROR_UNSUPPORTED_INPUT"),
    (4, "UMAMI_ERROR_UNSUPPORTED_OUTPUT"), (5, "UMAMI_ERROR_UNINITIALIZED_META"),
    (6, "UMAMI_ERROR_UNSUPPORTED_META"), (7, "UMAMI_ERROR_MISSING_INPUT"),
])
def test_every_umami_failure_status_raises_naming_status_and_call(status_library, status, name):
    lib = UmamiLibrary(status_library)
    lib.set_parameter("fail_with", status)
    with pytest.raises(UmamiError) as info:
        lib.evaluate(np.ones((2, 3, 4)))
    assert info.value.status == status
    assert info.value.status_name == name
    assert name in str(info.value) and "umami_matrix_element" in str(info.value)


def test_unsupported_parameter_raises_from_set_parameter(status_library):
    lib = UmamiLibrary(status_library)
    with pytest.raises(UmamiError, match="UMAMI_ERROR_UNSUPPORTED_INPUT.*umami_set_parameter"):
        lib.set_parameter("no_such_parameter", 1.0)


def test_asking_for_an_output_the_library_lacks_is_an_error(status_library):
    lib = UmamiLibrary(status_library)
    with pytest.raises(UmamiError, match="UNSUPPORTED_OUTPUT.*DIAGRAM_AMP2"):
        lib.evaluate(np.ones((1, 3, 4)), amp2=True)


def test_missing_library_raises_load_error(tmp_path):
    with pytest.raises(UmamiError) as info:
        UmamiLibrary(tmp_path / "libnothing.so")
    assert info.value.status_name == "MP_ERROR_LOAD"


def test_library_without_umami_symbols_is_refused(tmp_path):
    source = tmp_path / "empty.c"
    source.write_text("int not_umami(void) { return 0; }\n")
    library = compile_shared_library("test_not_umami", [source])
    with pytest.raises(UmamiError, match="MP_ERROR_SYMBOL.*umami_get_meta"):
        UmamiLibrary(library)


def test_wrong_momentum_shape_is_rejected(status_library):
    lib = UmamiLibrary(status_library)
    with pytest.raises(ValueError, match=r"shape \(events, 3, 4\)"):
        lib.evaluate(np.ones((2, 4, 4)))


def test_empty_batch_returns_empty_result(status_library):
    assert UmamiLibrary(status_library).evaluate(np.ones((0, 3, 4))).me2.shape == (0,)


def test_umami_column_layout_is_evaluated_in_place_with_identical_results():
    # Momenta held as UMAMI holds them (event index fastest) take the zero-copy
    # path; results, per-diagram weights included, match the event-major path
    # bit for bit on a real process with several diagrams and subprocesses.
    from madnis_plugin import load_process
    from madnis_plugin.phasespace import Rambo

    process = load_process("ttbar_jet")
    rambo = Rambo(process.masses, 1000.0)
    points = rambo.map(np.random.default_rng(3).random((1500, rambo.dim)))
    p = np.ascontiguousarray(points.momenta[points.valid])
    p_columns = np.ascontiguousarray(p.transpose(2, 1, 0)).T
    assert not p_columns.flags.c_contiguous
    rng = np.random.default_rng(4)
    inputs = dict(flavor_index=rng.integers(0, 3, len(p)), random_color=rng.random(len(p)),
                  random_helicity=rng.random(len(p)), amp2=True, color=True, helicity=True)
    event_major = process.library.evaluate(p, **inputs)
    columns = process.library.evaluate(p_columns, **inputs)
    for field in ("me2", "amp2", "color_index", "helicity_index"):
        np.testing.assert_array_equal(getattr(columns, field), getattr(event_major, field))
    assert columns.amp2.shape == (len(p), process.library.n_diagrams)
