"""``hstramp xray``: one pixel's reads after every step of the pipeline (calwf3's "x-ray")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hstramp.cli.pipeline_args import add_pipeline_arguments, pipeline_parameters
from hstramp.datamodels.dqflags import dq_mnemonics


def add_arguments(parser):
    """The subcommand's description and arguments."""
    parser.description = (
        "Run WFC3IRPipeline one step at a time and print, for one pixel, SCI, ERR and DQ of "
        "every read after each step, then the fitted rate, error, DQ, SAMP and TIME. Pixel "
        "coordinates are 0-indexed columns/rows of the raw array (reference border included);"
        " the flt pixel is 5 less in each.")
    parser.add_argument("raw", help="a _raw.fits (or _ima.fits) exposure; set $iref (or "
                                    "--use-crds)")
    parser.add_argument("--pixel", nargs=2, type=int, required=True, metavar=("X", "Y"),
                        help="column and row in the raw array, 0-indexed")
    parser.add_argument("--plot", metavar="PNG", help="save the pixel's ramp through the steps")
    parser.add_argument("--output-dir", help="also write the ima and flt products here")
    add_pipeline_arguments(parser)


@dataclass
class PixelXray:
    """Records one pixel of every model the pipeline produces, step by step."""

    x: int
    y: int
    rows: list = field(default_factory=list)

    def __call__(self, event):
        """Pipeline stage hook: keep the pixel's values of every step's result."""
        from hstramp.datamodels import RampModel

        if not event.finished or event.model is None:
            return
        label, model = event.stage, event.model
        if isinstance(model, RampModel):
            dq = model.groupdq[:, self.y, self.x] | model.pixeldq[self.y, self.x]
            self.rows.append(("ramp", label, model.meta.bunit_data, model.times.copy(),
                              model.data[:, self.y, self.x].copy(),
                              model.err[:, self.y, self.x].copy(), dq.copy()))
        else:
            border = _border(model)
            x, y = self.x - border, self.y - border
            self.rows.append(("image", label, model.meta.bunit_data,
                              {"SCI": model.data[y, x], "ERR": model.err[y, x],
                               "DQ": model.dq[y, x], "SAMP": model.samp[y, x],
                               "TIME": model.time[y, x]}))


def _border(image):
    """Reference border removed from an image (its LTV differs from the raw's by this)."""
    from hstramp.core.geometry import REFERENCE_BORDER

    return REFERENCE_BORDER


def format_xray(xray):
    """The x-ray table: per step, every read's SCI, ERR, DQ; then the fitted values."""
    lines = []
    for row in xray.rows:
        if row[0] == "ramp":
            _kind, label, bunit, times, sci, err, dq = row
            lines.append(f"\nafter {label} ({bunit or 'COUNTS'})")
            lines.append(f"{'read':>5s}{'time (s)':>11s}{'SCI':>14s}{'ERR':>12s}{'DQ':>7s}  flags")
            for i in range(len(times)):
                names = ",".join(dq_mnemonics(dq[i]))
                lines.append(f"{i:5d}{times[i]:11.3f}{sci[i]:14.4f}{err[i]:12.4f}"
                             f"{int(dq[i]):7d}  {names}")
        else:
            _kind, label, bunit, values = row
            names = ",".join(dq_mnemonics(values["DQ"])) or "GOOD"
            lines.append(f"\nafter {label}: rate {values['SCI']:.5f} +/- {values['ERR']:.5f} "
                         f"{bunit}, DQ {int(values['DQ'])} ({names}), SAMP {int(values['SAMP'])}"
                         f", TIME {values['TIME']:.3f} s")
    return "\n".join(lines)


def plot_xray(xray, path):
    """Small multiples: the pixel's reads after each ramp step, flagged reads marked."""
    from hstramp.cli._common import new_figure

    ramps = [row for row in xray.rows if row[0] == "ramp"]
    ncol = 4
    nrow = int(np.ceil(len(ramps) / ncol))
    fig, axes = new_figure(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), squeeze=False)
    for ax, (_kind, label, bunit, times, sci, _err, dq) in zip(axes.flat, ramps, strict=False):
        ax.plot(times, sci, "o-", ms=3, color="k")
        flagged = dq != 0
        ax.plot(times[flagged], sci[flagged], "o", ms=6, mfc="none", color="r")
        ax.set_title(label, fontsize=9)
        ax.set_ylabel(bunit or "COUNTS", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(ramps):]:
        ax.axis("off")
    fig.suptitle(f"pixel x={xray.x} y={xray.y} (red: flagged reads)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def run(args):
    """Run the pipeline with the x-ray observer and print the table."""
    from hstramp.datamodels import open as open_model
    from hstramp.errors import ParameterError
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    x, y = args.pixel
    ny, nx = open_model(args.raw).data.shape[-2:]
    if not (0 <= x < nx and 0 <= y < ny):
        raise ParameterError(f"--pixel {x} {y} is outside the {nx}x{ny} image of {args.raw}")
    xray = PixelXray(x, y)
    writes = args.output_dir is not None
    pipeline = WFC3IRPipeline(**{
        **pipeline_parameters(args), "save_ima": writes, "save_flt": writes,
        "output_dir": args.output_dir or str(Path(args.raw).parent)})
    pipeline.add_stage_hook(xray)
    pipeline.run(args.raw)
    print(f"x-ray of pixel x={x} y={y} of {args.raw}")
    print(format_xray(xray))
    if args.plot:
        plot_xray(xray, args.plot)
        print(f"\nplot: {args.plot}")
    return 0
