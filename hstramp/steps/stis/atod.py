"""STIS ATODCORR: replace each raw value by its analog-to-digital table entry (ATODTAB)."""

import logging

from hstramp.core.stis.atod import atod_correct
from hstramp.datamodels.stis_models import STISCCDModel
from hstramp.steps.base import HstrampStep, StepSkipped
from hstramp.steps.stis.common import OmitWhenAbsent, sci_cards

__all__ = ["STISAtoDStep"]

log = logging.getLogger(__name__)


class STISAtoDStep(OmitWhenAbsent, HstrampStep):
    """The ATODTAB row for CCDAMP, CCDGAIN and the REF_KEY value maps raw DN to corrected DN."""

    class_alias = "stis_ccd_atod"
    switch_keyword = "atodcorr"
    reference_file_types = ["atodtab"]
    input_models = (STISCCDModel,)

    def apply(self, model, references):
        from hstramp.reference.stis.atod import read_stis_atodtab

        stis = model.meta.stis
        row = read_stis_atodtab(references["atodtab"], ccdamp=stis.ccdamp or "D",
                                ccdgain=stis.ccdgain or 1, header=sci_cards(model))
        if row.dummy:
            raise StepSkipped(f"ATODTAB {references['atodtab']} row {row.row} is a dummy")
        for k in range(model.nexp):
            result = atod_correct(model.data[k], model.dq[k], row.atod,
                                  ncombine=int(model.ncombine[k]))
            model.data[k], model.dq[k] = result.data, result.dq
            if result.nsaturated:
                log.info("%s: imset %d: %d values beyond the ATODTAB", self.name, k + 1,
                         result.nsaturated)
        return model
