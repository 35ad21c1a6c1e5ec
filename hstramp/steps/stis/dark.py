"""STIS DARKCORR: subtract the dark (e-/s) times the temperature factor, EXPTIME / ATODGAIN."""

import logging

import numpy as np

from hstramp.core.stis.calib import subtract_scaled
from hstramp.core.stis.darktemp import (
    dark_scale_factors,
    dark_temperature_parameters,
)
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.errors import InputFileError
from hstramp.reference.common import ReferenceFileError
from hstramp.steps.base import HstrampStep
from hstramp.steps.stis.common import (
    ccd_parameters,
    imset_temperatures,
    model_geometry,
    output_arrays_of,
)

__all__ = ["STISDarkStep"]

log = logging.getLogger(__name__)


class STISDarkStep(HstrampStep):
    """On the crj (EXPTIME = the sum) or on each imset of a stack (the flt); on side 2
    (EXPSTART after 2001-07-01) scaled by ``1 + DRK_VS_T (OCCDHTAV - REF_TEMP)``."""

    class_alias = "stis_ccd_dark"
    switch_keyword = "darkcorr"
    reference_file_types = ["darkfile", "ccdtab"]
    input_models = (STISCCDModel, STISImageModel)

    def apply(self, model, references):
        from hstramp.reference.stis import read_stis_image

        ccd = ccd_parameters(model, references["ccdtab"])
        dark = read_stis_image(references["darkfile"], "DARKFILE", model_geometry(model))
        try:
            params = dark_temperature_parameters(dark.header.get("REF_TEMP"),
                                                 dark.header.get("DRK_VS_T"))
        except ValueError as exc:
            raise ReferenceFileError(f"DARKFILE {references['darkfile']}: {exc}",
                                     keyword="DARKFILE", path=references["darkfile"]) from exc
        if params.defaulted:
            log.info("%s: %s not in DARKFILE %s; calstis's defaults REF_TEMP = %g, "
                     "DRK_VS_T = %g", self.name, " and ".join(params.defaulted),
                     references["darkfile"], params.ref_temp, params.drk_vs_t)
        stack = isinstance(model, STISCCDModel)
        exptime = model.exptime if stack else model.meta.exposure.exptime
        try:
            factors = dark_scale_factors(exptime, ccd.atodgain, imset_temperatures(model),
                                         params)
        except ValueError as exc:
            raise InputFileError(f"{model.meta.filename}: {exc}") from exc
        result = subtract_scaled(model.data, model.err, model.dq, dark.data, dark.err, dark.dq,
                                 factors if stack else factors[0], out=output_arrays_of(model))
        model.data, model.err, model.dq = result.data, result.err, result.dq
        if stack:
            model.meandark = np.asarray(result.median, np.float64)
        else:
            model.meta.stis.meandark = float(result.median)
        return model
