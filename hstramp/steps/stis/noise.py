"""STIS noise model: ERR = sqrt(S g + RN^2) / g (RN / g where S <= 0), where ERR is zero."""

from hstramp.core.stis.noise import initial_error
from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.stis.common import ccd_parameters

__all__ = ["STISNoiseStep"]


class STISNoiseStep(HstrampStep):
    """Initial errors from the CCDTAB gain and read noise (calstis doNoise, always run)."""

    class_alias = "stis_ccd_noise"
    reference_file_types = ["ccdtab"]
    input_models = (STISCCDModel,)

    def apply(self, model, references):
        ccd = ccd_parameters(model, references["ccdtab"])
        bias = 0.0 if model.meta.cal_step.blevcorr == "COMPLETE" else ccd.ccdbias
        model.err, _computed = initial_error(model.data, model.err, ccd.atodgain, ccd.readnse,
                                             bias=bias)
        return model
