"""MULTIACCUM read times: the real files' SAMPTIMEs, full-frame tables, subarray rule."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.simulate.timing import (
    FULL_FRAME_TIMES,
    aperture_for_size,
    read_times,
    subtype_for_size,
    zero_read_time,
)

REAL = ("ibh7a7lsq_raw.fits", "ibxy01aoq_raw.fits", "ibxy07q9q_raw.fits", "iccz11q4q_ima.fits",
        "ibh726meq_ima.fits")


@pytest.mark.parametrize("name", REAL)
def test_real_samptimes_and_sampzero(real_file, name):
    with fits.open(real_file(name)) as hdul:
        primary = hdul[0].header
        nsamp = primary["NSAMP"]
        real = [hdul["SCI", nsamp - i].header["SAMPTIME"] for i in range(nsamp)]
        times = read_times(primary["SAMP_SEQ"].strip(), nsamp, primary["SUBTYPE"].strip())
        np.testing.assert_array_equal(times, real)
        assert zero_read_time(times) == pytest.approx(primary["SAMPZERO"], abs=1e-9)


def test_full_frame_sequences():
    np.testing.assert_allclose(read_times("SPARS10", 4), [0.0, 2.932, 12.933, 22.934])
    rapid = read_times("RAPID", 16)
    np.testing.assert_allclose(np.diff(rapid), 2.932, atol=0.0015)
    step = read_times("STEP400", 16)
    assert step[-1] == pytest.approx(2799.235) and np.all(np.diff(step) > 0)
    for seq in FULL_FRAME_TIMES:
        assert read_times(seq, 16).size == 16


@pytest.mark.parametrize("seq", ["SPARS25", "STEP50", "RAPID"])
def test_subarray_reads_are_faster_but_keep_the_dwell(seq):
    full = read_times(seq, 16)
    sub = read_times(seq, 16, "SQ64SUB")
    assert sub[1] == pytest.approx(0.061)
    np.testing.assert_allclose(np.diff(sub)[1:], np.diff(full)[1:] - (2.932 - 0.061),
                               atol=1e-6)


def test_sequences_are_uneven():
    times = read_times("SPARS10", 9, "SQ128SUB")
    assert np.diff(times)[0] < 0.2 < np.diff(times)[1]


@pytest.mark.parametrize(("args", "match"), [(("SPARS7", 5), "samp_seq"), (("RAPID", 1), "nsamp"),
                                             (("RAPID", 17), "nsamp"),
                                             (("RAPID", 5, "SQ32SUB"), "subtype")])
def test_errors(args, match):
    with pytest.raises(ValueError, match=match):
        read_times(*args)


@pytest.mark.parametrize(("size", "subtype", "aperture"), [(1014, "FULLIMAG", "IR"),
                                                           (256, "SQ256SUB", "IRSUB256"),
                                                           (64, "SQ64SUB", "IRSUB64")])
def test_subtype_and_aperture(size, subtype, aperture):
    assert subtype_for_size(size) == subtype and aperture_for_size(size) == aperture


def test_unknown_size():
    with pytest.raises(ValueError, match="size"):
        subtype_for_size(100)
