"""Tests of hstramp.core.dqinit, and the purity test of every calibration-stage core function."""

import numpy as np
import pytest

from hstramp.core.blev import bias_level_correct
from hstramp.core.dark import dark_subtract
from hstramp.core.dqflags import BAD_DETECTOR, BAD_FLAT, HOT, SATURATED
from hstramp.core.dqinit import dq_init
from hstramp.core.flat import flat_field
from hstramp.core.nlin import nonlinearity_correct
from hstramp.core.noise import initial_error
from hstramp.core.stats import image_statistics, masked_mean, resistant_mean
from hstramp.core.units import count_rates
from hstramp.core.zoff import subtract_zero_read
from hstramp.core.zsig import zero_read_signal


def test_dq_init_ors_the_mask_into_every_read():
    groupdq = np.zeros((3, 4, 5), dtype=np.uint16)
    groupdq[1, 2, 2] = SATURATED
    mask = np.zeros((4, 5), dtype=np.uint16)
    mask[2, 2] = HOT | BAD_DETECTOR
    mask[0, 0] = BAD_FLAT  # reference pixels are flagged too
    result = dq_init(groupdq, mask)
    np.testing.assert_array_equal(
        result[:, 2, 2], [HOT | BAD_DETECTOR, HOT | BAD_DETECTOR | SATURATED, HOT | BAD_DETECTOR]
    )
    assert np.all(result[:, 0, 0] == BAD_FLAT)
    assert result.dtype == np.uint16


def test_dq_init_on_one_image():
    mask = np.full((4, 5), HOT, dtype=np.uint16)
    np.testing.assert_array_equal(dq_init(np.zeros((4, 5), np.uint16), mask), mask)


@pytest.mark.parametrize("mask", [np.zeros((5, 4), np.uint16), np.zeros((4, 5), np.float32)])
def test_dq_init_rejects_bad_masks(mask):
    with pytest.raises(ValueError):
        dq_init(np.zeros((3, 4, 5), np.uint16), mask)


# ---- every stage function leaves its inputs alone -------------------------------------------

TRIM = (1, 1, 1, 1)
NG, NY, NX = 4, 8, 9


def _arrays():
    rng = np.random.default_rng(12)
    data = rng.uniform(10000.0, 12000.0, (NG, NY, NX)).astype(np.float32)
    dq = rng.integers(0, 4, (NG, NY, NX)).astype(np.uint16) * np.uint16(HOT)
    dq[1, 3, 3] = SATURATED
    frame = rng.uniform(0.5, 1.5, (NY, NX)).astype(np.float32)
    return {
        "data": data,
        "err": rng.uniform(1.0, 2.0, (NG, NY, NX)).astype(np.float32),
        "dq": dq,
        "frame": frame,
        "frame_dq": (frame > 1.2).astype(np.uint16) * np.uint16(BAD_FLAT),
        "zsci": np.full((NY, NX), 10500.0, dtype=np.float32),
        "node": np.full((NY, NX), 1000.0, dtype=np.float32),
        "coeffs": rng.normal(0.0, 1e-6, (3, NY, NX)).astype(np.float32),
        "gain": frame + 1.5,
    }


STAGES = {
    "dq_init": lambda a: dq_init(a["dq"], a["frame_dq"]),
    "zsig": lambda a: zero_read_signal(
        a["data"], a["dq"], a["zsci"], a["frame"], a["node"], a["gain"], a["frame"], trim=TRIM
    ),
    "blev": lambda a: bias_level_correct(
        a["data"], trim=TRIM, biassect_a=(0, 0), biassect_b=(NX - 1, NX - 1)
    ),
    "zoff": lambda a: subtract_zero_read(a["data"], a["dq"]),
    "zoff_saved": lambda a: subtract_zero_read(a["data"], a["dq"], a["frame"], a["frame_dq"]),
    "noise": lambda a: initial_error(a["data"] - 10000.0, None, a["gain"], a["frame"], trim=TRIM),
    "noise_err": lambda a: initial_error(a["data"], a["err"], a["gain"], a["frame"], trim=TRIM),
    "nlin": lambda a: nonlinearity_correct(
        a["data"] - 11000.0, a["dq"], a["coeffs"], a["node"], a["frame_dq"], trim=TRIM
    ),
    "nlin_zsig": lambda a: nonlinearity_correct(
        a["data"] - 11000.0,
        a["dq"],
        a["coeffs"],
        a["node"],
        a["frame_dq"],
        trim=TRIM,
        zsig=a["frame"],
        zsig_dq=a["frame_dq"],
    ),
    "dark": lambda a: dark_subtract(
        a["data"], a["err"], a["dq"], a["err"], a["err"], a["dq"], trim=TRIM
    ),
    "units": lambda a: count_rates(a["data"], a["err"], np.array([0.0, 1.0, 0.0, 3.0]), trim=TRIM),
    "flat_ramp": lambda a: flat_field(
        a["data"],
        a["err"],
        a["dq"],
        a["frame"],
        a["frame"],
        a["frame_dq"],
        amp_gains=(2.3, 2.4, 2.3, 2.4),
        trim=TRIM,
    ),
    "flat_image": lambda a: flat_field(
        a["data"][1],
        a["err"][1],
        a["dq"][1],
        a["frame"],
        None,
        None,
        amp_gains=(2.3, 2.4, 2.3, 2.4),
        trim=TRIM,
    ),
    "resistant_mean": lambda a: resistant_mean(a["data"]),
    "masked_mean": lambda a: masked_mean(a["frame"], a["frame_dq"], BAD_FLAT, trim=TRIM),
    "statistics": lambda a: image_statistics(a["data"][1], a["err"][1], a["dq"][1], trim=TRIM),
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_no_stage_mutates_its_inputs(stage):
    arrays = _arrays()
    originals = {name: array.copy() for name, array in arrays.items()}
    for array in arrays.values():
        array.setflags(write=False)  # an in-place write raises at once
    result = STAGES[stage](arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(array, originals[name], err_msg=f"{stage} changed {name}")
    outputs = [getattr(result, f) for f in getattr(result, "__dataclass_fields__", ())]
    for output in [result, *outputs]:
        if isinstance(output, np.ndarray) and output.ndim:
            assert output.flags.writeable, f"{stage} returned a read-only (shared?) array"
            for array in arrays.values():
                assert not np.shares_memory(output, array), f"{stage} returned an input view"
