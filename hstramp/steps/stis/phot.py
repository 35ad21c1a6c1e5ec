"""STIS PHOTCORR: PHOTMODE and the photometry keywords from the IMPHTTAB (and TDSTAB)."""

from hstramp.core.stis.photometry import stis_photcorr, stis_photmode
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.stis.common import OmitWhenAbsent, imset_temperatures

__all__ = ["STISPhotometryStep"]


class STISPhotometryStep(OmitWhenAbsent, HstrampStep):
    """PHOTFLAM (times ATODGAIN with A2D, over the TDS temperature factor), PHOTZPT,
    PHOTPLAM, PHOTBW of the imaging PHOTMODE; data unchanged."""

    class_alias = "stis_ccd_phot"
    switch_keyword = "photcorr"
    reference_file_types = ["imphttab", "tdstab"]
    input_models = (STISCCDModel, STISImageModel)

    def optional_references(self):
        """Without a TDSTAB no temperature correction is made."""
        return ("tdstab",)

    def apply(self, model, references):
        from hstramp.reference.stis.photometry import read_stis_imphttab, read_stis_tdstab

        stis, exposure = model.meta.stis, model.meta.exposure
        expstart = float(model.expstart[0]) if isinstance(model, STISCCDModel) \
            else exposure.expstart
        mode = stis_photmode(aperture=model.meta.instrument.aperture or "",
                             opt_elem=stis.opt_elem or "", expstart=expstart,
                             ccdgain=stis.ccdgain)
        tds = None if references["tdstab"] is None else read_stis_tdstab(
            references["tdstab"], stis.opt_elem or "")
        phot = stis_photcorr(mode, read_stis_imphttab(references["imphttab"], mode),
                             atodgain=stis.atodgain or 1.0,
                             temperature=float(imset_temperatures(model)[0]), tds=tds)
        for name, value in phot.keywords.items():
            setattr(model.meta.photometry, name.lower(), value)
        if phot.status != "COMPLETE":
            raise StepSkipped(f"PHOTMODE {mode!r}: no photometry in the IMPHTTAB")
        return model
