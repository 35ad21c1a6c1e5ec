"""What every hstramp pipeline shares, so that an instrument's pipeline only says which steps run
in which order and which products come out.

A pipeline subclass declares::

    class WFC3IRPipeline(HstrampPipeline):
        class_alias = "wfc3ir_pipeline"
        input_models = (RampModel,)      # what the input check accepts
        spec = "..."                     # its own parameters (which products to save ...)
        step_defs = {...}                # its steps

        def product_paths(self, model):  # suffix -> Path of each product this run will write
            ...
        def run_steps(self, model):      # run the steps through self.run_stage()
            ...                          # -> (result, {suffix: model made})
        def product_hdulist(self, suffix, made, filename):
            ...                          # -> the HDUList of one product

and :meth:`HstrampPipeline.calibrate` does the rest, one stage after the other:

``read``
    open the input as the pipeline's own copy (a file is read fresh, a model is copied) and
    check it is one of :attr:`input_models`;
``check``
    before any work: no product may replace the input file, an existing product is refused
    unless ``overwrite``, the output directory must be writable; then every reference file the
    steps will use is resolved (a missing one stops the run, naming keyword and path);
each step
    under its name (``run_stage``), the step's :class:`~hstramp.steps.base.StepOutcome` with it;
``write``
    every product of the set, all or nothing: temporary files renamed only when all of them
    are written; products go to ``<rootname>_<suffix>.fits`` in ``output_dir`` (default: next
    to the input).

Each stage is reported to the hooks registered with :meth:`HstrampPipeline.add_stage_hook`,
once when it starts and once when it ends (:class:`StageEvent`): the x-ray (``hstramp xray``)
keeps one pixel of every step's result, a batch names the stage where an exposure failed, the
benchmarks time the stages. ``pipeline.timings`` keeps each step's wall time and peak memory
from the same reports.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import time
from pathlib import Path

from stpipe import Pipeline

from hstramp.steps.base import (
    HstrampPlumbing,
    StepOutcome,
    StepSkipped,
    collect_outcomes,
    peak_rss_mb,
)

__all__ = ["HstrampPipeline", "StageEvent"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class StageEvent:
    """One report to a pipeline's stage hooks.

    Attributes
    ----------
    stage : str
        ``"read"``, ``"check"``, a step's label (its name in the pipeline, or a label such as
        ``"flat (flt)"`` for a second run of a step) or ``"write"``.
    finished : bool
        False when the stage starts, True when it has ended without an error (a stage that
        raises is never reported finished: the error names what went wrong).
    model : HstrampModel or None
        When a step stage finishes: the step's result. None otherwise.
    outcome : StepOutcome or None
        When a step stage finishes: what the step did (None for a step skipped with
        ``skip=True``, which stpipe does not run at all).
    """

    stage: str
    finished: bool = False
    model: object = None
    outcome: StepOutcome | None = None


class HstrampPipeline(HstrampPlumbing, Pipeline):
    """Base class of the hstramp pipelines: stpipe's Pipeline without CRDS, with the product
    plumbing every instrument shares (see the module docstring)."""

    spec = """
    output_ext = string(default='.fits')  # extension of the products
    use_crds = boolean(default=None)  # resolve references through CRDS (None: $HSTRAMP_CRDS)
    overwrite = boolean(default=False) # replace existing products (never the input file)
    """

    #: steps work on the pipeline's own copy of the exposure, in place
    steps_modify_in_place = True
    #: astropy's verification of the headers when the products are written
    output_verify = "fix+ignore"
    #: callables ``hook(event)`` told of every stage (add with :meth:`add_stage_hook`)
    stage_hooks = ()
    #: label -> (seconds, peak MB) of every step that ran on the last exposure
    timings = None

    # ------------------------------------------------------------------ the template
    def process(self, input_data):
        """Calibrate one exposure (:meth:`calibrate`); subclasses may accept more (an
        association)."""
        return self.calibrate(input_data)

    def calibrate(self, input_data):
        """Read, check, run the steps, write the products of one exposure.

        Returns
        -------
        HstrampModel
            The pipeline's result (see the subclass).
        """
        start = time.perf_counter()
        self.timings = {}
        self.report_stage(StageEvent("read"))
        model = self.prepare_input(input_data)
        self.freeze_what_reading_loaded()
        self.report_stage(StageEvent("read", finished=True))
        self.report_stage(StageEvent("check"))
        paths = self.product_paths(model)
        self.check_outputs(paths, input_data)
        self.check_references(model)
        self.report_stage(StageEvent("check", finished=True))
        result, made = self.run_steps(model)
        self.report_stage(StageEvent("write"))
        self.write_products(made, paths)
        self.report_stage(StageEvent("write", finished=True))
        log.info("%s done in %.2f s, peak memory %.0f MB", self.name,
                 time.perf_counter() - start, peak_rss_mb())
        return result

    def product_paths(self, model):
        """The products this run will write: suffix -> Path (see :meth:`output_path`)."""
        raise NotImplementedError(f"{type(self).__name__} must implement product_paths()")

    def run_steps(self, model):
        """Run the steps on ``model`` (each through :meth:`run_stage`).

        Returns
        -------
        tuple
            ``(result, made)``: what the pipeline returns, and suffix -> the model of each
            product made (None for one this run did not make).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement run_steps()")

    def product_hdulist(self, suffix, made, filename):
        """The HDUList of one product.

        Parameters
        ----------
        suffix : str
            The product (``"flt"`` ...); its model is ``made[suffix]``.
        made : dict
            suffix -> model of every product made, from :meth:`run_steps`.
        filename : str
            FILENAME keyword of the product.

        Returns
        -------
        astropy.io.fits.HDUList or hstramp.datamodels.fits_writer.FitsProduct
            Anything :func:`~hstramp.datamodels.fits_io.write_hdulists` writes.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement product_hdulist()")

    # ------------------------------------------------------------------ stages
    def add_stage_hook(self, hook):
        """Register ``hook(event)``, called with a :class:`StageEvent` as each stage starts and
        ends, in order (on this instance only)."""
        self.stage_hooks = (*self.stage_hooks, hook)

    def report_stage(self, event):
        """Tell every stage hook of ``event``; keep a step's timing in :attr:`timings`."""
        outcome = event.outcome
        if outcome is not None and outcome.seconds is not None:
            self.timings[event.stage] = (outcome.seconds, outcome.peak_mb)
        for hook in self.stage_hooks:
            hook(event)

    def run_stage(self, name, model, label=None):
        """Run step ``name`` on ``model`` as one stage (reported under ``label or name``).

        Returns
        -------
        HstrampModel
            The step's result.
        """
        label = label or name
        self.report_stage(StageEvent(label))
        with collect_outcomes() as outcomes:
            result = getattr(self, name).run(model)
        outcome = outcomes[-1] if outcomes else None
        self.report_stage(StageEvent(label, finished=True, model=result, outcome=outcome))
        return result

    #: :meth:`run` froze the objects alive at its start and the first exposure's read is
    #: still to come (see :meth:`freeze_what_reading_loaded`)
    _refreeze_after_read = False

    def freeze_what_reading_loaded(self):
        """Freeze, once per :meth:`run`, what the first exposure's read left alive.

        In a new process the first datamodel loads asdf's configuration (every installed
        extension and resource mapping: modules, schemas, converters), tens of thousands of
        objects that live as long as the process. :meth:`run` froze what was alive before
        them; frozen now too, stpipe's ``gc.collect()`` before every step does not scan them
        again (about 0.25 s over the 15 steps of a first WFC3/IR exposure, measured with
        py-spy). :meth:`run` unfreezes everything at its end, so what was frozen is collected
        as usual afterwards.
        """
        if self._refreeze_after_read:
            self._refreeze_after_read = False
            gc.freeze()

    # ------------------------------------------------------------------ pieces
    def prepare_input(self, input_data):
        """The pipeline's own copy of the exposure (a file is read fresh; a model is copied)."""
        model = self.open_input(input_data)
        return model.copy() if model is input_data else model

    def check_references(self, model):
        """Resolve every reference file the steps will use, before any work is done.

        Raises
        ------
        hstramp.reference.ReferenceFileError
            The first missing or unreadable reference, naming keyword and path.
        """
        for name in self.step_defs:
            step = getattr(self, name)
            if step.skip or step.reason_not_to_run(model) is not None:
                continue
            try:
                step.resolve_references(model)
            except StepSkipped:
                continue  # the step reports this itself when it runs
            finally:
                step._reference_files_used = []

    def output_path(self, model, suffix):
        """``<rootname>_<suffix>.fits`` in ``output_dir`` or next to the input; the rootname
        is a plain name (:func:`~hstramp.datamodels.products.safe_rootname`), never a path."""
        from hstramp.datamodels.products import product_path

        filename = model.meta.filename or ""
        rootname = model.meta.observation.rootname or Path(filename).stem.split("_")[0]
        directory = self.output_dir or self.input_dir or "."
        return product_path(directory, rootname, suffix, source=filename or "the input")

    def check_outputs(self, paths, input_data):
        """Refuse, before any work, to write over the input or over products (unless asked).

        Parameters
        ----------
        paths : dict
            suffix -> Path, from :meth:`product_paths`.
        input_data : str, Path or model
            The input as given (a file is compared with every product path, by resolved
            path and by inode).

        Raises
        ------
        OutputFileError
            A product would replace the input file, is a symlink or a directory, exists and
            ``overwrite`` is False, or the output directory is missing or not writable.
        """
        from hstramp.datamodels.products import check_not_input, check_product_path

        inputs = [input_data] if isinstance(input_data, (str, Path)) else []
        for path in paths.values():
            check_not_input(path, inputs)
            check_product_path(path, self.overwrite)

    def write_products(self, made, paths):
        """Write every product that was made and checked before the run, all or nothing.

        Parameters
        ----------
        made : dict
            suffix -> model (or None), from :meth:`run_steps`.
        paths : dict
            suffix -> Path, from :meth:`product_paths`: nothing else is written.
        """
        from hstramp.datamodels import write_hdulists

        products = [(self.product_hdulist(suffix, made, path.name), path)
                    for suffix, path in paths.items() if made.get(suffix) is not None]
        write_hdulists(products, overwrite=self.overwrite, output_verify=self.output_verify)

    def save_model(self, model, *args, **kwargs):
        """The pipeline writes its own products; stpipe's generic save is not used."""
        return None

    def run(self, *args):
        """stpipe's run, with SIGTERM handled like Ctrl-C and the objects alive at the start
        frozen out of garbage collection.

        SIGTERM raises :class:`~hstramp.signals.Terminated` (exit status 143 if uncaught), so
        the run unwinds and removes its temporary files, as Ctrl-C does
        (:func:`~hstramp.signals.terminate_cleanly`; the caller's handlers are put back
        afterwards).

        stpipe calls ``gc.collect()`` before every step. The objects alive when the run
        starts (the imported packages, astropy and asdf schemas, the reference caches) are
        frozen out of garbage collection for the duration of the run (``gc.freeze``, no
        scan), so those collections scan only the objects the run creates, and at the end
        one collection frees the run's own garbage before they are unfrozen. A full
        collection at the start would cost about 70 ms in a process with astropy and asdf
        loaded. What the first exposure's read loads (asdf's configuration, in a new process)
        is frozen after it (:meth:`freeze_what_reading_loaded`). When the caller has frozen
        objects itself (``gc.get_freeze_count()`` > 0), the run leaves its freezing alone.
        """
        from hstramp.signals import terminate_cleanly

        ours = gc.get_freeze_count() == 0
        if ours:
            gc.freeze()
        self._refreeze_after_read = ours
        try:
            with terminate_cleanly():
                return super().run(*args)
        finally:
            self._refreeze_after_read = False
            if ours:
                gc.collect()  # the run's garbage only: everything older is frozen
                gc.unfreeze()
