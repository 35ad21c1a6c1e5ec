"""STIS DARKCORR: subtract the dark (e-/s) times EXPTIME / ATODGAIN; MEANDARK = median."""

import numpy as np

from hstramp.core.stis.calib import subtract_scaled
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.stis.common import ccd_parameters, model_geometry

__all__ = ["STISDarkStep"]


class STISDarkStep(HstrampStep):
    """On the crj (EXPTIME = the sum) or on each imset of a stack (the flt)."""

    class_alias = "stis_ccd_dark"
    switch_keyword = "darkcorr"
    reference_file_types = ["darkfile", "ccdtab"]
    input_models = (STISCCDModel, STISImageModel)

    def apply(self, model, references):
        from hstramp.reference.stis import read_stis_image

        ccd = ccd_parameters(model, references["ccdtab"])
        dark = read_stis_image(references["darkfile"], "DARKFILE", model_geometry(model))
        stack = isinstance(model, STISCCDModel)
        exptime = model.exptime if stack else model.meta.exposure.exptime
        result = subtract_scaled(model.data, model.err, model.dq, dark.data, dark.err, dark.dq,
                                 np.asarray(exptime, np.float64) / ccd.atodgain)
        model.data, model.err, model.dq = result.data, result.err, result.dq
        if stack:
            model.meandark = np.asarray(result.median, np.float64)
        else:
            model.meta.stis.meandark = float(result.median)
        return model
