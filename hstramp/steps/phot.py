"""PHOTCORR: photometry keywords from the IMPHTTAB."""

from hstramp.core.phot import photmode
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep

__all__ = ["PhotometryStep"]


class PhotometryStep(HstrampStep):
    """Set PHOTMODE, PHOTFLAM, PHOTFNU, PHOTZPT, PHOTPLAM, PHOTBW (data unchanged)."""

    class_alias = "wfc3ir_phot"
    switch_keyword = "photcorr"
    reference_file_types = ["imphttab"]
    input_models = (RampModel,)

    def apply(self, model, references):
        from hstramp.reference import read_imphttab

        mode = photmode(model.meta.instrument.filter, model.meta.exposure.expstart)
        keywords = read_imphttab(references["imphttab"], mode)
        for name in ("photmode", "photflam", "photfnu", "photzpt", "photplam", "photbw"):
            setattr(model.meta.photometry, name, getattr(keywords, name))
        return model
