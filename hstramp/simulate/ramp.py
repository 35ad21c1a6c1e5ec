"""Ramp physics of the simulator, the exact inverse of calwf3's ZSIG/BLEV/ZOFF/NLIN/DARK.

A pixel accumulates linear charge ``Q`` (DN) from reset; the detector reports the
non-linear ``M`` with ``M * (1 + sum_k c_k M**k) = Q`` (calwf3's correction read
backwards), capped at full well a little above the saturation node. The raw read is
``ZSCI + drift + M + read noise``, rounded to uint16.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "FULL_WELL_MARGIN",
    "collect_charge",
    "invert_linearity",
    "linearity_correction",
    "quantize_reads",
    "reported_signal",
]

#: the reported signal stops rising this many DN above the node (about 30 read-noise sigma)
FULL_WELL_MARGIN = 250.0
#: Newton stops when no pixel moves by more than this (DN) or after _NEWTON_MAX steps
_NEWTON_TOLERANCE = 1e-6
_NEWTON_MAX = 20
#: the linear charge is capped where the correction stays monotonic (1.2 x node)
_INVERSION_LIMIT = 1.2


def linearity_correction(signal: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """calwf3's non-linearity correction ``s * (1 + sum_{k=0}^{n-1} c_k s**k)``.

    Parameters
    ----------
    signal : numpy.ndarray
        Measured signal ``s``, DN above the super-zero, ``[..., ny, nx]``.
    coeffs : numpy.ndarray
        ``[ncoef, ny, nx]`` coefficients ``c_k``.

    Returns
    -------
    numpy.ndarray
        float64, same shape as ``signal``.
    """
    s = np.asarray(signal, dtype=np.float64)
    return s * (1.0 + _polynomial(s, coeffs))


def _polynomial(s: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """``sum_k c_k s**k`` by Horner's rule."""
    c = np.asarray(coeffs, dtype=np.float64)
    poly = np.broadcast_to(c[-1], np.broadcast_shapes(s.shape, c.shape[1:])).copy()
    for k in range(c.shape[0] - 2, -1, -1):
        poly *= s
        poly += c[k]
    return poly


def _derivative_coefficients(coeffs: np.ndarray) -> np.ndarray:
    """Coefficients ``(k + 1) c_k`` of d/ds of :func:`linearity_correction` (minus 1)."""
    c = np.asarray(coeffs, dtype=np.float64)
    return c * np.arange(1, c.shape[0] + 1).reshape((-1,) + (1,) * (c.ndim - 1))


def invert_linearity(charge: np.ndarray, coeffs: np.ndarray, node: np.ndarray) -> np.ndarray:
    """The non-linear signal ``M`` whose calwf3 correction is ``charge`` (Newton's method).

    Charges beyond the correction at ``1.2 * node`` are capped there (the detector is
    saturated long before), so the result stays on the monotonic branch.

    Parameters
    ----------
    charge : numpy.ndarray
        Linear charge ``Q``, DN, ``[..., ny, nx]`` (>= 0).
    coeffs : numpy.ndarray
        ``[ncoef, ny, nx]`` coefficients.
    node : numpy.ndarray
        ``[ny, nx]`` saturation node, DN.

    Returns
    -------
    numpy.ndarray
        float64 ``M`` with ``linearity_correction(M) == min(Q, Q_cap)``.
    """
    coeffs = np.asarray(coeffs, dtype=np.float64)
    slope_coeffs = _derivative_coefficients(coeffs)
    limit = _INVERSION_LIMIT * np.asarray(node, dtype=np.float64)
    q = np.minimum(np.asarray(charge, dtype=np.float64), linearity_correction(limit, coeffs))
    # Q / (1 + poly(Q)) is within (few %)**2 of M: Newton then needs two or three steps
    m = q / (1.0 + _polynomial(q, coeffs))
    for _ in range(_NEWTON_MAX):
        step = (m * (1.0 + _polynomial(m, coeffs)) - q) / (1.0 + _polynomial(m, slope_coeffs))
        m -= step
        if np.max(np.abs(step), initial=0.0) < _NEWTON_TOLERANCE:
            break
    return m


def reported_signal(nonlinear: np.ndarray, node: np.ndarray) -> np.ndarray:
    """Signal the detector reports: ``M`` up to full well (``node + FULL_WELL_MARGIN``).

    Parameters
    ----------
    nonlinear : numpy.ndarray
        ``M`` from :func:`invert_linearity`.
    node : numpy.ndarray
        Saturation node, DN.

    Returns
    -------
    numpy.ndarray
    """
    return np.minimum(nonlinear, np.asarray(node, dtype=np.float64) + FULL_WELL_MARGIN)


def collect_charge(mean_increment: np.ndarray, gain: np.ndarray,
                   rng: np.random.Generator | None) -> np.ndarray:
    """Charge (DN) collected in one interval, with Poisson noise counted in electrons.

    Parameters
    ----------
    mean_increment : numpy.ndarray
        ``[ny, nx]`` expected DN in the interval (>= 0).
    gain : numpy.ndarray
        ``[ny, nx]`` gain of each pixel's amplifier, e-/DN.
    rng : numpy.random.Generator or None
        Draws the electrons; None gives the expectation (noiseless).

    Returns
    -------
    numpy.ndarray
        float64 ``[ny, nx]``.
    """
    mean = np.clip(np.asarray(mean_increment, dtype=np.float64), 0.0, None)
    if rng is None:
        return mean
    gain = np.asarray(gain, dtype=np.float64)
    return rng.poisson(mean * gain) / gain


def quantize_reads(values: np.ndarray) -> np.ndarray:
    """Round to the nearest DN and clip to the 16-bit range of the raw file.

    Parameters
    ----------
    values : numpy.ndarray
        Raw DN as floats.

    Returns
    -------
    numpy.ndarray
        uint16.
    """
    return np.clip(np.rint(values), 0, np.iinfo(np.uint16).max).astype(np.uint16)
