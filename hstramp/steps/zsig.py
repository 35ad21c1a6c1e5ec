"""ZSIGCORR: estimate the signal in the zeroth read, on raw DN, before the bias level."""

from hstramp.core.zsig import zero_read_signal
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import load_detector

__all__ = ["ZeroReadSignalStep"]


class ZeroReadSignalStep(HstrampStep):
    """Zeroth-read signal and early saturation from the super-zero read (calwf3 ZSIGCORR).

    Saves the zeroth read (after DQI, before this step) for ZOFFCORR, then adds the signal
    estimate to read 0 and flags 2048 / 256 as calwf3 does.
    """

    class_alias = "wfc3ir_zsig"
    switch_keyword = "zsigcorr"
    reference_file_types = ["nlinfile", "ccdtab", "oscntab"]
    input_models = (RampModel,)
    spec = """
    threshold = float(min=0.5, default=4.0)  # sigma needed to keep the zeroth-read signal
    """

    def apply(self, model, references):
        from hstramp.reference import read_nlinfile

        detector = load_detector(model, references)
        linearity = read_nlinfile(references["nlinfile"], detector.geometry,
                                  planes=("zsci", "zerr", "node"))
        model.zeroread = model.data[0].copy()  # for ZOFF: before ZSIG changes read 0
        model.zeroread_dq = model.groupdq[0].copy()
        result = zero_read_signal(
            model.data, model.groupdq, linearity.zsci, linearity.zerr, linearity.node,
            detector.gain_map(), detector.read_noise_map(), trim=detector.trim,
            threshold=self.threshold, out=model.groupdq,
        )
        model.zsig = result.zsig
        model.data[0] = result.zeroth_read
        return model
