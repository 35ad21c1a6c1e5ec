"""Image statistics: the compiled kernel ``stats`` gives the NumPy reference path's results.

NGOODPIX, the minima and the maxima are the same (a zero extreme aside, whose sign NumPy's own
reduction order leaves open); a mean can differ by one float32 ulp, the kernel summing in double
one value at a time (as calwf3 and calstis do), NumPy pairwise. Both paths run on seeded
images with every special case of both rules, on views and on dtypes the kernel leaves to
NumPy, and the inputs are never modified.
"""

import itertools
import logging

import numpy as np
import pytest

from hstramp.core import native, stats
from hstramp.core.dqflags import SDQFLAGS_DEFAULT
from hstramp.core.stats import (
    calstis_statistics,
    calstis_statistics_keywords,
    image_statistics,
    statistics_keywords,
)
from hstramp.errors import ParameterError

pytestmark = pytest.mark.skipif(not native.built()["stats"],
                                reason="compiled kernel stats not built here")

VALUES = ("goodmean", "goodmin", "goodmax", "errmean", "errmin", "errmax",
          "snrmean", "snrmin", "snrmax")
BITS = np.array([1, 4, 8, 16, 32, 256, 512, 1024, 8192, 16384], np.uint16)


def image(seed, shape=(37, 41), *, specials=0.04, flagged=0.05):
    """SCI, ERR, DQ: a scene with noise, then NaN, +-inf, ERR 0, < 0 and -0.0, SCI <= 0,
    and DQ bits (some serious, some not) scattered over a fraction of the pixels."""
    rng = np.random.default_rng(seed)
    sci = rng.normal(30.0, 40.0, shape).astype(np.float32)
    err = rng.uniform(0.5, 9.0, shape).astype(np.float32)
    dq = np.zeros(shape, np.uint16)
    for array, choices in ((sci, (np.nan, np.inf, -np.inf, 0.0, -0.0, -5.0, 3e30)),
                           (err, (np.nan, np.inf, -np.inf, 0.0, -0.0, -2.0, 1e-6))):
        where = rng.random(shape) < specials
        array[where] = rng.choice(np.array(choices, np.float32), int(where.sum()))
    where = rng.random(shape) < flagged
    dq[where] = rng.choice(BITS, int(where.sum()))
    return sci, err, dq


def one_ulp(got, want):
    """``got`` is ``want`` or one float32 step from it."""
    want32 = np.float32(want)
    return got in (want, float(np.nextafter(want32, np.float32(np.inf))),
                   float(np.nextafter(want32, np.float32(-np.inf))))


def assert_same_statistics(got, want):
    assert got.ngoodpix == want.ngoodpix
    for name in VALUES:
        g, w = getattr(got, name), getattr(want, name)
        if w is None:
            assert g is None, name
        elif name.endswith("mean"):
            assert one_ulp(g, w), (name, g, w)
        else:
            assert g == w, (name, g, w)


class Spy:
    """Counts the compiled kernel's calls, to prove the native run took it."""

    def __init__(self, module):
        self.module, self.calls = module, 0

    def summary(self, *args):
        self.calls += 1
        return self.module.summary(*args)


def both(monkeypatch, function, *arrays, kernel=True, **kwargs):
    """``function`` on the NumPy path and on the compiled path: (reference, compiled).

    Checks that the inputs are not modified and that the compiled path called the kernel
    (``kernel``) or left the arrays to NumPy (not ``kernel``).
    """
    before = [np.array(a, copy=True) for a in arrays]
    monkeypatch.setenv(native.ENV_VAR, "numpy")
    reference = function(*arrays, **kwargs)
    spy = Spy(native._import("stats"))
    monkeypatch.setenv(native.ENV_VAR, "native")
    monkeypatch.setattr(stats.native, "kernel", lambda name: spy)
    compiled = function(*arrays, **kwargs)
    monkeypatch.undo()
    assert spy.calls == (1 if kernel else 0)
    for array, copy in zip(arrays, before, strict=True):
        assert array.dtype == copy.dtype
        assert np.array_equal(array, copy, equal_nan=True)
    return reference, compiled


TRIMS = ((0, 0, 0, 0), (5, 5, 5, 5), (2, 1, 1, 3), (0, 3, 2, 0))
FLAGS = (SDQFLAGS_DEFAULT, 0, 0xFFFF, 512)


@pytest.mark.parametrize(("trim", "sdqflags"), list(itertools.product(TRIMS, FLAGS)))
def test_calwf3_rule_with_every_special_value(monkeypatch, trim, sdqflags):
    arrays = image(hash((trim, sdqflags)) % 2**32)
    reference, compiled = both(monkeypatch, image_statistics, *arrays, trim=trim,
                               sdqflags=sdqflags)
    assert reference.ngoodpix > 0
    assert_same_statistics(compiled, reference)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (2, 3), (13, 1), (64, 64)])
@pytest.mark.parametrize("seed", range(3))
def test_small_and_odd_shapes(monkeypatch, shape, seed):
    arrays = image(seed, shape, specials=0.1)
    for function, kwargs in ((image_statistics, {"trim": (0, 0, 0, 0)}),
                             (calstis_statistics, {"sdqflags": SDQFLAGS_DEFAULT})):
        reference, compiled = both(monkeypatch, function, *arrays, **kwargs)
        assert_same_statistics(compiled, reference)


def test_a_full_frame_read_of_a_cube_and_its_mean_within_one_ulp(monkeypatch):
    rng = np.random.default_rng(5)
    cube = rng.normal(1.5e4, 3e3, (3, 1024, 1024)).astype(np.float32)
    err = np.sqrt(np.abs(cube)).astype(np.float32)
    dq = (rng.random(cube.shape) < 0.02).astype(np.uint16) * 512
    for i in range(3):
        reference, compiled = both(monkeypatch, image_statistics, cube[i], err[i], dq[i],
                                   trim=(5, 5, 5, 5))
        assert reference.ngoodpix > 1_000_000
        assert_same_statistics(compiled, reference)


@pytest.mark.parametrize("view", ["column_plane", "transposed", "stepped", "reversed"])
def test_non_contiguous_views_are_read_in_place(monkeypatch, view):
    sci, err, dq = (np.stack([a] * 3, axis=1) for a in image(17, (29, 31)))  # [29, 3, 31]
    take = {
        "column_plane": lambda a: a[:, 1, :],
        "transposed": lambda a: a[:, 2, :].T,
        "stepped": lambda a: a[::2, 0, ::3],
        "reversed": lambda a: a[::-1, 1, ::-1],
    }[view]
    arrays = [take(a) for a in (sci, err, dq)]
    assert not arrays[0].flags.c_contiguous
    for function, kwargs in ((image_statistics, {"trim": (1, 2, 3, 1)}),
                             (calstis_statistics, {"sdqflags": SDQFLAGS_DEFAULT})):
        reference, compiled = both(monkeypatch, function, *arrays, **kwargs)
        assert_same_statistics(compiled, reference)


@pytest.mark.parametrize("case", ["flagged", "no_err", "nan", "border"])
def test_no_good_pixel(monkeypatch, case):
    sci, err, dq = image(3, (12, 10))
    if case == "flagged":
        dq[:] = 512
    elif case == "no_err":
        err[:] = 0.0
    elif case == "nan":
        sci[:] = np.nan
    else:
        dq[1:-1, 1:-1] = 16
    reference, compiled = both(monkeypatch, image_statistics, sci, err, dq, trim=(1, 1, 1, 1))
    assert reference.ngoodpix == compiled.ngoodpix == 0
    assert compiled == reference
    keywords = both(monkeypatch, statistics_keywords, sci, err, dq, trim=(1, 1, 1, 1))
    assert keywords[0] == keywords[1] == {"SCI": {"NGOODPIX": 0}, "ERR": {"NGOODPIX": 0}}


def test_a_sum_of_negative_zeros_is_positive_zero_on_both_paths(monkeypatch):
    sci = np.full((4, 5), -0.0, np.float32)
    err = np.ones((4, 5), np.float32)
    dq = np.zeros((4, 5), np.uint16)
    reference, compiled = both(monkeypatch, image_statistics, sci, err, dq, trim=(0, 0, 0, 0))
    assert compiled.goodmean == reference.goodmean == 0.0
    assert np.signbit(compiled.goodmean) == np.signbit(reference.goodmean)
    assert np.signbit(compiled.snrmean) == np.signbit(reference.snrmean)


@pytest.mark.parametrize("sdqflags", [SDQFLAGS_DEFAULT, 0, 0xFFFF, 0x10000 | 16, -1, 2**40])
@pytest.mark.parametrize("seed", range(4))
def test_calstis_rule_with_every_special_value(monkeypatch, seed, sdqflags):
    sci, err, dq = image(100 + seed, (45, 38), specials=0.08)
    reference, compiled = both(monkeypatch, calstis_statistics, sci, err, dq,
                               sdqflags=sdqflags)
    assert reference.ngoodpix > 0
    assert_same_statistics(compiled, reference)


@pytest.mark.parametrize(("case", "message"), [
    ("flagged", "All output pixels flagged as bad."),
    ("no_err", "No ERR values > 0."),
    ("mixed", "All output pixels either flagged as bad or ERR <= 0."),
    ("empty", "Output image size is zero."),
])
def test_calstis_no_good_pixel_warns_alike(monkeypatch, caplog, case, message):
    sci, err, dq = image(9, (8, 9), specials=0.0, flagged=0.0)
    sci = np.abs(sci) + 1
    if case == "flagged":
        dq[:] = 16
    elif case == "no_err":
        err[:] = 0.0
    elif case == "mixed":
        dq[:] = 16
        dq[0, :] = 0
        err[0, :] = -1.0
    else:
        sci, err, dq = sci[:0], err[:0], dq[:0]
    with caplog.at_level(logging.WARNING, logger="hstramp.core.stats"):
        reference, compiled = both(monkeypatch, calstis_statistics, sci, err, dq,
                                   sdqflags=SDQFLAGS_DEFAULT)
    assert reference == compiled == stats.ImageStatistics(ngoodpix=0)
    assert [r.getMessage() for r in caplog.records] == [message, message]


@pytest.mark.parametrize("placement", [True, False])
def test_statistics_keywords_agree_in_both_placements(monkeypatch, placement):
    arrays = image(21, (50, 44))
    reference, compiled = both(monkeypatch, statistics_keywords, *arrays, trim=(5, 5, 5, 5),
                               calwf3_placement=placement)
    assert_same_keywords(compiled, reference)


def test_calstis_keywords_agree(monkeypatch):
    arrays = image(22, (50, 44), specials=0.08)
    reference, compiled = both(monkeypatch, calstis_statistics_keywords, *arrays,
                               sdqflags=SDQFLAGS_DEFAULT)
    assert_same_keywords(compiled, reference)


def assert_same_keywords(got, want):
    assert {k: list(v) for k, v in got.items()} == {k: list(v) for k, v in want.items()}
    for hdu, keywords in want.items():
        for name, value in keywords.items():
            if name.endswith("MEAN"):
                assert one_ulp(got[hdu][name], value), (hdu, name)
            else:
                assert got[hdu][name] == value, (hdu, name)


def test_uint32_dq_and_wide_sdqflags_take_the_kernel(monkeypatch):
    sci, err, dq = image(31)
    dq32 = dq.astype(np.uint32)
    dq32[::7, ::5] |= 0x20000
    reference, compiled = both(monkeypatch, image_statistics, sci, err, dq32,
                               trim=(1, 1, 1, 1), sdqflags=0x20000 | SDQFLAGS_DEFAULT)
    assert_same_statistics(compiled, reference)


@pytest.mark.parametrize("case", ["big_endian", "float64", "int64_dq", "uint8_dq", "bool_dq"])
def test_arrays_the_kernel_does_not_take_go_to_numpy(monkeypatch, case):
    sci, err, dq = image(41, (16, 18))
    if case == "big_endian":
        sci, err, dq = (a.astype(a.dtype.newbyteorder(">")) for a in (sci, err, dq))
    elif case == "float64":
        sci = sci.astype(np.float64)
    elif case == "int64_dq":
        dq = dq.astype(np.int64)
    elif case == "uint8_dq":
        dq = (dq > 0).astype(np.uint8) * 16
    elif case == "bool_dq":
        dq = dq > 0
    arrays = (sci, err, dq)
    for function, kwargs in ((image_statistics, {"trim": (2, 2, 2, 2), "sdqflags": 16}),
                             (calstis_statistics, {"sdqflags": 16})):
        reference, compiled = both(monkeypatch, function, *arrays, kernel=False, **kwargs)
        assert compiled == reference


def test_sdqflags_beyond_the_dq_dtype_behave_as_numpy(monkeypatch):
    sci, err, dq = image(51, (6, 7))
    for choice in ("numpy", "native"):
        monkeypatch.setenv(native.ENV_VAR, choice)
        with pytest.raises(OverflowError):
            image_statistics(sci, err, dq, trim=(0, 0, 0, 0), sdqflags=70000)


def test_a_trim_that_leaves_nothing_is_refused_on_both_paths(monkeypatch):
    sci, err, dq = image(52, (6, 7))
    for choice in ("numpy", "native"):
        monkeypatch.setenv(native.ENV_VAR, choice)
        with pytest.raises(ParameterError, match="trim"):
            image_statistics(sci, err, dq, trim=(4, 3, 0, 0))


def test_the_kernel_refuses_what_it_does_not_take():
    kernel = native._import("stats")
    sci, err, dq = image(53, (6, 7))
    with pytest.raises(ValueError, match="sci"):
        kernel.summary(sci.astype(np.float64), err, dq, 0, 6, 0, 7, 0, False)
    with pytest.raises(ValueError, match="dq"):
        kernel.summary(sci, err, dq.astype(np.int64), 0, 6, 0, 7, 0, False)
    with pytest.raises(ValueError, match="one shape"):
        kernel.summary(sci, err[:5], dq, 0, 6, 0, 7, 0, False)
    with pytest.raises(ValueError, match="window"):
        kernel.summary(sci, err, dq, 0, 7, 0, 7, 0, False)
    with pytest.raises(ValueError, match="sdqflags"):
        kernel.summary(sci, err, dq, 0, 6, 0, 7, 70000, False)


@pytest.mark.parametrize("snr", [3e38 / 1e-30, -3e38 / 1e-30, 4e38])
def test_a_finite_snr_beyond_float32_is_kept_finite_on_both_paths(monkeypatch, snr):
    """An S/N that float32 cannot hold (SCI near its largest value, ERR tiny) stays a finite
    double in the keywords (float32 would make it an infinity, which no FITS header holds);
    every keyword within float32's range is still rounded to float32."""
    sci = np.ones((4, 5), np.float32)
    err = np.ones((4, 5), np.float32)
    sci[1, 2], err[1, 2] = np.float32(3e38 if snr > 0 else -3e38), np.float32(1e-30)
    if snr == 4e38:  # two pixels each near the limit: a mean beyond it
        sci[2, 3], err[2, 3] = np.float32(3e38), np.float32(1e-30)
    dq = np.zeros((4, 5), np.uint16)
    reference, compiled = both(monkeypatch, image_statistics, sci, err, dq, trim=(0, 0, 0, 0))
    assert compiled.ngoodpix == reference.ngoodpix
    for name in VALUES:  # the means beyond float32 are doubles: within double rounding
        assert np.isclose(getattr(compiled, name), getattr(reference, name), rtol=1e-12)
    for result in (reference, compiled):
        extremes = (result.snrmax, result.snrmin, result.snrmean)
        assert all(np.isfinite(v) for v in extremes)
        assert max(abs(v) for v in extremes) > float(np.finfo(np.float32).max)
        assert result.goodmax == float(np.float32(result.goodmax))
