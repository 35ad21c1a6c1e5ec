"""STIS CR rejection: the in-place arithmetic is the written-out formula, bit for bit, and
the whole-stack temporaries stay few (issue 18: per-exposure memory)."""

import tracemalloc

import numpy as np

from hstramp.core.stis.crreject import _pixel_variance, _thresholds, cr_reject


def a_stack(shape=(3, 40, 50), seed=18):
    rng = np.random.default_rng(seed)
    t3 = rng.uniform(10, 900, shape[0])[:, None, None]
    s3 = rng.uniform(-5, 300, shape[0])[:, None, None]
    ave = rng.normal(1, 3, shape[1:]).astype(np.float32)
    pic = (ave + rng.normal(0, 0.5, shape)).astype(np.float32)
    return rng, t3, s3, ave, pic


def test_thresholds_are_the_formula_bit_for_bit():
    rng, t3, s3, ave, _pic = a_stack()
    sig2, rog2, gain, scale = 4.0 ** 2, 5.3 ** 2, 4.0, float(rng.uniform(0, 0.3))
    spthresh, thresh = _thresholds(ave, t3, s3, sig2, rog2, gain, scale)
    expected = ave[None] * t3 + s3
    written_sp = sig2 * (rog2 + np.maximum(expected, 0) / gain) / (t3 * t3)
    written = written_sp + sig2 * (scale * np.maximum(expected - s3, 0)) ** 2 / (t3 * t3)
    assert spthresh.tobytes() == written_sp.tobytes()
    assert thresh.tobytes() == written.tobytes()


def test_pixel_variance_is_the_formula_bit_for_bit():
    _rng, t3, s3, _ave, pic = a_stack()
    rog2, gain, scale = 7.1, 1.0, 0.05
    val = np.maximum(pic * t3 + s3, 0)
    written = rog2 + val / gain + (scale * val) ** 2
    assert _pixel_variance(pic, t3, s3, rog2, gain, scale).tobytes() == written.tobytes()


def test_peak_memory_stays_within_seventeen_times_the_input(monkeypatch):
    """The NumPy reference path (the compiled kernel's buffers are not NumPy's to trace)."""
    monkeypatch.setenv("HSTRAMP_KERNELS", "numpy")
    rng = np.random.default_rng(2)
    data = rng.normal(100, 5, (2, 512, 512)).astype(np.float32)
    dq = np.zeros(data.shape, np.uint16)
    tracemalloc.start()
    try:
        cr_reject(data, dq, [600.0, 600.0], readnoise=5.0, gain=1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 15.3x measured here (20.7x before the in-place thresholds): outputs, rates, two float64
    # threshold stacks and the initial guess's planes
    assert peak < 17 * data.nbytes
