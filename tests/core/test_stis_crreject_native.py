"""STIS CR rejection: the compiled kernel ``crreject`` gives the NumPy reference path's
results bit for bit (signed zeros aside), in every special case of calstis's rejection."""

import itertools

import numpy as np
import pytest

from hstramp.core import native
from hstramp.core.stis.crreject import CRRejectParameters, cr_reject, sky_mode

pytestmark = pytest.mark.skipif(not native.built()["crreject"],
                                reason="compiled kernel crreject not built here")

FIELDS = ("data", "err", "dq", "input_dq", "rejected", "sky")


def exposure(seed, nexp=2, shape=(37, 41), exptime=None, crs=25, flagged=0.02):
    """Sky + sources + noise in each imset, cosmic rays (with a halo) in some, some DQ."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    exptime = np.asarray(exptime if exptime is not None else rng.uniform(100, 900, nexp))
    scene = rng.gamma(1.5, 0.05, shape) + 0.02
    sky = rng.uniform(-3, 60, nexp)
    data = np.empty((nexp, ny, nx), np.float32)
    t = np.where(exptime > 0, exptime, 1.0)
    for k in range(nexp):
        counts = scene * t[k] + sky[k]
        data[k] = counts + rng.normal(0, np.sqrt(np.abs(counts) + 25.0))
    for _ in range(crs):
        k, y, x = rng.integers(nexp), rng.integers(ny), rng.integers(nx)
        data[k, y, x] += rng.uniform(200, 5000)
        for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0), (1, 1)):
            if 0 <= y + dy < ny and 0 <= x + dx < nx:
                data[k, y + dy, x + dx] += rng.uniform(5, 300)
    dq = np.zeros(data.shape, np.uint16)
    bits = np.array([4, 8, 16, 32, 256, 512, 8192], np.uint16)
    where = rng.random(data.shape) < flagged
    dq[where] = rng.choice(bits, int(where.sum()))
    return data, dq, exptime


def run(monkeypatch, choice, data, dq, exptime, params, readnoise=5.2, gain=1.0):
    monkeypatch.setenv(native.ENV_VAR, choice)
    return cr_reject(data, dq, exptime, readnoise=readnoise, gain=gain, params=params)


def assert_same(monkeypatch, data, dq, exptime, params, **kwargs):
    """Both paths on copies-checked inputs: same arrays, dtypes, counts; inputs untouched."""
    data_before, dq_before = data.copy(), dq.copy()
    reference = run(monkeypatch, "numpy", data, dq, exptime, params, **kwargs)
    compiled = run(monkeypatch, "native", data, dq, exptime, params, **kwargs)
    for name in FIELDS:
        want, got = getattr(reference, name), getattr(compiled, name)
        assert got.dtype == want.dtype and got.shape == want.shape, name
        assert np.array_equal(got, want, equal_nan=True), name
    # bit for bit, but for the sign of a zero
    for name in ("data", "err"):
        got, want = getattr(compiled, name), getattr(reference, name)
        zero = (got == 0) & (want == 0)
        assert np.array_equal(got.view(np.uint32)[~zero], want.view(np.uint32)[~zero]), name
    assert (compiled.nrej, compiled.exptime) == (reference.nrej, reference.exptime)
    assert np.array_equal(data, data_before, equal_nan=True)
    assert np.array_equal(dq, dq_before)
    return reference


GRID = list(itertools.product((2, 3, 5), ("minimum", "median"), ("mode", "none"),
                              (0.0, 1.5, 2.5)))


@pytest.mark.parametrize(("nexp", "initgues", "skysub", "crradius"), GRID)
def test_the_grid_of_guesses_skies_and_radii(monkeypatch, nexp, initgues, skysub, crradius):
    seed = hash((nexp, initgues, skysub, crradius)) % 2**32
    data, dq, exptime = exposure(seed, nexp=nexp)
    params = CRRejectParameters(initgues=initgues, skysub=skysub, crradius=crradius,
                                badinpdq=4 | 8 | 256)
    result = assert_same(monkeypatch, data, dq, exptime, params)
    assert result.nrej > 0


@pytest.mark.parametrize("seed", range(40))
def test_random_parameters(monkeypatch, seed):
    rng = np.random.default_rng(1000 + seed)
    nexp = int(rng.integers(2, 7))
    sigmas = tuple(float(s) for s in sorted(rng.uniform(2.5, 8, rng.integers(1, 5)))[::-1])
    params = CRRejectParameters(
        crsigmas=sigmas, crradius=float(rng.choice([0, 1, 1.5, 2, 3.2])),
        crthresh=float(rng.choice([-1.0, 0.0, 0.3, 0.8, 1.0, 2.5])),
        initgues=str(rng.choice(["minimum", "median"])), skysub=str(rng.choice(["mode", "none"])),
        scalense=float(rng.choice([0.0, 0.5, 3.0, 30.0])),
        badinpdq=int(rng.choice([0, 4, 4 | 8 | 16 | 32 | 256 | 512, 8192, 65535])),
        crmask=bool(rng.integers(2)), fillval=float(rng.choice([0.0, -1.0, 7.5])))
    shape = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))
    exptime = (np.zeros(nexp) if rng.random() < 0.15 else
               np.full(nexp, 300.0) if rng.random() < 0.3 else rng.uniform(1, 1000, nexp))
    data, dq, exptime = exposure(seed, nexp=nexp, shape=shape, exptime=exptime,
                                 flagged=float(rng.choice([0.0, 0.05, 0.5])))
    assert_same(monkeypatch, data, dq, exptime, params,
                readnoise=float(rng.uniform(0, 9)), gain=float(rng.choice([1.0, 2.0, 4.0])))


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf, 0.0, -0.0, 65535.0, -1e30, 1e30])
@pytest.mark.parametrize("initgues", ["minimum", "median"])
def test_special_values(monkeypatch, special, initgues):
    data, dq, exptime = exposure(7, nexp=3)
    rng = np.random.default_rng(8)
    where = rng.random(data.shape) < 0.05
    data[where] = special
    data[:, 3, 3] = special  # every imset of one pixel
    # the sky mode (NumPy, shared by both paths) needs a histogram of finite, moderate values
    skysub = "mode" if abs(special) < 1e6 else "none"
    params = CRRejectParameters(initgues=initgues, scalense=2.0, crsigmas=(5, 4, 3),
                                skysub=skysub)
    with np.errstate(invalid="ignore", over="ignore"):
        assert_same(monkeypatch, data, dq, exptime, params)


@pytest.mark.parametrize("case", ["all_flagged", "one_imset_flagged", "crmask_off",
                                  "all_8192", "everything_rejected", "one_pixel", "one_row",
                                  "one_column", "identical_imsets", "sky_below_minval"])
def test_edge_cases(monkeypatch, case):
    data, dq, exptime = exposure(11, nexp=2)
    params = CRRejectParameters(badinpdq=4 | 8192)
    if case == "all_flagged":
        dq[:] = 4
    elif case == "one_imset_flagged":
        dq[1] = 8
        params = CRRejectParameters(badinpdq=8)
    elif case == "crmask_off":
        params = CRRejectParameters(crmask=False)
    elif case == "all_8192":
        dq[:] = 8192
        params = CRRejectParameters(badinpdq=0)
    elif case == "everything_rejected":
        data[1] += 1e5
        data[0, ::2] -= 1e5
        params = CRRejectParameters(crsigmas=(0.01, 0.01), crthresh=0, fillval=3.0)
    elif case == "one_pixel":
        data, dq = data[:, :1, :1].copy(), dq[:, :1, :1].copy()
    elif case == "one_row":
        data, dq = data[:, :1].copy(), dq[:, :1].copy()
    elif case == "one_column":
        data, dq = data[:, :, :1].copy(), dq[:, :, :1].copy()
    elif case == "identical_imsets":
        data[1] = data[0]
        exptime = np.array([200.0, 200.0])
    elif case == "sky_below_minval":
        data -= 5000
    assert_same(monkeypatch, data, dq, exptime, params)


@pytest.mark.parametrize("layout", ["sliced", "fortran", "reversed", "big_endian_data",
                                    "float64_data", "int32_dq", "list_exptime"])
def test_any_input_layout_gives_the_same_result(monkeypatch, layout):
    big, bigdq, exptime = exposure(12, nexp=2, shape=(60, 50))
    data, dq = big[:, ::2, 1::2], bigdq[:, ::2, 1::2]
    contiguous = (np.ascontiguousarray(data), np.ascontiguousarray(dq))
    if layout == "fortran":
        data, dq = np.asfortranarray(data), np.asfortranarray(dq)
    elif layout == "reversed":
        data, dq = big[::-1, ::-1], bigdq[::-1, ::-1]
        contiguous = (np.ascontiguousarray(data), np.ascontiguousarray(dq))
    elif layout == "big_endian_data":
        data = data.astype(">f4")
    elif layout == "float64_data":
        data = data.astype(np.float64)
    elif layout == "int32_dq":
        dq = dq.astype(np.int32)
    elif layout == "list_exptime":
        exptime = exptime.tolist()
    assert_same(monkeypatch, data, dq, exptime, CRRejectParameters())
    # and a non-contiguous stack is combined as its contiguous copy is
    monkeypatch.setenv(native.ENV_VAR, "native")
    a = cr_reject(data, dq, exptime, readnoise=5.2, gain=1.0)
    b = cr_reject(*contiguous, exptime, readnoise=5.2, gain=1.0)
    assert np.array_equal(a.data, b.data) and np.array_equal(a.input_dq, b.input_dq)


def test_the_compiled_path_is_the_one_used(monkeypatch):
    """auto picks the kernel; its result arrays are fresh, writeable and owned."""
    data, dq, exptime = exposure(3)
    monkeypatch.setenv(native.ENV_VAR, "auto")
    assert native.kernels_used()["crreject"] == "native"
    result = cr_reject(data, dq, exptime, readnoise=5.0, gain=1.0)
    for name in ("data", "err", "dq", "input_dq", "rejected"):
        array = getattr(result, name)
        assert array.flags.writeable and array.flags.c_contiguous and array.base is None


def sky_both(monkeypatch, image, dq):
    results = []
    for choice in ("numpy", "native"):
        monkeypatch.setenv(native.ENV_VAR, choice)
        try:
            results.append(sky_mode(image, dq))
        except (ValueError, OverflowError) as exc:
            results.append(type(exc))
    return results


@pytest.mark.parametrize("seed", range(60))
def test_the_sky_mode_is_the_same(monkeypatch, seed):
    """Same histogram, same mode: the kernel's mean is NumPy's pairwise sum to the bit."""
    rng = np.random.default_rng(500 + seed)
    shape = (int(rng.integers(1, 300)), int(rng.integers(1, 300)))
    level, spread = rng.uniform(-3000, 3000), 10.0 ** rng.uniform(-1, 3.5)
    image = rng.normal(level, spread, shape).astype(np.float32)
    if seed % 3 == 0:
        image = np.round(image)  # integer-valued data sit on the bin edges
    dq = np.where(rng.random(shape) < rng.choice([0.0, 0.3, 0.99]), 4, 0).astype(np.uint16)
    before = image.copy()
    reference, compiled = sky_both(monkeypatch, image, dq)
    assert compiled == reference
    assert np.array_equal(image, before)


@pytest.mark.parametrize("case", ["no_dq0", "nan", "inf", "minus_inf", "one_pixel",
                                  "below_minval", "zeros", "sliced", "float64", "huge"])
def test_the_sky_mode_special_cases(monkeypatch, case):
    rng = np.random.default_rng(77)
    image = rng.normal(40, 5, (50, 60)).astype(np.float32)
    dq = np.zeros(image.shape, np.uint16)
    if case == "no_dq0":
        dq[:] = 1
    elif case in ("nan", "inf", "minus_inf"):
        image[3, 4] = {"nan": np.nan, "inf": np.inf, "minus_inf": -np.inf}[case]
    elif case == "one_pixel":
        image, dq = image[:1, :1], dq[:1, :1]
    elif case == "below_minval":
        image -= 1500
        image[::7] += 3000
    elif case == "zeros":
        image[:] = 0
    elif case == "sliced":
        image, dq = image[::2, 1::3], dq[::2, 1::3]
    elif case == "float64":
        image = image.astype(np.float64)
    elif case == "huge":
        image[0, 0] = 3e6
    with np.errstate(invalid="ignore"):
        reference, compiled = sky_both(monkeypatch, image, dq)
    assert compiled == reference
