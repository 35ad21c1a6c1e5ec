"""Jump (cosmic-ray) detection by two-point differences on real read times: the driver.

Read top-down, :func:`detect_jumps` does, per pixel:

1. differences of consecutive usable reads, each divided by its time interval (WFC3
   reads are unevenly spaced; a difference spans an unusable read between two usable
   ones) -- :func:`~hstramp.core.jump._batching.block_searches`;
2. the pixel's rate: a robust median of these rates, weighted by the intervals, without
   the largest below ``PLAIN_MEDIAN`` differences (a clipped median) --
   :func:`~hstramp.core.jump._median.robust_rate`;
3. each difference compared with the noise expected from read noise and Poisson noise
   over its own interval (and from the noise of the median itself) --
   :func:`~hstramp.core.jump._outliers.largest_outliers`;
4. the largest ratio above the threshold for the number of usable differences flagged on
   the read after the jump and masked, and the search repeated until no difference is
   above its threshold (:func:`_search_round`, :func:`_search_to_end`);
5. the 4 neighbours of jumps within a ratio window flagged on the same read
   (:func:`_flag_neighbours`), and reads taken soon after large jumps
   (:func:`_flag_after_jumps`).

With ``trim`` only the science area is searched and flagged, as calwf3's ``cridcalc``:
the reference pixels around it see no light, their swings are not cosmic rays, and no
charge crosses from them into a science pixel.

On evenly spaced reads this is stcal's two-point difference; ``docs/maths.md`` has the
derivation and the differences. The speed machinery lives in private modules and never
changes a result: pixels are searched by row blocks and the few with a jump pooled
across blocks (``_batching``), each pixel's rates sorted by a sorting network
(``_sorting``), and the largest ratio found without computing every ratio when the
intervals allow (``_outliers``).
"""

from __future__ import annotations

import dataclasses
import functools
import logging

import numpy as np

from hstramp.core import dqflags, native
from hstramp.core.blocks import (
    DO_NOT_USE,
    RampInputs,
    auto_block_rows,
    gather,
    pixel_valid,
    plane_view,
    ramp_inputs,
    row_blocks,
    usable_reads,
)
from hstramp.core.jump import _compiled
from hstramp.core.jump._batching import PendingSearches, PrimaryJumps, Search, block_searches
from hstramp.core.jump._median import robust_rate, tested_rates
from hstramp.core.jump._outliers import largest_outliers
from hstramp.core.jump._parameters import JumpParameters
from hstramp.core.outputs import output_arrays
from hstramp.core.stats import science_slices

__all__ = ["detect_jumps"]

log = logging.getLogger(__name__)


def detect_jumps(data, groupdq, times, gain, read_noise,
                 params=JumpParameters(),  # noqa: B008 (a frozen dataclass: immutable)
                 *, pixeldq=None, read_scale=None, trim=None, out=None) -> np.ndarray:
    """Flag jumps (cosmic rays) by two-point differences on the real read times.

    Parameters
    ----------
    data : ndarray float32 [ngroups, ny, nx]
        The ramp in DN, time order (group 0 is the zeroth read).
    groupdq : ndarray uint16 [ngroups, ny, nx]
        Per-read DQ. Reads with a :data:`~hstramp.core.blocks.UNUSABLE` flag
        (saturated or do-not-use) and non-finite reads never take part.
    times : ndarray float64 [ngroups]
        Seconds since the zeroth read (``times[0] == 0``, strictly increasing).
    gain : float or ndarray float32 [ny, nx]
        Gain, e-/DN.
    read_noise : float or ndarray float32 [ny, nx]
        Read noise of a single read, DN.
    params : JumpParameters, optional
    pixeldq : ndarray [ny, nx], optional
        Pixel DQ, OR-ed into every read (the result holds it too).
    read_scale : array_like [ngroups], optional
        Work on a ramp as the calibration steps leave it (count rates after UNITCORR: the
        read times; counts: ones): see :func:`hstramp.core.blocks.ramp_inputs`. The
        conversion is done block by block, without a second cube.
    trim : tuple of 4 int, optional
        Reference-border widths ``(x1, x2, y1, y2)``: only the pixels inside are searched,
        and only they get flags (jumps, neighbours, reads after a jump), as in calwf3's
        ``cridcalc``. None (default): every pixel.
    out : ndarray uint16 [ngroups, ny, nx], optional
        Where to write the result; it may be ``groupdq`` itself (the flags this adds never
        make a read unusable, so the search is not affected). Default: a new array.

    Returns
    -------
    ndarray uint16 [ngroups, ny, nx]
        ``groupdq`` (OR ``pixeldq``) with ``CR_RAMP`` OR-ed into the read after each
        jump, and into neighbours and after-jump reads as configured; a new array unless
        ``out`` is given. The inputs are never modified (other than ``out``).
    """
    inputs = ramp_inputs(data, groupdq, times, gain, read_noise, read_scale, pixeldq)
    (output,) = output_arrays((inputs.groupdq,), (np.uint16,), None if out is None else (out,),
                              ("groupdq",))
    if inputs.pixeldq is not None:
        output |= inputs.pixeldq
    if trim is not None:
        inputs = dataclasses.replace(
            inputs, pixeldq=searched_pixeldq(inputs.pixeldq, inputs.shape[1:], trim))
    ngroups, ny, nx = inputs.shape
    if ngroups < 3:
        log.debug("fewer than 3 reads: no jump can be detected")
        return output
    jumps = _primary_jumps(inputs, params)
    output.reshape(-1)[jumps.read * (ny * nx) + jumps.pixel] |= np.uint16(dqflags.CR_RAMP)
    if params.flag_4_neighbors:
        _flag_neighbours(output, inputs, jumps, params)
    if params.after_jump_rules():
        _flag_after_jumps(output, inputs, jumps, params)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%d primary jumps in %d pixels", jumps.read.size, np.unique(jumps.pixel).size)
    return output


def searched_pixeldq(pixeldq, frame, trim):
    """The pixel DQ the search sees: ``pixeldq`` with :data:`~hstramp.core.blocks.DO_NOT_USE`
    on the reference border (``trim``), so that the search skips those pixels and flags
    nothing there; ``pixeldq`` itself when ``trim`` is None.

    Parameters
    ----------
    pixeldq : ndarray uint16 [ny, nx] or None
    frame : tuple of int
        ``(ny, nx)``.
    trim : tuple of 4 int or None
        ``(x1, x2, y1, y2)``.

    Returns
    -------
    ndarray uint16 [ny, nx] or None
        A new array when ``trim`` is given.
    """
    if trim is None:
        return pixeldq
    rows, cols = science_slices(frame, trim)
    searched = np.full(frame, DO_NOT_USE, dtype=np.uint16)
    searched[rows, cols] = 0
    if pixeldq is not None:
        searched |= pixeldq
    return searched


def _primary_jumps(inputs: RampInputs, params: JumpParameters) -> PrimaryJumps:
    """Every jump found by the two-point test: by the compiled kernel where it is used
    (:mod:`hstramp.core.native`, ``HSTRAMP_KERNELS``), else by :func:`_find_primary_jumps`.

    The kernel gives the same jumps (``tests/core/test_jump_native.py``); it leaves
    ramps with a difference rate beyond +-3e38 (reads near the float32 limit) to this
    path.
    """
    kernel = native.kernel("jump")
    if kernel is not None:
        jumps = _compiled.primary_jumps(kernel, inputs, params)
        if jumps is not None:
            return jumps
        log.debug("a difference rate beyond 3e38: the NumPy search decides")
    return _find_primary_jumps(inputs, params)


def _find_primary_jumps(inputs: RampInputs, params: JumpParameters) -> PrimaryJumps:
    """Every jump found by the two-point test, block by block (the NumPy reference).

    Each block's pixels have their first round in the block; the pixels that had a
    jump go on in a :class:`~hstramp.core.jump._batching.PendingSearches`.

    Parameters
    ----------
    inputs : RampInputs
    params : JumpParameters

    Returns
    -------
    PrimaryJumps
        With frame pixel indices, in no particular order.
    """
    ngroups, ny, nx = inputs.shape
    thresholds = params.threshold_table(ngroups - 1)
    block_pixels = (params.block_rows or auto_block_rows(ngroups, nx)) * nx
    pending = PendingSearches(
        functools.partial(_search_to_end, thresholds=thresholds), capacity=block_pixels
    )
    found = []
    for rows in row_blocks(ny, nx, ngroups, params.block_rows):
        searches = block_searches(
            inputs.data_block(rows),
            inputs.dq_block(rows),
            inputs.times,
            plane_view(inputs.gain, rows),
            plane_view(inputs.read_noise, rows),
            rows.start * nx,
        )
        for search in searches:
            jumps, remaining = _search_round(search, thresholds, first=True)
            found.append(jumps)
            found += pending.add(remaining)
    found += pending.finish()
    return PrimaryJumps.concatenate(found)


def _search_round(
    search: Search, thresholds: np.ndarray, first: bool = False
) -> tuple[PrimaryJumps, Search]:
    """One round of the search: each pixel's largest outlier, if above its threshold.

    Parameters
    ----------
    search : Search
    thresholds : ndarray float32
        From :meth:`~hstramp.core.jump.JumpParameters.threshold_table`.
    first : bool, optional
        The first round of these pixels, where few have a jump (a choice of method
        only: the result is the same).

    Returns
    -------
    jumps : PrimaryJumps
        The jumps found in this round (at most one per pixel).
    remaining : Search
        The pixels that had one, with it masked: only they can have another.
    """
    differences, plain = search.differences, search.plain
    signed = differences.rates
    tested = differences.with_rates(tested_rates(signed, plain))
    rate = robust_rate(tested, plain)
    outliers = largest_outliers(
        tested, rate, plain, search.inverse_gain, search.read_variance, by_interval=first
    )
    largest = outliers.largest
    hit = np.flatnonzero(largest > thresholds[np.minimum(rate.count, thresholds.size - 1)])
    worst = outliers.worst(hit)
    with np.errstate(over="ignore"):  # rates near the float32 limit
        amplitude = (signed[worst, hit] - rate.median[hit]) * differences.interval(worst, hit)
    jumps = PrimaryJumps(worst + 1, search.pixels[hit], largest[hit], amplitude)
    remaining = search.select(hit)
    remaining.differences.rates[worst, np.arange(hit.size)] = np.nan
    return jumps, remaining


def _search_to_end(search: Search, thresholds: np.ndarray) -> list[PrimaryJumps]:
    """Repeat :func:`_search_round` until no pixel has another jump."""
    found = []
    while search.size:
        jumps, search = _search_round(search, thresholds)
        found.append(jumps)
    return found


def _flag_neighbours(
    output: np.ndarray, inputs: RampInputs, jumps: PrimaryJumps, params: JumpParameters
) -> None:
    """Flag the same read in the 4 neighbours of jumps inside the ratio window.

    Works on the whole frame from the list of jumps, so block edges do not matter.
    """
    ny, nx = output.shape[1:]
    inside = (jumps.ratio > params.min_jump_to_flag_neighbors) & (
        jumps.ratio < params.max_jump_to_flag_neighbors
    )
    pixel = jumps.pixel[inside]
    index = jumps.read[inside] * (ny * nx) + pixel
    col = pixel % nx
    valid = pixel_valid(inputs.gain, inputs.read_noise)
    for step, on_frame in (
        (-nx, pixel >= nx),
        (nx, pixel < (ny - 1) * nx),
        (-1, col > 0),
        (1, col < nx - 1),
    ):
        _flag_reads(output, inputs, valid, index[on_frame] + step, pixel[on_frame] + step)


def _flag_after_jumps(
    output: np.ndarray, inputs: RampInputs, jumps: PrimaryJumps, params: JumpParameters
) -> None:
    """Flag the reads taken within the configured time after large jumps."""
    window = np.zeros(jumps.read.size)
    for dn, time in params.after_jump_rules():
        window = np.where(jumps.amplitude >= dn, np.maximum(window, time), window)
    chosen = window > 0
    first, window, pixel = jumps.read[chosen], window[chosen], jumps.pixel[chosen]
    frame = output.shape[1] * output.shape[2]
    valid = pixel_valid(inputs.gain, inputs.read_noise)
    times = inputs.times
    ngroups = times.size
    for step in range(1, ngroups):
        later = first + step
        inside = later < ngroups
        inside[inside] = times[later[inside]] - times[first[inside]] <= window[inside]
        if not inside.any():
            break
        index = later[inside] * frame + pixel[inside]
        _flag_reads(output, inputs, valid, index, pixel[inside])


def _flag_reads(
    output: np.ndarray, inputs: RampInputs, valid: np.ndarray, index: np.ndarray, pixel: np.ndarray
) -> None:
    """OR ``CR_RAMP`` into the listed reads of ``output`` (C-ordered) that are usable.

    Parameters
    ----------
    output : ndarray uint16 [ngroups, ny, nx]
    inputs : RampInputs
    valid : ndarray bool [ny, nx]
        :func:`~hstramp.core.blocks.pixel_valid` of the frame.
    index : ndarray of int
        Flat cube index ``read * ny * nx + pixel`` of each read.
    pixel : ndarray of int
        Its flat frame index ``row * nx + col``.
    """
    usable = usable_reads(inputs.values_at(index), inputs.dq_at(index), gather(valid, pixel))
    output.reshape(-1)[index[usable]] |= np.uint16(dqflags.CR_RAMP)
