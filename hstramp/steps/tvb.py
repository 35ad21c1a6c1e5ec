"""Flatten-ramp (TVBCORR): take a time-variable background out of the ramp before the fit.

Runs after UNITCORR and before jump detection. It measures the sky of every read in a region,
decides whether the sky departs from a constant rate (:func:`hstramp.core.tvb.detect_tvb`) and,
depending on ``mode``, replaces each read's sky by the whole-exposure sky rate times the read's
time (:func:`hstramp.core.tvb.flatten_ramp`), so that jump detection and the ramp fit see a
constant sky. See ``docs/tvb.md``.
"""

from __future__ import annotations

import dataclasses
import logging

from hstramp.core.scan import scan_verdict
from hstramp.core.tvb import (
    FlattenRampParameters,
    detect_tvb,
    flatten_ramp,
    reference_offset_noise,
    science_region,
    signal_since_zeroth_read,
    sky_levels,
)
from hstramp.core.units import count_scale
from hstramp.datamodels.models import RampModel
from hstramp.steps.base import HstrampStep, StepUnchanged

__all__ = ["FlattenRampStep"]

log = logging.getLogger(__name__)


def _rounded(value):
    """A float rounded to 6 decimals for its header card (NaN stays NaN: undefined there)."""
    return round(float(value), 6)


class FlattenRampStep(HstrampStep):
    """Remove a time-variable background from every read (flatten-ramp), before the fit.

    ``mode`` decides whether it acts: "off" (the default: the ramp is untouched and nothing is
    recorded), "auto" (only when the detection metric exceeds ``threshold``; otherwise the ramp
    and its header are left exactly as they were, and the log says why) or "always". When it
    acts, TVBCORR becomes COMPLETE and ``meta.tvb`` records what it did (the primary header's
    TVBMODE, TVBMETRC, TVBTHRES, TVBSKY and TVBREADS). The header switch is followed as usual
    (OMIT skips, COMPLETE is not redone). A spatial scan (SCAN_TYP 'C' or 'D', or recognised
    from the ramps, :func:`hstramp.core.scan.scan_verdict`) is never flattened in auto mode;
    "always" flattens it with a warning.
    """

    class_alias = "wfc3ir_flatten_ramp"
    switch_keyword = "tvbcorr"
    reference_file_types = []
    input_models = (RampModel,)
    params_class = FlattenRampParameters
    spec = """
    mode = option('off', 'auto', 'always', default='off')  # off; auto: only exposures the detector flags; always
    region = int_list(min=4, max=4, default=None)  # x1, x2, y1, y2: 0-based half-open columns and rows of the ima/raw array; None: the science area
    statistic = option('midpt', 'median', 'mode', 'mean', default='midpt')  # per-read statistic taken as the sky (midpt: median interpolated in its histogram bin)
    clip_sigma = float(min=0, default=3.0)  # sigma clipping of the region's pixels (0: none)
    clip_iterations = integer(min=0, default=5)  # at most this many clipping passes
    dq_mask = integer(min=0, max=65535, default=31743)  # DQ bits (in any read) that exclude a pixel
    binwidth = float(min=0, default=0.1)  # histogram bin for midpt and mode, in standard deviations
    threshold = float(min=0, default=0.03)  # auto: flatten when the metric (largest sky departure from a constant rate, fraction of the exposure's sky) exceeds this
    read_threshold = float(min=0, default=0.1)  # a read is reported affected when its interval's sky exceeds the quiet sky by this fraction of the mean ...
    nsigma = float(min=0, default=3.0)  # ... and by this many standard errors
    """  # noqa: E501

    def reason_not_to_run(self, model):
        """``mode='off'`` never runs (and records nothing); otherwise the header switch rules."""
        if self.mode == "off":
            return "mode=off"
        return super().reason_not_to_run(model)

    def apply(self, model, references):
        params = self.core_parameters()
        in_rates = model.in_rates
        scan = scan_verdict(model.meta.exposure.scan_type, model.data, model.times,
                            read_scale=count_scale(model.times, in_rates=in_rates),
                            groupdq=model.groupdq)
        if scan.is_scan and params.mode == "auto":
            raise StepUnchanged(f"a spatial scan ({scan.describe()}): auto mode never "
                                "flattens a scan (the scan, not the sky, moves the region's "
                                "level); ramp left as it is")
        if scan.is_scan:
            log.warning("%s: flattening a spatial scan (%s) because mode=always: the sky of "
                        "every read is taken from region %s, which must be empty sky",
                        self.name, scan.describe(), params.region or "(science area)")
        counts = signal_since_zeroth_read(
            model.data, model.times, in_rates=in_rates,
            zero_subtracted=model.meta.cal_step.zoffcorr == "COMPLETE")
        science = science_region(model.data.shape)
        sky_params = dataclasses.replace(params.sky, region=params.region or science)
        sky = sky_levels(counts, model.times, dq=model.groupdq | model.pixeldq,
                         params=sky_params)
        detection = detect_tvb(model.times, sky.sky, sky.noise, params.detection,
                               offset=reference_offset_noise(model.data))
        reads = ",".join(str(k) for k in detection.affected_read_indices) or "none"
        summary = (f"metric {detection.metric:.4f} ({detection.significance:.1f} sigma; "
                   f"threshold {detection.threshold:g}), reads with extra background: {reads}")
        if params.mode == "auto" and not detection.affected:
            raise StepUnchanged(f"{summary}: no time-variable background detected; "
                                "ramp left as it is")
        result = flatten_ramp(model.data, model.times, sky.sky, in_rates=in_rates,
                              region=science)
        model.data = result.data
        unit = (model.meta.bunit_data or "COUNTS").split("/")[0]
        log.info("%s: flatten-ramp applied (mode=%s): %s; sky rate kept %.4g %s/s",
                 self.name, params.mode, summary, result.sky_rate, unit)
        tvb = model.meta.tvb
        tvb.mode, tvb.threshold, tvb.reads = params.mode.upper(), float(detection.threshold), reads
        tvb.metric, tvb.sky = _rounded(detection.metric), _rounded(result.sky_rate)
        tvb.sky_unit = unit
        return model
