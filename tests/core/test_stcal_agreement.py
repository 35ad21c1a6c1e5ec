"""hstramp against stcal (the JWST reference implementation) on evenly spaced ramps.

stcal weights by read index; on evenly spaced reads that is the same as weighting by
time, so the two must agree there. stcal wants 4-D arrays ``[nints, ngroups, ny, nx]``,
uint8 JWST group flags, and the read noise of a CDS pair (it divides by sqrt(2) for
ramp fitting and uses it as the noise of a difference for jump detection): hstramp's
read noise is that of one read, so stcal gets ``sqrt(2)`` times it.
"""

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.jump import JumpParameters, detect_jumps
from hstramp.core.ramp_fit import RampFitParameters, fit_ramps
from hstramp.testing.stcal_oracle import prepare_stcal_jumps, prepare_stcal_ramp_fit
from tests.core.test_jump import GAIN, READ_NOISE, SPARS, simulate_ramps

pytest.importorskip("stcal")


INTERVAL = 10.0  # s, between reads


def stcal_jumps(data, groupdq):
    """Jump flags from stcal's two-point difference (default thresholds, one process)."""
    return prepare_stcal_jumps(data, groupdq, GAIN, READ_NOISE)()


def stcal_rates(data, groupdq):
    """stcal OLS_C optimally weighted slopes, DN/s."""
    return prepare_stcal_ramp_fit(data, groupdq, GAIN, READ_NOISE, INTERVAL)()


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
