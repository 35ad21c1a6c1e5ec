"""FLATCORR: divide by the flat field, then convert to electrons with the mean gain."""

import logging

from hstramp.core.flat import flat_field
from hstramp.datamodels.models import ImageModel, RampModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.detector import load_detector

__all__ = ["FlatStep"]

log = logging.getLogger(__name__)

#: the three flats; any may be 'N/A' or DUMMY as long as one is usable (calwf3 checkFlat)
FLATS = ("pfltfile", "dfltfile", "lfltfile")


class FlatStep(HstrampStep):
    """Divide by PFLT * DFLT * LFLT, propagate errors and DQ, multiply by the mean gain.

    Applies to every read of a ramp (the ima) and to a fitted image (the flt).
    """

    class_alias = "wfc3ir_flat"
    switch_keyword = "flatcorr"
    reference_file_types = ["pfltfile", "dfltfile", "lfltfile", "ccdtab", "oscntab"]
    input_models = (RampModel, ImageModel)

    def optional_references(self):
        """Each flat may be 'N/A' (one must be usable); the trim is not needed on a flt."""
        return (*FLATS, "oscntab")

    def get_reference_file(self, model, reference_file_type):
        """As :class:`HstrampStep`, but a flat with a DUMMY pedigree is left out (None) with
        a warning, as calwf3 does, instead of skipping the step."""
        from hstramp.reference import is_dummy

        path = super().get_reference_file(model, reference_file_type)
        if reference_file_type in FLATS and path is not None and is_dummy(path):
            log.warning("%s: %s %s has a DUMMY pedigree: left out of the flat field",
                        self.name, reference_file_type.upper(), path)
            return None
        return path

    def resolve_references(self, model):
        """Resolve the references; skip the step when no flat is left to apply."""
        references = super().resolve_references(model)
        if not any(references[flat] for flat in FLATS):
            raise StepSkipped("PFLTFILE, DFLTFILE and LFLTFILE are all N/A or DUMMY")
        return references

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
                            bunit=model.meta.bunit_data or "COUNTS/S",
                            out=(model.data, model.err, dq))
        model.meta.bunit_data = result.bunit
        return model
