"""calstis's image statistics (hstcal ``pkg/stis/lib/dostat.c``), case by case from the C
source: which pixels count, S/N of a pixel with ERR <= 0, no good pixel, SDQFLAGS as a short."""

import logging

import numpy as np
import pytest

from hstramp.core.stats import calstis_statistics, calstis_statistics_keywords
from hstramp.core.stis.dqflags import HOTPIX, SATPIXEL, SDQFLAGS_DEFAULT, SMALLBLEM


def _image(shape=(9, 13), seed=11):
    rng = np.random.default_rng(seed)
    data = rng.normal(50.0, 8.0, shape).astype(np.float32)
    err = rng.uniform(2.0, 9.0, shape).astype(np.float32)
    return data, err, np.zeros(shape, np.uint16)


def _by_hand(data, err, good, snr):
    """The C loop: double sums of every good pixel, float32 results."""
    values = data[good].astype(np.float64)
    errs = err[good].astype(np.float64)
    f32 = lambda x: float(np.float32(x))  # noqa: E731
    return {"SCI": {"NGOODPIX": int(good.sum()), "GOODMIN": f32(values.min()),
                    "GOODMAX": f32(values.max()), "GOODMEAN": f32(values.mean()),
                    "SNRMIN": f32(snr.min()), "SNRMAX": f32(snr.max()),
                    "SNRMEAN": f32(snr.mean())},
            "ERR": {"NGOODPIX": int(good.sum()), "GOODMIN": f32(errs.min()),
                    "GOODMAX": f32(errs.max()), "GOODMEAN": f32(errs.mean())}}


def test_every_rule_of_dostat():
    data, err, dq = _image()
    data[0, 0], dq[0, 0] = 1e6, SATPIXEL                   # serious: out
    data[0, 1], dq[0, 1] = 77.0, SMALLBLEM                 # 1024 not in 31743: counts
    data[1, 0], err[1, 0] = -3.0, 0.0                      # ERR 0, SCI <= 0: counts, S/N 0
    data[1, 1], err[1, 1] = 0.0, -2.0                      # ERR < 0, SCI 0: counts, S/N 0
    data[1, 2], err[1, 2] = 5.0, 0.0                       # ERR 0, SCI > 0: out
    data[2, 0] = np.nan                                    # NaN: out (hstramp)
    err[2, 1] = np.inf                                     # inf: out (hstramp)
    dq[3, 3] = HOTPIX
    good = np.ones(data.shape, bool)
    for pixel in ((0, 0), (1, 2), (2, 0), (2, 1), (3, 3)):
        good[pixel] = False
    snr = np.array([float(v) / float(e) if e > 0 else 0.0
                    for v, e in zip(data[good], err[good], strict=True)])
    got = calstis_statistics_keywords(data, err, dq, sdqflags=SDQFLAGS_DEFAULT)
    expected = _by_hand(data, err, good, snr)
    for hdu in ("SCI", "ERR"):
        assert got[hdu] == pytest.approx(expected[hdu], rel=1e-7, abs=0)
    assert got["SCI"]["NGOODPIX"] == data.size - 5
    assert got["ERR"]["GOODMIN"] == -2.0                   # ERR <= 0 of a counted pixel counts
    assert got["SCI"]["SNRMIN"] == 0.0                     # the S/N of 0 of an ERR <= 0


def test_inputs_are_not_modified_and_order_is_calstis():
    data, err, dq = _image()
    dq[4, 4] = HOTPIX
    copies = [a.copy() for a in (data, err, dq)]
    got = calstis_statistics_keywords(data, err, dq, sdqflags=SDQFLAGS_DEFAULT)
    for array, copy in zip((data, err, dq), copies, strict=True):
        np.testing.assert_array_equal(array, copy)
    assert set(got["SCI"]) == {"NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "SNRMIN",
                               "SNRMAX", "SNRMEAN"}
    assert set(got["ERR"]) == {"NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN"}


def test_sdqflags_is_a_short():
    """calstis casts SDQFLAGS to a C short: only the low 16 bits select."""
    data, err, dq = _image()
    dq[2, 2] = HOTPIX
    assert calstis_statistics(data, err, dq, sdqflags=65536 + HOTPIX).ngoodpix == data.size - 1
    assert calstis_statistics(data, err, dq, sdqflags=65536).ngoodpix == data.size


def test_mean_of_float32_values_is_summed_in_double():
    """A mean calstis sums in double: a float32 running sum would drift by far more."""
    data = np.full((200, 500), 16777217.0 / 3, np.float32)
    data[::2] += np.float32(1.0)
    err, dq = np.ones_like(data), np.zeros(data.shape, np.uint16)
    st = calstis_statistics(data, err, dq, sdqflags=SDQFLAGS_DEFAULT)
    assert st.goodmean == float(np.float32(data.astype(np.float64).mean()))


@pytest.mark.parametrize(("case", "message"), [
    ("flagged", "All output pixels flagged as bad."),
    ("no_err", "No ERR values > 0."),
    ("mixed", "All output pixels either flagged as bad or ERR <= 0."),
    ("empty", "Output image size is zero."),
])
def test_no_good_pixel_writes_ngoodpix_zero_and_warns(case, message, caplog):
    data, err, dq = _image()
    if case == "flagged":
        dq[:] = HOTPIX
    elif case == "no_err":
        err[:] = 0.0
    elif case == "mixed":
        dq[:] = HOTPIX
        dq[0, :] = 0
        err[0, :] = -1.0
    else:
        data, err, dq = data[:0], err[:0], dq[:0]
    with caplog.at_level(logging.WARNING, logger="hstramp.core.stats"):
        got = calstis_statistics_keywords(data, err, dq, sdqflags=SDQFLAGS_DEFAULT)
    assert got == {"SCI": {"NGOODPIX": 0}, "ERR": {"NGOODPIX": 0}}
    assert [r.getMessage() for r in caplog.records] == [message]
