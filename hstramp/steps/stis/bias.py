"""STIS BIASCORR: subtract the bias image (times NCOMBINE)."""

from hstramp.core.stis.calib import subtract_scaled
from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.stis.common import model_geometry, output_arrays_of

__all__ = ["STISBiasStep"]


class STISBiasStep(HstrampStep):
    """Subtract the BIASFILE cut and binned to the image, scaled by each imset's NCOMBINE."""

    class_alias = "stis_ccd_bias"
    switch_keyword = "biascorr"
    reference_file_types = ["biasfile"]
    input_models = (STISCCDModel,)

    def apply(self, model, references):
        from hstramp.reference.stis import read_stis_image

        bias = read_stis_image(references["biasfile"], "BIASFILE", model_geometry(model))
        result = subtract_scaled(model.data, model.err, model.dq, bias.data, bias.err, bias.dq,
                                 model.ncombine, medians=False, out=output_arrays_of(model))
        model.data, model.err, model.dq = result.data, result.err, result.dq
        return model
