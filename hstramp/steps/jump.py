"""Jump detection (part of CRCORR): two-point differences on the real read times.

The threshold (with 4 or more usable differences) is the first CRSIGMAS value of the CRREJTAB
row calwf3's ``crrpar_in`` picks for the exposure, unless ``rejection_threshold`` is given.
"""

import dataclasses
import logging

from hstramp.core.jump import JumpParameters, detect_jumps
from hstramp.core.scan import scan_verdict
from hstramp.core.units import count_scale
from hstramp.datamodels.models import RampModel
from hstramp.reference.crrej import read_crrejtab
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import load_detector

__all__ = ["JumpStep"]

log = logging.getLogger(__name__)


#: the one warning a spatial scan fitted with CRCORR=PERFORM gets (docs/scans.md)
SCAN_WARNING = (
    "%s: %s is a spatial scan: %s. CRCORR=PERFORM flags the scan's passage over every pixel "
    "as a cosmic ray and fits a rate that means nothing for a moving source. The archive "
    "runs scans with CRCORR=OMIT (and UNITCORR=OMIT): the flt is then the last read, as "
    "calwf3 writes it (--steps.jump.switch=omit --steps.ramp_fit.switch=omit); or fit "
    "last-minus-first (--steps.jump.switch=omit --steps.ramp_fit.algorithm=last_minus_first)")


class JumpStep(HstrampStep):
    """Flag cosmic-ray jumps (8192) in the ramp; controlled by CRCORR with the ramp fit."""

    class_alias = "wfc3ir_jump"
    switch_keyword = "crcorr"
    records_switch = False  # the ramp fit, which must still run after this step, records CRCORR
    reference_file_types = ["ccdtab", "oscntab", "crrejtab"]
    input_models = (RampModel,)
    params_class = JumpParameters
    spec = """
    rejection_threshold = float(min=0, default=None)  # sigma, 4+ differences (None: CRREJTAB)
    four_group_rejection_threshold = float(min=0, default=5.0)  # sigma, with 3 usable differences
    three_group_rejection_threshold = float(min=0, default=6.0)  # sigma, with 2 usable differences
    flag_4_neighbors = boolean(default=True)  # also flag the 4 neighbours of large jumps
    max_jump_to_flag_neighbors = float(min=0, default=1000.0)  # sigma; above it, no neighbours
    min_jump_to_flag_neighbors = float(min=0, default=10.0)  # sigma; below it, no neighbours
    after_jump_flag_dn1 = float(min=0, default=0.0)  # DN; jumps above it flag later reads (0: off)
    after_jump_flag_time1 = float(min=0, default=0.0)  # s; for this long after the jump
    after_jump_flag_dn2 = float(min=0, default=0.0)  # DN; a second, larger threshold (0: off)
    after_jump_flag_time2 = float(min=0, default=0.0)  # s; for this long after the jump
    block_rows = integer(min=0, default=0)  # rows per block (0: automatic, bounded memory)
    """

    def apply(self, model, references):
        detector = load_detector(model, references)
        in_rates = model.in_rates
        scan = scan_verdict(model.meta.exposure.scan_type, model.data, model.times,
                            read_scale=count_scale(model.times, in_rates=in_rates),
                            groupdq=model.groupdq)
        if scan.is_scan:
            log.warning(SCAN_WARNING, self.name, model.meta.filename, scan.describe())
        gain, read_noise = detector.ramp_noise_model(model.meta.bunit_data)
        detect_jumps(model.data, model.groupdq, model.times, gain, read_noise,
                     self.jump_parameters(model, references["crrejtab"]), pixeldq=model.pixeldq,
                     read_scale=count_scale(model.times, in_rates=in_rates), trim=detector.trim,
                     out=model.groupdq)
        return model

    def core_parameters(self):
        """The core parameters; a ``rejection_threshold`` of None stands for the default."""
        if self.rejection_threshold is None:
            values = {f.name: getattr(self, f.name)
                      for f in dataclasses.fields(JumpParameters)
                      if f.name != "rejection_threshold"}
            return dataclasses.replace(JumpParameters(), **values)
        return super().core_parameters()

    def jump_parameters(self, model, crrejtab):
        """The core parameters with the threshold from CRREJTAB unless the user gave one."""
        params = self.core_parameters()
        if self.rejection_threshold is not None:
            return params
        row = read_crrejtab(crrejtab, nsamp=model.ngroups, exptime=model.meta.exposure.exptime)
        log.info("%s: rejection threshold %g sigma from CRREJTAB %s row %d", self.name,
                 row.threshold, row.path.name, row.row)
        return dataclasses.replace(params, rejection_threshold=row.threshold)
