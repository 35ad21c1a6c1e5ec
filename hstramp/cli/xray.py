"""``hstramp xray``: one pixel's reads after every step of the pipeline (calwf3's "x-ray")."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hstramp.cli.arguments import output_directory, output_file
from hstramp.cli.pipeline_args import add_pipeline_arguments, pipeline_parameters
from hstramp.datamodels.dqflags import CR_RAMP, dq_mnemonics
from hstramp.plots import new_figure, robust_limits, save_png


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
    parser.add_argument("--plot", metavar="PNG", type=output_file,
                        help="save the pixel's ramp through the steps")
    parser.add_argument("--output-dir", type=output_directory,
                        help="also write the ima and flt products here")
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


def fitted_rates(xray):
    """The pixel's fitted rate in each rate unit met: ``{"COUNTS/S": ..., "ELECTRONS/S": ...}``.

    The ramp fit gives it in COUNTS/S, the flat field of the flt in ELECTRONS/S.
    """
    rates = {}
    for row in xray.rows:
        if row[0] == "image" and np.isfinite(row[3]["SCI"]):
            rates[(row[2] or "").upper()] = float(row[3]["SCI"])
    return rates


def fitted_segments(times, sci, rate, *, jumps, in_rates):
    """The fitted ramp drawn over the reads: one line per segment between jumps.

    The ramp fit gives one rate; each segment (the reads from one jump to the next) keeps
    its own offset, fitted to its reads other than the jump read itself. In rate units a
    read is its accumulated signal divided by its time, and so is the line.

    Parameters
    ----------
    times, sci : ndarray [ngroups]
    jumps : ndarray of bool [ngroups]
        Reads flagged CR_RAMP by the jump step (the first read after each jump).
    rate : float
        The fitted rate (per second of the panel's count unit).
    in_rates : bool
        The reads are rates (SCI / TIME).

    Returns
    -------
    list of tuple
        ``(t, y)`` arrays of each segment's line.
    """
    counts = sci * times if in_rates else sci
    usable = times > 0 if in_rates else np.ones(times.shape, bool)
    segment = np.cumsum(jumps)
    lines = []
    for number in np.unique(segment[usable]):
        members = usable & (segment == number)
        offset = float(np.mean(counts[members] - rate * times[members]))
        span = times[segment == number]
        t = np.linspace(max(span[0], times[members][0] if in_rates else span[0]), span[-1], 50)
        y = offset + rate * t
        lines.append((t, y / t if in_rates else y))
    return lines


#: a read whose ERR exceeds this many times the median ERR does not set the y-range
NOISY_READ = 5.0


def scale_reads(err):
    """Reads that set a panel's y-range: not the zeroth read, and not a read whose error is
    more than :data:`NOISY_READ` times the median (in rate units the reads a fraction of a
    second after the zeroth read are divided by that fraction)."""
    use = np.ones(err.shape, bool)
    use[0] = False
    positive = err[1:][err[1:] > 0]
    if positive.size:
        use[1:] &= ~(err[1:] > NOISY_READ * np.median(positive))
    return use


def draw_ramp(ax, times, sci, err, dq, *, bunit, rate=None, jumps=None):
    """One panel of the x-ray: the reads, the fitted ramp, flagged reads marked.

    The y-range is set by the reads of :func:`scale_reads` and the fitted line, so the
    zeroth read never flattens the ramp; reads outside it are drawn on the edge with their
    values written.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    times, sci, err : ndarray [ngroups]
        Seconds since the zeroth read; the pixel's value and error in every read.
    dq : ndarray [ngroups]
        DQ of every read (read DQ OR pixel DQ).
    bunit : str
        The reads' unit (COUNTS, COUNTS/S, ELECTRONS/S ...).
    rate : float, optional
        Fitted rate in ``bunit`` (per second for a count unit); None: no fitted line.
    jumps : ndarray of bool [ngroups], optional
        Where the fitted line starts a new segment (the final jump flags); default the
        CR_RAMP flags in ``dq``.
    """
    bunit = (bunit or "COUNTS").upper()
    in_rates = "/S" in bunit
    jump = (dq & CR_RAMP) != 0
    other = (dq != 0) & ~jump
    scaled = scale_reads(err)
    ax.plot(times, sci, "o-", ms=3, color="k", lw=0.8, label="reads")
    if np.any(err[scaled] > 0):
        ax.errorbar(times[scaled], sci[scaled], yerr=err[scaled], fmt="none", ecolor="0.5",
                    elinewidth=0.6)
    visible = [sci[scaled]]
    if rate is not None:
        breaks = jump if jumps is None else jumps
        for t, y in fitted_segments(times, sci, rate, jumps=breaks, in_rates=in_rates):
            ax.plot(t, y, "-", color="tab:blue", lw=1.2, label="fitted ramp")
            visible.append(y[t >= times[scaled][0]] if scaled.any() else y)
    if jump.any():
        ax.plot(times[jump], sci[jump], "X", ms=8, color="tab:red", ls="none",
                label="jump (CR_RAMP)")
    if other.any():
        ax.plot(times[other], sci[other], "o", ms=7, mfc="none", color="tab:orange", ls="none",
                label="other DQ flag")
    low, high = robust_limits(np.concatenate(visible))
    ax.set_ylim(low, high)
    outside = np.flatnonzero((sci < low) | (sci > high))
    for k in outside:
        above = sci[k] > high
        ax.plot([times[k]], [high if above else low], "^" if above else "v", color="0.45",
                ms=6, clip_on=False, label="read off scale")
        ax.annotate(f"{sci[k]:.3g}", (times[k], high if above else low),
                    textcoords="offset points", xytext=(4, -9 if above else 3), fontsize=6,
                    color="0.45")
    ax.set_xlabel("time since the zeroth read (s)", fontsize=7)
    ax.set_ylabel(bunit, fontsize=7)
    ax.tick_params(labelsize=7)


def plot_xray(xray, path=None):
    """Small multiples: the pixel's reads after each ramp step, with the fitted ramp drawn and
    jumps and other flagged reads marked.

    Parameters
    ----------
    xray : PixelXray
    path : str or Path, optional
        PNG to write.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ramps = [row for row in xray.rows if row[0] == "ramp"]
    rates = fitted_rates(xray)
    jumps = (ramps[-1][6] & CR_RAMP) != 0 if ramps else None
    ncol = 4
    nrow = int(np.ceil(len(ramps) / ncol))
    fig, axes = new_figure(nrow, ncol, figsize=(3.2 * ncol, 2.7 * nrow), squeeze=False)
    for ax, (_kind, label, bunit, times, sci, err, dq) in zip(axes.flat, ramps, strict=False):
        unit = (bunit or "COUNTS").upper()
        rate = rates.get(unit if "/S" in unit else f"{unit}/S")
        draw_ramp(ax, times, sci, err, dq, bunit=unit, rate=rate, jumps=jumps)
        ax.set_title(f"after {label}", fontsize=9)
    for ax in list(axes.flat)[len(ramps):]:
        ax.axis("off")
    handles = {}
    for ax in axes.flat:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(name, handle)
    fig.legend(list(handles.values()), list(handles), loc="lower right", fontsize=8,
               ncols=min(len(handles), 5))
    fitted = "; ".join(f"fitted {rate:.4g} {unit}" for unit, rate in rates.items())
    fig.suptitle(f"pixel x={xray.x} y={xray.y}" + (f" ({fitted})" if fitted else ""))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    if path is not None:
        save_png(fig, path, dpi=100)
    return fig


def run(args):
    """Run the pipeline with the x-ray observer and print the table."""
    from hstramp.datamodels import open as open_model
    from hstramp.errors import ParameterError
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    parameters = pipeline_parameters(args)  # a bad --config or --steps before the input
    x, y = args.pixel
    ny, nx = open_model(args.raw).data.shape[-2:]
    if not (0 <= x < nx and 0 <= y < ny):
        raise ParameterError(f"--pixel {x} {y} is outside the {nx}x{ny} image of {args.raw}")
    xray = PixelXray(x, y)
    writes = args.output_dir is not None
    pipeline = WFC3IRPipeline(**{
        **parameters, "save_ima": writes, "save_flt": writes,
        "output_dir": str(args.output_dir or Path(args.raw).parent)})
    pipeline.add_stage_hook(xray)
    pipeline.run(args.raw)
    print(f"x-ray of pixel x={x} y={y} of {args.raw}")
    print(format_xray(xray))
    if args.plot:
        plot_xray(xray, args.plot)
        print(f"\nplot: {args.plot}")
    return 0
