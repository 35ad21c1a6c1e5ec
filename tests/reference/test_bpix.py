"""BPIXTAB: the real table lands where calwf3 put its flags; selection rules; errors."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.geometry import ScienceGeometry
from hstramp.datamodels import dqflags
from hstramp.reference import ReferenceFileError, read_bpixtab
from hstramp.simulate.references import binary_table, reference_primary

REAL_TABLE = "y711520di_bpx.fits"
REAL_IMAS = ("iccz11q4q_ima.fits", "ibh726meq_ima.fits")


def _zeroth_read(ima_path):
    """Geometry and DQ of the zeroth read of a real ima file."""
    with fits.open(ima_path) as hdul:
        nsamp = hdul[0].header["NSAMP"]
        header = hdul["SCI", nsamp].header
        dq = np.asarray(hdul["DQ", nsamp].data, dtype=np.uint16)
    geometry = ScienceGeometry((header["NAXIS2"], header["NAXIS1"]),
                               (header["LTV1"], header["LTV2"]))
    return geometry, dq


def _shifted(geometry, dx, dy):
    return ScienceGeometry(geometry.shape, (geometry.ltv[0] + dx, geometry.ltv[1] + dy))


SHIFTS = [(dx, dy) for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2) if (dx, dy) != (0, 0)]


@pytest.mark.parametrize("ima", REAL_IMAS)
def test_real_table_lands_where_calwf3_put_its_flags(real_file, ima):
    """The proof of the LTV rule ``index0 = PIX - 1 + LTV`` on real data.

    The ima files were calibrated with later bad-pixel tables (3562029ji, 3562022mi), so
    the unstable (32) pixels differ; the deviant-zero-read (8) pixels, which only DQICORR
    sets, and the blobs (512) did not change.
    """
    geometry, ima_dq = _zeroth_read(real_file(ima))
    assert geometry.shape == (266, 266) and geometry.ltv == (-374.0, -374.0)
    table = real_file(REAL_TABLE)
    ours = read_bpixtab(table, geometry)
    assert ours.dtype == np.uint16 and ours.shape == ima_dq.shape

    deviant_zero = (ima_dq & dqflags.DEVIANT_ZERO) != 0
    assert deviant_zero.sum() > 50
    assert np.all(ours[deviant_zero] & dqflags.DEVIANT_ZERO)
    blob = (ours & dqflags.BAD_FLAT) != 0
    assert np.mean((ima_dq[blob] & dqflags.BAD_FLAT) != 0) > 0.85

    agreement = np.count_nonzero(ours & ima_dq)
    for dx, dy in SHIFTS:
        moved = read_bpixtab(table, _shifted(geometry, dx, dy))
        assert not np.all(moved[deviant_zero] & dqflags.DEVIANT_ZERO), (dx, dy)
        assert agreement > 1.25 * np.count_nonzero(moved & ima_dq), (dx, dy)


def test_real_table_full_frame_reference_border(real_file):
    dq = read_bpixtab(real_file(REAL_TABLE), ScienceGeometry((1024, 1024), (5.0, 5.0)))
    # PIX -4..0 and 1015..1019 are the reference border: flagged 128 only there
    border = np.ones((1024, 1024), bool)
    border[5:-5, 5:-5] = False
    assert np.any(dq[border] & dqflags.BAD_REFERENCE)
    assert not np.any(dq[~border] & dqflags.BAD_REFERENCE)


def _write_bpix(path, rows, *, with_amp=True, with_gain=True, filetype="BAD PIXELS"):
    pix1, pix2, length, axis, value, chip, amp, gain = zip(*rows, strict=True)
    columns = [("PIX1", "J", np.array(pix1, np.int32)), ("PIX2", "J", np.array(pix2, np.int32)),
               ("LENGTH", "I", np.array(length, np.int16)),
               ("AXIS", "I", np.array(axis, np.int16)),
               ("VALUE", "E", np.array(value, np.float32)),
               ("CCDCHIP", "I", np.array(chip, np.int16))]
    if with_amp:
        columns.append(("CCDAMP", "4A", np.array(amp)))
    if with_gain:
        columns.append(("CCDGAIN", "E", np.array(gain, np.float32)))
    header = reference_primary(filetype, "test bad pixels", 1)
    table = binary_table(columns, "BPIX")
    table.header["SIZAXIS1"] = table.header["SIZAXIS2"] = 1024
    fits.HDUList([fits.PrimaryHDU(header=header), table]).writeto(path)
    return path


def test_runs_selection_and_or(tmp_path):
    geometry = ScienceGeometry((20, 20), (-10.0, -10.0))  # PIX 11..30 on the image
    path = _write_bpix(tmp_path / "b.fits", [
        # pix1 pix2 len axis value chip amp    gain
        (12, 13, 3, 1, 4, 1, "ABCD", 2.5),      # x run at y=2, x=1..3
        (15, 11, 4, 2, 32, 1, "ABCD", 2.5),     # y run at x=4, y=0..3
        (13, 13, 1, 1, 8, 1, "ABCD", 2.5),      # ORs onto the x run
        (16, 16, 1, 1, 512, -999, "N/A", -999),  # wildcards
        (17, 17, 1, 1, 4, 1, "ABCD", 4.0),      # other gain: not applied
        (18, 18, 1, 1, 4, 2, "ABCD", 2.5),      # other chip: not applied
        (19, 19, 1, 1, 4, 1, "A", 2.5),         # other amp: not applied
        (5, 15, 10, 1, 16, 1, "ANY", 2.5),      # starts off the image: clipped to x=0..3
    ])
    dq = read_bpixtab(path, geometry)
    expected = np.zeros((20, 20), np.uint16)
    expected[2, 1:4] = 4
    expected[2, 2] |= 8
    expected[0:4, 4] |= 32
    expected[5, 5] = 512
    expected[4, 0:4] |= 16
    np.testing.assert_array_equal(dq, expected)


def test_missing_amp_and_gain_columns_match_everything(tmp_path):
    path = _write_bpix(tmp_path / "b.fits", [(1, 1, 1, 1, 4, 1, "A", 9.0)], with_amp=False,
                       with_gain=False)
    dq = read_bpixtab(path, ScienceGeometry((3, 3), (0.0, 0.0)))
    assert dq[0, 0] == 4


@pytest.mark.parametrize(("row", "match"), [((1, 1, 1, 3, 4, 1, "ABCD", 2.5), "row 1: AXIS=3"),
                                            ((1, 1, 0, 1, 4, 1, "ABCD", 2.5), "row 1: LENGTH=0")])
def test_bad_rows_are_named(tmp_path, row, match):
    path = _write_bpix(tmp_path / "b.fits", [row])
    with pytest.raises(ReferenceFileError, match=match):
        read_bpixtab(path, ScienceGeometry((3, 3), (0.0, 0.0)))


def test_wrong_filetype(tmp_path):
    path = _write_bpix(tmp_path / "b.fits", [(1, 1, 1, 1, 4, 1, "ABCD", 2.5)],
                       filetype="DARK")
    with pytest.raises(ReferenceFileError, match=r"BPIXTAB .* FILETYPE='DARK'"):
        read_bpixtab(path, ScienceGeometry((3, 3), (0.0, 0.0)))
