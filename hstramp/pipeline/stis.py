"""STISCCDPipeline: the calstis CCD 2-D stages, raw CR-SPLIT in, ``_crj`` (and ``_flt``) out."""

from __future__ import annotations

import logging
import time

from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from hstramp.steps.base import HstrampPipeline, peak_rss_mb
from hstramp.steps.stis.bias import STISBiasStep
from hstramp.steps.stis.blev import STISBiasLevelStep
from hstramp.steps.stis.crreject import STISCRRejectStep
from hstramp.steps.stis.dark import STISDarkStep
from hstramp.steps.stis.dq_init import STISDQInitStep
from hstramp.steps.stis.flat import STISFlatStep
from hstramp.steps.stis.noise import STISNoiseStep

__all__ = ["STISCCDPipeline"]

log = logging.getLogger(__name__)

#: steps run on every imset before the combination, in calstis's order (do2d.c)
IMSET_STEPS = ("dq_init", "blev", "noise", "bias")


class STISCCDPipeline(HstrampPipeline):
    """Calibrate a STIS CCD CR-SPLIT exposure as calstis does.

    On each imset: DQI, BLEV, the noise model, BIAS; then CR rejection combines the imsets;
    DARK and FLAT are applied to the combined image (``<rootname>_crj.fits``) and, with
    EXPSCORR, to each imset with its rejection flags (``<rootname>_flt.fits``). A single
    imset gives only the flt.
    """

    class_alias = "stis_ccd_pipeline"

    spec = """
    save_crj = boolean(default=True)   # write <rootname>_crj.fits
    expscorr = option('header', 'perform', 'omit', default='header')  # write <rootname>_flt.fits: follow EXPSCORR, or force
    overwrite = boolean(default=False) # replace existing products
    """  # noqa: E501

    step_defs = {
        "dq_init": STISDQInitStep,
        "blev": STISBiasLevelStep,
        "noise": STISNoiseStep,
        "bias": STISBiasStep,
        "crreject": STISCRRejectStep,
        "dark": STISDarkStep,
        "flat": STISFlatStep,
    }

    # the same plumbing as the IR pipeline: a private copy, references checked up front
    check_references = WFC3IRPipeline.check_references
    output_path = WFC3IRPipeline.output_path

    def process(self, input_data):
        """Run every step, write the products, return the crj (or the flt stack)."""
        start = time.perf_counter()
        stack = self.prepare_input(input_data)
        self.check_references(stack)
        for name in IMSET_STEPS:
            stack = getattr(self, name).run(stack)
        combined = self.crreject.run(stack)
        crj = combined if combined is not stack else None
        flt = None
        if crj is None or self.wants_flt(stack):
            if crj is not None and crj.input_dq is not None:
                stack.dq = crj.input_dq
            flt = self.flat.run(self.dark.run(stack))
        if crj is not None:
            crj = self.flat.run(self.dark.run(crj))
            crj.input_dq = None
        self.write_products(stack, crj, flt)
        log.info("%s done in %.2f s, peak memory %.0f MB", self.name,
                 time.perf_counter() - start, peak_rss_mb())
        return crj if crj is not None else flt

    def prepare_input(self, input_data):
        """The pipeline's own copy of a STIS CCD exposure."""
        from hstramp.datamodels.stis_models import STISCCDModel
        from hstramp.errors import InputFileError

        model = self._datamodels_open(input_data)
        if not isinstance(model, STISCCDModel):
            raise InputFileError(f"{self.name} takes a STIS CCD raw exposure; "
                                 f"{model.meta.filename} is a {type(model).__name__}")
        return model.copy() if model is input_data else model

    def wants_flt(self, model):
        """EXPSCORR: the parameter wins over the header switch."""
        if self.expscorr != "header":
            return self.expscorr == "perform"
        return model.meta.cal_step.expscorr == "PERFORM"

    def write_products(self, stack, crj, flt):
        """Write the crj and flt products atomically (flt first: a crj implies its flt)."""
        from hstramp.datamodels.stis_fits import write_stis_crj, write_stis_flt

        if flt is not None:
            if crj is not None:
                flt.meta.cal_step.expscorr = "COMPLETE"
            write_stis_flt(flt, self.output_path(stack, "flt"), overwrite=self.overwrite)
        if crj is not None and self.save_crj:
            write_stis_crj(crj, self.output_path(stack, "crj"), overwrite=self.overwrite)
