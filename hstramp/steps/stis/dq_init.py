"""STIS DQICORR: saturation, the detector beyond the aperture, and the bad-pixel table."""

import numpy as np

from hstramp.core.dqinit import dq_init
from hstramp.core.stis.dqicorr import dqi_actions
from hstramp.core.stis.dqinit import aperture_edge_flags, pixel_scale_from_cd, saturation_flags
from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.stis.common import ccd_parameters, model_geometry, sci_cards, writeable_as

__all__ = ["STISDQInitStep"]


class STISDQInitStep(HstrampStep):
    """Flag saturated raw pixels (256), the detector outside APER_FOV (4) and the BPIXTAB.

    As calstis (``cs1/dodqi.c``): with a DUMMY BPIXTAB saturation and the aperture are
    still flagged and DQICORR ends SKIPPED; with none ('N/A') it ends COMPLETE.
    """

    class_alias = "stis_ccd_dq_init"
    switch_keyword = "dqicorr"
    reference_file_types = ["ccdtab", "bpixtab"]
    input_models = (STISCCDModel,)

    def optional_references(self):
        """Without a bad-pixel table, saturation and the aperture are still flagged."""
        return ("bpixtab",)

    def resolve_references(self, model):
        """As the base, but a DUMMY BPIXTAB is passed on (as ``bpixtab_state`` 'dummy')."""
        from hstramp.reference.common import is_dummy

        references = {"ccdtab": self.get_reference_file(model, "ccdtab")}
        if references["ccdtab"] is None or is_dummy(references["ccdtab"], "CCDTAB"):
            raise StepSkipped("CCDTAB is N/A or has a DUMMY pedigree")
        bpixtab = self.get_reference_file(model, "bpixtab")
        references["bpixtab"] = bpixtab
        references["bpixtab_state"] = "none" if bpixtab is None else \
            "dummy" if is_dummy(bpixtab, "BPIXTAB") else "good"
        return references

    def apply(self, model, references):
        from hstramp.reference.stis import read_stis_bpixtab

        actions = dqi_actions("PERFORM", references["bpixtab_state"])
        geometry = model_geometry(model)
        ccd = ccd_parameters(model, references["ccdtab"])
        cards = sci_cards(model)
        mask = aperture_edge_flags(
            geometry.shape, aper_fov=model.meta.stis.aper_fov or "",
            obstype=model.meta.instrument.obstype or "IMAGING", ltv=geometry.ltv,
            ltm=geometry.ltm, pixel_scale=pixel_scale_from_cd(
                cards.get("CD1_1"), cards.get("CD1_2"), cards.get("CD2_1"), cards.get("CD2_2")))
        if actions.bpixtab:
            mask = mask | read_stis_bpixtab(references["bpixtab"], geometry,
                                            opt_elem=model.meta.stis.opt_elem or "ANY")
        dq = dq_init(model.dq, mask, out=model.dq if writeable_as(model.dq, np.uint16) else None)
        saturated = saturation_flags(model.data, ccd.saturate)
        if dq.dtype == np.uint16:
            dq |= saturated
        else:
            dq = (dq | saturated).astype(np.uint16)
        model.dq = dq
        if actions.switch == "SKIPPED":
            raise StepSkipped(f"BPIXTAB {references['bpixtab']} has a DUMMY pedigree; "
                              "saturation and the aperture edges flagged (calstis: DQICORR "
                              "SKIPPED)")
        return model
