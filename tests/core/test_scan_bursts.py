"""The scan detector's per-pixel burst search against the plain loop it replaced.

``hstramp.core.scan._burst_reads`` finds every pixel's interval of largest ratio with a
reduction over the block's intervals; this is the loop it was written from (one interval at
a time, a strictly larger ratio replaces the peak, NaN never does), kept as the reference.
"""

import numpy as np
import pytest

from hstramp.core import scan
from hstramp.core.dqflags import SATURATED


def reference_burst_reads(science, scale, intervals, dq, centre, spread, params):
    ny, nx = science.shape[1:]
    burst = np.full((ny, nx), -1, np.int16)
    ngroups = intervals.size + 1
    for start in range(0, ny, params.block_rows):
        rows = slice(start, min(ny, start + params.block_rows))
        if dq is None:
            usable = np.full(science[0, rows].shape, ngroups - 1, np.int16)
        else:
            flagged = (dq[:, rows] & params.saturated) != 0
            first = np.where(flagged.any(axis=0), flagged.argmax(axis=0), ngroups)
            usable = (first - 1).clip(0).astype(np.int16)
        last = np.take_along_axis(science[:, rows], usable[None].astype(np.intp), 0)[0]
        signal = (last.astype(np.float32) * scale[usable]
                  - science[0, rows].astype(np.float32) * scale[0])
        elapsed = np.concatenate(([0.0], np.cumsum(intervals)))[usable].astype(np.float32)
        rate = np.divide(signal, elapsed, out=np.zeros_like(elapsed), where=elapsed > 0)
        peak = np.full(signal.shape, -np.inf, np.float32)
        peak_excess = np.zeros_like(peak)
        largest = np.zeros(peak.shape, np.int16)
        for k in range(intervals.size):
            later = science[k + 1, rows].astype(np.float32) * scale[k + 1]
            excess = later - science[k, rows].astype(np.float32) * scale[k]
            excess -= rate * intervals[k]
            np.copyto(excess, np.float32(np.nan), where=usable <= k)
            ratio = (excess - centre[k]) / spread[k]
            higher = ratio > peak
            np.copyto(peak, ratio, where=higher)
            np.copyto(peak_excess, excess, where=higher)
            np.copyto(largest, np.int16(k), where=higher)
        share = peak_excess >= params.min_share * np.abs(signal)
        burst[rows] = np.where((peak > params.burst_sigma) & share, largest + 1, -1)
    return burst


def ramps(seed, dtype, shape):
    rng = np.random.default_rng(seed)
    ngroups = shape[0]
    counts = np.cumsum(rng.normal(5.0, 3.0, shape), axis=0)
    hits = rng.random(shape[1:]) < 0.05  # single-interval jumps
    counts[rng.integers(1, ngroups):, hits] += 400.0
    if dtype.kind in "iu":
        counts = np.round(counts) + 1000  # integers: equal ratios (ties) are common
    data = counts.astype(dtype)
    dq = np.zeros(shape, np.uint16)
    saturating = rng.random(shape[1:]) < 0.1
    from_read = rng.integers(0, ngroups, shape[1:])
    for k in range(ngroups):
        dq[k, saturating & (from_read <= k)] |= SATURATED
    dq |= (rng.random(shape) < 0.02).astype(np.uint16) * 4  # other bits do not count
    return data, dq


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16, np.int32])
@pytest.mark.parametrize("shape", [(4, 9, 31), (7, 40, 23), (12, 70, 65)])
@pytest.mark.parametrize("with_dq", [True, False])
def test_burst_reads_are_the_loops(dtype, shape, with_dq):
    data, dq = ramps(sum(shape), np.dtype(dtype), shape)
    dq = dq if with_dq else None
    times = np.cumsum(np.random.default_rng(1).uniform(0.5, 3.0, shape[0]))
    scale = np.linspace(1.0, 2.0, shape[0]).astype(np.float32)
    intervals = np.diff(times).astype(np.float32)
    params = scan.ScanParameters(border=0, block_rows=16, burst_sigma=3.0)
    copies = (data.copy(), None if dq is None else dq.copy())
    centre, spread = scan._interval_spread(data, scale, intervals, dq, params)
    spread[1] = np.inf  # an interval whose spread could not be measured
    ours = scan._burst_reads(data, scale, intervals, dq, centre, spread, params)
    expected = reference_burst_reads(data, scale, intervals, dq, centre, spread, params)
    np.testing.assert_array_equal(ours, expected)
    assert (ours >= 0).any() or shape[0] == 4  # the larger cases have bursts to find
    np.testing.assert_array_equal(data, copies[0])  # inputs untouched
    if dq is not None:
        np.testing.assert_array_equal(dq, copies[1])


def test_a_non_contiguous_ramp_gives_the_same_bursts():
    data, dq = ramps(3, np.dtype(np.float32), (6, 50, 60))
    times = np.arange(6.0)
    view, view_dq = data[:, ::2, 1::3], dq[:, ::2, 1::3]
    a = scan.detect_scan(view, times, groupdq=view_dq, params=scan.ScanParameters(border=1))
    b = scan.detect_scan(view.copy(), times, groupdq=view_dq.copy(),
                         params=scan.ScanParameters(border=1))
    assert a == b


def test_equal_ratios_give_the_first_interval():
    rng = np.random.default_rng(11)
    steps = rng.choice([0.0, 100.0, 300.0], (8, 20, 30))  # equal increments: ties everywhere
    data = np.concatenate([np.zeros((1, 20, 30)), np.cumsum(steps, axis=0)]).astype(np.float32)
    intervals = np.ones(8, np.float32)
    params = scan.ScanParameters(border=0, block_rows=7, burst_sigma=1.0, min_share=0.1)
    centre, spread = np.zeros(8, np.float32), np.ones(8, np.float32)
    scale = np.ones(9, np.float32)
    ours = scan._burst_reads(data, scale, intervals, None, centre, spread, params)
    expected = reference_burst_reads(data, scale, intervals, None, centre, spread, params)
    np.testing.assert_array_equal(ours, expected)
    assert (ours >= 0).sum() > 100
