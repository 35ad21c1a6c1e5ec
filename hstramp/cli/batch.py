"""``hstramp batch``: calibrate many exposures on a local process pool or a dask cluster."""

from __future__ import annotations

import os
import sys

from hstramp.cli.arguments import finite_float, integer_in, output_directory
from hstramp.cli.pipeline_args import add_pipeline_arguments, pipeline_parameters


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.description = (
        "Run WFC3IRPipeline on every exposure given (raw or ima files, or the members of "
        "_asn.fits associations), one exposure per worker process. Exposures whose products "
        "are newer than their input and pass their FITS checksums are skipped; a failing "
        "exposure (or one whose worker dies) is reported and the others go on. Exit status 1 "
        "if any exposure failed, 2 for a bad input (two exposures writing the same product) "
        "or an unusable dask cluster, 130 on Ctrl-C, 143 on SIGTERM.")
    parser.add_argument("inputs", nargs="+", metavar="FILE_OR_ASN",
                        help="_raw.fits / _ima.fits exposures or _asn.fits associations")
    parser.add_argument("--workers", type=integer_in(1), default=None,
                        help=f"local worker processes [number of CPUs: {os.cpu_count()}]; "
                             "with --scheduler the cluster's workers are used")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on the dask.distributed cluster at ADDRESS "
                             "(tcp://host:8786) instead of local processes")
    parser.add_argument("--output-dir", type=output_directory,
                        help="directory for the products [next to each input]; "
                        "it also gets hstramp_batch.json, the record `hstramp report` reads")
    parser.add_argument("--dask-timeout", type=finite_float(0, strictly=True), default=None,
                        metavar="SECONDS",
                        help="with --scheduler: how long to wait for the scheduler, for a first "
                             "worker, and for a worker when the cluster has lost them all "
                             "[60]")
    parser.add_argument("--force", action="store_true",
                        help="recalibrate exposures whose products are already current")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_pipeline_arguments(parser)


def _text(path):
    """``path`` as the string the pipeline's ``output_dir`` takes (None stays None)."""
    return None if path is None else str(path)


class Progress:
    """A progress bar: tqdm when installed, else one rewritten line on stderr.

    Parameters
    ----------
    total : int
        Number of exposures.
    enabled : bool
        False for no output at all.
    """

    def __init__(self, total, enabled=True):
        self.total = total
        self.bar = None
        self.enabled = enabled
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self.bar = tqdm(total=total, unit="exposure", file=sys.stderr)

    def __call__(self, result, finished, total):
        """Report one finished exposure (the ``progress`` callback of ``run_batch``)."""
        if not self.enabled:
            return
        name = os.path.basename(result.path)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{name} {result.status}")
            return
        end = "\n" if finished == total else ""
        print(f"\r[{finished}/{total}] {name} {result.status}".ljust(60), end=end,
              file=sys.stderr, flush=True)

    def close(self):
        """Finish the bar."""
        if self.bar is not None:
            self.bar.close()


def run(args):
    """Run the batch, print the summary table; 1 if any exposure failed, else 0."""
    from hstramp.batch import DASK_TIMEOUT, expand_inputs, run_batch, summary_table

    total = len(expand_inputs(args.inputs))
    progress = Progress(total, enabled=not args.no_progress)
    try:
        results = run_batch(args.inputs, workers=args.workers, scheduler=args.scheduler,
                            output_dir=_text(args.output_dir), force=args.force, progress=progress,
                            parameters=pipeline_parameters(args),
                            dask_timeout=args.dask_timeout or DASK_TIMEOUT)
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM (hstramp.signals.Terminated)
        progress.close()
        print("hstramp batch: stopped; the workers were stopped and their temporary files "
              "removed; finished exposures keep their products: run the same command again "
              "to do the rest", file=sys.stderr)
        raise
    finally:
        progress.close()
    print(summary_table(results))
    if args.output_dir is not None:
        from hstramp.report import write_batch_record

        print(f"record: {write_batch_record(results, args.output_dir)} "
              f"(hstramp report {args.output_dir} --out report.html)")
    return 1 if any(r.status == "failed" for r in results) else 0
