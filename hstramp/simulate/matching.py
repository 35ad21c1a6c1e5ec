"""Reference files made by the simulator for the geometry of a real exposure."""

from __future__ import annotations

from pathlib import Path

from hstramp.simulate.exposure import simulate_exposure

__all__ = ["references_for"]

_SIZES = {138: 128, 266: 256, 74: 64, 522: 512, 1024: 1014}


def references_for(raw_path, out_dir, seed=0):
    """A complete simulated reference set matching a real WFC3/IR exposure.

    The real CRDS files a raw names are not available offline; this makes files of the same
    types, geometry (subarray and LTV), sample sequence, read times and filter, so the real
    raw runs end to end. The values are the simulator's, not the real detector's.

    Parameters
    ----------
    raw_path : str or Path
        A WFC3/IR raw (or ima) file.
    out_dir : str or Path
        Where to write the reference files.
    seed : int
        Simulator seed.

    Returns
    -------
    dict
        Lower-case reference keyword (``darkfile`` ...) -> path, ready for
        ``override_<keyword>`` step parameters.
    """
    from hstramp.datamodels import read_multiaccum
    from hstramp.errors import InputFileError

    model = read_multiaccum(raw_path)
    ny = model.data.shape[1]
    if ny not in _SIZES:
        raise InputFileError(f"{raw_path}: no simulated geometry for a {ny}-pixel readout")
    sim = simulate_exposure(Path(out_dir), size=_SIZES[ny], samp_seq=model.meta.exposure.samp_seq,
                            nsamp=model.ngroups, seed=seed, filter=model.meta.instrument.filter,
                            expstart=model.meta.exposure.expstart, cosmic_rays=False,
                            noise=False)
    return {keyword.lower(): Path(path) for keyword, path in sim.reference_paths.items()}
