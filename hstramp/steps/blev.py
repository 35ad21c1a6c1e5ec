"""BLEVCORR: subtract each read's bias level measured on the reference columns."""

import numpy as np

from hstramp.core.blev import bias_level_correct
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import load_detector

__all__ = ["BiasLevelStep"]


class BiasLevelStep(HstrampStep):
    """Per-read resistant mean of the reference columns, subtracted from the whole read."""

    class_alias = "wfc3ir_blev"
    switch_keyword = "blevcorr"
    reference_file_types = ["oscntab"]
    input_models = (RampModel,)
    spec = """
    sigma = float(min=0.5, default=3.0)  # clipping threshold of the resistant mean (sigma)
    """

    def apply(self, model, references):
        detector = load_detector(model, references)
        result = bias_level_correct(model.data, trim=detector.trim,
                                    biassect_a=detector.biassect_a,
                                    biassect_b=detector.biassect_b, sigma=self.sigma,
                                    out=model.data)
        model.meanblev = np.asarray(result.meanblev, dtype=np.float64)
        if model.zeroread is not None:
            # the saved zeroth read shares read 0's reference pixels, hence its bias level
            model.zeroread = (model.zeroread - np.float32(result.meanblev[0])).astype(np.float32)
        return model
