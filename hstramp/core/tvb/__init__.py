"""Time-variable background (TVB): per-read sky statistics, detection and the two remedies.

Helium 1.083 um airglow and scattered Earth light raise the WFC3/IR sky during part of an
exposure. The sky then no longer accumulates at a constant rate, and a constant-rate ramp fit
(with its cosmic-ray rejection) gives a noisy, non-Gaussian background. This package holds:

- per-read statistics of a region (what wfc3tools ``pstat`` shows): :func:`region_statistics`,
  :func:`read_statistics`, on :func:`signal_since_zeroth_read` of raw or ima reads;
- the sky level of every read and its noise (:func:`sky_levels`) and the detection metric
  (:func:`detect_tvb`): how far the accumulated sky strays from a constant rate, as a fraction
  of the exposure's sky, and which reads carry extra background;
- the remedy :func:`flatten_ramp` (subtract each read's sky, add back the whole-exposure
  rate, so that a normal fit with jump detection can follow). The other remedy, a rate from
  the first and last usable reads (calwf3's CRCORR=OMIT), is a rate estimator and lives with
  the ramp fit: :func:`hstramp.core.ramp_fit.last_minus_first`.

Arrays are in time order (read 0 is the zeroth read); ``times`` are seconds since the zeroth
read. Nothing here modifies its inputs. See ``docs/tvb.md``. The code is in private modules
by topic: ``_statistics`` (region and per-read statistics), ``_detection`` (sky levels and the
metric), ``_flatten`` (the remedy), ``_parameters`` and ``_checks``.
"""

from hstramp.core.tvb._detection import (
    SkyLevels,
    TVBDetection,
    detect_tvb,
    sky_levels,
)
from hstramp.core.tvb._flatten import (
    FlattenedRamp,
    flatten_ramp,
)
from hstramp.core.tvb._parameters import (
    FLATTEN_MODES,
    SKY_STATISTICS,
    DetectionParameters,
    FlattenRampParameters,
    SkyParameters,
)
from hstramp.core.tvb._statistics import (
    STATISTICS,
    ReadStatistics,
    RegionStatistics,
    clipped_values,
    read_statistics,
    reference_offset_noise,
    region_slices,
    region_statistics,
    science_region,
    signal_since_zeroth_read,
)

__all__ = [
    "FLATTEN_MODES",
    "SKY_STATISTICS",
    "STATISTICS",
    "DetectionParameters",
    "FlattenRampParameters",
    "FlattenedRamp",
    "ReadStatistics",
    "RegionStatistics",
    "SkyLevels",
    "SkyParameters",
    "TVBDetection",
    "clipped_values",
    "detect_tvb",
    "flatten_ramp",
    "read_statistics",
    "reference_offset_noise",
    "region_slices",
    "region_statistics",
    "science_region",
    "signal_since_zeroth_read",
    "sky_levels",
]
