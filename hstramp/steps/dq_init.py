"""DQICORR: OR the bad-pixel table into the DQ of every read."""

from hstramp.core.dqinit import dq_init
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import model_geometry

__all__ = ["DQInitStep"]


class DQInitStep(HstrampStep):
    """Flag bad detector pixels from the BPIXTAB in every read (calwf3 DQICORR)."""

    class_alias = "wfc3ir_dq_init"
    switch_keyword = "dqicorr"
    reference_file_types = ["bpixtab"]
    input_models = (RampModel,)

    def apply(self, model, references):
        from hstramp.reference import read_bpixtab

        mask = read_bpixtab(references["bpixtab"], model_geometry(model),
                            ccdgain=model.ccdgain)
        dq_init(model.groupdq, mask, out=model.groupdq)
        model.pixeldq = model.pixeldq | mask
        return model
