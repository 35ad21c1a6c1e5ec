"""Noise model: the initial ERR of every read from read noise and Poisson noise."""

from hstramp.core.noise import initial_error
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.detector import load_detector

__all__ = ["NoiseStep"]


class NoiseStep(HstrampStep):
    """ERR = sqrt(RN^2 + |S g|) / g per amplifier quadrant; calwf3 always runs it.

    Re-entrant like calwf3: the first read whose ERR is already populated stops the step
    (the reads before it keep their new errors) and NOISCORR becomes SKIPPED.
    """

    class_alias = "wfc3ir_noise"
    switch_keyword = "noiscorr"
    reference_file_types = ["ccdtab", "oscntab"]
    input_models = (RampModel,)

    def apply(self, model, references):
        detector = load_detector(model, references)
        result = initial_error(model.data, model.err, detector.gain_map(),
                               detector.read_noise_map(), trim=detector.trim, out=model.err)
        if result.ncomputed == 0:
            raise StepSkipped("the ERR of read 0 is already populated, as in an ima: no read "
                              "computed, every error kept as it is")
        if result.ncomputed < model.ngroups:
            raise StepSkipped(f"the ERR of read {result.ncomputed} is already populated; "
                              f"errors computed for reads 0..{result.ncomputed - 1} only")
        return model
