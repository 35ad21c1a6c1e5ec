"""STIS FLATCORR: divide by PFLT * DFLT * LFLT (L expanded and extrapolated); 512 where 0."""

from hstramp.core.flat import flat_field
from hstramp.core.stis.dqflags import CALIBDEFECT
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.stis.common import model_geometry, output_arrays_of

__all__ = ["STISFlatStep"]


class STISFlatStep(HstrampStep):
    """Divide the crj (or every imset of a stack) by the combined flat; counts stay DN."""

    class_alias = "stis_ccd_flat"
    switch_keyword = "flatcorr"
    reference_file_types = ["pfltfile", "dfltfile", "lfltfile"]
    input_models = (STISCCDModel, STISImageModel)

    def optional_references(self):
        """Any of the three flats may be 'N/A' (not all of them)."""
        return ("pfltfile", "dfltfile", "lfltfile")

    def apply(self, model, references):
        from hstramp.reference.stis import read_stis_flats

        if all(path is None for path in references.values()):
            raise StepSkipped("PFLTFILE, DFLTFILE and LFLTFILE are all N/A")
        flat = read_stis_flats(references["pfltfile"], references["dfltfile"],
                               references["lfltfile"], geometry=model_geometry(model))
        result = flat_field(model.data, model.err, model.dq, flat.data, flat.err, flat.dq,
                            amp_gains=None, trim=(0, 0, 0, 0),
                            bunit=model.meta.bunit_data or "COUNTS", zero_flat_dq=CALIBDEFECT,
                            out=output_arrays_of(model))
        model.data, model.err, model.dq = result.data, result.err, result.dq
        return model
