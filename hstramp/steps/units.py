"""UNITCORR: counts to count rates, dividing every read by its time."""

from hstramp.core.units import count_rates
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.detector import load_detector

__all__ = ["UnitStep"]


class UnitStep(HstrampStep):
    """Divide SCI and ERR by each read's TIME (the zeroth read by its effective time).

    Data already in count rates are left alone with a warning and UNITCORR becomes SKIPPED,
    as calwf3 does.
    """

    class_alias = "wfc3ir_unit"
    switch_keyword = "unitcorr"
    reference_file_types = ["oscntab"]
    input_models = (RampModel,)

    def apply(self, model, references):
        bunit = model.meta.bunit_data or "COUNTS"
        if model.in_rates:
            raise StepSkipped(f"the data are already count rates (BUNIT {bunit})")
        detector = load_detector(model, references)
        result = count_rates(model.data, model.err, model.times, trim=detector.trim,
                             bunit=bunit, out=(model.data, model.err))
        model.meta.bunit_data = result.bunit
        return model
