"""What the detector looks at: sky, stars, a time-variable background and cosmic rays."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hstramp.core.geometry import REFERENCE_BORDER, ScienceGeometry

log = logging.getLogger(__name__)

__all__ = ["CosmicRays", "Scene", "TVBProfile", "make_cosmic_rays", "make_scene"]

#: Gaussian PSF sigma, pixels (WFC3/IR F160W FWHM is about 1.2 pixels)
PSF_SIGMA = 1.0
#: cosmic-ray hits per science pixel per second
CR_RATE = 5.0e-5


@dataclass(frozen=True)
class TVBProfile:
    """A He I-like time-variable background: a linear rise to ``amplitude`` e-/s.

    The extra rate is 0 until ``onset * EXPTIME``, rises linearly over
    ``duration * EXPTIME`` and then stays at ``amplitude``. It is spatially uniform (it is
    multiplied by the flat like the sky).

    Parameters
    ----------
    amplitude : float
        Extra background after the rise, e-/s (He I reaches ~0.5 to 1.5 e-/s).
    onset : float
        Start of the rise as a fraction of EXPTIME (0..1).
    duration : float
        Length of the rise as a fraction of EXPTIME (> 0).
    """

    amplitude: float = 1.0
    onset: float = 0.4
    duration: float = 0.2

    def __post_init__(self):
        if not 0.0 <= self.onset < 1.0:
            raise ValueError(f"TVBProfile.onset must be in [0, 1), got {self.onset}")
        if self.duration <= 0.0:
            raise ValueError(f"TVBProfile.duration must be > 0, got {self.duration}")
        if self.amplitude < 0.0:
            raise ValueError(f"TVBProfile.amplitude must be >= 0, got {self.amplitude}")

    def rate(self, t, exptime: float) -> np.ndarray:
        """Extra background rate (e-/s) at times ``t`` (s since the zeroth read)."""
        start, length = self.onset * exptime, self.duration * exptime
        return self.amplitude * np.clip((np.asarray(t, float) - start) / length, 0.0, 1.0)

    def accumulated(self, t, exptime: float) -> np.ndarray:
        """Extra background collected (e-) from the start of the exposure up to ``t``."""
        start, length = self.onset * exptime, self.duration * exptime
        u = np.clip(np.asarray(t, float) - start, 0.0, None)
        rising = np.minimum(u, length)
        return self.amplitude * (rising * rising / (2.0 * length) + (u - rising))


@dataclass(frozen=True)
class ScanProfile:
    """A spatial scan: a source (a spectrum's band of columns) swept once along the rows.

    The source's centre moves at a constant speed from the first to the last scanned row
    between the zeroth and the last read; a pixel row collects ``charge`` e- in every
    column of the band for each row-width the centre crosses inside it.

    Attributes
    ----------
    charge : float
        e- a pixel of the band collects as the source passes over it.
    columns, rows : tuple of 2 float
        The band's columns and the scanned rows, as fractions of the science area.
    scan_type : str or None
        SCAN_TYP written to the raw header ('C', 'D'); None writes none (as OPUS headers
        before 2013).
    """

    charge: float = 2.0e4
    columns: tuple = (0.3, 0.7)
    rows: tuple = (0.15, 0.65)
    scan_type: str | None = "C"

    def charge_between(self, shape, border: int, t0: float, t1: float, exptime: float
                       ) -> np.ndarray:
        """e- each pixel collects from the scan between ``t0`` and ``t1`` (s since the zeroth
        read), float64 ``[ny, nx]``."""
        ny, nx = shape
        inner_y, inner_x = ny - 2 * border, nx - 2 * border
        y0, y1 = (border + f * inner_y for f in self.rows)
        x0, x1 = (round(border + f * inner_x) for f in self.columns)
        speed = (y1 - y0) / exptime
        start, end = (y0 + speed * float(np.clip(t, 0.0, exptime)) for t in (t0, t1))
        rows = np.arange(ny, dtype=np.float64)
        crossed = np.clip(np.minimum(rows + 0.5, end) - np.maximum(rows - 0.5, start), 0.0, None)
        out = np.zeros(shape)
        out[:, x0:x1] = (self.charge * crossed)[:, None]
        return out


@dataclass(frozen=True, eq=False)
class Scene:
    """Steady illumination of the science pixels (border pixels see nothing).

    Attributes
    ----------
    rate : numpy.ndarray
        float64 ``[ny, nx]`` sky + stars, e-/s, before the flat.
    sky_rate : float
        Uniform sky, e-/s.
    stars : dict
        ``x, y`` (0-indexed array position), ``flux`` (e-/s), ``sigma`` (pixels).
    """

    rate: np.ndarray
    sky_rate: float
    stars: dict


@dataclass(frozen=True, eq=False)
class CosmicRays:
    """Cosmic-ray hits.

    Attributes
    ----------
    x, y : numpy.ndarray
        int 0-indexed array position.
    read : numpy.ndarray
        int index (time order) of the first read that contains the hit.
    time : numpy.ndarray
        float arrival time, s since the zeroth read.
    amplitude : numpy.ndarray
        float charge deposited, DN (linear).
    """

    x: np.ndarray
    y: np.ndarray
    read: np.ndarray
    time: np.ndarray
    amplitude: np.ndarray

    @property
    def count(self) -> int:
        """Number of hits."""
        return int(self.x.size)


def _science_bounds(geometry: ScienceGeometry, margin: int):
    ny, nx = geometry.shape
    lo = REFERENCE_BORDER + margin
    return lo, nx - lo, ny - lo


def _star_list(rng: np.random.Generator, geometry: ScienceGeometry, n_stars) -> dict:
    """Random stars plus two bright ones: one saturating early with a strong zeroth-read
    signal, one saturating mid-ramp."""
    lo, hi_x, hi_y = _science_bounds(geometry, 4)
    ny, nx = geometry.shape
    n_science = (ny - 2 * REFERENCE_BORDER) * (nx - 2 * REFERENCE_BORDER)
    n_random = max(3, n_science // 300) if n_stars is None else max(0, int(n_stars) - 2)
    flux = np.exp(rng.uniform(np.log(20.0), np.log(5.0e4), n_random))
    flux = np.concatenate([[3.0e5, 1.5e4], flux])
    x = rng.uniform(lo, hi_x, flux.size)
    y = rng.uniform(lo, hi_y, flux.size)
    return {"x": x, "y": y, "flux": flux, "sigma": np.full(flux.size, PSF_SIGMA)}


def render_stars(stars: dict, shape) -> np.ndarray:
    """Sum of normalised Gaussian stamps (±5 sigma), e-/s per pixel."""
    image = np.zeros(shape, dtype=np.float64)
    ny, nx = shape
    for x0, y0, flux, sigma in zip(stars["x"], stars["y"], stars["flux"], stars["sigma"],
                                   strict=True):
        half = int(np.ceil(5 * sigma))
        ix, iy = int(np.rint(x0)), int(np.rint(y0))
        xs = np.arange(max(ix - half, 0), min(ix + half + 1, nx))
        ys = np.arange(max(iy - half, 0), min(iy + half + 1, ny))
        stamp = np.exp(-0.5 * (((xs[None, :] - x0) ** 2 + (ys[:, None] - y0) ** 2)
                               / sigma**2))
        image[ys[:, None], xs[None, :]] += flux * stamp / stamp.sum()
    return image


def make_scene(rng: np.random.Generator, geometry: ScienceGeometry, *, sky_rate: float = 1.0,
               n_stars: int | None = None) -> Scene:
    """Sky plus Gaussian stars on the science pixels.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded generator.
    geometry : ScienceGeometry
        Image shape (reference border included).
    sky_rate : float
        Uniform sky, e-/s.
    n_stars : int, optional
        Number of stars (two bright ones included); default about one per 300 pixels.

    Returns
    -------
    Scene
    """
    stars = _star_list(rng, geometry, n_stars)
    rate = render_stars(stars, geometry.shape)
    b = REFERENCE_BORDER
    rate[b:-b, b:-b] += sky_rate
    rate[:b], rate[-b:], rate[:, :b], rate[:, -b:] = 0.0, 0.0, 0.0, 0.0
    return Scene(rate=rate, sky_rate=float(sky_rate), stars=stars)


def make_cosmic_rays(rng: np.random.Generator, geometry: ScienceGeometry, times,
                     rate: float = CR_RATE) -> CosmicRays:
    """Single-pixel hits arriving uniformly in time between the zeroth and last read.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded generator.
    geometry : ScienceGeometry
        Image shape.
    times : array_like
        Read times, s since the zeroth read.
    rate : float
        Hits per science pixel per second.

    Returns
    -------
    CosmicRays
        Amplitudes log-uniform in 30..3000 DN.
    """
    times = np.asarray(times, dtype=np.float64)
    lo, hi_x, hi_y = _science_bounds(geometry, 0)
    n_science = (hi_x - lo) * (hi_y - lo)
    count = int(rng.poisson(rate * n_science * times[-1]))
    arrival = rng.uniform(0.0, times[-1], count)
    return CosmicRays(
        x=rng.integers(lo, hi_x, count), y=rng.integers(lo, hi_y, count),
        read=np.searchsorted(times, arrival, side="left").clip(1, times.size - 1),
        time=arrival, amplitude=np.exp(rng.uniform(np.log(30.0), np.log(3000.0), count)),
    )
