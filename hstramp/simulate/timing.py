"""WFC3/IR MULTIACCUM sample sequences: read times (SAMPTIME) per SAMP_SEQ and subarray.

Full-frame times are the WFC3 Instrument Handbook MULTIACCUM tables (to 1 ms). Subarrays
read faster: their first interval is the subarray read time and every later interval is the
full-frame one with the full-frame read time (2.932 s) replaced by the subarray's. The
sequences seen in real raw files are tabulated exactly (SQ128SUB/SQ256SUB SPARS10, SQ256SUB
RAPID); the others follow the rule above and are approximate (to ~1 ms).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EXACT_SUBARRAY_SEQUENCES",
    "FULL_FRAME_TIMES",
    "MAX_NSAMP",
    "NOMINAL_INTERVALS",
    "READ_TIMES",
    "SAMP_SEQS",
    "ZERO_READ_OVERHEAD",
    "aperture_for_size",
    "read_times",
    "sample_intervals",
    "subtype_for_size",
    "zero_read_time",
]

#: largest NSAMP (zeroth read included)
MAX_NSAMP = 16
#: full-frame SAMPTIME of each read (s since the zeroth read), WFC3 IHB
FULL_FRAME_TIMES = {
    "RAPID": (0.0, 2.932, 5.865, 8.797, 11.729, 14.661, 17.594, 20.526, 23.458, 26.391,
              29.323, 32.255, 35.187, 38.12, 41.052, 43.984),
    "SPARS10": (0.0, 2.932, 12.933, 22.934, 32.935, 42.936, 52.937, 62.938, 72.939, 82.94,
                92.941, 102.942, 112.943, 122.944, 132.945, 142.946),
    "SPARS25": (0.0, 2.932, 27.933, 52.933, 77.934, 102.934, 127.935, 152.935, 177.936,
                202.936, 227.937, 252.937, 277.938, 302.938, 327.939, 352.94),
    "SPARS50": (0.0, 2.932, 52.933, 102.933, 152.934, 202.934, 252.935, 302.935, 352.935,
                402.936, 452.936, 502.937, 552.937, 602.938, 652.938, 702.939),
    "SPARS100": (0.0, 2.932, 102.933, 202.933, 302.933, 402.934, 502.934, 602.934, 702.935,
                 802.935, 902.935, 1002.936, 1102.936, 1202.936, 1302.936, 1402.937),
    "SPARS200": (0.0, 2.932, 202.932, 402.932, 602.932, 802.933, 1002.933, 1202.933,
                 1402.933, 1602.933, 1802.933, 2002.933, 2202.933, 2402.933, 2602.933,
                 2802.933),
    "STEP25": (0.0, 2.932, 5.865, 8.797, 11.729, 24.23, 49.23, 74.231, 99.231, 124.232,
               149.232, 174.233, 199.233, 224.234, 249.234, 274.235),
    "STEP50": (0.0, 2.932, 5.865, 8.797, 11.729, 24.23, 49.23, 99.231, 149.231, 199.232,
               249.232, 299.232, 349.233, 399.233, 449.234, 499.234),
    "STEP100": (0.0, 2.932, 5.865, 8.797, 11.729, 24.23, 49.23, 99.231, 199.231, 299.231,
                399.232, 499.232, 599.232, 699.233, 799.233, 899.233),
    "STEP200": (0.0, 2.932, 5.865, 8.797, 11.729, 24.23, 49.23, 99.231, 199.231, 399.231,
                599.231, 799.231, 999.231, 1199.231, 1399.231, 1599.231),
    "STEP400": (0.0, 2.932, 5.865, 8.797, 11.729, 24.23, 49.23, 99.231, 199.231, 399.231,
                799.232, 1199.232, 1599.233, 1999.233, 2399.234, 2799.235),
}
SAMP_SEQS = tuple(FULL_FRAME_TIMES)
#: time to read the array once (the RAPID interval), s, per SUBTYPE
READ_TIMES = {"FULLIMAG": 2.932, "SQ512SUB": 0.853, "SQ256SUB": 0.277815,
              "SQ128SUB": 0.112705, "SQ64SUB": 0.061}
#: SAMPTIMEs read from real raw/ima files (extended by their nominal interval when longer)
EXACT_SUBARRAY_SEQUENCES = {
    ("SQ256SUB", "SPARS10"): (0.0, 0.277815, 7.6243, 14.970785, 22.31727, 29.663755,
                              37.010239, 44.356724, 51.703209, 59.049694, 66.396179,
                              73.742661, 81.089142, 88.435623, 95.782104, 103.128586),
    ("SQ128SUB", "SPARS10"): (0.0, 0.112705, 7.29408, 14.475455, 21.65683, 28.838205,
                              36.019581, 43.200954, 50.382328),
    ("SQ256SUB", "RAPID"): (0.0, 0.277815, 0.55563, 0.833445),
}
#: DELTATIM of the later reads in the real files (SAMPTIME differences wander by 1e-6)
NOMINAL_INTERVALS = {
    ("SQ256SUB", "SPARS10"): 7.346485,
    ("SQ128SUB", "SPARS10"): 7.181375,
    ("SQ256SUB", "RAPID"): 0.277815,
}
#: calwf3's zeroth-read exposure is the first read's time less these overheads (s)
ZERO_READ_OVERHEAD = 0.020535
_SIZES = {1014: "FULLIMAG", 512: "SQ512SUB", 256: "SQ256SUB", 128: "SQ128SUB", 64: "SQ64SUB"}


def subtype_for_size(size: int) -> str:
    """SUBTYPE of a centred readout with ``size`` science pixels a side.

    Parameters
    ----------
    size : int
        64, 128, 256, 512 or 1014.

    Returns
    -------
    str
        ``FULLIMAG`` or ``SQ<n>SUB``.
    """
    try:
        return _SIZES[int(size)]
    except KeyError as exc:
        raise ValueError(f"size must be one of {sorted(_SIZES)}, got {size}") from exc


def aperture_for_size(size: int) -> str:
    """APERTURE of an imaging exposure: ``IR`` (full frame) or ``IRSUB<n>``.

    Parameters
    ----------
    size : int
        64, 128, 256, 512 or 1014.

    Returns
    -------
    str
    """
    subtype = subtype_for_size(size)
    return "IR" if subtype == "FULLIMAG" else f"IRSUB{int(size)}"


def _check_sequence(samp_seq: str, nsamp: int) -> str:
    seq = str(samp_seq).strip().upper()
    if seq not in FULL_FRAME_TIMES:
        raise ValueError(f"samp_seq must be one of {', '.join(SAMP_SEQS)}, got {samp_seq!r}")
    if not 2 <= int(nsamp) <= MAX_NSAMP:
        raise ValueError(f"nsamp must be between 2 and {MAX_NSAMP}, got {nsamp}")
    return seq


def read_times(samp_seq: str, nsamp: int, subtype: str = "FULLIMAG") -> np.ndarray:
    """SAMPTIME of each read, seconds since the zeroth read, in time order.

    Parameters
    ----------
    samp_seq : str
        RAPID, SPARS10/25/50/100/200 or STEP25/50/100/200/400.
    nsamp : int
        Number of reads, zeroth read included (2..16).
    subtype : str
        FULLIMAG or SQ64SUB, SQ128SUB, SQ256SUB, SQ512SUB.

    Returns
    -------
    numpy.ndarray
        float64 ``[nsamp]`` starting at 0, rounded to 1 microsecond (as the headers).
    """
    seq = _check_sequence(samp_seq, nsamp)
    if subtype not in READ_TIMES:
        raise ValueError(f"subtype must be one of {', '.join(READ_TIMES)}, got {subtype!r}")
    full = np.asarray(FULL_FRAME_TIMES[seq], dtype=np.float64)
    if subtype == "FULLIMAG":
        times = full
    elif (subtype, seq) in EXACT_SUBARRAY_SEQUENCES:
        known = np.asarray(EXACT_SUBARRAY_SEQUENCES[(subtype, seq)], dtype=np.float64)
        step = NOMINAL_INTERVALS[(subtype, seq)]
        extra = known[-1] + step * np.arange(1, MAX_NSAMP - known.size + 1)
        times = np.concatenate([known, extra])
    else:
        shorter = READ_TIMES["FULLIMAG"] - READ_TIMES[subtype]
        intervals = np.diff(full) - shorter
        times = np.concatenate([[0.0], np.cumsum(intervals)])
    return np.round(times[: int(nsamp)], 6)


def sample_intervals(samp_seq: str, nsamp: int, subtype: str = "FULLIMAG") -> np.ndarray:
    """DELTATIM of each read: 0 for the zeroth read, then the interval since the last read.

    For the sequences measured in real files the later intervals are the nominal value
    those files carry (their SAMPTIME differences wander by a microsecond).

    Parameters
    ----------
    samp_seq : str
        Sample sequence.
    nsamp : int
        Number of reads (2..16).
    subtype : str
        SUBTYPE.

    Returns
    -------
    numpy.ndarray
        float64 ``[nsamp]``.
    """
    times = read_times(samp_seq, nsamp, subtype)
    intervals = np.round(np.diff(times, prepend=0.0), 6)
    nominal = NOMINAL_INTERVALS.get((subtype, str(samp_seq).strip().upper()))
    if nominal is not None:
        intervals[2:] = nominal
    return intervals


def zero_read_time(times) -> float:
    """Effective exposure of the zeroth read: first read time less 0.020535 s (SAMPZERO).

    Parameters
    ----------
    times : array_like
        Read times from :func:`read_times`.

    Returns
    -------
    float
    """
    return round(float(times[1]) - ZERO_READ_OVERHEAD, 6)
