"""Compare calibrated STIS products with the truth of a simulated exposure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.core.stis.crreject import dilate_mask, disk_offsets
from hstramp.core.stis.dqflags import DATAREJECT, SDQFLAGS_DEFAULT

__all__ = ["Evaluation", "cosmic_ray_rejection", "evaluate_products", "robust_std"]


def robust_std(values) -> float:
    """1.4826 times the median absolute deviation (a Gaussian's sigma)."""
    values = np.asarray(values, np.float64)
    return 1.4826 * float(np.median(np.abs(values - np.median(values))))


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate_products`.

    Attributes
    ----------
    robust_std, median : float
        Of ``(crj - truth) / err`` over clean pixels (no SDQFLAGS bit, no cosmic ray within
        2.5 pixels in any imset).
    clean_pixels : int
    cr_fraction : float
        Fraction of the cosmic rays hitting one imset only that were rejected.
    cr_count : int
        Number of such cosmic rays.
    meanblev, true_meanblev : numpy.ndarray
        MEANBLEV of each imset (flt headers) and the simulated value.
    """

    robust_std: float
    median: float
    clean_pixels: int
    cr_fraction: float
    cr_count: int
    meanblev: np.ndarray
    true_meanblev: np.ndarray


def cosmic_ray_rejection(cr_dn, cr_id, err, dq, nsigma: float = 5.0) -> tuple[float, int]:
    """Fraction of single-imset cosmic rays whose strong pixels were all flagged 8192.

    A ray counts when none of its pixels has cosmic-ray charge in another imset; its
    strong pixels are those with more than ``nsigma`` times the pixel's error.

    Parameters
    ----------
    cr_dn, cr_id : ndarray [nexp, ny, nx]
        Cosmic-ray charge (DN) and event id per imset (truth).
    err, dq : ndarray [nexp, ny, nx]
        Errors and DQ of the calibrated imsets (the flt).
    nsigma : float
        Strength threshold.

    Returns
    -------
    tuple
        ``(fraction, count)``.
    """
    hit = cr_dn > 0
    total = rejected = 0
    for k in range(hit.shape[0]):
        elsewhere = np.delete(hit, k, axis=0).any(axis=0)
        shared = np.unique(cr_id[k][hit[k] & elsewhere])
        strong = hit[k] & (cr_dn[k] > nsigma * err[k])
        flagged = (dq[k] & DATAREJECT) != 0
        has_strong = np.unique(cr_id[k][strong])
        missed = np.unique(cr_id[k][strong & ~flagged])
        counted = np.setdiff1d(has_strong, shared)
        total += counted.size
        rejected += np.setdiff1d(counted, missed).size
    return rejected / max(total, 1), total


def evaluate_products(truth_path, crj_path, flt_path, exptime: float) -> Evaluation:
    """Robust scatter of the crj against the truth, CR rejection, MEANBLEV recovery.

    Parameters
    ----------
    truth_path, crj_path, flt_path : str or Path
        The simulation's truth and the pipeline's products.
    exptime : float
        Total exposure time, s.

    Returns
    -------
    Evaluation
    """
    with fits.open(truth_path) as truth:
        expected = truth["RATE_DN"].data.astype(np.float64) * exptime
        cr_dn, cr_id = truth["CR_DN"].data, truth["CR_ID"].data
        true_meanblev = np.array(truth["IMSETS"].data["MEANBLEV"], np.float64)
    with fits.open(crj_path) as crj:
        sci, err, dq = (crj[name].data for name in ("SCI", "ERR", "DQ"))
        near = dilate_mask((cr_dn > 0).any(axis=0), disk_offsets(2.5))
        clean = ((dq & SDQFLAGS_DEFAULT) == 0) & ~near & (err > 0)
        z = (sci[clean] - expected[clean]) / err[clean]
    with fits.open(Path(flt_path)) as flt:
        n = flt[0].header["NEXTEND"] // 3
        flt_err = np.stack([flt["ERR", k + 1].data for k in range(n)])
        flt_dq = np.stack([flt["DQ", k + 1].data for k in range(n)])
        meanblev = np.array([flt["SCI", k + 1].header["MEANBLEV"] for k in range(n)])
    fraction, count = cosmic_ray_rejection(cr_dn, cr_id, flt_err, flt_dq)
    return Evaluation(robust_std=robust_std(z), median=float(np.median(z)),
                      clean_pixels=int(clean.sum()), cr_fraction=fraction, cr_count=count,
                      meanblev=meanblev, true_meanblev=true_meanblev)
