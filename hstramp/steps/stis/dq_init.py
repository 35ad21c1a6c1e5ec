"""STIS DQICORR: saturation, the detector beyond the aperture, and the bad-pixel table."""

from hstramp.core.dqinit import dq_init
from hstramp.core.stis.dqinit import aperture_edge_flags, pixel_scale_from_cd, saturation_flags
from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.steps.base import HstrampStep
from hstramp.steps.stis.common import ccd_parameters, model_geometry, sci_cards

__all__ = ["STISDQInitStep"]


class STISDQInitStep(HstrampStep):
    """Flag saturated raw pixels (256), the detector outside APER_FOV (4) and the BPIXTAB."""

    class_alias = "stis_ccd_dq_init"
    switch_keyword = "dqicorr"
    reference_file_types = ["ccdtab", "bpixtab"]
    input_models = (STISCCDModel,)

    def optional_references(self):
        """Without a bad-pixel table, saturation and the aperture are still flagged."""
        return ("bpixtab",)

    def apply(self, model, references):
        from hstramp.reference.stis import read_stis_bpixtab

        geometry = model_geometry(model)
        ccd = ccd_parameters(model, references["ccdtab"])
        cards = sci_cards(model)
        edges = aperture_edge_flags(
            geometry.shape, aper_fov=model.meta.stis.aper_fov or "",
            obstype=model.meta.instrument.obstype or "IMAGING", ltv=geometry.ltv,
            ltm=geometry.ltm, pixel_scale=pixel_scale_from_cd(
                cards.get("CD1_1"), cards.get("CD1_2"), cards.get("CD2_1"), cards.get("CD2_2")))
        mask = edges
        if references["bpixtab"] is not None:
            mask = mask | read_stis_bpixtab(references["bpixtab"], geometry,
                                            opt_elem=model.meta.stis.opt_elem or "ANY")
        dq = dq_init(model.dq, mask) | saturation_flags(model.data, ccd.saturate)
        model.dq = dq.astype("uint16")
        return model
