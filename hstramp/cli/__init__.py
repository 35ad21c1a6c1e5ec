"""The ``hstramp`` console script: one module per subcommand.

Each subcommand module defines ``add_parser(subparsers)`` (returning its parser) and
``run(args) -> int``. Modules are imported only when their subcommand runs, so
``hstramp --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys

from hstramp import __version__

__all__ = ["main"]

#: subcommand -> module; a module that is not installed is simply not offered
SUBCOMMANDS = {
    "demo": "hstramp.cli.demo",
    "xray": "hstramp.cli.xray",
    "stats": "hstramp.cli.stats",
    "tvb": "hstramp.cli.tvb",
    "batch": "hstramp.cli.batch",
    "dq": "hstramp.cli.dq",
    "stis-demo": "hstramp.cli.stis_demo",
    "report": "hstramp.cli.report",
}

log = logging.getLogger("hstramp")


def available_subcommands():
    """Subcommand name -> module name, for the modules present in this installation."""
    return {name: module for name, module in SUBCOMMANDS.items()
            if importlib.util.find_spec(module) is not None}


def build_parser():
    """The top-level argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="hstramp",
        description="Calibrate HST WFC3/IR MultiAccum exposures (and STIS CCD) with hstramp.",
    )
    parser.add_argument("--version", action="version", version=f"hstramp {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log DEBUG messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _name, module in available_subcommands().items():
        importlib.import_module(module).add_parser(subparsers)
    return parser


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
    status 2; anything else is a bug and shows its traceback (status 1).
    """
    from hstramp.errors import HstrampError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    configure_logging(args.verbose)
    module = importlib.import_module(available_subcommands()[args.command])
    try:
        return int(module.run(args) or 0)
    except HstrampError as exc:
        print(f"hstramp {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hstramp {args.command}: interrupted; no partial product was left", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
