"""WFC3/IR data-quality flags (values as in calwf3 and the WFC3 Data Handbook).

Several bits mean other things on the UVIS detector; this table is IR only.
calwf3 uses 1024 and 16384 internally for spikes and high curvature and writes
them out as 4 and 32; hstramp never reuses a flag as a placeholder.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BAD_DETECTOR",
    "BAD_FLAT",
    "BAD_REFERENCE",
    "CR_DRIZZLE",
    "CR_RAMP",
    "DEVIANT_ZERO",
    "FILL",
    "GHOST",
    "GOOD",
    "HOT",
    "IR_FLAGS",
    "REED_SOLOMON",
    "RESERVED",
    "SATURATED",
    "SDQFLAGS_DEFAULT",
    "UNSTABLE",
    "WARM",
    "ZERO_READ_SIGNAL",
    "dq_mnemonics",
]

GOOD = 0
REED_SOLOMON = 1
FILL = 2
BAD_DETECTOR = 4
DEVIANT_ZERO = 8
HOT = 16
UNSTABLE = 32
WARM = 64
BAD_REFERENCE = 128
SATURATED = 256
BAD_FLAT = 512
RESERVED = 1024
ZERO_READ_SIGNAL = 2048
CR_DRIZZLE = 4096
CR_RAMP = 8192
GHOST = 16384

#: name -> value for every IR bit, in bit order
IR_FLAGS: dict[str, int] = {
    "REED_SOLOMON": REED_SOLOMON,
    "FILL": FILL,
    "BAD_DETECTOR": BAD_DETECTOR,
    "DEVIANT_ZERO": DEVIANT_ZERO,
    "HOT": HOT,
    "UNSTABLE": UNSTABLE,
    "WARM": WARM,
    "BAD_REFERENCE": BAD_REFERENCE,
    "SATURATED": SATURATED,
    "BAD_FLAT": BAD_FLAT,
    "RESERVED": RESERVED,
    "ZERO_READ_SIGNAL": ZERO_READ_SIGNAL,
    "CR_DRIZZLE": CR_DRIZZLE,
    "CR_RAMP": CR_RAMP,
    "GHOST": GHOST,
}

#: calwf3's default SDQFLAGS for IR (31743): every bit except 1024 (RESERVED)
SDQFLAGS_DEFAULT = 31743


def dq_mnemonics(value: int | np.integer, flags: dict[str, int] | None = None) -> list[str]:
    """Return the names of the flags set in one DQ value.

    Parameters
    ----------
    value : int
        A DQ value (an OR of flag bits).
    flags : dict, optional
        Name -> value table of the detector; default :data:`IR_FLAGS` (WFC3/IR).

    Returns
    -------
    list of str
        Flag names in bit order; bits that are not in the table appear as ``BIT<n>``.

    Examples
    --------
    >>> dq_mnemonics(256 + 2048)
    ['SATURATED', 'ZERO_READ_SIGNAL']
    """
    value = int(value)
    if value < 0:
        raise ValueError(f"DQ value must be non-negative, got {value}")
    by_value = {v: k for k, v in (IR_FLAGS if flags is None else flags).items()}
    return [by_value.get(1 << bit, f"BIT{bit}") for bit in range(value.bit_length())
            if value & (1 << bit)]
