"""Calibrate many WFC3/IR exposures in parallel: a local process pool or a dask cluster.

:func:`run_batch` takes raw/ima files and ``_asn.fits`` associations, refuses two exposures
that would write the same product, skips the exposures whose products are newer than their
input and verify their FITS checksums (:func:`verified_fits`), runs the others with
:class:`~hstramp.pipeline.wfc3ir.WFC3IRPipeline` (one exposure per task, one task per worker
process at a time: :mod:`hstramp.pool` locally, or a dask cluster), and returns one
:class:`ExposureResult` per exposure, in input order. An exposure that fails, or whose worker
dies, is reported (file, step, error) and the others go on.

Local workers are started before the planning (the pipeline built for the product names and
the parameter checks, the checksums of existing products verified), as many as there are
exposures at most, and each warms up while the parent plans (:func:`warm_up_worker`: the
pipeline's imports and asdf's configuration, without the plugins no hstramp datamodel uses:
:mod:`hstramp.asdf_plugins`), so the first exposure does
not wait for them; a planning error stops them before it is raised, and so does a batch in
which every exposure is skipped.

Each exposure is single-threaded NumPy work (see ``docs/performance.md``), so the speed-up
comes from running exposures side by side, one per core; the memory needed is about one
exposure's peak (about 0.8 GB for a full frame of 16 reads) per worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

__all__ = [
    "ExposureResult",
    "calibrate_exposure",
    "check_distinct_products",
    "expand_inputs",
    "planned_products",
    "products_are_current",
    "run_batch",
    "summary_table",
    "track_stages",
    "verified_fits",
    "warm_up_worker",
]

log = logging.getLogger(__name__)

#: seconds to wait for a dask scheduler, for its first worker, and for a worker when a
#: cluster has lost them all (``run_batch(dask_timeout=)``, ``--dask-timeout``)
DASK_TIMEOUT = 60.0

#: environment variables handed to every worker (reference-file directories)
FORWARDED_ENVIRONMENT = ("iref", "oref", "crds")


@dataclass(frozen=True)
class ExposureResult:
    """What happened to one exposure of a batch.

    Attributes
    ----------
    path : str
        The input exposure.
    status : str
        ``"done"``, ``"skipped"`` (products complete and newer than the input) or ``"failed"``.
    step : str or None
        Where a failure happened: a pipeline step name (``"dark"``, ``"flat (flt)"``), or
        ``"read"``, ``"check"`` (outputs and reference files), ``"write"``, ``"worker"`` (the
        worker process died or could not be reached).
    error : str or None
        ``"<ExceptionType>: <message>"`` of a failure.
    seconds : float
        Wall time of the calibration in the worker (0 when skipped).
    cpu_seconds : float
        CPU time of the worker process during the calibration (less than ``seconds`` when
        the worker waited for a core or for the disk).
    products : tuple of str
        The product files.
    worker : str
        Host and process id that ran it (empty when skipped).
    rss_mb : float
        Resident memory of that worker process after the exposure, MB (what it keeps
        between exposures; 0 when skipped or not known).
    """

    path: str
    status: str
    step: str | None = None
    error: str | None = None
    seconds: float = 0.0
    products: tuple = field(default_factory=tuple)
    worker: str = ""
    rss_mb: float = 0.0
    cpu_seconds: float = 0.0


def expand_inputs(inputs):
    """The exposures to calibrate: files as given, associations replaced by their members.

    Parameters
    ----------
    inputs : iterable of str or Path
        ``_raw.fits`` / ``_ima.fits`` files and ``_asn.fits`` association tables.

    Returns
    -------
    list of Path
        Every exposure once, in the order first met.

    Raises
    ------
    hstramp.errors.InputFileError
        An unreadable association or one whose member files are missing.
    """
    from hstramp.names import is_association  # light: no datamodels without an association

    exposures = {}
    for item in inputs:
        if is_association(item):
            from hstramp.datamodels.asn import association_members

            members = association_members(item)
        else:
            members = [Path(item)]
        exposures.update((member, None) for member in members)
    return list(exposures)


def _rootname(path):
    """ROOTNAME from the primary header (the file stem's first word if absent or unreadable)."""
    from astropy.io import fits

    try:
        rootname = fits.getval(path, "ROOTNAME", ext=0)
    except (OSError, KeyError, IndexError, ValueError):
        rootname = None
    return str(rootname).strip() if rootname else Path(path).stem.split("_")[0]


def planned_products(path, output_dir=None, parameters=None, pipeline=None):
    """The products the pipeline will write for ``path``: suffix -> Path.

    The pipeline's own naming (:meth:`WFC3IRPipeline.product_paths`) is asked, with only the
    primary header read.

    Parameters
    ----------
    path : str or Path
        An exposure.
    output_dir : str or Path, optional
        Where products go (default: next to the input).
    parameters : dict, optional
        Pipeline parameters (``save_ima``, ``save_flt`` matter here).
    pipeline : WFC3IRPipeline, optional
        An instance to reuse (making one costs a few milliseconds).

    Returns
    -------
    dict
    """
    if pipeline is None:
        pipeline = _make_pipeline(output_dir, parameters)
    path = Path(path)
    pipeline.input_dir = str(path.parent)
    stand_in = SimpleNamespace(meta=SimpleNamespace(
        filename=path.name, observation=SimpleNamespace(rootname=_rootname(path))))
    return pipeline.product_paths(stand_in)


def verified_fits(path):
    """True if ``path`` is a whole FITS product: every HDU's CHECKSUM verifies.

    hstramp writes both cards in every HDU of every product (``write_hdulists``), so a
    product cut short, overwritten with zeros or edited after it was written fails here, as
    does one with an HDU missing (fewer HDUs than its ``NEXTEND``) or one without the cards
    (written by other software: it is recalibrated rather than trusted). Reading the whole
    file costs about a second per GB.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    bool
    """
    import warnings

    from astropy.io import fits

    with warnings.catch_warnings(record=True) as caught:  # "may have been truncated" ...
        warnings.simplefilter("always")
        try:
            with fits.open(path, memmap=False, lazy_load_hdus=False) as hdulist:
                # CHECKSUM covers the header (DATASUM included) and the data
                whole = all(hdu.verify_checksum() == 1 for hdu in hdulist)
                nextend = hdulist[0].header.get("NEXTEND")
                complete = nextend is None or len(hdulist) == int(nextend) + 1
        except (OSError, ValueError, TypeError, IndexError):  # not FITS, truncated, damaged
            return False
    return whole and complete and not caught


def products_are_current(path, products):
    """True if every product exists, is newer than the input and is verified by its FITS
    checksums (:func:`verified_fits`).

    Parameters
    ----------
    path : str or Path
        The input exposure.
    products : dict
        suffix -> Path, from :func:`planned_products`.

    Returns
    -------
    bool
    """
    source = Path(path).stat().st_mtime
    try:
        return bool(products) and all(
            product.stat().st_mtime > source and verified_fits(product)
            for product in products.values())
    except OSError:
        return False


def _make_pipeline(output_dir, parameters):
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    parameters = dict(parameters or {})
    if output_dir is not None:
        parameters["output_dir"] = str(output_dir)
    return WFC3IRPipeline(**parameters)


def track_stages(pipeline, on_stage):
    """Call ``on_stage(name)`` each time ``pipeline`` starts a stage of its work.

    The stages are ``"read"`` (the input), ``"check"`` (outputs, then reference files), each
    step under its ``timings`` label, and ``"write"`` (the products); they run one after the
    other, so a stage lasts until the next one starts. It is a stage hook of this instance
    (:meth:`~hstramp.pipeline.base.HstrampPipeline.add_stage_hook`). A batch uses it to name
    where a failure happened; the benchmarks to time the stages the steps' own timings leave
    out.

    Parameters
    ----------
    pipeline : HstrampPipeline
        The instance to watch.
    on_stage : callable
        Called with the stage name.
    """
    pipeline.add_stage_hook(lambda event: None if event.finished else on_stage(event.stage))


def _resident_mb():
    """Resident memory of this process, MB (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _worker_name():
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def calibrate_exposure(path, output_dir=None, parameters=None, environment=None):
    """Calibrate one exposure; never raise (a failure is returned as a result).

    This is the task each worker runs.

    Parameters
    ----------
    path : str or Path
        The raw or ima exposure.
    output_dir : str or Path, optional
        Where products go (default: next to the input).
    parameters : dict, optional
        Further :class:`WFC3IRPipeline` parameters, e.g. ``{"steps": {"jump":
        {"rejection_threshold": 5.0}}}``. Products are always overwritten (a batch only runs
        exposures whose products are missing, incomplete or stale).
    environment : dict, optional
        Environment variables to set first (``iref``: the reference-file directory).

    Returns
    -------
    ExposureResult
    """
    os.environ.update(environment or {})
    start, start_cpu = time.perf_counter(), time.process_time()
    stage = {"name": "setup"}
    products = ()
    try:
        pipeline = _make_pipeline(output_dir, {**(parameters or {}), "overwrite": True})
        track_stages(pipeline, lambda name: stage.update(name=name))
        result = pipeline.run(str(path))
        products = tuple(str(p) for p in pipeline.product_paths(result).values()
                         if Path(p).is_file())
    except Exception as exc:  # a batch reports every failure and goes on
        log.debug("%s failed in %s:\n%s", path, stage["name"], traceback.format_exc())
        return ExposureResult(str(path), "failed", stage["name"],
                              f"{type(exc).__name__}: {exc}", time.perf_counter() - start,
                              products, _worker_name(), _resident_mb(),
                              time.process_time() - start_cpu)
    return ExposureResult(str(path), "done", None, None, time.perf_counter() - start,
                          products, _worker_name(), _resident_mb(),
                          time.process_time() - start_cpu)


def warm_up_worker():
    """What a local worker's first exposure would pay for, paid while the batch plans: the
    pipeline's imports and asdf's configuration, loaded without the plugins no hstramp
    datamodel uses (:func:`hstramp.asdf_plugins.load_plugins_except`: the worker is a
    process hstramp owns); then the schema's per-read keywords, cached as reading the first
    exposure caches them."""
    from hstramp.asdf_plugins import load_plugins_except

    load_plugins_except()
    from hstramp.datamodels.wfc3_fits import per_read_arrays
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline  # noqa: F401  (what the task imports)

    per_read_arrays()


def _dask_client(scheduler, timeout):
    """A client of the cluster at ``scheduler`` with at least one worker, waiting at most
    ``timeout`` seconds for each."""
    from hstramp.errors import HstrampError

    try:
        from distributed import Client
    except ImportError as exc:
        raise HstrampError(
            "running on a dask cluster needs dask.distributed: pip install 'hstramp[batch]'"
        ) from exc
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise HstrampError(f"cannot reach the dask scheduler at {scheduler} within "
                           f"{timeout:g} s ({exc}); is it running? (--dask-timeout)") from exc
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise HstrampError(
            f"the dask cluster at {scheduler} has no workers after {timeout:g} s; start "
            f"some (dask worker {scheduler}) or wait longer (--dask-timeout)") from exc
    return client


def _dask_results(tasks, scheduler, timeout=DASK_TIMEOUT):
    """Run ``tasks`` on the dask.distributed cluster at ``scheduler``; yield as they finish.

    A task whose worker dies is moved to another worker by dask, up to its
    ``distributed.scheduler.allowed-failures`` (then ``KilledWorker``: that exposure fails).
    If the cluster has had no worker for ``timeout`` seconds, the exposures not yet finished
    fail and the batch ends; when the caller stops, the unfinished tasks are cancelled.
    """
    from distributed import wait

    with _dask_client(scheduler, timeout) as client:
        futures = {client.submit(calibrate_exposure, pure=False, **task): i
                   for i, task in enumerate(tasks)}
        remaining, workerless_since = set(futures), None
        try:
            while remaining:
                try:
                    done, remaining = wait(list(remaining), timeout=min(1.0, timeout),
                                           return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = ()
                for future in done:
                    try:
                        yield futures[future], future.result()
                    except Exception as exc:  # KilledWorker, lost connection, ...
                        yield futures[future], _lost(tasks[futures[future]], exc)
                    future.release()
                if client.nthreads():
                    workerless_since = None
                    continue
                workerless_since = workerless_since or time.monotonic()
                if time.monotonic() - workerless_since >= timeout:
                    yield from _abandon(futures, remaining, tasks, scheduler, timeout)
                    remaining = set()
        finally:
            client.cancel(list(remaining))


def _abandon(futures, remaining, tasks, scheduler, timeout):
    """``(index, failed result)`` of every unfinished task of a cluster left without workers."""
    error = RuntimeError(f"the dask cluster at {scheduler} has had no workers for "
                         f"{timeout:g} s (they died or were stopped); not run")
    for future in sorted(remaining, key=futures.get):
        yield futures[future], _lost(tasks[futures[future]], error)


def _lost(task, exc):
    """The result of an exposure whose worker died or could not be reached."""
    return ExposureResult(str(task["path"]), "failed", "worker",
                          f"{type(exc).__name__}: {exc}; its products were not written "
                          "(run the batch again to retry it)")


def check_distinct_products(planned):
    """Refuse, before any work, a batch in which two exposures would write the same product.

    Parameters
    ----------
    planned : dict
        Exposure path -> its products (suffix -> Path, from :func:`planned_products`).

    Raises
    ------
    hstramp.errors.InputFileError
        Naming the two inputs and the product (the same ROOTNAME in two files, or two
        ROOTNAMEs that differ only in case: products are named in lower case).
    """
    from hstramp.errors import InputFileError

    writers = {}
    for path, products in planned.items():
        for product in products.values():
            key = os.path.normcase(os.path.abspath(product))
            first = writers.setdefault(key, path)
            if first != path:
                raise InputFileError(
                    f"{first} and {path} would both write {product} (the same ROOTNAME, once "
                    "lower-cased); give them different output directories or calibrate them "
                    "in separate batches")


def run_batch(inputs, workers=None, scheduler=None, output_dir=None, parameters=None,
              force=False, progress=None, dask_timeout=DASK_TIMEOUT):
    """Calibrate many exposures in parallel and report on each.

    Parameters
    ----------
    inputs : iterable of str or Path
        Raw or ima exposures and ``_asn.fits`` associations (expanded to their members).
    workers : int, optional
        Local worker processes (default: the number of CPUs). Ignored with ``scheduler``:
        the cluster's workers are used.
    scheduler : str, optional
        Address of a running dask.distributed scheduler (``tcp://host:8786``). Workers must
        see the input, reference and output paths.
    output_dir : str or Path, optional
        Directory for every product (default: next to each input).
    parameters : dict, optional
        Further :class:`~hstramp.pipeline.wfc3ir.WFC3IRPipeline` parameters.
    force : bool
        Calibrate every exposure, even those whose products are current.
    progress : callable, optional
        ``progress(result, finished, total)`` after every exposure (skipped ones included).
    dask_timeout : float
        With ``scheduler``: seconds to wait for the scheduler to answer, for a first worker,
        and, during the batch, for a worker when the cluster has none left.

    Returns
    -------
    list of ExposureResult
        One per exposure, in input order.

    Raises
    ------
    hstramp.errors.HstrampError
        Before any work: an input that does not exist, an unreadable association, two
        exposures that would write the same product; a dask scheduler that does not answer
        or has no worker within ``dask_timeout``.
    hstramp.signals.Terminated, KeyboardInterrupt
        SIGTERM or Ctrl-C: the local workers are stopped (their staged products removed)
        before this propagates; on dask the unfinished tasks are cancelled.
    """
    from hstramp.errors import InputFileError
    from hstramp.pool import WorkerPool

    exposures = expand_inputs(inputs)
    missing = [str(path) for path in exposures if not path.is_file()]
    if missing:
        raise InputFileError(f"input files missing: {', '.join(missing)}")
    if output_dir is not None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    total, finished = len(exposures), 0
    results = [None] * total
    # local workers start now and warm up while the batch plans; stopped however this ends
    pool = contextlib.nullcontext() if scheduler else WorkerPool(
        min(max(1, workers or os.cpu_count() or 1), total), warm_up=warm_up_worker)
    with pool:
        planner = _make_pipeline(output_dir, parameters)
        environment = {name: os.environ[name] for name in FORWARDED_ENVIRONMENT
                       if name in os.environ}
        planned = {path: planned_products(path, pipeline=planner) for path in exposures}
        check_distinct_products(planned)
        tasks, positions = [], []
        for i, (path, products) in enumerate(planned.items()):
            if not force and products_are_current(path, products):
                results[i] = ExposureResult(str(path), "skipped",
                                            products=tuple(str(p) for p in products.values()))
                finished += 1
                if progress is not None:
                    progress(results[i], finished, total)
                continue
            tasks.append({"path": str(path), "output_dir": None if output_dir is None
                          else str(output_dir), "parameters": parameters,
                          "environment": environment})
            positions.append(i)
        if tasks:
            if scheduler:
                stream = _dask_results(tasks, scheduler, dask_timeout)
            else:  # a dead worker fails only its own exposure (hstramp.pool)
                stream = pool.run(calibrate_exposure, tasks, _lost)
            with contextlib.closing(stream):  # stops the workers, however the loop ends
                for index, result in stream:
                    results[positions[index]] = result
                    finished += 1
                    if progress is not None:
                        progress(result, finished, total)
    return results


def summary_table(results):
    """A text table of a batch: file, status, time, failing step, error; then the totals.

    Parameters
    ----------
    results : list of ExposureResult

    Returns
    -------
    str
    """
    width = max([len("file")] + [len(Path(r.path).name) for r in results])
    lines = [f"{'file':<{width}}  {'status':<8}{'time (s)':>9}  {'step':<12}error"]
    for r in results:
        seconds = f"{r.seconds:9.2f}" if r.status != "skipped" else f"{'-':>9}"
        lines.append(f"{Path(r.path).name:<{width}}  {r.status:<8}{seconds}  "
                     f"{r.step or '-':<12}{r.error or ''}")
    counts = {status: sum(r.status == status for r in results)
              for status in ("done", "skipped", "failed")}
    lines.append(", ".join(f"{n} {status}" for status, n in counts.items())
                 + f" of {len(results)} exposures")
    return "\n".join(lines)
