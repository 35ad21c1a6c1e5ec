"""The compiled scan search (hstramp/core/_native/scan.c) gives the NumPy path's detection.

Every case runs :func:`~hstramp.core.scan.detect_scan` with ``HSTRAMP_KERNELS=numpy`` (the
reference) and ``native`` on the same inputs and requires the same
:class:`~hstramp.core.scan.ScanDetection` and untouched inputs; the intermediate results
(every interval's centre and spread, every pixel's burst read, the track counts) are compared
too, bit for bit. The inputs: seeded random ramps with moving scans (continuous and with
dwells), staring ones with cosmic rays, saturated reads (from the zeroth read on, too), NaN
and infinite reads, several dtypes and DQ types, with and without ``read_scale``, 2 to 16
reads, small, odd and empty shapes, non-contiguous views; a simulated scan exposure; the
real raws.
"""

import numpy as np
import pytest

from hstramp.core import native, scan
from hstramp.core.dqflags import SATURATED
from hstramp.core.units import count_scale

pytestmark = pytest.mark.skipif(not native.built()["scan"],
                                reason="the compiled scan kernel is not built here")


def ramp(seed, shape, *, scan_rows=True, step_rows=1, cosmic=0.03, saturate=0.05,
         nans=0.0, dtype=np.float32, dq_dtype=np.uint16, saturated=SATURATED):
    """Counts of a sky with noise and a few stars, optionally a source swept along the rows
    (``step_rows`` at a time), cosmic rays, saturation (flagged from a random read on, the
    zeroth included) and NaN or infinite reads; times and their DQ."""
    rng = np.random.default_rng(seed)
    ngroups, ny, nx = shape
    times = np.concatenate(([0.0], np.cumsum(rng.uniform(0.2, 8.0, ngroups - 1))))
    rate = rng.uniform(0.5, 2.0, (ny, nx))
    rate[rng.random((ny, nx)) < 0.01] += 300.0  # stars
    counts = rate[None] * times[:, None, None] + rng.normal(0.0, 8.0, shape)
    if scan_rows and ny > 4:
        rows = np.arange(ny)
        position = rows // step_rows * step_rows
        passed = times[-1] * (position + 0.5) / ny
        x0 = rng.integers(0, max(1, nx // 2))
        for k, t in enumerate(times):
            counts[k, rows[passed < t], x0:x0 + max(1, nx // 3)] += 3000.0
    hit = rng.random((ny, nx)) < cosmic
    when = rng.integers(1, ngroups, (ny, nx))
    counts += np.where(hit[None] & (np.arange(ngroups)[:, None, None] >= when[None]),
                       rng.uniform(50.0, 3000.0, (ny, nx))[None], 0.0)
    dq = np.zeros(shape, dq_dtype)
    saturating = rng.random((ny, nx)) < saturate
    start = rng.integers(0, ngroups, (ny, nx))
    dq[(np.arange(ngroups)[:, None, None] >= start[None]) & saturating[None]] |= saturated
    dq |= (rng.random(shape) < 0.02).astype(dq_dtype) * 4  # other bits do not count
    if nans:
        bad = rng.random(shape) < nans
        counts[bad] = rng.choice([np.nan, np.inf, -np.inf], bad.sum())
    if np.dtype(dtype).kind in "iu":
        counts = np.clip(np.nan_to_num(np.round(counts) + 1000, posinf=0, neginf=0), 0, 60000)
    return counts.astype(dtype), times, dq


def both(monkeypatch, data, times, **kwargs):
    """detect_scan on both paths: equal detections, inputs untouched; the detection.

    (Infinite reads make the NumPy path's float32 operations warn, the kernel's not: the
    comparison ignores floating-point warnings.)
    """
    before = [np.array(a, copy=True) for a in (data, times, *kwargs.values())
              if isinstance(a, np.ndarray)]
    monkeypatch.setenv(native.ENV_VAR, "numpy")
    with np.errstate(all="ignore"):
        reference = scan.detect_scan(data, times, **kwargs)
    monkeypatch.setenv(native.ENV_VAR, "native")
    compiled = scan.detect_scan(data, times, **kwargs)
    assert compiled == reference
    after = [a for a in (data, times, *kwargs.values()) if isinstance(a, np.ndarray)]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)
    return reference


def same_bits(a, b):
    """Equal arrays, and equal bits where not zero (a zero's sign no result depends on)."""
    np.testing.assert_array_equal(a, b)
    nonzero = a != 0
    np.testing.assert_array_equal(a[nonzero].view(np.uint32), b[nonzero].view(np.uint32))


def same_intermediates(data, times, read_scale=None, groupdq=None, params=None):
    """Centre, spread, burst reads and track counts of both paths, compared."""
    params = params or scan.ScanParameters()
    kernel = native.kernel("scan")
    b = params.border
    science = data[:, b:data.shape[1] - b, b:data.shape[2] - b]
    dq = None if groupdq is None else groupdq[:, b:data.shape[1] - b, b:data.shape[2] - b]
    assert scan._compiled(science, dq, params) is kernel
    scale = (np.ones(times.size, np.float32) if read_scale is None
             else np.asarray(read_scale, np.float32))
    intervals = np.diff(times).astype(np.float32)
    with np.errstate(all="ignore"):
        centre, spread = scan._interval_spread(science, scale, intervals, dq, params)
        bursts = scan._burst_reads(science, scale, intervals, dq, centre, spread, params)
    centre_c, spread_c = scan._interval_spread(science, scale, intervals, dq, params, kernel)
    same_bits(centre, centre_c)
    same_bits(spread, spread_c)
    bursts_c = scan._compiled_bursts(kernel, science, scale, intervals, dq, centre, spread,
                                     params)
    np.testing.assert_array_equal(bursts, bursts_c)
    assert kernel.tracks(bursts_c, *bursts_c.shape, params.min_track) == scan._tracks(
        bursts, params.min_track)
    return bursts


CASES = {
    "continuous scan": dict(shape=(10, 74, 74)),
    "scan with dwells": dict(shape=(12, 90, 61), step_rows=3),
    "staring, cosmic rays": dict(shape=(9, 74, 74), scan_rows=False, cosmic=0.1),
    "much saturation": dict(shape=(8, 50, 70), saturate=0.5),
    "NaN and inf reads": dict(shape=(7, 60, 45), nans=0.01),
    "float64": dict(shape=(6, 47, 53), dtype=np.float64),
    "uint16, uint8 DQ": dict(shape=(8, 41, 39), dtype=np.uint16, dq_dtype=np.uint8,
                             saturated=2),
    "int64, int16 DQ": dict(shape=(6, 37, 45), dtype=np.int64, dq_dtype=np.int16),
    "int32, int32 DQ": dict(shape=(5, 33, 65), dtype=np.int32, dq_dtype=np.int32),
    "int16, uint32 DQ": dict(shape=(4, 31, 30), dtype=np.int16, dq_dtype=np.uint32),
    "16 reads": dict(shape=(16, 140, 96)),
    "odd and small": dict(shape=(4, 11, 31)),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize("with_dq", [True, False])
def test_the_compiled_path_is_the_numpy_path(monkeypatch, name, scaled, with_dq):
    data, times, dq = ramp(sum(map(ord, name)), **CASES[name])
    read_scale = count_scale(times, in_rates=True) if scaled else None
    params = scan.ScanParameters(border=2, burst_sigma=6.0, min_track=8, min_pixels=20,
                                 saturated=CASES[name].get("saturated", SATURATED))
    kwargs = dict(read_scale=read_scale, groupdq=dq if with_dq else None, params=params)
    both(monkeypatch, data, times, **kwargs)
    monkeypatch.setenv(native.ENV_VAR, "auto")
    same_intermediates(data, times, read_scale, kwargs["groupdq"], params)


def test_the_cases_have_scans_bursts_and_tracks(monkeypatch):
    """The table above is not vacuous: scans found, bursts and tracks in the staring ones."""
    params = scan.ScanParameters(border=2, burst_sigma=6.0, min_track=8, min_pixels=20)
    found = {name: both(monkeypatch, *ramp(sum(map(ord, name)), **CASES[name])[:2],
                        params=params) for name in ("continuous scan", "scan with dwells",
                                                    "staring, cosmic rays")}
    assert found["continuous scan"].is_scan and found["scan with dwells"].is_scan
    assert not found["staring, cosmic rays"].is_scan
    assert found["staring, cosmic rays"].burst_pixels > 100


@pytest.mark.parametrize("view", ["rows and columns strided", "columns reversed",
                                  "Fortran order", "big-endian", "float16"])
def test_other_layouts(monkeypatch, view):
    data, times, dq = ramp(5, (8, 80, 70))
    if view == "rows and columns strided":
        data, dq = data[:, ::2, 1::2], dq[:, ::2, 1::2]
    elif view == "columns reversed":
        data, dq = data[:, :, ::-1], dq[:, :, ::-1]
    elif view == "Fortran order":
        data, dq = np.asfortranarray(data), np.asfortranarray(dq)
    elif view == "big-endian":  # the NumPy path on both settings
        data, dq = data.astype(">f4"), dq.astype(">u2")
    else:
        data = data.astype(np.float16)
    params = scan.ScanParameters(border=1, burst_sigma=6.0, min_track=8, min_pixels=20)
    found = both(monkeypatch, data, times, groupdq=dq, params=params)
    assert found.burst_pixels > 0
    if view not in ("big-endian", "float16"):
        monkeypatch.setenv(native.ENV_VAR, "auto")
        same_intermediates(data, times, None, dq, params)


@pytest.mark.parametrize("shape", [(2, 40, 40), (3, 40, 40), (5, 10, 40), (5, 30, 12),
                                   (4, 12, 200)])
def test_few_reads_and_small_or_empty_frames(monkeypatch, shape):
    data, times, dq = ramp(1, shape)
    found = both(monkeypatch, data, times, groupdq=dq)  # border 5: (5, 10, 40) is 0 x 30
    assert bool(found.reason) is (shape[0] < 4)


def test_a_saturated_zeroth_read_and_equal_ratios(monkeypatch):
    steps = np.random.default_rng(11).choice([0.0, 100.0, 300.0], (8, 30, 40))
    data = np.concatenate([np.zeros((1, 30, 40)), np.cumsum(steps, axis=0)]).astype(np.float32)
    dq = np.zeros(data.shape, np.uint16)
    dq[:, :5] = SATURATED  # saturated from the zeroth read: no usable interval
    dq[1:, 5:10] = SATURATED  # from the first read: usable = 0 as well
    times = np.arange(9.0)
    params = scan.ScanParameters(border=0, burst_sigma=1.0, min_share=0.1, min_track=4)
    found = both(monkeypatch, data, times, groupdq=dq, params=params)
    assert found.burst_pixels > 100
    bursts = same_intermediates(data, times, None, dq, params)
    assert (bursts[:10] == -1).all()


def test_a_simulated_scan_exposure(monkeypatch, tmp_path):
    from hstramp.datamodels import read_multiaccum
    from hstramp.simulate import ScanProfile, simulate_exposure

    exposure = simulate_exposure(tmp_path, size=64, nsamp=9, seed=3,
                                 scan=ScanProfile(scan_type=None))
    model = read_multiaccum(exposure.raw_path)
    found = both(monkeypatch, model.data, model.times, groupdq=model.groupdq,
                 read_scale=count_scale(model.times, in_rates=model.in_rates))
    assert found.is_scan


@pytest.mark.parametrize("name", ["ibh7a7lsq_raw.fits", "ibxy01aoq_raw.fits",
                                  "iccz11q4q_ima.fits"])
def test_real_files(monkeypatch, real_file, name):
    from hstramp.datamodels import read_multiaccum

    model = read_multiaccum(real_file(name))
    scale = count_scale(model.times, in_rates=model.in_rates)
    found = both(monkeypatch, model.data, model.times, groupdq=model.groupdq, read_scale=scale)
    assert found.is_scan is (name != "iccz11q4q_ima.fits")


def test_middle_gives_numpys_median():
    rng = np.random.default_rng(4)
    kernel = native.kernel("scan")
    assert kernel.middle(np.float32([3.0, 1.0, 2.0])) == (2.0,)
    assert kernel.middle(np.float32([4.0, np.nan, 1.0, 3.0, 2.0, np.inf])) == (2.0, 3.0)
    assert kernel.middle(np.float32([4.0, 1.0, 3.0, 2.0]), 1.0) == (1.0, 2.0)  # 3 0 2 1
    assert kernel.middle(np.float32([7.0, 7.0])) == (7.0, 7.0)
    assert kernel.middle(np.float32([np.nan, -np.inf])) == ()
    assert kernel.middle(np.float32([])) == ()
    special = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 3e38, -3e38]
    for n in (1, 2, 5, 6, 999, 1000, 4096, 65536):
        values = rng.normal(3.0, 2.0, n).astype(np.float32)
        values[rng.random(n) < 0.2] = rng.choice([1.5, 0.0, -0.0], 1)  # ties
        values[rng.random(n) < 0.05] = rng.choice(special, 1)
        finite = values[np.isfinite(values)]
        if not finite.size:
            continue
        centre = np.median(finite)
        assert scan._mean(kernel.middle(values)) == centre
        assert scan._mean(kernel.middle(values, centre)) == np.median(np.abs(finite - centre))
        ordered = np.sort(finite)
        half = (finite.size - 1) // 2
        expected = ordered[half:finite.size // 2 + 1]
        np.testing.assert_array_equal(kernel.middle(values), expected)
    with pytest.raises(ValueError):
        kernel.middle(np.zeros(4))  # float64


@pytest.mark.parametrize("density", [0.0, 0.01, 0.3, 0.9, 1.0])
@pytest.mark.parametrize("shape", [(1, 30), (30, 1), (25, 40), (64, 33)])
def test_tracks_are_the_numpy_runs(density, shape):
    rng = np.random.default_rng(int(density * 100) + shape[0])
    kernel = native.kernel("scan")
    steps = rng.choice([-1, 0, 0, 1, 2], shape).cumsum(axis=0) + rng.choice([-1, 0, 1], shape)
    reads = np.where(rng.random(shape) < density, np.clip(steps + 5, 1, 15), -1).astype(np.int16)
    for min_track in (2, 3, 20):
        assert kernel.tracks(reads, *shape, min_track) == scan._tracks(reads, min_track)
