"""NLINCORR: non-linearity correction with saturation flagged at NODE and carried forward."""

from hstramp.core.nlin import nonlinearity_correct
from hstramp.core.zsig import zero_read_signal_dq
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import load_detector

__all__ = ["NonlinearityStep"]


class NonlinearityStep(HstrampStep):
    """Correct each read for non-linearity (the zeroth-read signal added, then removed)."""

    class_alias = "wfc3ir_nlin"
    switch_keyword = "nlincorr"
    reference_file_types = ["nlinfile", "oscntab"]
    input_models = (RampModel,)

    def apply(self, model, references):
        from hstramp.reference import read_nlinfile

        detector = load_detector(model, references)
        linearity = read_nlinfile(references["nlinfile"], detector.geometry,
                                  planes=("coeffs", "node", "dq"))
        with_zsig = model.meta.cal_step.zsigcorr == "COMPLETE"
        nonlinearity_correct(
            model.data, model.groupdq, linearity.coeffs, linearity.node, linearity.dq,
            trim=detector.trim,
            zsig=model.zsig if with_zsig else None,
            zsig_dq=zero_read_signal_dq(model.groupdq) if with_zsig else None,
            out=(model.data, model.groupdq),
        )
        return model
