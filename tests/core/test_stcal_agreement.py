"""hstramp against stcal (the JWST reference implementation) on evenly spaced ramps.

stcal weights by read index; on evenly spaced reads that is the same as weighting by
time, so the two must agree there. stcal wants 4-D arrays ``[nints, ngroups, ny, nx]``,
uint8 JWST group flags, and the read noise of a CDS pair (it divides by sqrt(2) for
ramp fitting and uses it as the noise of a difference for jump detection): hstramp's
read noise is that of one read, so stcal gets ``sqrt(2)`` times it.
"""

import numpy as np
import pytest

from hstramp.core.jump import JumpParameters, detect_jumps
from hstramp.core.ramp_fit import RampFitParameters, fit_ramps
from hstramp.datamodels import dqflags
from tests.core.test_jump import GAIN, READ_NOISE, SPARS, simulate_ramps

pytest.importorskip("stcal")

from stcal.jump.jump import detect_jumps_data
from stcal.jump.jump_class import JumpData
from stcal.ramp_fitting.ramp_fit import ramp_fit_data
from stcal.ramp_fitting.ramp_fit_class import RampData

#: JWST group/pixel flags as stcal expects them (group flags fit in uint8).
JWST = {
    "GOOD": 0,
    "DO_NOT_USE": 1,
    "SATURATED": 2,
    "JUMP_DET": 4,
    "DROPOUT": 8,
    "PERSISTENCE": 32,
    "CHARGELOSS": 128,
    "NO_GAIN_VALUE": 1 << 19,
    "UNRELIABLE_SLOPE": 1 << 24,
    "REFERENCE_PIXEL": 1 << 31,
}
INTERVAL = 10.0  # s, between reads


def jwst_groupdq(groupdq):
    """hstramp uint16 flags -> stcal uint8 flags, 4-D."""
    out = np.zeros((1, *groupdq.shape), np.uint8)
    out[0][(groupdq & dqflags.SATURATED) != 0] |= JWST["SATURATED"]
    out[0][(groupdq & (dqflags.FILL | dqflags.BAD_DETECTOR | dqflags.REED_SOLOMON)) != 0] |= JWST[
        "DO_NOT_USE"
    ]
    out[0][(groupdq & dqflags.CR_RAMP) != 0] |= JWST["JUMP_DET"]
    return out


def stcal_jumps(data, groupdq):
    """Jump flags from stcal's two-point difference (default thresholds, one process)."""
    ny, nx = data.shape[1:]
    jump_data = JumpData(
        gain2d=np.full((ny, nx), GAIN, np.float32),
        rnoise2d=np.full((ny, nx), READ_NOISE * np.sqrt(2), np.float32),
        dqflags=JWST,
    )
    jump_data.init_arrays_from_arrays(
        data[None].copy(), jwst_groupdq(groupdq), np.zeros((ny, nx), np.uint32)
    )
    jump_data.nframes = 1
    jump_data.dt_group = np.ones(1)
    jump_data.n_reads_groupdiff = np.full(1, 2.0)
    jump_data.max_cores = "none"
    flags = detect_jumps_data(jump_data)[0]
    return (flags[0] & JWST["JUMP_DET"]) != 0


def stcal_rates(data, groupdq):
    """stcal OLS_C optimally weighted slopes, DN/s."""
    ny, nx = data.shape[1:]
    ramp = RampData()
    ramp.set_arrays(
        data[None].copy(),
        jwst_groupdq(groupdq),
        np.zeros((ny, nx), np.uint32),
        np.zeros((ny, nx), np.float32),
    )
    ramp.set_meta(name="NIRCAM", frame_time=INTERVAL, group_time=INTERVAL, groupgap=0, nframes=1)
    ramp.algorithm = "OLS_C"
    ramp.set_dqflags(JWST)
    ramp.start_row, ramp.num_rows = 0, ny
    ramp.suppress_one_group_ramps = True
    image = ramp_fit_data(
        ramp,
        False,
        np.full((ny, nx), READ_NOISE * np.sqrt(2), np.float32),
        np.full((ny, nx), GAIN, np.float32),
        "OLS_C",
        "optimal",
        "none",
    )[0]
    return image["slope"]


def exposure(seed, ngroups, times=None, shape=(200, 200), rates=(-1.0, 3.0)):
    """Seeded ramps: log-uniform rates, 1% of pixels hit by a cosmic ray, saturation."""
    rng = np.random.default_rng(seed)
    times = np.arange(ngroups) * INTERVAL if times is None else times
    rate = 10 ** rng.uniform(*rates, shape)
    data = simulate_ramps(rng, times, rate)
    hits = rng.random(shape) < 0.01
    read = rng.integers(1, ngroups, shape)
    size = rng.uniform(50, 3000, shape)
    for k in range(1, ngroups):
        data[k:, hits & (read == k)] += size[hits & (read == k)]
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[data > 50000] = dqflags.SATURATED
    return data, groupdq, times, rate


@pytest.mark.parametrize(
    ("ngroups", "seed", "side"),
    [(16, 1, 400), (16, 2, 400), (12, 5, 300), (10, 3, 200), (6, 4, 200)],
)
def test_jump_flags_agree_with_stcal(ngroups, seed, side):
    """Over 99.9% of pixels; with 10 or more differences hstramp's test accounts for
    the noise of the median, so stcal flags ~0.08% more pixels (its marginal false
    flags, see docs/maths.md)."""
    data, groupdq, times, _ = exposure(seed, ngroups, shape=(side, side))
    ours = (detect_jumps(data, groupdq, times, GAIN, READ_NOISE) & dqflags.CR_RAMP) != 0
    theirs = stcal_jumps(data, groupdq)
    assert theirs.any(axis=0).mean() > 0.02  # cosmic rays and their neighbours
    agree = np.all(ours == theirs, axis=0).mean()
    assert agree >= 0.999, agree


@pytest.mark.parametrize(("ngroups", "seed"), [(16, 5), (9, 6), (4, 7)])
def test_rates_agree_with_stcal(ngroups, seed):
    """Same jump flags in, the same slopes out (one and several segments)."""
    data, groupdq, times, _ = exposure(seed, ngroups)
    groupdq = detect_jumps(data, groupdq, times, GAIN, READ_NOISE, JumpParameters())
    ours = fit_ramps(data, groupdq, times, GAIN, READ_NOISE).rate
    theirs = stcal_rates(data, groupdq)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    several = ((groupdq & dqflags.CR_RAMP) != 0).any(axis=0)
    assert several.sum() > 100
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_stcal_is_biased_on_spars_where_hstramp_is_not():
    """stcal fits against read index: on SPARS reads its slopes are wrong."""
    data, groupdq, _, rate = exposure(8, 16, times=SPARS, rates=(1.0, 2.5))
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[data > 50000] = dqflags.SATURATED
    ours = fit_ramps(data, groupdq, SPARS, GAIN, READ_NOISE, RampFitParameters())
    theirs = stcal_rates(data, groupdq) * INTERVAL / np.diff(SPARS).mean()
    assert abs(np.median(ours.rate / rate) - 1) < 0.002
    assert abs(np.median(theirs / rate) - 1) > 0.01
