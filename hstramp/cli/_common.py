"""What the ``hstramp`` subcommands share: argument helpers, reading a ramp for statistics,
the PNG file names, and how an error becomes an exit status.

Import-light (numpy, astropy and matplotlib are imported by the functions that need them), so
that ``hstramp`` can use it before it knows which subcommand runs.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hstramp.cli.arguments import output_directory
from hstramp.errors import HstrampError, ParameterError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ExposureRamp", "add_sky_arguments", "exit_status", "load_ramp", "parse_region",
           "plot_path", "sky_parameters"]

_REGION = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*,\s*(\d+)\s*:\s*(\d+)\s*$")


def exit_status(command, run, args):
    """Run a subcommand and return its exit status.

    Errors hstramp raises on purpose (:class:`~hstramp.errors.HstrampError`: a bad file,
    parameter or reference) print one line naming what is at fault and give status 2; Ctrl-C
    gives 130; anything else is a bug and shows its traceback.

    Parameters
    ----------
    command : str
        The subcommand's name, for the message.
    run : callable
        The subcommand's ``run(args)``, returning its status (None: 0).
    args : argparse.Namespace
    """
    try:
        return int(run(args) or 0)
    except HstrampError as exc:
        print(f"hstramp {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hstramp {command}: interrupted; no partial product was left", file=sys.stderr)
        return 130


def parse_region(text):
    """Parse ``X1:X2,Y1:Y2`` (0-based, half-open columns then rows) into ``(x1, x2, y1, y2)``.

    Raises
    ------
    ParameterError
        If the text is not four integers in that form.
    """
    match = _REGION.match(text or "")
    if not match:
        raise ParameterError(f"--region must look like X1:X2,Y1:Y2 (0-based, half-open), "
                             f"got {text!r}")
    return tuple(int(v) for v in match.groups())


def _region_argument(text):
    """argparse type for ``--region``: the ParameterError message becomes argparse's."""
    try:
        return parse_region(text)
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_sky_arguments(parser):
    """Arguments shared by ``stats`` and ``tvb``: region, clipping, DQ mask, PNGs."""
    from hstramp.datamodels.dqflags import SDQFLAGS_DEFAULT

    parser.add_argument("--region", type=_region_argument, metavar="X1:X2,Y1:Y2",
                        help="0-based half-open columns and rows of the raw/ima array "
                             "(default: the science area, without the 5-pixel border)")
    parser.add_argument("--clip-sigma", type=float, default=3.0,
                        help="sigma clipping about the median (0: none; default 3)")
    parser.add_argument("--clip-iterations", type=int, default=5,
                        help="at most this many clipping passes (default 5)")
    parser.add_argument("--dq-mask", type=int, default=SDQFLAGS_DEFAULT,
                        help="DQ bits (in any read) that exclude a pixel (default 31743; "
                             "0: no masking)")
    parser.add_argument("--plot-dir", default=".", type=output_directory,
                        help="directory for the PNGs (default: the current directory)")
    parser.add_argument("--no-plot", action="store_true", help="do not write PNGs")


def sky_parameters(args):
    """SkyParameters from the shared arguments (region None: the science area).

    Raises
    ------
    ParameterError
        A value SkyParameters refuses (the message names the parameter).
    """
    from hstramp.core.tvb import SkyParameters

    return SkyParameters(region=args.region,
                         clip_sigma=args.clip_sigma, clip_iterations=args.clip_iterations,
                         dq_mask=args.dq_mask)


@dataclass(frozen=True, eq=False)
class ExposureRamp:
    """A MultiAccum file's reads, ready for statistics.

    Attributes
    ----------
    path : Path
    rootname : str
    data : ndarray float32 [ngroups, ny, nx]
        Counts since the zeroth read, or the stored values (``as_stored``).
    in_rates : bool
        True if ``data`` are rates (only with ``as_stored``).
    times : ndarray [ngroups]
    dq : ndarray uint16 [ngroups, ny, nx]
        Read DQ OR pixel DQ.
    unit : str
        The count unit (COUNTS or ELECTRONS).
    offset_noise : float
        Error of each read's level from the reference pixels, counts
        (:func:`hstramp.core.tvb.reference_offset_noise`).
    """

    path: Path
    rootname: str
    data: np.ndarray
    in_rates: bool
    times: np.ndarray
    dq: np.ndarray
    unit: str
    offset_noise: float = 0.0


def load_ramp(path, *, as_stored=False):
    """Read a raw or ima file and return its reads for statistics.

    Parameters
    ----------
    path : str or Path
    as_stored : bool, optional
        Keep the stored values instead of the signal since the zeroth read.

    Returns
    -------
    ExposureRamp
    """
    import numpy as np

    from hstramp.core.tvb import reference_offset_noise, signal_since_zeroth_read
    from hstramp.datamodels import read_multiaccum

    path = Path(path)
    model = read_multiaccum(path)
    bunit = (model.meta.bunit_data or "COUNTS").upper()
    in_rates = model.in_rates
    if as_stored:
        data = model.data
    else:
        data = signal_since_zeroth_read(
            model.data, model.times, in_rates=in_rates,
            zero_subtracted=model.meta.cal_step.zoffcorr == "COMPLETE")
        in_rates = False
    rootname = (model.meta.observation.rootname or path.name.split("_")[0]).lower()
    return ExposureRamp(path=path, rootname=rootname, data=data, in_rates=in_rates,
                        times=np.asarray(model.times), dq=model.groupdq | model.pixeldq,
                        unit=bunit.split("/")[0],
                        offset_noise=reference_offset_noise(model.data))


def plot_path(plot_dir, path, kind):
    """``<plot_dir>/<file name without .fits>_<kind>.png``: a raw and an ima of one exposure
    (one rootname) get a PNG each.

    Parameters
    ----------
    plot_dir : str or Path
    path : str or Path
        The input file.
    kind : str
        ``stats`` or ``tvb``.

    Returns
    -------
    Path
    """
    name = Path(path).name
    for ending in (".fits.gz", ".fits"):
        if name.lower().endswith(ending):
            name = name[: -len(ending)]
            break
    return Path(plot_dir) / f"{name}_{kind}.png"


