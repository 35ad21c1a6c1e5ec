"""ZOFFCORR: subtract the zeroth read from every read."""

from hstramp.core.zoff import subtract_zero_read
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep

__all__ = ["ZeroReadSubtractStep"]


class ZeroReadSubtractStep(HstrampStep):
    """Subtract the saved zeroth read (ZSIGCORR keeps it) and OR its DQ into every read."""

    class_alias = "wfc3ir_zoff"
    switch_keyword = "zoffcorr"
    input_models = (RampModel,)

    def apply(self, model, references):
        subtract_zero_read(model.data, model.groupdq, zeroth_read=model.zeroread,
                           zeroth_dq=model.zeroread_dq, out=(model.data, model.groupdq))
        model.drop_zeroread()
        return model
