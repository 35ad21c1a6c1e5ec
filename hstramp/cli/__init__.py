"""The ``hstramp`` console script: one module per subcommand.

Each subcommand module defines ``add_arguments(parser)`` (its description and arguments) and
``run(args) -> int``; what they share is in :mod:`hstramp.cli._common`. The one-line help of
every subcommand is listed here, so ``hstramp --help`` imports no subcommand module (and no
numpy): only the module of the subcommand named on the command line is imported.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys

from hstramp import __version__

__all__ = ["OneLineParser", "command", "main"]

#: subcommand -> (module, one-line help); a module that is not installed is simply not offered
SUBCOMMANDS = {
    "demo": ("hstramp.cli.demo",
             "simulate a full-frame exposure, calibrate it, compare with the truth"),
    "xray": ("hstramp.cli.xray", "show one pixel's SCI, ERR and DQ after every step"),
    "stats": ("hstramp.cli.stats",
              "per-read statistics of a region of a raw or ima file (like pstat)"),
    "tvb": ("hstramp.cli.tvb",
            "detect a time-variable background (He I, Earth light) in raw/ima files"),
    "batch": ("hstramp.cli.batch",
              "calibrate many exposures in parallel (local processes or dask)"),
    "dq": ("hstramp.cli.dq", "name the WFC3/IR flags set in DQ values"),
    "stis-demo": ("hstramp.cli.stis_demo",
                  "simulate a STIS CCD CR-SPLIT exposure, calibrate it, check the crj"),
    "refs": ("hstramp.cli.refs",
             "best reference files of raws (CRDS), sync them, or simulate a set"),
    "report": ("hstramp.cli.report",
               "one static HTML page summarising a batch output directory or exposure"),
    "run": ("hstramp.cli.run",
            "run a step or pipeline as strun does, with one-line errors (exit status 2)"),
}

log = logging.getLogger("hstramp")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose refusal is one line, ``hstramp <command>: error: ...``, and
    exit status 2 (argparse's default prints the whole usage first)."""

    def error(self, message):
        """Print ``<prog>: error: <message>`` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def available_subcommands():
    """Subcommand name -> (module name, help), for the modules present in this installation."""
    return {name: entry for name, entry in SUBCOMMANDS.items()
            if importlib.util.find_spec(entry[0]) is not None}


def build_parser(command=None):
    """The top-level argument parser; only ``command``'s module is imported for its arguments.

    Parameters
    ----------
    command : str, optional
        The subcommand about to run (its arguments are added); the others are listed by name
        and help only.
    """
    parser = OneLineParser(
        prog="hstramp",
        description="Calibrate HST WFC3/IR MultiAccum exposures (and STIS CCD) with hstramp.",
    )
    parser.add_argument("--version", action="version", version=f"hstramp {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log DEBUG messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in available_subcommands().items():
        subparser = subparsers.add_parser(name, help=summary)
        if name == command:
            importlib.import_module(module).add_arguments(subparser)
    return parser


def named_subcommand(argv):
    """The first word of ``argv`` that is not an option (the subcommand), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


def configure_logging(verbose):
    """Log to stderr for command-line use (library code never configures logging)."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv=None):
    """Run the ``hstramp`` command; return its exit status.

    Errors hstramp raises on purpose print one line naming what is at fault and exit with
    status 2; anything else is a bug and shows its traceback (status 1). Ctrl-C gives 130,
    SIGTERM 143 (:class:`~hstramp.signals.Terminated`), both after removing temporaries.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(named_subcommand(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(available_subcommands()[args.command][0])
    if not getattr(module, "STPIPE_LOGGING", False):  # `run` logs as strun does
        configure_logging(args.verbose)
    from hstramp.cli._common import exit_status
    from hstramp.signals import terminate_cleanly

    with terminate_cleanly():  # SIGTERM unwinds like Ctrl-C, then exits with 143
        return exit_status(args.command, module.run, args)


def command():
    """The ``hstramp`` program (its console script and ``python -m hstramp``): :func:`main`,
    then the process's end without CPython's final garbage collections
    (:func:`~hstramp.signals.freeze_for_exit`). Returns the exit status."""
    from hstramp.signals import freeze_for_exit

    status = main()
    freeze_for_exit()
    return status


if __name__ == "__main__":
    sys.exit(command())
