"""A seeded model of the WFC3/IR detector: full-frame (1024 x 1024) maps of everything the
reference files describe, drawn once per seed so that every exposure size sees the same
detector.

Full-frame maps are indexed ``[y, x]`` in the 1024 x 1024 raw frame (reference border
included). Bad pixels are kept as BPIXTAB rows in full-frame science coordinates
(one-indexed, running -4..1019 like the real table).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.geometry import (
    FULL_FRAME_LTV,
    FULL_FRAME_SHAPE,
    REFERENCE_BORDER,
    amplifier_map,
)
from hstramp.datamodels import dqflags

log = logging.getLogger(__name__)

__all__ = [
    "AMPX",
    "AMPY",
    "GAIN",
    "NOMINAL_CCDGAIN",
    "READ_NOISE",
    "DetectorModel",
    "make_detector_model",
]

#: effective gains of amplifiers A, B, C, D (e-/DN; WFC3 Data Handbook, quadrants 1..4)
GAIN = (2.252, 2.203, 2.188, 2.265)
#: read noise of a correlated double sample, e-, amplifiers A..D (WFC3 ISR 2009-21)
READ_NOISE = (20.99, 19.80, 21.53, 21.98)
#: first column / row of the second amplifier, 1024 frame
AMPX = AMPY = 512
#: commanded gain
NOMINAL_CCDGAIN = 2.5
#: number of linearity coefficients (third-order correction, k = 0..3)
NCOEF = 4
#: large-scale flat binning
LFLAT_BIN = 4

_N = FULL_FRAME_SHAPE[0]
_B = REFERENCE_BORDER
_SCIENCE_CENTRE = (_N - 2 * _B) // 2  # 507: centre in 0-indexed full-frame science pixels


@dataclass(frozen=True, eq=False)
class DetectorModel:
    """Full-frame detector maps behind a simulated reference-file set.

    Attributes
    ----------
    zsci, zerr : numpy.ndarray
        float32 ``[1024, 1024]`` super-zero read (raw DN, bias included; the border holds
        the reference-pixel level) and its uncertainty.
    node : numpy.ndarray
        float32 ``[1024, 1024]`` saturation level, DN above the super-zero.
    coeffs : numpy.ndarray
        float32 ``[NCOEF, 1024, 1024]`` calwf3 linearity coefficients ``c_0..c_3``.
    dark_rate : numpy.ndarray
        float64 ``[1024, 1024]`` dark current, e-/s.
    pflat, pflat_err : numpy.ndarray
        float32 ``[1024, 1024]`` pixel-to-pixel flat (1 on the border) and its error.
    lflat, lflat_err : numpy.ndarray
        float32 ``[256, 256]`` large-scale flat binned by 4, and its error.
    dflat, dflat_err : numpy.ndarray or None
        float32 ``[1024, 1024]`` delta flat, if one is simulated.
    bad_pixels : dict
        BPIXTAB columns (``CCDAMP, CCDCHIP, CCDGAIN, PIX1, PIX2, LENGTH, AXIS, VALUE``).
    """

    zsci: np.ndarray
    zerr: np.ndarray
    node: np.ndarray
    coeffs: np.ndarray
    dark_rate: np.ndarray
    pflat: np.ndarray
    pflat_err: np.ndarray
    lflat: np.ndarray
    lflat_err: np.ndarray
    dflat: np.ndarray | None
    dflat_err: np.ndarray | None
    bad_pixels: dict

    @property
    def mean_gain(self) -> float:
        """Mean of the four amplifier gains (calwf3's FLATCORR factor)."""
        return float(np.mean(GAIN))


def _quadrants() -> np.ndarray:
    """Amplifier (0..3 = A..D) of each full-frame pixel, split at 512 (the physical middle)."""
    return amplifier_map(FULL_FRAME_SHAPE, FULL_FRAME_LTV, AMPX, AMPY, _B, _B)


def _border_mask() -> np.ndarray:
    mask = np.ones((_N, _N), dtype=bool)
    mask[_B:-_B, _B:-_B] = False
    return mask


def _super_zero(rng: np.random.Generator, quadrant: np.ndarray, border: np.ndarray):
    """Super-zero: ~10,600-10,850 DN on science pixels, ~14,100-14,200 DN on the border."""
    y, x = np.mgrid[0:_N, 0:_N] / (_N - 1.0) - 0.5
    science = 10720.0 + np.array([-45.0, 30.0, -20.0, 40.0])[quadrant] + 40.0 * (x - y)
    science += np.clip(rng.normal(0.0, 20.0, (_N, _N)), -60.0, 60.0)
    reference = 14150.0 + np.array([-15.0, 10.0, -5.0, 12.0])[quadrant]
    reference = reference + np.clip(rng.normal(0.0, 10.0, (_N, _N)), -30.0, 30.0)
    zsci = np.where(border, reference, science).astype(np.float32)
    zerr = (2.5 + 0.5 * rng.random((_N, _N))).astype(np.float32)
    return zsci, zerr


def _linearity(rng: np.random.Generator, quadrant: np.ndarray):
    """Quadrant-averaged coefficients (as the real NLINFILE) and a per-pixel node.

    The correction is ~3.5 % at 20,000 DN and stays monotonic beyond the node.
    """
    per_amp = np.array([
        [0.0020, 1.50e-6, 1.20e-11, -1.5e-16],
        [0.0018, 1.45e-6, 1.25e-11, -1.4e-16],
        [0.0022, 1.55e-6, 1.15e-11, -1.6e-16],
        [0.0019, 1.48e-6, 1.22e-11, -1.5e-16],
    ])
    coeffs = np.moveaxis(per_amp[quadrant], -1, 0).astype(np.float32)
    node = 28000.0 * (1.0 + np.clip(rng.normal(0.0, 0.01, (_N, _N)), -0.03, 0.03))
    return coeffs, node.astype(np.float32)


def _dark_rate(rng: np.random.Generator, border: np.ndarray) -> np.ndarray:
    """0.05 e-/s with 20 % scatter, 0.4 % warm pixels (0.2-0.9 e-/s), 0.1 % hot (1.5-30)."""
    rate = 0.05 * rng.lognormal(0.0, 0.2, (_N, _N))
    draw = rng.random((_N, _N))
    warm = draw < 0.004
    hot = draw > 0.999
    rate[warm] = rng.uniform(0.2, 0.9, warm.sum())
    rate[hot] = np.exp(rng.uniform(np.log(1.5), np.log(30.0), hot.sum()))
    rate[border] = 0.0
    return rate


def _blob(shape, centre, radius: float, depth: float) -> np.ndarray:
    """Multiplicative dip of an IR blob (``1 - depth`` at the centre)."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    r2 = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / radius**2
    return 1.0 - depth * np.clip(1.0 - r2, 0.0, None)


#: blob centre in 0-indexed full-frame *science* coordinates and its radius
BLOB_CENTRE = (_SCIENCE_CENTRE - 12, _SCIENCE_CENTRE - 14)
BLOB_RADIUS = 3.0


def _flats(rng: np.random.Generator, border: np.ndarray, delta: bool):
    pflat = 1.0 + np.clip(rng.normal(0.0, 0.02, (_N, _N)), -0.08, 0.08)
    pflat *= _blob((_N, _N), (BLOB_CENTRE[0] + _B, BLOB_CENTRE[1] + _B), BLOB_RADIUS, 0.08)
    pflat[border] = 1.0
    pflat_err = np.full((_N, _N), 0.004, dtype=np.float32)
    pflat_err[border] = 0.0
    n_low = _N // LFLAT_BIN
    v, u = np.mgrid[0:n_low, 0:n_low] / (n_low - 1.0) - 0.5
    lflat = (1.0 + 0.012 * u - 0.008 * v + 0.02 * (u * u + v * v - 1.0 / 6.0)).astype(np.float32)
    lflat_err = np.full((n_low, n_low), 0.001, dtype=np.float32)
    if not delta:
        return pflat.astype(np.float32), pflat_err, lflat, lflat_err, None, None
    dflat = 1.0 + np.clip(rng.normal(0.0, 0.003, (_N, _N)), -0.01, 0.01)
    dflat[border] = 1.0
    dflat_err = np.full((_N, _N), 0.001, dtype=np.float32)
    return (pflat.astype(np.float32), pflat_err, lflat, lflat_err, dflat.astype(np.float32),
            dflat_err)


def _bad_pixel_rows(rng: np.random.Generator) -> dict:
    """BPIXTAB rows: random singles, central runs and a blob, wildcard and non-matching rows.

    Coordinates are one-indexed full-frame science pixels (-4..1019). Central features lie
    within 30 pixels of the detector centre so that every subarray contains some.
    """
    n_random = 1500
    pix = rng.integers(1, _N - 2 * _B + 1, size=(2, n_random))
    values = rng.choice([dqflags.BAD_DETECTOR, dqflags.DEVIANT_ZERO, dqflags.UNSTABLE,
                         dqflags.BAD_DETECTOR | dqflags.UNSTABLE], size=n_random)
    c = _SCIENCE_CENTRE + 1  # one-indexed centre
    by, bx = np.mgrid[-3:4, -3:4]
    in_blob = bx**2 + by**2 <= BLOB_RADIUS**2
    blob_x = BLOB_CENTRE[0] + 1 + bx[in_blob]
    blob_y = BLOB_CENTRE[1] + 1 + by[in_blob]
    rows = [
        # (pix1, pix2, length, axis, value, ccdchip, ccdgain)
        *[(int(x), int(y), 1, 1, int(v), 1, NOMINAL_CCDGAIN)
          for x, y, v in zip(pix[0], pix[1], values, strict=True)],
        (c - 20, c + 10, 6, 1, dqflags.UNSTABLE, 1, NOMINAL_CCDGAIN),
        (c + 15, c - 25, 8, 2, dqflags.BAD_DETECTOR, 1, NOMINAL_CCDGAIN),
        (c + 5, c - 5, 1, 1, dqflags.DEVIANT_ZERO, -999, -999.0),
        (c + 3, c + 3, 1, 1, dqflags.BAD_DETECTOR, 1, 4.0),  # another gain: not applied
        *[(int(x), int(y), 1, 1, dqflags.BAD_FLAT, 1, NOMINAL_CCDGAIN)
          for x, y in zip(blob_x, blob_y, strict=True)],
        *[(-4, int(y), 5, 1, dqflags.BAD_REFERENCE, 1, NOMINAL_CCDGAIN)
          for y in rng.integers(-4, _N - 2 * _B + 6, size=20)],
    ]
    cols = list(zip(*rows, strict=True))
    return {
        "CCDAMP": np.full(len(rows), "ABCD"),
        "CCDCHIP": np.asarray(cols[5], dtype=np.int16),
        "CCDGAIN": np.asarray(cols[6], dtype=np.float32),
        "PIX1": np.asarray(cols[0], dtype=np.int32),
        "PIX2": np.asarray(cols[1], dtype=np.int32),
        "LENGTH": np.asarray(cols[2], dtype=np.int16),
        "VALUE": np.asarray(cols[4], dtype=np.float32),
        "AXIS": np.asarray(cols[3], dtype=np.int16),
    }


def make_detector_model(rng: np.random.Generator, *, delta_flat: bool = False
                        ) -> DetectorModel:
    """Draw a detector: super-zero, linearity, dark current, flats and bad pixels.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded generator (the detector depends on nothing else).
    delta_flat : bool
        Also simulate a delta flat (DFLTFILE) instead of 'N/A'.

    Returns
    -------
    DetectorModel
    """
    quadrant = _quadrants()
    border = _border_mask()
    zsci, zerr = _super_zero(rng, quadrant, border)
    coeffs, node = _linearity(rng, quadrant)
    dark_rate = _dark_rate(rng, border)
    pflat, pflat_err, lflat, lflat_err, dflat, dflat_err = _flats(rng, border, delta_flat)
    return DetectorModel(
        zsci=zsci, zerr=zerr, node=node, coeffs=coeffs, dark_rate=dark_rate, pflat=pflat,
        pflat_err=pflat_err, lflat=lflat, lflat_err=lflat_err, dflat=dflat,
        dflat_err=dflat_err, bad_pixels=_bad_pixel_rows(rng),
    )
