"""STIS data-quality flags (values of calstis ``stisdq.h`` and the STIS Data Handbook).

Several bits mean other things than on WFC3/IR (4 is also "outside the aperture", 8 the
occulting bar, 128 overscan, 512 a bad reference pixel or zero flat), so STIS keeps its
own table; values that coincide with the IR ones (256 saturated, 8192 cosmic ray) are the
same numbers.
"""

from __future__ import annotations

from hstramp.core.dqflags import dq_mnemonics

__all__ = [
    "CALIBDEFECT",
    "DATALOST",
    "DATAMASKED",
    "DATAREJECT",
    "DETECTORPROB",
    "HOTPIX",
    "LARGEBLEM",
    "OVERSCAN",
    "SATPIXEL",
    "SDQFLAGS_ABSENT",
    "SDQFLAGS_DEFAULT",
    "SMALLBLEM",
    "SOFTERR",
    "STIS_FLAGS",
    "stis_dq_mnemonics",
]

SOFTERR = 1
DATALOST = 2
DETECTORPROB = 4
DATAMASKED = 8
HOTPIX = 16
LARGEBLEM = 32
OVERSCAN = 128
SATPIXEL = 256
CALIBDEFECT = 512
SMALLBLEM = 1024
X1D_BAD_BACKGROUND = 2048
X1D_DISCARDED = 4096
DATAREJECT = 8192
NOT_CTI_CORR = 16384

#: name -> value, in bit order
STIS_FLAGS: dict[str, int] = {
    "SOFTERR": SOFTERR,
    "DATALOST": DATALOST,
    "DETECTORPROB": DETECTORPROB,
    "DATAMASKED": DATAMASKED,
    "HOTPIX": HOTPIX,
    "LARGEBLEM": LARGEBLEM,
    "OVERSCAN": OVERSCAN,
    "SATPIXEL": SATPIXEL,
    "CALIBDEFECT": CALIBDEFECT,
    "SMALLBLEM": SMALLBLEM,
    "X1D_BAD_BACKGROUND": X1D_BAD_BACKGROUND,
    "X1D_DISCARDED": X1D_DISCARDED,
    "DATAREJECT": DATAREJECT,
    "NOT_CTI_CORR": NOT_CTI_CORR,
}

#: usual STIS CCD SDQFLAGS (31743): every bit except 1024 (small blemish); what the
#: simulator writes and real CCD headers hold
SDQFLAGS_DEFAULT = 31743
#: calstis's SDQFLAGS when an imset's SCI header has none (32767, every bit of its C
#: ``short``: ``cs1/getgrpinfo1.c``); hstramp's STIS models fall back to it likewise
SDQFLAGS_ABSENT = 32767


def stis_dq_mnemonics(value: int) -> list[str]:
    """Names of the STIS flags set in one DQ value (unknown bits as ``BIT<n>``).

    Parameters
    ----------
    value : int
        A DQ value.

    Returns
    -------
    list of str
    """
    return dq_mnemonics(value, STIS_FLAGS)
