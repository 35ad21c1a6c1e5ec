"""FLATCORR: divide by the flat field, then convert to electrons with the mean gain."""

from hstramp.core.flat import flat_field
from hstramp.datamodels.models import ImageModel, RampModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import load_detector

__all__ = ["FlatStep"]


class FlatStep(HstrampStep):
    """Divide by PFLT * DFLT * LFLT, propagate errors and DQ, multiply by the mean gain.

    Applies to every read of a ramp (the ima) and to a fitted image (the flt).
    """

    class_alias = "wfc3ir_flat"
    switch_keyword = "flatcorr"
    reference_file_types = ["pfltfile", "dfltfile", "lfltfile", "ccdtab", "oscntab"]
    input_models = (RampModel, ImageModel)

    def optional_references(self):
        """The delta and large-scale flats may be 'N/A'; the trim is not needed on a flt."""
        return ("dfltfile", "lfltfile", "oscntab")

    def apply(self, model, references):
        from hstramp.reference import read_flats

        is_ramp = isinstance(model, RampModel)
        usable = references if is_ramp else {**references, "oscntab": None}
        detector = load_detector(model, usable)
        flat = read_flats(references["pfltfile"], references["dfltfile"],
                          references["lfltfile"], geometry=detector.geometry,
                          filter=model.meta.instrument.filter)
        dq = model.groupdq if is_ramp else model.dq
        result = flat_field(model.data, model.err, dq, flat.data, flat.err, flat.dq,
                            amp_gains=detector.ccd.gain, trim=detector.trim,
                            bunit=model.meta.bunit_data or "COUNTS/S")
        model.data, model.err = result.data, result.err
        if is_ramp:
            model.groupdq = result.dq
        else:
            model.dq = result.dq
        model.meta.bunit_data = result.bunit
        return model
