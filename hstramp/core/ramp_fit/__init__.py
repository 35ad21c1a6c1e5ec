"""A rate per pixel from its ramp: the two estimators and what they return.

- :func:`fit_ramps` (:mod:`~hstramp.core.ramp_fit.fixsen`): slopes between jumps with
  optimal (Fixsen) weights on the real read times, combined per pixel;
- :func:`last_minus_first` (:mod:`~hstramp.core.ramp_fit.endpoints`): the difference of
  the first and last usable reads over their time (calwf3's CRCORR=OMIT);
- :class:`RampFitResult` and :func:`collapse_dq` (:mod:`~hstramp.core.ramp_fit.result`):
  the rate image, its variances and the output DQ, the same for both.
"""

from hstramp.core.ramp_fit.endpoints import last_minus_first
from hstramp.core.ramp_fit.fixsen import POWERS, SNR_EDGES, RampFitParameters, fit_ramps
from hstramp.core.ramp_fit.result import NO_SLOPE, RampFitResult, RampSegments, collapse_dq

__all__ = [
    "NO_SLOPE",
    "POWERS",
    "SNR_EDGES",
    "RampFitParameters",
    "RampFitResult",
    "RampSegments",
    "collapse_dq",
    "fit_ramps",
    "last_minus_first",
]
