"""What the STIS CCD steps share: the image geometry, the CCDTAB row, the readout keys."""

from __future__ import annotations

from hstramp.core.stis.dqflags import SDQFLAGS_DEFAULT

__all__ = ["ccd_parameters", "model_geometry", "sdqflags"]


def model_geometry(model):
    """The :class:`~hstramp.reference.stis.STISGeometry` of a STIS model's images."""
    from hstramp.reference.stis import STISGeometry

    stis = model.meta.stis
    ltm = (stis.ltm1_1 or 1.0 / (stis.binaxis1 or 1), stis.ltm2_2 or 1.0 / (stis.binaxis2 or 1))
    ltv = (model.meta.subarray.ltv1 or 0.0, model.meta.subarray.ltv2 or 0.0)
    return STISGeometry(shape=model.data.shape[-2:], ltv=ltv, ltm=ltm)


def ccd_parameters(model, path):
    """The CCDTAB row for the exposure's CCDAMP, CCDGAIN, CCDOFFST and binning."""
    from hstramp.reference.stis import read_stis_ccdtab

    stis = model.meta.stis
    return read_stis_ccdtab(path, ccdamp=stis.ccdamp or "D", ccdgain=stis.ccdgain or 1,
                            ccdoffst=stis.ccdoffst if stis.ccdoffst is not None else 3,
                            binaxis=(stis.binaxis1 or 1, stis.binaxis2 or 1))


def sdqflags(model):
    """SDQFLAGS of the exposure (31743 when the header has none)."""
    value = model.meta.exposure.sdqflags
    return SDQFLAGS_DEFAULT if value is None else int(value)
