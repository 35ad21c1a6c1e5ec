"""Ramp fitting on many reads: independent of blocks, exact against a direct fit, and
tables only for the segments present (time and memory linear in reads)."""

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.blocks import auto_block_rows
from hstramp.core.ramp_fit import RampFitParameters, fit_ramps
from hstramp.core.ramp_fit import fixsen as ramp_fit
from hstramp.core.ramp_fit.fixsen import (
    MIN_BLOCK_PIXELS,
    SegmentCache,
    fit_block_rows,
    segment_tables,
)

CR = dqflags.CR_RAMP
SAT = dqflags.SATURATED
GAIN = 2.5
READ_NOISE = 6.0

#: Fixsen exponents and the S/N where each starts, written out independently of the module.
FIXSEN = [(0.0, -np.inf), (0.4, 5.0), (1.0, 10.0), (3.0, 20.0), (6.0, 50.0), (10.0, 100.0)]


def uneven_times(rng, ngroups):
    """Seconds since the zeroth read: a mix of short and long gaps (as STEP/SPARS)."""
    gaps = rng.choice([0.112705, 2.93, 7.18, 25.0], ngroups - 1)
    return np.concatenate([[0.0], np.cumsum(gaps)])


def noisy_ramps(rng, times, rate):
    """Ramps [ngroups, *rate.shape]: cumulative Poisson electrons plus read noise, DN."""
    steps = np.diff(times).reshape((-1,) + (1,) * rate.ndim)
    electrons = rng.poisson(rate * GAIN * steps)
    signal = np.concatenate([np.zeros((1, *rate.shape)), np.cumsum(electrons, axis=0) / GAIN])
    return (signal + rng.normal(0.0, READ_NOISE, signal.shape)).astype(np.float32)


def add_jump(data, groupdq, where, read, size):
    """A cosmic ray of ``size`` DN before ``read`` at pixel ``where``, flagged."""
    data[(slice(read, None), *where)] += np.float32(size)
    groupdq[(read, *where)] |= CR


def awkward_pixels(rng, times):
    """A row of pixels with jumps, saturation, unusable and single reads."""
    ngroups = times.size
    snr = np.array([[2.0, 7.0, 15.0, 35.0, 75.0, 400.0, 40.0, 60.0, 20.0, 30.0, 12.0, 150.0]])
    noise = READ_NOISE * GAIN
    electrons = (snr**2 + np.sqrt(snr**4 + 4 * snr**2 * noise**2)) / 2  # S/N of the whole ramp
    rate = electrons / GAIN / times[-1]
    data = noisy_ramps(rng, times, rate)
    groupdq = np.zeros(data.shape, np.uint16)
    add_jump(data, groupdq, (0, 6), ngroups // 3, 800.0)
    add_jump(data, groupdq, (0, 6), 2 * ngroups // 3, 500.0)
    add_jump(data, groupdq, (0, 7), 1, 300.0)
    add_jump(data, groupdq, (0, 7), ngroups - 1, 300.0)
    add_jump(data, groupdq, (0, 8), ngroups // 2, 90.0)
    add_jump(data, groupdq, (0, 8), ngroups // 2 + 1, 90.0)  # two jumps in a row
    groupdq[2 * ngroups // 3 :, 0, 9] |= SAT
    groupdq[ngroups // 4, 0, 10] |= dqflags.REED_SOLOMON
    data[ngroups // 5, 0, 11] = np.nan
    groupdq[:, 0, 4] |= dqflags.FILL  # one usable read only
    groupdq[3, 0, 4] = 0
    return data, groupdq


def fields(result, pixels):
    """The result's arrays at ``pixels`` (index into [ny, nx]), segments included."""
    out = {name: getattr(result, name)[pixels] for name in
           ("rate", "err", "var_poisson", "var_rnoise", "dq", "samp", "time")}  # fmt: skip
    for name, plane in vars(result.segments).items():
        out["segments." + name] = plane[(slice(None), *pixels)]
    return out


def test_a_ramp_fits_the_same_alone_and_in_any_block():
    """Results are per pixel: alone, inside a large frame of other ramps (other segments
    met first), and for any block size, bit for bit."""
    rng = np.random.default_rng(42)
    times = uneven_times(rng, 40)
    alone_data, alone_dq = awkward_pixels(rng, times)
    ny, nx = 48, 150
    data = noisy_ramps(rng, times, 10 ** rng.uniform(-1, 3, (ny, nx)))
    groupdq = np.zeros(data.shape, np.uint16)
    hit = rng.random(data.shape) < 0.03
    data += np.cumsum(hit * np.float32(400.0), axis=0, dtype=np.float32)
    groupdq[hit] |= CR
    groupdq[data > 50000] |= SAT
    row, columns = 29, slice(70, 70 + alone_data.shape[2])
    data[:, row, columns] = alone_data[:, 0]
    groupdq[:, row, columns] = alone_dq[:, 0]
    for suppress in (True, False):
        params = {"save_segments": True, "suppress_one_group": suppress}
        alone = fit_ramps(alone_data, alone_dq, times, GAIN, READ_NOISE,
                          RampFitParameters(**params))  # fmt: skip
        expected = fields(alone, (0, slice(None)))
        nseg = alone.segments.slope.shape[0]
        for block_rows in (0, 1, 5, ny):
            framed = fit_ramps(data, groupdq, times, GAIN, READ_NOISE,
                               RampFitParameters(block_rows=block_rows, **params))  # fmt: skip
            got = fields(framed, (row, columns))
            for name, value in expected.items():
                planes = got[name][:nseg] if name.startswith("segments.") else got[name]
                np.testing.assert_array_equal(planes, value, err_msg=name)
            assert np.isnan(got["segments.slope"][nseg:]).all()
    assert nseg >= 3


def direct_fit(y, usable, jump, times):
    """One pixel's rate and variances by generic weighted least squares.

    Segments are listed read by read; each gets ``P`` from its S/N, the weights
    ``|t - t_mid|^P / (T/2)^P``, its slope coefficients from the pseudo-inverse of the
    weighted design matrix, its read-noise variance ``RN^2 a.a`` and its Poisson
    variance ``a C a`` with ``C_jk = rate / g * (min(t_j, t_k) - t_first)``.
    """
    segments, current = [], []
    for k in range(times.size):
        if current and (not usable[k] or jump[k]):
            segments.append(current)
            current = []
        if usable[k]:
            current.append(k)
    segments = [s for s in [*segments, current] if len(s) >= 2]
    fits = []
    for reads in segments:
        t, values = times[reads], y[reads].astype(np.float64)
        electrons = (values[-1] - values[0]) * GAIN
        snr = electrons / np.sqrt((READ_NOISE * GAIN) ** 2 + electrons) if electrons > 0 else 0
        power = [p for p, edge in FIXSEN if snr >= edge][-1]
        weights = np.abs((t - (t[0] + t[-1]) / 2) / ((t[-1] - t[0]) / 2)) ** power
        design = np.column_stack([np.ones_like(t), t]) * np.sqrt(weights)[:, None]
        a = (np.linalg.pinv(design) * np.sqrt(weights))[1]
        since_first = t - t[0]
        fits.append({
            "slope": a @ values,
            "information": np.sum((t - t.mean()) ** 2),
            "rnoise": READ_NOISE**2 * (a @ a),
            "poisson": a @ np.minimum.outer(since_first, since_first) @ a / GAIN,
            "span": t[-1] - t[0],
            "reads": len(reads),
            "power": power,
        })  # fmt: skip
    total = sum(f["information"] for f in fits)
    share = [f["information"] / total for f in fits]
    rate = sum(c * f["slope"] for c, f in zip(share, fits, strict=True))
    return {
        "rate": rate,
        "var_rnoise": sum(c**2 * f["rnoise"] for c, f in zip(share, fits, strict=True)),
        "var_poisson": max(rate, 0) * sum(c**2 * f["poisson"] for c, f in zip(share, fits,
                                                                                strict=True)),
        "samp": sum(f["reads"] for f in fits),
        "time": sum(f["span"] for f in fits),
        "slopes": [f["slope"] for f in fits],
        "powers": [f["power"] for f in fits],
    }  # fmt: skip


def test_sixty_reads_match_a_direct_weighted_least_squares_fit():
    rng = np.random.default_rng(60)
    times = uneven_times(rng, 60)
    data, groupdq = awkward_pixels(rng, times)
    groupdq[:, 0, 4] = 0  # every pixel here has fitted segments
    result = fit_ramps(data, groupdq, times, GAIN, READ_NOISE,
                       RampFitParameters(save_segments=True))  # fmt: skip
    usable = ((groupdq & (dqflags.SATURATED | dqflags.REED_SOLOMON)) == 0) & np.isfinite(data)
    powers = set()
    for pixel in range(data.shape[2]):
        truth = direct_fit(data[:, 0, pixel], usable[:, 0, pixel],
                           (groupdq[:, 0, pixel] & CR) != 0, times)  # fmt: skip
        assert result.rate[0, pixel] == pytest.approx(truth["rate"], rel=1e-5, abs=1e-6)
        assert result.var_rnoise[0, pixel] == pytest.approx(truth["var_rnoise"], rel=1e-5)
        assert result.var_poisson[0, pixel] == pytest.approx(truth["var_poisson"], rel=1e-5,
                                                             abs=1e-12)  # fmt: skip
        assert result.samp[0, pixel] == truth["samp"]
        assert result.time[0, pixel] == pytest.approx(truth["time"], rel=1e-6)
        nseg = len(truth["slopes"])
        np.testing.assert_allclose(result.segments.slope[:nseg, 0, pixel], truth["slopes"],
                                   rtol=1e-5, atol=1e-6)  # fmt: skip
        np.testing.assert_array_equal(result.segments.power[:nseg, 0, pixel],
                                      np.float32(truth["powers"]))  # fmt: skip
        powers.update(truth["powers"])
    assert len(powers) >= 5  # the pixels cover most S/N classes


def test_tables_are_built_only_for_the_segments_present(monkeypatch):
    """A 100-read exposure tabulates its distinct segments, not all 6 x 100^2 of them."""
    rng = np.random.default_rng(100)
    times = uneven_times(rng, 100)
    cache = SegmentCache(times)
    first, last, power = np.array([0, 0, 30, 0, 0]), np.array([99, 29, 99, 99, 29]), [4, 4, 4, 2, 4]
    rows = cache.rows(first, last, power)
    assert rows[1] == rows[4] and len(set(rows.tolist())) == 4
    assert cache.tables.information.size == 5  # and the empty segment, row 0
    np.testing.assert_array_equal(cache.rows(first[::-1], last[::-1], power[::-1]), rows[::-1])
    # a row's values do not depend on the other segments built with it
    alone = segment_tables(times, [30], [99], [4])
    tables = cache.tables
    for name in vars(alone):
        np.testing.assert_array_equal(getattr(tables, name)[..., rows[2]],
                                      getattr(alone, name)[..., 0], err_msg=name)  # fmt: skip
    assert (tables.coefficients[:, 0] == 0).all() and tables.information[0] == 0

    caches = []

    class RecordedCache(SegmentCache):
        def __init__(self, times):
            super().__init__(times)
            caches.append(self)

    monkeypatch.setattr(ramp_fit, "SegmentCache", RecordedCache)
    data = noisy_ramps(rng, times, np.full((8, 16), 50.0))
    groupdq = np.zeros(data.shape, np.uint16)
    groupdq[30, :4, :] |= CR
    result = fit_ramps(data, groupdq, times, GAIN, READ_NOISE, RampFitParameters(block_rows=1))
    assert (result.samp == 100).all() and np.isfinite(result.rate).all()
    # segments 0..99, 0..29 and 30..99, each with at most a few exponents
    assert 1 + 3 <= caches[0].tables.information.size <= 1 + 3 * 2


@pytest.mark.parametrize("ngroups", [4, 16, 100])
def test_automatic_blocks_keep_enough_pixels_for_long_ramps(ngroups):
    rows = fit_block_rows(ngroups, 1024, 0)
    assert rows * 1024 >= MIN_BLOCK_PIXELS
    assert rows >= auto_block_rows(ngroups, 1024)
    assert fit_block_rows(ngroups, 1024, 3) == 3
