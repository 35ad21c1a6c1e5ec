"""stcal as an oracle: the same ramps through stcal's jump detection and ramp fit.

For tests and benchmarks only (stcal is a test dependency). Inputs are hstramp's: a ramp
``[ngroups, ny, nx]`` in time order, uint16 WFC3 flags, gain in e-/DN and the noise of one
read in DN; stcal gets JWST flags, 4-D arrays and the noise of a read pair (CDS). Each
function prepares stcal's objects and returns a callable that runs stcal, so a benchmark can
time the call alone.
"""

from __future__ import annotations

import numpy as np

from hstramp.datamodels import dqflags

__all__ = ["JWST_FLAGS", "prepare_stcal_jumps", "prepare_stcal_ramp_fit", "to_jwst_groupdq"]

#: JWST group/pixel flags as stcal expects them (group flags fit in uint8)
JWST_FLAGS = {
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

_DO_NOT_USE = dqflags.FILL | dqflags.BAD_DETECTOR | dqflags.REED_SOLOMON


def to_jwst_groupdq(groupdq):
    """hstramp uint16 flags ``[ngroups, ny, nx]`` -> stcal's uint8 group flags, 4-D."""
    out = np.zeros((1, *groupdq.shape), np.uint8)
    out[0][(groupdq & dqflags.SATURATED) != 0] |= JWST_FLAGS["SATURATED"]
    out[0][(groupdq & _DO_NOT_USE) != 0] |= JWST_FLAGS["DO_NOT_USE"]
    out[0][(groupdq & dqflags.CR_RAMP) != 0] |= JWST_FLAGS["JUMP_DET"]
    return out


def _planes(data, gain, read_noise):
    ny, nx = data.shape[1:]
    return (np.full((ny, nx), gain, np.float32),
            np.full((ny, nx), read_noise * np.sqrt(2.0), np.float32))  # stcal: CDS noise


def prepare_stcal_jumps(data, groupdq, gain, read_noise):
    """A callable running stcal's two-point difference (default thresholds, one process).

    Returns
    -------
    callable
        Returns a boolean ``[ngroups, ny, nx]`` array of the reads stcal flags as jumps.
    """
    from stcal.jump.jump import detect_jumps_data
    from stcal.jump.jump_class import JumpData

    ny, nx = data.shape[1:]
    gain2d, noise2d = _planes(data, gain, read_noise)
    jump_data = JumpData(gain2d=gain2d, rnoise2d=noise2d, dqflags=JWST_FLAGS)
    jump_data.init_arrays_from_arrays(np.array(data[None], dtype=np.float32),
                                      to_jwst_groupdq(groupdq), np.zeros((ny, nx), np.uint32))
    jump_data.nframes = 1
    jump_data.dt_group = np.ones(1)
    jump_data.n_reads_groupdiff = np.full(1, 2.0)
    jump_data.max_cores = "none"

    def run():
        return (detect_jumps_data(jump_data)[0][0] & JWST_FLAGS["JUMP_DET"]) != 0

    return run


def prepare_stcal_ramp_fit(data, groupdq, gain, read_noise, group_time):
    """A callable running stcal's OLS_C optimally weighted ramp fit (evenly spaced reads).

    Returns
    -------
    callable
        Returns stcal's slope image, DN/s.
    """
    from stcal.ramp_fitting.ramp_fit import ramp_fit_data
    from stcal.ramp_fitting.ramp_fit_class import RampData

    ny, nx = data.shape[1:]
    gain2d, noise2d = _planes(data, gain, read_noise)
    ramp = RampData()
    ramp.set_arrays(np.array(data[None], dtype=np.float32), to_jwst_groupdq(groupdq),
                    np.zeros((ny, nx), np.uint32), np.zeros((ny, nx), np.float32))
    ramp.set_meta(name="NIRCAM", frame_time=group_time, group_time=group_time, groupgap=0,
                  nframes=1)
    ramp.algorithm = "OLS_C"
    ramp.set_dqflags(JWST_FLAGS)
    ramp.start_row, ramp.num_rows = 0, ny
    ramp.suppress_one_group_ramps = True

    def run():
        # stcal rescales the noise array it is given in place: hand it a copy each time
        return ramp_fit_data(ramp, False, noise2d.copy(), gain2d, "OLS_C", "optimal",
                             "none")[0]["slope"]

    return run
