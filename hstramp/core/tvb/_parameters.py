"""Parameters of sky measurement, TVB detection and the flatten-ramp step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.dqflags import SDQFLAGS_DEFAULT
from hstramp.core.tvb._checks import check_region, is_number, require

#: the statistics that can stand for the sky level of a read
SKY_STATISTICS = ("midpt", "median", "mode", "mean")

#: what the flatten-ramp step does: nothing, only on detected exposures, on every exposure
FLATTEN_MODES = ("off", "auto", "always")


@dataclass(frozen=True)
class SkyParameters:
    """How the sky level of each read is measured.

    Attributes
    ----------
    region : tuple of 4 int or None
        ``(x1, x2, y1, y2)``: 0-based, half-open column and row bounds in the array's own
        pixel coordinates (``array[..., y1:y2, x1:x2]``). None: the whole array given (the
        steps and the command line pass the science area).
    statistic : {"midpt", "median", "mode", "mean"}
        The statistic that stands for the sky. The default, ``midpt``, is the median
        interpolated inside its histogram bin: on raw reads, whole DN, the plain median moves
        in whole-DN steps, which is a large error on a read 0.1 s after the zeroth read.
    clip_sigma : float
        Iterative clipping about the median at this many standard deviations (0: none).
    clip_iterations : int
        At most this many clipping passes (0: none).
    dq_mask : int
        DQ bits that exclude a pixel; a pixel flagged in any read is excluded from every read,
        so the sky of every read comes from the same pixels (default SDQFLAGS, 31743).
    binwidth : float
        Histogram bin width for ``midpt`` and ``mode``, in standard deviations (IRAF's 0.1).
    """

    region: tuple | None = None
    statistic: str = "midpt"
    clip_sigma: float = 3.0
    clip_iterations: int = 5
    dq_mask: int = SDQFLAGS_DEFAULT
    binwidth: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "region", check_region(self.region))
        require(self.statistic in SKY_STATISTICS, "statistic", f"one of {SKY_STATISTICS}",
                self.statistic)
        require(is_number(self.clip_sigma) and self.clip_sigma >= 0, "clip_sigma",
                "a number >= 0", self.clip_sigma)
        require(isinstance(self.clip_iterations, int | np.integer)
                and not isinstance(self.clip_iterations, bool) and self.clip_iterations >= 0,
                "clip_iterations", "an integer >= 0", self.clip_iterations)
        require(isinstance(self.dq_mask, int | np.integer) and not isinstance(self.dq_mask, bool)
                and 0 <= self.dq_mask <= 0xFFFF, "dq_mask", "an integer in 0..65535",
                self.dq_mask)
        require(is_number(self.binwidth) and self.binwidth > 0, "binwidth", "a number > 0",
                self.binwidth)


@dataclass(frozen=True)
class DetectionParameters:
    """When an exposure and a read count as affected by a time-variable background.

    Attributes
    ----------
    threshold : float
        The exposure is affected when the accumulated sky departs from a constant rate by
        more than this fraction of the exposure's sky
        (:attr:`~hstramp.core.tvb.TVBDetection.metric`) at a read where the departure is
        also larger than ``nsigma`` standard errors.
    read_threshold : float
        A read is affected when the sky rate of the interval ending at it exceeds the quiet
        sky rate by more than this fraction of the exposure's mean sky rate ...
    nsigma : float
        ... and by more than this many standard errors (for reads and for the exposure).
    """

    threshold: float = 0.03
    read_threshold: float = 0.1
    nsigma: float = 3.0

    def __post_init__(self):
        for name in ("threshold", "read_threshold", "nsigma"):
            value = getattr(self, name)
            require(is_number(value) and value >= 0 and np.isfinite(value), name,
                    "a finite number >= 0", value)


@dataclass(frozen=True)
class FlattenRampParameters:
    """Parameters of the flatten-ramp step (``hstramp.steps.tvb.FlattenRampStep``).

    Attributes
    ----------
    mode : {"off", "auto", "always"}
        "off": leave every ramp alone; "auto": flatten exposures whose detection metric
        exceeds ``threshold``; "always": flatten every exposure.
    region, statistic, clip_sigma, clip_iterations, dq_mask, binwidth
        The sky measurement (:class:`SkyParameters`); region None means the science area.
    threshold, read_threshold, nsigma
        The detection (:class:`DetectionParameters`).
    """

    mode: str = "off"
    region: tuple | None = None
    statistic: str = "midpt"
    clip_sigma: float = 3.0
    clip_iterations: int = 5
    dq_mask: int = SDQFLAGS_DEFAULT
    binwidth: float = 0.1
    threshold: float = 0.03
    read_threshold: float = 0.1
    nsigma: float = 3.0

    def __post_init__(self):
        require(self.mode in FLATTEN_MODES, "mode", f"one of {FLATTEN_MODES}", self.mode)
        object.__setattr__(self, "region", check_region(self.region))
        self.sky  # noqa: B018  (validates)
        self.detection  # noqa: B018

    @property
    def sky(self) -> SkyParameters:
        """The sky-measurement part."""
        return SkyParameters(region=self.region, statistic=self.statistic,
                             clip_sigma=self.clip_sigma, clip_iterations=self.clip_iterations,
                             dq_mask=self.dq_mask, binwidth=self.binwidth)

    @property
    def detection(self) -> DetectionParameters:
        """The detection part."""
        return DetectionParameters(threshold=self.threshold, read_threshold=self.read_threshold,
                                   nsigma=self.nsigma)
