"""SHADCORR as calstis cs1/doshad.c: image * t / (t + s), t = EXPTIME / NCOMBINE."""

import numpy as np
import pytest

from hstramp.core.stis.dqflags import CALIBDEFECT
from hstramp.core.stis.shading import shading_divisor, shutter_shading_correct
from hstramp.reference.common import ReferenceFileError
from hstramp.reference.stis import STISGeometry
from hstramp.reference.stis.shading import read_stis_shadfile
from hstramp.simulate.stis.calibration import write_shadfile


@pytest.mark.parametrize(("s", "exptime", "ncombine", "value", "expected"), [
    (0.02, 1.0, 1, 100.0, 100.0 / 1.02),
    (0.02, 2.0, 2, 100.0, 100.0 / 1.02),      # t = EXPTIME / NCOMBINE = 1
    (0.05, 0.1, 1, 60.0, 60.0 / 1.5),
    (0.0, 5.0, 1, 7.0, 7.0),
    (0.02, 1.0, 0, 100.0, 100.0 / 1.02),      # NCOMBINE < 1 counts as 1
])
def test_shading_table(s, exptime, ncombine, value, expected):
    shad = np.full((3, 4), s, np.float32)
    out = shutter_shading_correct(np.full((3, 4), value, np.float32), np.zeros((3, 4), np.float32),
                                  np.zeros((3, 4), np.uint16), shad, None, None,
                                  exptime=exptime, ncombine=ncombine)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    assert out.applied.tolist() == [True]


def test_error_propagation_and_dq():
    """div2d: err = sqrt((e/d)^2 + (x * e_d / d^2)^2), e_d = e_s / t; DQ OR-ed."""
    x, e, s, es, t = 50.0, 3.0, 0.5, 0.1, 2.0
    d, ed = 1 + s / t, es / t
    out = shutter_shading_correct(np.full((1, 2), x, np.float32), np.full((1, 2), e, np.float32),
                                  np.array([[1, 0]], np.uint16), np.full((1, 2), s, np.float32),
                                  np.full((1, 2), es, np.float32), np.array([[0, 16]], np.uint16),
                                  exptime=t)
    np.testing.assert_allclose(out.err, np.hypot(e / d, x * ed / d**2), rtol=1e-6)
    assert out.dq.tolist() == [[1, 16]]


def test_zero_divisor_flags_512():
    out = shutter_shading_correct(np.ones((1, 2), np.float32), np.ones((1, 2), np.float32),
                                  np.zeros((1, 2), np.uint16), np.array([[-1.0, 0.0]], np.float32),
                                  None, None, exptime=1.0)
    assert out.dq.tolist() == [[CALIBDEFECT, 0]]


def test_stack_with_zero_exptime_imset_is_skipped_like_calstis():
    data = np.full((2, 2, 2), 10.0, np.float32)
    out = shutter_shading_correct(data, np.zeros_like(data), np.zeros(data.shape, np.uint16),
                                  np.full((2, 2), 1.0, np.float32), None, None,
                                  exptime=[0.0, 1.0])
    assert out.applied.tolist() == [False, True]
    np.testing.assert_allclose(out.data[0], 10.0)
    np.testing.assert_allclose(out.data[1], 5.0)
    np.testing.assert_array_equal(data, 10.0)           # input not modified


def test_divisor_refuses_nonpositive_exptime():
    with pytest.raises(ValueError, match="EXPTIME"):
        shading_divisor(np.zeros((2, 2)), None, -1.0)


def test_wrong_size_in_core():
    with pytest.raises(ValueError, match="SHADFILE"):
        shutter_shading_correct(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3), np.uint16),
                                np.zeros((3, 3)), None, None, exptime=1.0)


def test_reader_averages_binned_and_refuses_wrong_size(tmp_path):
    shad = np.arange(16, dtype=np.float32).reshape(4, 4)
    path = write_shadfile(tmp_path / "x_ssc.fits", shad)
    binned = read_stis_shadfile(path, STISGeometry((2, 2), ltv=(0.5, 0.5), ltm=(0.5, 0.5)))
    np.testing.assert_allclose(binned.data, [[2.5, 4.5], [10.5, 12.5]])
    same = read_stis_shadfile(path, STISGeometry((4, 4)))
    np.testing.assert_array_equal(same.data, shad)
    with pytest.raises(ReferenceFileError, match="SHADFILE"):
        read_stis_shadfile(path, STISGeometry((8, 8)))


def test_reader_refuses_another_filetype(tmp_path):
    from hstramp.simulate.stis.calibration import derive_fits

    path = write_shadfile(tmp_path / "x_ssc.fits", np.zeros((4, 4)))
    wrong = derive_fits(path, tmp_path / "y_ssc.fits", primary={"FILETYPE": "DARK IMAGE"})
    with pytest.raises(ReferenceFileError, match="FILETYPE"):
        read_stis_shadfile(wrong, STISGeometry((4, 4)))
