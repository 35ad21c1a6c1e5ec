"""DARKCORR: subtract the dark imset matching each read's time."""

import numpy as np

from hstramp.core.dark import dark_subtract
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import load_detector

__all__ = ["DarkStep"]


class DarkStep(HstrampStep):
    """Subtract the dark accumulated since the zeroth read; ERR in quadrature; MEANDARK."""

    class_alias = "wfc3ir_dark"
    switch_keyword = "darkcorr"
    reference_file_types = ["darkfile", "oscntab"]
    input_models = (RampModel,)

    def apply(self, model, references):
        from hstramp.reference import open_darkfile

        detector = load_detector(model, references)
        with open_darkfile(references["darkfile"], times=model.times,
                           shape=detector.geometry.shape,
                           samp_seq=model.meta.exposure.samp_seq,
                           subtype=model.meta.subarray.subtype) as dark:
            result = dark_subtract(model.data, model.err, model.groupdq, dark.data, dark.err,
                                   dark.dq, trim=detector.trim,
                                   out=(model.data, model.err, model.groupdq))
        model.meandark = np.asarray(result.meandark, dtype=np.float64)
        return model
