"""Parameters of jump detection, checked when they are made."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hstramp.core.blocks import check_block_rows


def _require(condition: bool, name: str, allowed: str, value) -> None:
    """Raise ``ValueError`` naming the parameter and its allowed range."""
    if not condition:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def _is_real(value) -> bool:
    """True for a real, non-boolean number that is not NaN."""
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and not math.isnan(value)
    )


@dataclass(frozen=True)
class JumpParameters:
    """Parameters of :func:`~hstramp.core.jump.detect_jumps`.

    Attributes
    ----------
    rejection_threshold : float
        Threshold in sigma when a pixel has 4 or more usable differences (> 0).
    four_group_rejection_threshold : float
        Threshold in sigma with 3 usable differences (> 0).
    three_group_rejection_threshold : float
        Threshold in sigma with 2 usable differences (> 0).
    flag_4_neighbors : bool
        Also flag the 4 nearest neighbours of a jump whose ratio lies strictly
        between ``min_jump_to_flag_neighbors`` and ``max_jump_to_flag_neighbors``.
    max_jump_to_flag_neighbors, min_jump_to_flag_neighbors : float
        The ratio window (sigma) for neighbour flagging; ``0 <= min < max``.
    after_jump_flag_dn1, after_jump_flag_time1 : float
        After a jump of at least ``dn1`` DN, flag every later read taken within
        ``time1`` seconds of the flagged read. ``dn1 == 0`` or ``time1 == 0``
        disables the rule.
    after_jump_flag_dn2, after_jump_flag_time2 : float
        A second rule of the same kind.
    block_rows : int
        Rows per processing block; 0 chooses a size that bounds the memory.
        Results do not depend on it.
    """

    rejection_threshold: float = 4.0
    four_group_rejection_threshold: float = 5.0
    three_group_rejection_threshold: float = 6.0
    flag_4_neighbors: bool = True
    max_jump_to_flag_neighbors: float = 1000.0
    min_jump_to_flag_neighbors: float = 10.0
    after_jump_flag_dn1: float = 0.0
    after_jump_flag_time1: float = 0.0
    after_jump_flag_dn2: float = 0.0
    after_jump_flag_time2: float = 0.0
    block_rows: int = 0

    def __post_init__(self):
        for name in (
            "rejection_threshold",
            "four_group_rejection_threshold",
            "three_group_rejection_threshold",
        ):
            value = getattr(self, name)
            _require(_is_real(value) and 0 < value < math.inf, name, "a finite number > 0", value)
        _require(
            isinstance(self.flag_4_neighbors, bool | np.bool_),
            "flag_4_neighbors",
            "True or False",
            self.flag_4_neighbors,
        )
        low, high = self.min_jump_to_flag_neighbors, self.max_jump_to_flag_neighbors
        _require(
            _is_real(low) and 0 <= low < math.inf,
            "min_jump_to_flag_neighbors",
            "a finite number >= 0",
            low,
        )
        _require(
            _is_real(high) and high > low,
            "max_jump_to_flag_neighbors",
            f"a number > min_jump_to_flag_neighbors ({low})",
            high,
        )
        for name in (
            "after_jump_flag_dn1",
            "after_jump_flag_time1",
            "after_jump_flag_dn2",
            "after_jump_flag_time2",
        ):
            value = getattr(self, name)
            _require(_is_real(value) and 0 <= value < math.inf, name, "a finite number >= 0", value)
        check_block_rows(self.block_rows)

    def threshold_table(self, max_differences: int) -> np.ndarray:
        """Threshold (sigma) indexed by the number of usable differences.

        Parameters
        ----------
        max_differences : int
            The largest possible number of differences (ngroups - 1).

        Returns
        -------
        ndarray float32 [max_differences + 1]
            +inf for fewer than 2 differences (nothing can be detected).
        """
        table = np.full(max(max_differences, 4) + 1, self.rejection_threshold, np.float32)
        table[:2] = np.inf
        table[2] = self.three_group_rejection_threshold
        table[3] = self.four_group_rejection_threshold
        return table

    def after_jump_rules(self) -> tuple[tuple[float, float], ...]:
        """The enabled after-jump rules as ``(dn, time)`` pairs."""
        rules = (
            (self.after_jump_flag_dn1, self.after_jump_flag_time1),
            (self.after_jump_flag_dn2, self.after_jump_flag_time2),
        )
        return tuple((dn, time) for dn, time in rules if dn > 0 and time > 0)
