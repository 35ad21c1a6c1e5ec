"""STIS BLEVCORR: subtract the overscan bias (line fit + virtual-overscan slope), trim."""

import numpy as np

from hstramp.core.stis.blev import BlevParameters, overscan_bias_correct
from hstramp.datamodels.headers import shift_to_science_area
from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.stis.common import ccd_parameters, sdqflags

__all__ = ["STISBiasLevelStep"]


class STISBiasLevelStep(HstrampStep):
    """Per imset: line fit to the serial-overscan medians, column slope from the virtual
    overscan, subtracted from the illuminated area; the overscan is trimmed; MEANBLEV."""

    class_alias = "stis_ccd_blev"
    switch_keyword = "blevcorr"
    reference_file_types = ["ccdtab"]
    input_models = (STISCCDModel,)
    spec = """
    blev_clip = float(min=0.0, default=None)  # clip (sigma) of hot virtual-overscan values; None: CCDTAB BLEV_CLIP
    drift = boolean(default=True)  # subtract the column slope measured in the virtual overscan
    """  # noqa: E501

    def apply(self, model, references):
        ccd = ccd_parameters(model, references["ccdtab"])
        params = BlevParameters(
            blev_clip=ccd.blev_clip if self.blev_clip is None else self.blev_clip,
            sdqflags=sdqflags(model), drift=self.drift)
        stis = model.meta.stis
        result = overscan_bias_correct(model.data, model.err, model.dq, ccdamp=stis.ccdamp,
                                       binning=(stis.binaxis1 or 1, stis.binaxis2 or 1),
                                       ccdbias=ccd.ccdbias, params=params)
        model.data, model.err, model.dq = result.data, result.err, result.dq
        model.meanblev = np.asarray(result.meanblev, np.float64)
        shift_to_science_area(model, result.trim)
        stis.atodgain, stis.readnse = ccd.atodgain, ccd.readnse
        return model
