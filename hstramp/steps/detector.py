"""What several steps need to know about the detector: geometry, trim, gain and read noise.

Built from the exposure's metadata and its CCDTAB / OSCNTAB, once per step call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.geometry import ScienceGeometry, amplifier_map, per_amp_values

__all__ = ["Detector", "load_detector", "model_geometry"]


def model_geometry(model):
    """The :class:`ScienceGeometry` of a model (its image shape and LTV)."""
    shape = model.data.shape[-2:]
    ltv = (model.meta.subarray.ltv1 or 0.0, model.meta.subarray.ltv2 or 0.0)
    return ScienceGeometry(shape=shape, ltv=ltv)


@dataclass(frozen=True)
class Detector:
    """Geometry and amplifier properties of one exposure.

    Attributes
    ----------
    geometry : ScienceGeometry
    overscan : hstramp.reference.OverscanParameters or None
    ccd : hstramp.reference.CCDParameters or None
    """

    geometry: ScienceGeometry
    overscan: object = None
    ccd: object = None

    @property
    def trim(self):
        """``(x1, x2, y1, y2)`` reference-border widths from the OSCNTAB (no border without)."""
        if self.overscan is None:
            return (0, 0, 0, 0)
        return (self.overscan.trimx[0], self.overscan.trimx[1],
                self.overscan.trimy[0], self.overscan.trimy[1])

    @property
    def biassect_a(self):
        """0-indexed inclusive columns of reference section A."""
        return _inclusive(self.overscan.biassect_a)

    @property
    def biassect_b(self):
        """0-indexed inclusive columns of reference section B."""
        return _inclusive(self.overscan.biassect_b)

    def amplifier_map(self):
        """Amplifier index (0..3 = A..D) of every pixel, split as calwf3's noiscalc."""
        x1, _x2, y1, _y2 = self.trim
        return amplifier_map(self.geometry.shape, self.geometry.ltv, self.ccd.ampx,
                             self.ccd.ampy, x1, y1)

    def gain_map(self):
        """Gain per pixel, e-/DN, float32 [ny, nx]."""
        return per_amp_values(self.ccd.gain, self.amplifier_map())

    def read_noise_map(self):
        """Read noise per pixel, e- for a CDS pair (as CCDTAB gives it), float32 [ny, nx]."""
        return per_amp_values(self.ccd.read_noise, self.amplifier_map())

    def ramp_noise_model(self, bunit):
        """Gain and single-read noise in the units of a ramp with BUNIT ``bunit``.

        The jump detection and ramp fit need the gain (signal units per electron) and the
        read noise of one read. For data in DN (COUNTS, COUNTS/S) that is the CCDTAB gain and
        READNSE / gain / sqrt(2); for data already in electrons (an ima re-entered after
        FLATCORR) the gain is 1 and the read noise READNSE / sqrt(2) electrons.

        Returns
        -------
        tuple of ndarray
            ``(gain, read_noise)`` float32 [ny, nx].
        """
        noise = self.read_noise_dn_per_read()
        gain = self.gain_map()
        if (bunit or "").upper().startswith("ELECTRONS"):
            return np.ones_like(gain), (noise * gain).astype(np.float32)
        return gain, noise

    def read_noise_dn_per_read(self):
        """Read noise of a single read in DN: READNSE / gain / sqrt(2), float32 [ny, nx]."""
        amps = self.amplifier_map()
        gain = per_amp_values(self.ccd.gain, amps)
        noise = per_amp_values(self.ccd.read_noise, amps)
        return (noise / gain / np.float32(np.sqrt(2.0))).astype(np.float32)


def _inclusive(section):
    return (section.start, section.stop - 1)


def load_detector(model, references):
    """Read the CCDTAB and OSCNTAB a step was given (either may be absent).

    Parameters
    ----------
    model : HstrampModel
    references : dict
        reftype -> path, as resolved by the step.

    Returns
    -------
    Detector
    """
    from hstramp.reference import read_ccdtab, read_oscntab

    geometry = model_geometry(model)
    overscan = ccd = None
    if references.get("oscntab"):
        ny, nx = geometry.shape
        overscan = read_oscntab(references["oscntab"], nx=nx, ny=ny)
    if references.get("ccdtab"):
        ccd = read_ccdtab(references["ccdtab"], ccdgain=model.ccdgain)
        for amp, gain, noise in zip("abcd", ccd.gain, ccd.read_noise, strict=True):
            # the header's ATODGNx / READNSEx, as calwf3 writes them (drizzlepac reads them)
            setattr(model.meta.amplifiers, f"atodgn{amp}", float(gain))
            setattr(model.meta.amplifiers, f"readnse{amp}", float(noise))
    return Detector(geometry=geometry, overscan=overscan, ccd=ccd)

