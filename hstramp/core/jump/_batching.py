"""How pixels are grouped for the search: per block, by kind (gaps or not), and the
few pixels left after their first round pooled across blocks.

Every value is computed per pixel; the grouping changes the speed and the memory,
never a result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from hstramp.core.blocks import pixel_valid, usable_reads
from hstramp.core.jump._columns import count_true
from hstramp.core.jump._differences import (
    Differences,
    bridged_differences,
    difference_rates,
    has_gap,
)
from hstramp.core.jump._median import PLAIN_MEDIAN


@dataclass(frozen=True)
class PrimaryJumps:
    """Jumps found by the two-point test, one entry per jump.

    Attributes
    ----------
    read : ndarray intp
        Index of the read after the jump (the read that is flagged).
    pixel : ndarray intp
        Flat pixel index ``row * nx + col``.
    ratio : ndarray float32
        ``|difference - median| / sigma`` when the jump was found.
    amplitude : ndarray float32
        ``(difference - median) * dt``: the jump in DN.
    """

    read: np.ndarray
    pixel: np.ndarray
    ratio: np.ndarray
    amplitude: np.ndarray

    @classmethod
    def concatenate(cls, parts: list[PrimaryJumps]) -> PrimaryJumps:
        """Join several lists of jumps."""
        if not parts:
            empty_int, empty_float = np.empty(0, np.intp), np.empty(0, np.float32)
            return cls(empty_int, empty_int, empty_float, empty_float)
        columns = (field.name for field in fields(cls))
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in columns))


@dataclass(frozen=True)
class Search:
    """Pixels still being searched for jumps, with what the search needs of each.

    Attributes
    ----------
    differences : Differences
        Their difference rates, jumps found so far masked (NaN).
    pixels : ndarray intp
        Flat frame index ``row * nx + col`` of each.
    inverse_gain : ndarray float32
        1 / gain, DN/e-.
    read_variance : ndarray float32
        ``2 RN^2``, DN^2.
    plain : ndarray bool
        In the plain regime (decided on the differences usable before any jump).
    bridged : bool
        The differences span gaps (:func:`~hstramp.core.jump._differences.bridged_differences`).
    """

    differences: Differences
    pixels: np.ndarray
    inverse_gain: np.ndarray
    read_variance: np.ndarray
    plain: np.ndarray
    bridged: bool

    @classmethod
    def start(
        cls,
        differences: Differences,
        pixels: np.ndarray,
        gain: np.ndarray,
        read_noise: np.ndarray,
        bridged: bool,
    ) -> Search:
        """A search of ``pixels`` (frame indices) with their gain and read noise."""
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse_gain = np.float32(1) / gain
        read_variance = 2 * read_noise * read_noise
        plain = count_true(~np.isnan(differences.rates)) >= PLAIN_MEDIAN
        return cls(differences, pixels, inverse_gain, read_variance, plain, bridged)

    @property
    def size(self) -> int:
        """Number of pixels."""
        return self.pixels.size

    @property
    def kind(self) -> tuple[bool, bool]:
        """Searches of the same kind are joined: ``(uniform, bridged)``."""
        return self.differences.uniform, self.bridged

    def select(self, chosen: np.ndarray) -> Search:
        """Only the ``chosen`` pixels (positions in this search; a copy)."""
        return Search(
            self.differences.select(chosen),
            self.pixels[chosen],
            self.inverse_gain[chosen],
            self.read_variance[chosen],
            self.plain[chosen],
            self.bridged,
        )

    @classmethod
    def concatenate(cls, parts: list[Search]) -> Search:
        """The pixels of several searches of one kind."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            Differences.concatenate([part.differences for part in parts]),
            *(
                np.concatenate([getattr(part, name) for part in parts])
                for name in ("pixels", "inverse_gain", "read_variance", "plain")
            ),
            parts[0].bridged,
        )


def columns(chosen: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """The ``chosen`` columns of each 2-D array, as C-ordered copies."""
    return [array.take(chosen, axis=1) for array in arrays]


def block_searches(
    data: np.ndarray,
    groupdq: np.ndarray,
    times: np.ndarray,
    gain: np.ndarray,
    read_noise: np.ndarray,
    first_pixel: int,
) -> list[Search]:
    """The searches of one block of pixels.

    Pixels with an unusable read between usable ones are searched separately, on
    differences that span the gap, so that every pixel's result depends on its own
    data only.

    Parameters
    ----------
    data : ndarray float32 [ngroups, npix]
    groupdq : ndarray [ngroups, npix]
    times : ndarray float64 [ngroups]
    gain, read_noise : ndarray float32 [npix]
    first_pixel : int
        Frame index of the block's first pixel.

    Returns
    -------
    list of Search
        With frame pixel indices.
    """
    usable = usable_reads(data, groupdq, pixel_valid(gain, read_noise))
    gapped = has_gap(usable)
    if not gapped.any():
        pixels = np.arange(first_pixel, first_pixel + data.shape[1])
        differences = difference_rates(data, usable, times)
        return [Search.start(differences, pixels, gain, read_noise, bridged=False)]
    whole, bridged = np.flatnonzero(~gapped), np.flatnonzero(gapped)
    groups = [
        (whole, difference_rates(data, usable, times).select(whole), False),
        (bridged, bridged_differences(*columns(bridged, data, usable), times), True),
    ]
    return [
        Search.start(differences, pixels + first_pixel, gain[pixels], read_noise[pixels], gaps)
        for pixels, differences, gaps in groups
        if pixels.size
    ]


class PendingSearches:
    """Pixels left after the first round of their block, searched together.

    After the first round only the few pixels that had a jump are searched again;
    searching them block by block would spend most of the time in the overhead of
    many small rounds. They are gathered (by kind) from consecutive blocks and
    searched once at least ``capacity`` pixels wait, so the memory they hold stays
    about that of one block. Every value is computed per pixel: grouping does not
    change the results.

    Parameters
    ----------
    search_to_end : callable
        ``search_to_end(search)`` searches the pixels of one :class:`Search` until none
        has another jump and returns the list of :class:`PrimaryJumps` found.
    capacity : int
        Pixels gathered before they are searched.
    """

    def __init__(self, search_to_end: Callable[[Search], list[PrimaryJumps]], capacity: int):
        self.search_to_end = search_to_end
        self.capacity = capacity
        self.waiting: dict[tuple[bool, bool], list[Search]] = {}
        self.size = 0

    def add(self, search: Search) -> list[PrimaryJumps]:
        """Queue ``search``; the jumps found if the queue was full (else none)."""
        if search.size:
            self.waiting.setdefault(search.kind, []).append(search)
            self.size += search.size
        return self.finish() if self.size >= self.capacity else []

    def finish(self) -> list[PrimaryJumps]:
        """Search every waiting pixel to the end; the jumps found."""
        found = []
        for parts in self.waiting.values():
            found += self.search_to_end(Search.concatenate(parts))
        self.waiting, self.size = {}, 0
        return found
