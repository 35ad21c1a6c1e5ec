"""STISCCDPipeline: the calstis CCD 2-D stages, raw CR-SPLIT in, ``_crj`` (and ``_flt``) out."""

from __future__ import annotations

from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.pipeline.base import HstrampPipeline
from hstramp.steps.base import StepSkipped
from hstramp.steps.stis.atod import STISAtoDStep
from hstramp.steps.stis.bias import STISBiasStep
from hstramp.steps.stis.blev import STISBiasLevelStep
from hstramp.steps.stis.crreject import STISCRRejectStep
from hstramp.steps.stis.dark import STISDarkStep
from hstramp.steps.stis.dq_init import STISDQInitStep
from hstramp.steps.stis.flat import STISFlatStep
from hstramp.steps.stis.noise import STISNoiseStep
from hstramp.steps.stis.phot import STISPhotometryStep
from hstramp.steps.stis.shading import STISShadingStep

__all__ = ["IMAGE_STEPS", "IMSET_STEPS", "STISCCDPipeline"]

#: steps run on every imset before the combination, in calstis's order (do2d.c)
IMSET_STEPS = ("dq_init", "atod", "blev", "noise", "bias")
#: steps run on the crj and on the flt stack, in calstis's order
IMAGE_STEPS = ("dark", "flat", "shading", "phot")


class STISCCDPipeline(HstrampPipeline):
    """Calibrate a STIS CCD CR-SPLIT exposure as calstis does.

    On each imset: DQI, ATOD, BLEV, the noise model, BIAS; then CR rejection combines the
    imsets; DARK, FLAT, SHADING and PHOT are applied to the combined image
    (``<rootname>_crj.fits``) and, with EXPSCORR, to each imset with its rejection flags
    (``<rootname>_flt.fits``). A single imset gives only the flt. Both products are checked
    before any work and written together, all or nothing.
    """

    class_alias = "stis_ccd_pipeline"
    input_models = (STISCCDModel,)

    spec = """
    save_crj = boolean(default=True)   # write <rootname>_crj.fits
    expscorr = option('header', 'perform', 'omit', default='header')  # write <rootname>_flt.fits: follow EXPSCORR, or force
    """  # noqa: E501

    step_defs = {
        "dq_init": STISDQInitStep,
        "atod": STISAtoDStep,
        "blev": STISBiasLevelStep,
        "noise": STISNoiseStep,
        "bias": STISBiasStep,
        "crreject": STISCRRejectStep,
        "dark": STISDarkStep,
        "flat": STISFlatStep,
        "shading": STISShadingStep,
        "phot": STISPhotometryStep,
    }

    def run_steps(self, stack):
        """The imset steps, CR rejection, then DARK and FLAT on the flt stack and the crj.

        Returns
        -------
        tuple
            The crj (the flt stack when nothing was combined), and the products made.
        """
        for name in IMSET_STEPS:
            stack = self.run_stage(name, stack)
        combined = self.run_stage("crreject", stack)
        crj = combined if combined is not stack else None
        flt = None
        if crj is None or self.wants_flt(stack):
            if crj is not None and crj.input_dq is not None:
                stack.dq = crj.input_dq
            flt = self.image_steps(stack)
        if crj is not None:
            crj = self.image_steps(crj, " (crj)")
            crj.input_dq = None
        return (crj if crj is not None else flt), {"flt": flt, "crj": crj}

    def image_steps(self, model, label=""):
        """DARK, FLAT, SHADING and PHOT on the flt stack or (``label`` " (crj)") the crj.

        The flt keeps EXPSCORR as the raw had it (PERFORM), as calstis writes it.
        """
        for name in IMAGE_STEPS:
            model = self.run_stage(name, model, label=name + label if label else None)
        return model

    def product_paths(self, model):
        """The crj (when the imsets will be combined and ``save_crj``) and the flt (with
        EXPSCORR, or when nothing will be combined): suffix -> path."""
        combines = self.combines(model)
        wanted = {"flt": not combines or self.wants_flt(model),
                  "crj": combines and self.save_crj}
        return {suffix: self.output_path(model, suffix) for suffix, on in wanted.items() if on}

    def product_hdulist(self, suffix, made, filename):
        """The calstis-layout crj or flt."""
        from hstramp.datamodels.stis_fits import stis_crj_hdulist, stis_flt_hdulist

        build = stis_crj_hdulist if suffix == "crj" else stis_flt_hdulist
        return build(made[suffix], filename)

    def combines(self, model):
        """True when CR rejection will combine the imsets (decided before any work)."""
        step = self.crreject
        if model.nexp < 2 or step.skip or step.reason_not_to_run(model) is not None:
            return False
        try:
            step.resolve_references(model)
        except StepSkipped:
            return False
        finally:
            step._reference_files_used = []
        return True

    def wants_flt(self, model):
        """EXPSCORR: the parameter wins over the header switch."""
        if self.expscorr != "header":
            return self.expscorr == "perform"
        return model.meta.cal_step.expscorr == "PERFORM"
