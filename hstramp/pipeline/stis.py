"""STISCCDPipeline: the calstis CCD 2-D stages, raw CR-SPLIT in, ``_crj`` (and ``_flt``) out."""

from __future__ import annotations

import logging

import numpy as np

from hstramp.core.stis.imsets import check_imset, crreject_imsets
from hstramp.core.stis.routing import stis_products
from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.errors import InputFileError
from hstramp.pipeline.base import HstrampPipeline
from hstramp.steps.base import StepSkipped
from hstramp.steps.stis.atod import STISAtoDStep
from hstramp.steps.stis.bias import STISBiasStep
from hstramp.steps.stis.blev import STISBiasLevelStep
from hstramp.steps.stis.common import sci_cards
from hstramp.steps.stis.crreject import STISCRRejectStep
from hstramp.steps.stis.dark import STISDarkStep
from hstramp.steps.stis.dq_init import STISDQInitStep
from hstramp.steps.stis.flat import STISFlatStep
from hstramp.steps.stis.noise import STISNoiseStep
from hstramp.steps.stis.phot import STISPhotometryStep
from hstramp.steps.stis.shading import STISShadingStep

__all__ = ["IMAGE_STEPS", "IMSET_STEPS", "STISCCDPipeline"]

log = logging.getLogger(__name__)

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
        """The imset steps on the good imsets, CR rejection, then the image steps on the flt
        stack and the crj, as :meth:`routing` says.

        Returns
        -------
        tuple
            The crj (the flt stack when nothing was combined), and the products made
            (``"flt_uncalibrated"``: the bad imsets the flt carries as read).
        """
        route = self.routing(stack)
        if not route.products:
            log.warning("%s: nothing written: %s (calstis: NOTHING_TO_DO)",
                        stack.meta.filename, route.reason)
            return stack, {}
        stack, uncalibrated = self.split_bad_imsets(stack)
        if stack.nexp == 0:
            log.warning("%s: no good imset: nothing written (calstis: No good data were "
                        "written to output)", stack.meta.filename)
            return stack, {}
        for name in IMSET_STEPS:
            stack = self.run_stage(name, stack)
        combined = self.run_stage("crreject", stack)
        crj = combined if combined is not stack else None
        flt = None
        if crj is None or "flt" in route.products:
            if crj is not None and crj.input_dq is not None:
                stack.dq = crj.input_dq
            flt = self.image_steps(stack)
        if crj is not None:
            crj = self.image_steps(crj, " (crj)")
            crj.input_dq = None
        made = {"flt": flt, "crj": crj, "flt_uncalibrated": uncalibrated}
        return (crj if crj is not None else flt), made

    def image_steps(self, model, label=""):
        """DARK, FLAT, SHADING and PHOT on the flt stack or (``label`` " (crj)") the crj.

        The flt keeps EXPSCORR as the raw had it (PERFORM), as calstis writes it.
        """
        for name in IMAGE_STEPS:
            model = self.run_stage(name, model, label=name + label if label else None)
        return model

    def product_paths(self, model):
        """The products cs0 writes for this exposure (:meth:`routing`), the crj only with
        ``save_crj``: suffix -> path.

        Raises
        ------
        InputFileError
            The imsets will be combined but fewer than two are good, or only some of them
            have zero exposure time (calstis cs2 stops too).
        """
        route = self.routing(model)
        if "cs2" in route.stages:
            good = [check.ok for check in self.imset_checks(model)]
            try:
                crreject_imsets(good, model.exptime)
            except ValueError as exc:
                raise InputFileError(f"{model.meta.filename}: {exc}") from exc
        wanted = [suffix for suffix in route.products if suffix != "crj" or self.save_crj]
        return {suffix: self.output_path(model, suffix) for suffix in wanted}

    def product_hdulist(self, suffix, made, filename):
        """The calstis-layout crj or flt (with its uncalibrated imsets)."""
        from hstramp.datamodels.stis_fits import stis_crj_hdulist, stis_flt_hdulist

        if suffix == "crj":
            return stis_crj_hdulist(made["crj"], filename)
        return stis_flt_hdulist(made["flt"], filename, made.get("flt_uncalibrated", ()))

    def routing(self, model):
        """:func:`~hstramp.core.stis.routing.stis_products` for the exposure, with each
        step's switch as this run will follow it (its ``skip`` and ``switch`` parameters
        over the header) and ``expscorr`` over EXPSCORR; CRCORR is OMIT when CR rejection
        cannot run (its CRREJTAB N/A or DUMMY).

        Returns
        -------
        STISProducts
        """
        switches = {key.upper(): getattr(model.meta.cal_step, key, None) or "OMIT"
                    for key in ("crcorr", "rptcorr", "expscorr")}
        for name in (*IMSET_STEPS, "crreject", *IMAGE_STEPS):
            step = getattr(self, name)
            if step.switch_keyword is not None:
                switches[step.switch_keyword.upper()] = self.followed_switch(step, model)
        if switches["CRCORR"] == "PERFORM" and not self.can_combine(model):
            switches["CRCORR"] = switches["RPTCORR"] = "OMIT"
        if self.expscorr != "header":
            switches["EXPSCORR"] = self.expscorr.upper()
        meta = model.meta
        return stis_products(switches, model.nexp,
                             obstype=meta.instrument.obstype or "IMAGING",
                             texptime=1.0 if meta.exposure.exptime is None
                             else float(meta.exposure.exptime),
                             targname=meta.observation.targname or "")

    @staticmethod
    def followed_switch(step, model):
        """The switch ``step`` will follow: OMIT when skipped or ``switch='omit'``, PERFORM
        for ``switch='perform'``, else the header's (as the step reads it)."""
        if step.skip or step.switch == "omit":
            return "OMIT"
        return "PERFORM" if step.switch == "perform" else step.header_switch(model)

    def can_combine(self, model):
        """False when the CR rejection's references make it skip (decided before any work)."""
        step = self.crreject
        try:
            step.resolve_references(model)
        except StepSkipped:
            return False
        finally:
            step._reference_files_used = []
        return True

    def imset_checks(self, model):
        """calstis's verdict on each raw imset (``check_imset``: zero EXPTIME or constant
        data is bad, except for a BIAS target)."""
        bias = (model.meta.observation.targname or "").strip().upper() == "BIAS"
        return [check_imset(model.data[k], model.exptime[k], bias_exposure=bias, extver=k + 1)
                for k in range(model.nexp)]

    def split_bad_imsets(self, stack):
        """The good imsets to calibrate, and the bad ones as the flt will carry them.

        Returns
        -------
        tuple
            ``(STISCCDModel of the good imsets, list of UncalibratedImset)``; the stack
            itself when every imset is good.
        """
        from hstramp.datamodels.stis_fits import UncalibratedImset

        checks = self.imset_checks(stack)
        bad = [k for k, check in enumerate(checks) if not check.ok]
        if not bad:
            return stack, []
        for k in bad:
            log.warning("%s: %s; written uncalibrated with IMSET_OK = F (calstis)",
                        stack.meta.filename, checks[k].reason)
        cards = sci_cards(stack)
        ltv = (stack.meta.subarray.ltv1, stack.meta.subarray.ltv2)
        uncalibrated = [UncalibratedImset(
            position=k, data=np.array(stack.data[k]), err=np.array(stack.err[k]),
            dq=np.array(stack.dq[k]), ltv=ltv, keywords={
                "EXPTIME": float(stack.exptime[k]), "EXPSTART": float(stack.expstart[k]),
                "EXPEND": float(stack.expend[k]), "NCOMBINE": int(stack.ncombine[k]),
                **{key: cards[key] for key in ("CRPIX1", "CRPIX2") if key in cards}})
            for k in bad]
        return stack.imsets([k for k, check in enumerate(checks) if check.ok]), uncalibrated
