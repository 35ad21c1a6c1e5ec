"""What the STIS CCD steps share: the image geometry, the CCDTAB row, the readout keys."""

from __future__ import annotations

import logging

import numpy as np

from hstramp.core.stis.darktemp import housing_temperature
from hstramp.errors import InputFileError

log = logging.getLogger(__name__)

__all__ = ["OmitWhenAbsent", "ccd_parameters", "exposure_times", "imset_temperatures",
           "model_geometry", "output_arrays_of", "sci_cards", "sdqflags", "writeable_as"]


def writeable_as(array, dtype) -> bool:
    """True when a core function may write ``dtype`` results into ``array`` (``out=``):
    a native, C-contiguous, writeable ndarray of that dtype."""
    return (isinstance(array, np.ndarray) and array.dtype == dtype
            and array.flags.c_contiguous and array.flags.writeable)


def output_arrays_of(model):
    """``(data, err, dq)`` of the model as a core function's ``out=``, or None.

    A step's model is its own (``prepare_input``: the pipeline's copy, or a copy of the
    caller's), so a core function may write the result straight into its arrays instead of
    making a new copy of each: the arrays must be float32 / float32 / uint16, native,
    C-contiguous and writeable (:func:`writeable_as`; else None: the core function makes
    new ones).
    """
    arrays = (model.data, model.err, model.dq)
    wanted = (np.float32, np.float32, np.uint16)
    if all(writeable_as(a, dtype) for a, dtype in zip(arrays, wanted, strict=True)):
        return arrays
    return None


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
    """SDQFLAGS of the exposure (``model.sdqflags``: calstis's 32767 when the header has none)."""
    return model.sdqflags


def imset_temperatures(model):
    """CCD housing temperature of each imset (a combined image: one), deg C; -1 where
    calstis applies no temperature correction (side 1, or OCCDHTAV absent, with a warning).

    Raises
    ------
    InputFileError
        OCCDHTAV or EXPSTART present but not a finite number (naming the keyword).
    """
    if model.data.ndim == 3:
        occdhtav, expstart = model.occdhtav, model.expstart
    else:
        occdhtav = [np.nan if model.meta.stis.occdhtav is None else model.meta.stis.occdhtav]
        expstart = [model.meta.exposure.expstart]
    temps = []
    for k, (t, start) in enumerate(zip(occdhtav, expstart, strict=True)):
        absent = t is None or np.isnan(t)
        try:
            temps.append(housing_temperature(None if absent else t, start))
        except ValueError as exc:
            raise InputFileError(f"{model.meta.filename}: imset {k + 1}: {exc}") from exc
        if absent and temps[-1] == -1.0 and start is not None and \
                housing_temperature(0.0, start) != -1.0:
            log.warning("%s: imset %d: keyword OCCDHTAV not found; no temperature "
                        "correction of the dark", model.meta.filename, k + 1)
    return np.asarray(temps, np.float64)


def exposure_times(model):
    """``(EXPTIME, NCOMBINE)`` of each imset of a stack, or of a combined image."""
    if model.data.ndim == 3:
        return model.exptime, model.ncombine
    return model.meta.exposure.exptime, model.meta.stis.ncombine or 1


def sci_cards(model):
    """The first SCI header's keywords as read from the file (keyword -> value)."""
    return {key: value for key, value, _comment in model.meta.headers.instance.get("sci") or []}


class OmitWhenAbsent:
    """Mixin for the switches calstis reads as OMIT when the raw header lacks them
    (ATODCORR, SHADCORR, PHOTCORR: a file written before they existed is not changed)."""

    def header_switch(self, model):
        """The header value of the switch; OMIT when the header has none."""
        return getattr(model.meta.cal_step, self.switch_keyword, None) or "OMIT"
