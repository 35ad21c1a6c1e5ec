"""STIS CRCORR: combine the CR-SPLIT imsets rejecting cosmic rays -> the crj image."""

import dataclasses
import logging

import numpy as np

from hstramp.core.stis.crreject import cr_reject
from hstramp.core.stis.darktemp import combined_housing_temperature
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.errors import ParameterError
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.stis.common import ccd_parameters

__all__ = ["STISCRRejectStep"]

log = logging.getLogger(__name__)

#: step parameters that override the CRREJTAB row when given (None: the table's value)
_OVERRIDES = ("crsigmas", "crradius", "crthresh", "initgues", "skysub", "scalense",
              "badinpdq", "crmask")


class STISCRRejectStep(HstrampStep):
    """Sky mode, minimum/median guess, the CRSIGMAS sequence, CRRADIUS spill, sky added
    back; returns the combined image, with each input's rejections in ``input_dq``."""

    class_alias = "stis_ccd_crreject"
    switch_keyword = "crcorr"
    reference_file_types = ["ccdtab", "crrejtab"]
    input_models = (STISCCDModel,)
    spec = """
    crsigmas = float_list(min=1, default=None)  # rejection thresholds, e.g. 4,3 (None: CRREJTAB)
    crradius = float(min=0.0, default=None)  # spill radius, pixels
    crthresh = float(default=None)  # spill threshold as a fraction of the sigma
    initgues = option('minimum', 'median', None, default=None)  # initial guess
    skysub = option('mode', 'none', None, default=None)  # sky subtraction
    scalense = float(min=0.0, default=None)  # multiplicative noise, percent
    badinpdq = integer(min=0, max=65535, default=None)  # DQ bits excluded from the combination
    crmask = boolean(default=None)  # flag rejected pixels in the inputs' DQ
    """

    def header_switch(self, model):
        """CRCORR; on the CCD RPTCORR = PERFORM means CRCORR = PERFORM when there are at
        least two imsets (calstis ``cs0/sciflags.c``)."""
        crcorr = super().header_switch(model)
        rptcorr = getattr(model.meta.cal_step, "rptcorr", None)
        if crcorr not in ("PERFORM", "COMPLETE") and rptcorr == "PERFORM" and \
                getattr(model, "nexp", 1) >= 2:
            return "PERFORM"
        return crcorr

    def apply(self, model, references):
        from hstramp.reference.stis import read_stis_crrejtab

        if model.nexp < 2:
            raise StepSkipped("only one imset: nothing to combine (calstis: CRCORR SKIPPED)")
        if model.meta.cal_step.blevcorr != "COMPLETE":
            log.warning("%s: BLEVCORR is not COMPLETE; combining imsets that still hold the "
                        "bias level", self.name)
        ccd = ccd_parameters(model, references["ccdtab"])
        table, _row = read_stis_crrejtab(references["crrejtab"], nimages=model.nexp,
                                        exptime_total=float(model.exptime.sum()),
                                        obstype=model.meta.instrument.obstype or "IMAGING")
        params = self.rejection_parameters(table)
        result = cr_reject(model.data, model.dq, model.exptime, readnoise=ccd.readnoise_dn,
                           gain=ccd.atodgain, params=params)
        image = self.combined_image(model, result, ccd)
        self.record_parameters(image, params, float(model.exptime.mean()))
        return image

    @staticmethod
    def record_parameters(image, params, meanexp):
        """The parameters used, in the crj's primary header as calstis writes them
        (``cs2/cr_history.c``; MEANEXP is the imsets' mean exposure time)."""
        stis = image.meta.stis
        stis.initgues, stis.skysub = params.initgues, params.skysub
        stis.crsigmas = ",".join(f"{s:g}" for s in params.crsigmas)
        stis.meanexp, stis.crradius = meanexp, float(params.crradius)
        stis.crthresh, stis.scalense = float(params.crthresh), float(params.scalense)
        stis.badinpdq, stis.crmask = int(params.badinpdq), bool(params.crmask)

    def rejection_parameters(self, table):
        """The CRREJTAB row's parameters with this step's non-None parameters on top."""
        values = {name: getattr(self, name) for name in _OVERRIDES
                  if getattr(self, name) is not None}
        if "crsigmas" in values:
            values["crsigmas"] = tuple(values["crsigmas"])
        try:
            return dataclasses.replace(table, **values)
        except ValueError as exc:  # e.g. crthresh=nan, which the spec's float() accepts
            raise ParameterError(f"{self.name}: {exc}") from exc

    @staticmethod
    def combined_image(model, result, ccd):
        """The crj model: combined arrays, the stack's metadata, calstis's keywords."""
        image = STISImageModel(data=result.data, err=result.err, dq=result.dq,
                               input_dq=result.input_dq)
        image.take_metadata(model)
        stis = image.meta.stis
        stis.ncombine = int(model.nexp)
        stis.skysum = float(result.sky.sum())
        stis.rej_rate = result.nrej / result.exptime if result.exptime > 0 else 0.0
        stis.meanblev = float(model.meanblev[0])  # calstis: the first imset's header
        stis.atodgain, stis.readnse = ccd.atodgain, ccd.readnse
        image.meta.exposure.exptime = result.exptime
        image.meta.exposure.expstart = float(model.expstart.min())
        image.meta.exposure.expend = float(model.expend.max())
        stis.occdhtav = combined_housing_temperature(
            [None if np.isnan(t) else t for t in model.occdhtav], model.exptime)
        image.meta.cal_step.crcorr = "COMPLETE"
        return image
