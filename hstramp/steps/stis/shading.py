"""STIS SHADCORR: divide each image by its shutter-shading divisor (SHADFILE)."""

from hstramp.core.stis.shading import shutter_shading_correct
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.stis.common import OmitWhenAbsent, exposure_times, model_geometry

__all__ = ["STISShadingStep"]


class STISShadingStep(OmitWhenAbsent, HstrampStep):
    """``1 + SHADFILE * NCOMBINE / EXPTIME`` divides the crj or each imset (the flt)."""

    class_alias = "stis_ccd_shading"
    switch_keyword = "shadcorr"
    reference_file_types = ["shadfile"]
    input_models = (STISCCDModel, STISImageModel)

    def apply(self, model, references):
        from hstramp.reference.stis.shading import read_stis_shadfile

        shad = read_stis_shadfile(references["shadfile"], model_geometry(model))
        exptime, ncombine = exposure_times(model)
        result = shutter_shading_correct(model.data, model.err, model.dq, shad.data, shad.err,
                                         shad.dq, exptime=exptime, ncombine=ncombine)
        if not result.applied.any():
            raise StepSkipped("EXPTIME is not positive: no shutter shading correction")
        model.data, model.err, model.dq = result.data, result.err, result.dq
        return model
