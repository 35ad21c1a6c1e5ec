"""The plumbing every hstramp step shares, so that each step only says what it computes.

A step subclass declares (``tests/steps/test_template.py`` runs this very example)::

    class PedestalStep(HstrampStep):
        class_alias = "wfc3ir_pedestal"    # stpipe alias (never collides with jwst's)
        switch_keyword = "zoffcorr"        # header switch it follows (meta.cal_step.zoffcorr)
        reference_file_types = ["ccdtab"]  # resolved before apply(): references["ccdtab"]
        input_models = (RampModel,)        # the model classes it accepts
        spec = "level = float(default=0.0)  # its own parameters (stpipe configspec lines)"
        params_class = PedestalParameters  # the core dataclass those parameters fill

        def apply(self, model, references):
            params = self.core_parameters()  # PedestalParameters(level=...)
            model.data = subtract_pedestal(model.data, params.level)  # hstramp.core works
            return model

and the base class does the rest: opening the input (a copy, never the caller's model), the
header-switch decision (PERFORM runs, OMIT skips, COMPLETE is not redone; the ``switch``
parameter wins), reference resolution (``override_<reftype>`` wins, else the header keyword
through ``iref$`` or ``oref$``; 'N/A' or a DUMMY pedigree skips the step with a warning; a
missing file is an error naming keyword and path, raised before any work), status recording,
provenance (``meta.provenance``: what ran, with each reference's PEDIGREE and DESCRIP, which
the writers turn into HISTORY lines) and one INFO line with wall time and peak memory.

``apply`` says what happened by how it ends: it returns the result (recorded COMPLETE), raises
:class:`StepSkipped` (recorded SKIPPED, with a warning) or raises :class:`StepUnchanged` (it ran
and had nothing to change: nothing is recorded). Each run's :class:`StepOutcome` goes to whoever
collects outcomes (:func:`collect_outcomes`; a pipeline passes it on to its stage hooks): the
step instance keeps no state from one run to the next.

No CRDS parameter references exist for HST: :meth:`get_config_from_reference` returns an
empty configuration. :meth:`get_reference_file` resolves header keywords locally, or through
the HST CRDS rules when ``use_crds`` (or ``HSTRAMP_CRDS=1``) asks for it
(:mod:`hstramp.reference.crds`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
import logging
import re
import resource
import time
from pathlib import Path

from stpipe import Step

from hstramp.errors import InputFileError, ParameterError

__all__ = [
    "HstrampPlumbing",
    "HstrampStep",
    "StepOutcome",
    "StepSkipped",
    "StepUnchanged",
    "collect_outcomes",
    "peak_rss_mb",
]

log = logging.getLogger(__name__)

_PRODUCT_SUFFIXES = {"raw", "ima", "flt", "crj", "sfl", "rate", "cal"}


class StepSkipped(Exception):
    """Raised inside a step to skip it with a reason (recorded as SKIPPED, logged as warning)."""


class StepUnchanged(Exception):
    """Raised by :meth:`HstrampStep.apply` that ran and found nothing to change.

    The model is returned as it came, its switch is left as it was, and the reason is logged
    at INFO (e.g. flatten-ramp in auto mode on an exposure without a time-variable background).
    """


@dataclasses.dataclass(frozen=True)
class StepOutcome:
    """What one run of a step did.

    Attributes
    ----------
    step : str
        The step's name (its name in the pipeline, e.g. ``"dark"``).
    status : str
        ``"COMPLETE"`` (applied), ``"UNCHANGED"`` (ran, nothing to change), ``"SKIPPED"``
        (could not run: a reference 'N/A' or DUMMY ...) or ``"NOT RUN"`` (the switch said so).
    reason : str or None
        Why it did not apply (None when COMPLETE).
    seconds : float or None
        Wall time of :meth:`HstrampStep.apply` (None when it did not run).
    peak_mb : float or None
        Peak memory of the process after it ran, MB (None when it did not run).
    """

    step: str
    status: str
    reason: str | None = None
    seconds: float | None = None
    peak_mb: float | None = None


_OUTCOMES = contextvars.ContextVar("hstramp_step_outcomes", default=None)


@contextlib.contextmanager
def collect_outcomes():
    """Collect the :class:`StepOutcome` of every hstramp step run inside the block.

    Yields
    ------
    list of StepOutcome
        Filled as the steps finish (nothing for a step skipped with ``skip=True``, which
        stpipe does not run at all).
    """
    outcomes = []
    token = _OUTCOMES.set(outcomes)
    try:
        yield outcomes
    finally:
        _OUTCOMES.reset(token)


def _report_outcome(outcome):
    """Hand ``outcome`` to the innermost :func:`collect_outcomes` block, if any."""
    collected = _OUTCOMES.get()
    if collected is not None:
        collected.append(outcome)


def peak_rss_mb():
    """Peak resident memory of this process so far, in MB (VmHWM; never reset, so the OS's
    own peak figure, as ``/usr/bin/time`` reports it, stays true)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _pedigree_and_descrip(path):
    """PEDIGREE and DESCRIP of a reference file's primary header ('' for each one missing,
    both '' for 'N/A'), as calwf3's ``TabPedigree`` and ``ImgPedigree`` read them."""
    if path is None:
        return "", ""
    from hstramp.reference.common import ReferenceFileError, primary_header

    try:
        header = primary_header(path)  # read once per file version (is_dummy read it)
    except (OSError, ValueError, ReferenceFileError) as exc:  # the step read it: a race
        log.warning("cannot read PEDIGREE and DESCRIP of %s for HISTORY: %s", path, exc)
        return "", ""
    return tuple(str(header.get(key, "")).strip() for key in ("PEDIGREE", "DESCRIP"))


_EXTRA = re.compile(r"Extra value '(?P<name>[^']+)' in (?P<section>\S+)")
_BAD_VALUE = re.compile(r"Config parameter '(?P<path>[^']+)': (?P<why>.*)")


def _spec_section(spec, section):
    """The spec section named by a configobj path ('root', 'steps', 'steps/jump')."""
    node = spec
    if section not in ("root", ""):
        for part in section.split("/"):
            node = node[part]
    return node


def _allowed(spec_value):
    """A readable form of a configspec check such as ``float(min=0, default=4.0)``."""
    check = re.sub(r",?\s*default=[^,)]*", "", spec_value).replace("(, ", "(").replace("()", "")
    return check


def explain_refusal(cls, message):
    """Turn configobj's refusal into one that lists what is accepted.

    Parameters
    ----------
    cls : type
        The step or pipeline class whose configuration was refused.
    message : str
        configobj's message ("Extra value 'x' in steps/jump", "Config parameter ... too small").

    Returns
    -------
    str
        The message with the valid names, or the accepted type and range, appended.
    """
    spec = cls.load_spec_file()
    extra = _EXTRA.search(message)
    if extra:
        section = _spec_section(spec, extra["section"])
        kind = "step" if extra["section"] == "steps" else "parameter"
        where = "" if extra["section"] == "root" else f" of {extra['section']}"
        names = sorted(set(section.keys()) - {"class", "config_file", "name"})
        close = difflib.get_close_matches(extra["name"], names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return (f"{cls.__name__}: unknown {kind} {extra['name']!r}{where}{hint}; "
                f"valid names: {', '.join(names)}")
    bad = _BAD_VALUE.search(message)
    if bad:
        *parents, leaf = bad["path"].split("/")
        section = _spec_section(spec, "/".join(parents))
        allowed = _allowed(str(section.get(leaf, "?")))
        why = bad["why"].rstrip(".")
        return f"{cls.__name__}: parameter {bad['path']!r}: {why}; allowed: {allowed}"
    return f"{cls.__name__}: {message}"


class HstrampPlumbing:
    """What every hstramp step and pipeline needs from stpipe, without CRDS.

    Mixed in before :class:`stpipe.Step` / :class:`stpipe.Pipeline`.
    """

    #: stpipe: never prefetch through CRDS
    prefetch_references = False

    #: the model classes accepted as input (empty: any hstramp model)
    input_models: tuple = ()

    def run(self, *args):
        """stpipe's run, in asdf's configuration for hstramp's calls: a copy of the caller's,
        without the plugins no hstramp model uses when the caller's are not loaded yet
        (:func:`hstramp.asdf_plugins.hstramp_configuration`; the caller's configuration is
        its own again afterwards)."""
        from hstramp.asdf_plugins import hstramp_configuration

        with hstramp_configuration():
            return super().run(*args)

    @classmethod
    def _datamodels_open(cls, init, **kwargs):
        from hstramp.datamodels import open as open_model

        return open_model(init)

    def open_input(self, input_data):
        """Open ``input_data`` (a path or a model) and check it is one of :attr:`input_models`.

        Raises
        ------
        InputFileError
            Naming this step or pipeline, what it takes and what it got.
        """
        model = self._datamodels_open(input_data)
        if self.input_models and not isinstance(model, self.input_models):
            names = " or ".join(cls.__name__ for cls in self.input_models)
            raise InputFileError(f"{self.name} takes a {names}; {model.meta.filename} is a "
                                 f"{type(model).__name__}")
        return model

    def __init__(self, *args, **kwargs):
        from stpipe.config_parser import ValidationError

        try:
            super().__init__(*args, **kwargs)
        except ValidationError as exc:
            raise ParameterError(explain_refusal(type(self), str(exc))) from exc

    @classmethod
    def from_config_section(cls, config, parent=None, name=None, config_file=None):
        """As stpipe's, but a refused parameter names the valid choices (see explain_refusal)."""
        from stpipe.config_parser import ValidationError

        try:
            return super().from_config_section(config, parent=parent, name=name,
                                               config_file=config_file)
        except ValidationError as exc:
            raise ParameterError(explain_refusal(cls, str(exc))) from exc

    @classmethod
    def _get_crds_parameters(cls, dataset):
        """No CRDS selection happens, so the input is not opened just to build parameters."""
        return {}, "hst"

    @classmethod
    def get_config_from_reference(cls, dataset, disable=None, crds_observatory=None):
        """No CRDS parameter references exist for HST: always an empty configuration."""
        return cls._empty_config()

    @staticmethod
    def get_stpipe_loggers():
        """Loggers stpipe configures when it runs a step: stpipe's and hstramp's."""
        return ("stpipe", "hstramp")

    @staticmethod
    def remove_suffix(name):
        """Strip a product suffix (``_raw``, ``_ima``, a step alias ...) from a file stem."""
        from hstramp.integration import _STEPS

        known = _PRODUCT_SUFFIXES | {alias for _cls, alias, _p in _STEPS}
        for suffix in sorted(known, key=len, reverse=True):
            if name.endswith("_" + suffix):
                return name[: -len(suffix) - 1], "_"
        return name, "_"

    def default_output_file(self, input_file=None):
        """Output names follow the input's stem (``<rootname>_<suffix>.asdf``)."""
        name = super().default_output_file(input_file)
        return str(Path(name).name) if name else name


class HstrampStep(HstrampPlumbing, Step):
    """Base class of every hstramp step (see the module docstring for what it provides)."""

    spec = """
    output_ext = string(default='.asdf')  # extension of intermediate products (save_results)
    switch = option('header', 'perform', 'omit', default='header')  # follow the header switch, or force the step on/off
    use_crds = boolean(default=None)  # resolve references through CRDS (None: the pipeline's, else $HSTRAMP_CRDS)
    """  # noqa: E501

    #: header switch this step follows, e.g. "dqicorr"; None for steps without a switch
    switch_keyword: str | None = None
    #: the core parameter dataclass filled from this step's own spec parameters
    params_class = None
    #: False for a step that follows a switch another step records (jump before the ramp fit)
    records_switch = True

    def get_reference_file(self, model, reference_file_type):
        """Resolve a reference file: ``override_<reftype>`` wins, else CRDS when ``use_crds``
        (or ``HSTRAMP_CRDS=1``) asks for it and ``iref``/``oref`` is unset, else the header.

        Parameters
        ----------
        model : HstrampModel
            The exposure; its ``meta.ref_file.<reftype>`` holds the header keyword value.
        reference_file_type : str
            Lower-case keyword, e.g. ``"darkfile"``.

        Returns
        -------
        str or None
            Absolute path of the file, or None for 'N/A' (the step is then skipped).

        Raises
        ------
        hstramp.reference.ReferenceFileError
            Keyword missing from the header, ``iref`` unset, or the file missing/unreadable;
            the message names keyword, value and path.
        hstramp.reference.crds.CRDSError
            CRDS cannot select the file or it is not in the cache (see
            :func:`hstramp.reference.crds.crds_selection`).
        """
        from hstramp.reference.common import ReferenceFileError
        from hstramp.reference.crds import crds_selection
        from hstramp.reference.provenance import is_simulated, mark_simulated_use
        from hstramp.reference.resolve import resolve_reference_path

        override = self.get_ref_override(reference_file_type)
        keyword = reference_file_type.upper()
        chosen = None if override is not None else crds_selection(
            model, reference_file_type, self.use_crds, getattr(self.parent, "use_crds", None))
        if override is not None:
            value, where = str(override), f"override_{reference_file_type}"
        elif chosen is not None:
            value, where = chosen[1], "CRDS"
        else:
            value = getattr(model.meta.ref_file, reference_file_type, None)
            where = f"header keyword {keyword}"
            if value is None:
                raise ReferenceFileError(
                    f"{model.meta.filename}: {keyword} is not in the header; give the file with "
                    f"override_{reference_file_type}"
                )
        path = resolve_reference_path(value, keyword)
        if path is not None and is_simulated(path, keyword):
            mark_simulated_use(model, path, keyword, self.parent or self)
        self._reference_files_used.append((reference_file_type,
                                           value if chosen is None else chosen[0], path))
        log.debug("%s: %s from %s -> %s", self.name, keyword, where, path)
        return None if path is None else str(path)

    # ------------------------------------------------------------------ the template
    def process(self, input_data):
        """Open the input and :meth:`run_on` it; the outcome goes to :func:`collect_outcomes`."""
        result, outcome = self.run_on(self.prepare_input(input_data))
        _report_outcome(outcome)
        return result

    def run_on(self, model):
        """Decide, resolve references, apply, record. Subclasses implement :meth:`apply`.

        Parameters
        ----------
        model : HstrampModel
            The step's own copy of the input.

        Returns
        -------
        tuple
            ``(result model, StepOutcome)``.
        """
        reason = self.reason_not_to_run(model)
        if reason is not None:
            log.info("%s not run: %s", self.name, reason)
            if self.switch == "omit":
                self.record_status(model, "OMIT")
            return model, StepOutcome(self.name, "NOT RUN", reason)
        try:
            references = self.resolve_references(model)
            start = time.perf_counter()
            result = self.apply(model, references)
        except StepSkipped as skipped:
            log.warning("%s skipped: %s", self.name, skipped)
            self.record_status(model, "SKIPPED")
            self.record_provenance((model,), "SKIPPED")
            return model, StepOutcome(self.name, "SKIPPED", str(skipped))
        except StepUnchanged as unchanged:
            log.info("%s: %s", self.name, unchanged)
            result, status, reason = model, "UNCHANGED", str(unchanged)
        else:
            self.record_status(result, "COMPLETE")
            self.record_references(result, references)
            self.record_provenance([model] if result is model else [model, result],
                                   "COMPLETE")
            status = "COMPLETE"
        seconds, peak_mb = time.perf_counter() - start, peak_rss_mb()
        log.info("%s done in %.3f s, peak memory %.0f MB", self.name, seconds, peak_mb)
        return result, StepOutcome(self.name, status, reason, seconds, peak_mb)

    def apply(self, model, references):
        """Do the step's work on ``model`` (a private copy) and return the result model.

        Parameters
        ----------
        model : HstrampModel
            The step's own copy of the input: modify it freely.
        references : dict
            reftype -> absolute path, for each of :attr:`reference_file_types`.

        Returns
        -------
        HstrampModel
            The result (``model`` itself, or a new model such as the fitted image).

        Raises
        ------
        StepSkipped
            The step cannot be done on this input (recorded SKIPPED).
        StepUnchanged
            The step ran and had nothing to change (nothing recorded).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    # ------------------------------------------------------------------ pieces
    def prepare_input(self, input_data):
        """Open the input and return a model this step may modify (never the caller's)."""
        model = self.open_input(input_data)
        if model is input_data and not self.works_in_place():
            model = model.copy()
        model.make_arrays_native()  # the core writes into the model's arrays
        return model

    def works_in_place(self):
        """True when a parent pipeline owns the model and lets its steps modify it in place."""
        return bool(getattr(self.parent, "steps_modify_in_place", False))

    def header_switch(self, model):
        """The header value of this step's switch ('PERFORM' when the header has none)."""
        if self.switch_keyword is None:
            return "PERFORM"
        return getattr(model.meta.cal_step, self.switch_keyword, None) or "PERFORM"

    def reason_not_to_run(self, model):
        """Why the step should not run on ``model``, or None if it should.

        ``switch='header'`` follows the header: PERFORM runs, OMIT skips, COMPLETE is not
        redone, SKIPPED (an earlier run could not do it) is tried again. ``switch='perform'``
        runs whatever the header says; ``switch='omit'`` never runs.
        """
        value = self.header_switch(model)
        if self.switch == "omit":
            return "switch=omit"
        if self.switch == "perform":
            if value == "COMPLETE":
                log.warning("%s: %s is COMPLETE in the header; running again because "
                            "switch=perform", self.name, (self.switch_keyword or "").upper())
            return None
        if value == "OMIT":
            return f"{(self.switch_keyword or '').upper()}=OMIT in the header"
        if value == "COMPLETE":
            return f"{(self.switch_keyword or '').upper()}=COMPLETE: done by an earlier run"
        return None

    def resolve_references(self, model):
        """Resolve every reference file of the step before any work is done.

        Returns
        -------
        dict
            reftype -> absolute path.

        Raises
        ------
        StepSkipped
            A reference is 'N/A' (where the step cannot do without it) or has a DUMMY pedigree.
        """
        from hstramp.reference.common import is_dummy

        references = {}
        for reftype in self.reference_file_types:
            path = self.get_reference_file(model, reftype)
            if path is not None and is_dummy(path, reftype.upper()):
                raise StepSkipped(f"{reftype.upper()} {path} has a DUMMY pedigree")
            if path is None and reftype not in self.optional_references():
                raise StepSkipped(f"{reftype.upper()} is N/A")
            references[reftype] = path
        return references

    def default_suffix(self):
        """Intermediate products are named by the step alias (``x_raw`` -> ``x_wfc3ir_dark``)."""
        return self.class_alias or super().default_suffix()

    def optional_references(self):
        """Reference types that may be 'N/A' without skipping the step (e.g. DFLTFILE)."""
        return ()

    def record_status(self, model, status):
        """Set this step's switch in the model to ``status`` (COMPLETE, SKIPPED, OMIT)."""
        if self.switch_keyword is not None and self.records_switch:
            setattr(model.meta.cal_step, self.switch_keyword, status)

    def record_references(self, model, references):
        """Record the reference files actually used (the header value or the override path)."""
        for reftype, value, _path in self._reference_files_used:
            if reftype in references:
                setattr(model.meta.ref_file, reftype, value)

    def record_provenance(self, models, status):
        """Append what this run did to each model's ``meta.provenance`` (the source of the
        products' HISTORY lines): the switch, ``status`` and every reference file resolved,
        with its PEDIGREE and DESCRIP.

        Only a step that records its own switch leaves a record. The input ramp of a step
        that returns a new model (the ramp fit) gets the record too: the ima says what ran on
        it, as calwf3's does.
        """
        if self.switch_keyword is None or not self.records_switch:
            return
        references = []
        for reftype, value, path in self._reference_files_used:
            pedigree, descrip = _pedigree_and_descrip(path)
            references.append({"keyword": reftype.upper(), "name": str(value),
                               "pedigree": pedigree, "descrip": descrip})
        for model in models:
            model.meta.provenance.append({"switch": self.switch_keyword.upper(),
                                          "status": status, "references": references})

    def finalize_result(self, result, reference_files_used):
        """stpipe hook: a step skipped with ``skip=True`` records SKIPPED in its switch."""
        if self.skip and hasattr(result, "meta"):
            if self.header_switch(result) != "COMPLETE":
                self.record_status(result, "SKIPPED")

    def core_parameters(self):
        """Build :attr:`params_class` from this step's parameters.

        Raises
        ------
        ParameterError
            Naming the step, the parameter and what it accepts.
        """
        if self.params_class is None:
            return None
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self.params_class)}
        try:
            return self.params_class(**values)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"{self.name}: {exc}") from exc
