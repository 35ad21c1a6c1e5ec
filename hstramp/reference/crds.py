"""Best reference files for HST exposures from CRDS, through the real ``crds`` client.

The client (PyPI ``crds``, observatory ``hst``; install with ``pip install hstramp[crds]``)
computes the best references from the CRDS rules in a local cache (``CRDS_PATH``) and, when
a server is configured (``CRDS_SERVER_URL=https://hst-crds.stsci.edu`` or
``CRDS_CONFIG_URI``), fetches missing files from it. With no server it works from the cache
alone, and a file the cache lacks is one error naming the keyword, the file and the command
that fetches it.

The pipelines use CRDS when asked (step or pipeline parameter ``use_crds``, or the
environment ``HSTRAMP_CRDS=1``): ``override_<reftype>`` still wins, and so does a header
value ``iref$name`` (``oref$`` for STIS) while that environment variable is set.
See ``docs/getting_references.md``.
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from hstramp.errors import HstrampError

__all__ = [
    "ENVIRONMENT",
    "BestReference",
    "CRDSError",
    "best_references",
    "crds_enabled",
    "crds_selection",
    "exposure_parameters",
    "fetch_command",
    "header_parameters",
    "sync_references",
]

log = logging.getLogger(__name__)

#: environment setting that turns CRDS resolution on for every step (JWST-like)
ENVIRONMENT = "HSTRAMP_CRDS"
OBSERVATORY = "hst"
#: instruments hstramp calibrates -> the CDBS environment prefix of their references
INSTRUMENT_PREFIX = {"WFC3": "iref", "STIS": "oref"}
_TRUE = ("1", "true", "yes", "on", "t", "y")
_SERVER_HELP = ("online, with CRDS_SERVER_URL=https://hst-crds.stsci.edu, run: "
                "crds sync --hst --contexts hst-operational")


class CRDSError(HstrampError, ValueError):
    """CRDS cannot say which reference files an exposure needs, or cannot provide one."""


@dataclass(frozen=True)
class BestReference:
    """One reference file CRDS selects for an exposure.

    Attributes
    ----------
    keyword : str
        Header keyword (``DARKFILE``).
    filename : str or None
        The file's name; None when CRDS says the type does not apply ('N/A').
    path : Path or None
        Where the file is (or would be) in the CRDS cache.
    prefix : str
        Environment prefix of the instrument's references (``iref``, ``oref``).
    """

    keyword: str
    filename: str | None
    path: Path | None
    prefix: str

    @property
    def cached(self) -> bool:
        """True if the file is in the cache (always True for 'N/A')."""
        return self.path is None or self.path.is_file()

    @property
    def header_value(self) -> str:
        """The value ``crds bestrefs --update-bestrefs`` writes: ``iref$name`` or 'N/A'."""
        return "N/A" if self.filename is None else f"{self.prefix}${self.filename}"


def crds_enabled(*settings) -> bool:
    """Whether references should come from CRDS.

    Parameters
    ----------
    *settings : bool or None
        Parameter values in order of precedence (a step's ``use_crds``, its pipeline's);
        the first that is not None decides. If all are None, ``HSTRAMP_CRDS`` decides.

    Returns
    -------
    bool
    """
    for value in settings:
        if value is not None:
            return bool(value)
    return os.environ.get(ENVIRONMENT, "").strip().lower() in _TRUE


# --------------------------------------------------------------------------- parameters
def _simple(value) -> bool:
    return isinstance(value, str | int | float | bool)


def _observation_time(header) -> tuple[str, str] | None:
    """DATE-OBS and TIME-OBS from EXPSTART (or STIS's TEXPSTRT), MJD, when absent."""
    for keyword in ("EXPSTART", "TEXPSTRT"):
        mjd = header.get(keyword)
        if isinstance(mjd, int | float):
            when = datetime.datetime(1858, 11, 17) + datetime.timedelta(days=float(mjd))
            return when.strftime("%Y-%m-%d"), when.strftime("%H:%M:%S")
    return None


def header_parameters(header, source: str = "header") -> dict:
    """The matching parameters CRDS needs from a primary header.

    Parameters
    ----------
    header : mapping
        Primary header (astropy Header or dict).
    source : str
        Where the header comes from, for error messages.

    Returns
    -------
    dict
        Keyword -> value (strings, numbers, booleans), with DATE-OBS and TIME-OBS derived
        from EXPSTART when the header has none (HST's rules select by observation date).

    Raises
    ------
    CRDSError
        INSTRUME missing or not an instrument hstramp calibrates.
    """
    parameters = {str(k).upper(): v for k, v in dict(header).items() if k and _simple(v)}
    instrument = str(parameters.get("INSTRUME", "")).strip().upper()
    if instrument not in INSTRUMENT_PREFIX:
        found = f"INSTRUME = {instrument!r}" if instrument else "no INSTRUME keyword"
        raise CRDSError(f"{source}: {found}; hstramp looks up references for "
                        f"{' and '.join(INSTRUMENT_PREFIX)} exposures only")
    if "DATE-OBS" not in parameters:
        when = _observation_time(parameters)
        if when is not None:
            parameters["DATE-OBS"], parameters["TIME-OBS"] = when
    return parameters


def exposure_parameters(path) -> dict:
    """:func:`header_parameters` of a FITS exposure's primary header.

    Raises
    ------
    InputFileError
        The file is missing or not FITS.
    CRDSError
        See :func:`header_parameters`.
    """
    from astropy.io import fits

    from hstramp.errors import InputFileError

    try:
        header = fits.getheader(path, 0)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path} is not a readable FITS file: {exc}") from exc
    return header_parameters(header, str(path))


# --------------------------------------------------------------------------- the client
_ENV_SEEN: dict = {}


def _client():
    """The ``crds`` package, its in-process caches cleared if the CRDS settings changed.

    Raises
    ------
    CRDSError
        ``crds`` is not installed, or the cache cannot serve offline.
    """
    try:
        import crds
        from crds.client import api
        from crds.core import utils
    except ImportError as exc:
        raise CRDSError("the CRDS client is not installed: pip install 'hstramp[crds]'"
                        ) from exc
    settings = {k: v for k, v in os.environ.items() if k.startswith("CRDS_")}
    if settings != _ENV_SEEN:
        utils.clear_function_caches()
        api.set_crds_server(_setting("CRDS_SERVER_URL") or _serverless_url())
        _ENV_SEEN.clear()
        _ENV_SEEN.update(settings)
    _check_cache()
    return crds


def _serverless_url() -> str:
    return f"https://{OBSERVATORY}-serverless-mode.stsci.edu"


def _setting(name: str) -> str:
    """A CRDS environment setting, '' when unset (the client writes 'None' for unset ones)."""
    value = os.environ.get(name, "").strip()
    return "" if value.lower() == "none" else value


def server_configured() -> bool:
    """True if a CRDS server (or a server configuration URI) is set, so files can be fetched."""
    url = _setting("CRDS_SERVER_URL")
    return bool(_setting("CRDS_CONFIG_URI")) or bool(url and "serverless" not in url)


def cache_path() -> Path:
    """The CRDS cache directory (``CRDS_PATH``, else the client's default)."""
    from crds.core import config

    return Path(config.get_crds_path())


def _check_cache() -> None:
    """Raise CRDSError unless the client can compute best references here.

    With no server the cached server configuration (``config/hst/server_config``) must be
    readable: without it the client would end the process (``sys.exit``).
    """
    from crds.core import config

    if server_configured():
        return
    root = cache_path()
    if not root.is_dir():
        raise CRDSError(f"CRDS cache {root} (CRDS_PATH) does not exist; set CRDS_PATH to an "
                        f"HST CRDS cache or, {_SERVER_HELP}")
    server_config = Path(config.get_crds_cfgpath(OBSERVATORY)) / "server_config"
    try:
        info = ast.literal_eval(server_config.read_text())
        context = info["operational_context"]
    except (OSError, ValueError, SyntaxError, KeyError, TypeError) as exc:
        raise CRDSError(
            f"CRDS cache {root} cannot be used offline: {server_config} is missing or "
            f"unreadable ({exc.__class__.__name__}: {exc}); {_SERVER_HELP}") from exc
    log.debug("CRDS offline from cache %s, context %s", root, context)


@contextlib.contextmanager
def _crds_errors(what: str):
    """Turn the client's errors (and its ``sys.exit`` on a broken cache) into CRDSError."""
    from crds.core.exceptions import CrdsError

    try:
        yield
    except CRDSError:
        raise
    except (CrdsError, OSError, KeyError, ValueError, AssertionError, SystemExit) as exc:
        detail = str(exc) or exc.__class__.__name__
        raise CRDSError(f"{what}: CRDS failed: {detail}") from exc


def current_context() -> str:
    """The .pmap CRDS selects with (CRDS_CONTEXT, else the server's or cache's latest)."""
    from crds.core import heavy_client

    _client()
    with _crds_errors("CRDS context"):
        return heavy_client.get_context_name(OBSERVATORY)


def _reference_types(instrument: str, context: str) -> list:
    """Reference types the rules define for ``instrument`` under ``context``."""
    from crds.core import rmap

    with _crds_errors(f"{instrument} rules of {context}"):
        imap = rmap.get_cached_mapping(context).get_imap(instrument.lower())
        return sorted(imap.selections)


def best_references(parameters, reftypes=None, *, source: str = "exposure") -> dict:
    """The best reference of each type for an exposure, and whether each is in the cache.

    Parameters
    ----------
    parameters : dict
        From :func:`header_parameters` or :func:`exposure_parameters`.
    reftypes : iterable of str, optional
        Lower-case types (``darkfile`` ...); default every type the rules define.
    source : str
        The exposure's name, for error messages.

    Returns
    -------
    dict
        Upper-case keyword -> :class:`BestReference`, in keyword order.

    Raises
    ------
    CRDSError
        No rules for the instrument, a type CRDS cannot select for this exposure (the
        message names the keyword and CRDS's reason), or a client failure.
    """
    crds = _client()
    from crds.core import config

    instrument = str(parameters["INSTRUME"]).strip().upper()
    context = current_context()
    wanted = sorted(reftypes) if reftypes is not None else _reference_types(instrument, context)
    with _crds_errors(f"{source}: best references under {context}"):
        chosen = crds.getrecommendations(parameters, reftypes=wanted, context=context,
                                         observatory=OBSERVATORY)
    prefix = INSTRUMENT_PREFIX[instrument]
    result, problems = {}, []
    for reftype in wanted:
        keyword, value = reftype.upper(), str(chosen.get(reftype, "NOT FOUND no answer"))
        if value.startswith("NOT FOUND"):
            if "n/a" in value.lower():
                result[keyword] = BestReference(keyword, None, None, prefix)
            else:
                problems.append(f"{keyword}: {value[len('NOT FOUND'):].strip()}")
            continue
        path = Path(config.locate_file(value, OBSERVATORY))
        result[keyword] = BestReference(keyword, value, path, prefix)
    if problems:
        raise CRDSError(f"{source}: CRDS ({context}) selects no reference file for "
                        + "; ".join(problems))
    return dict(sorted(result.items()))


def fetch_command(source) -> str:
    """The command that fetches an exposure's missing references into the cache."""
    return f"hstramp refs --sync {source}"


def sync_references(references, *, source: str = "exposure") -> list:
    """Fetch the references missing from the cache from the CRDS server.

    Parameters
    ----------
    references : iterable of BestReference
    source : str
        The exposure's name, for messages.

    Returns
    -------
    list of BestReference
        Those fetched.

    Raises
    ------
    CRDSError
        No server configured, or the server cannot provide a file.
    """
    from crds.client import api

    missing = [r for r in references if not r.cached]
    if not missing:
        return []
    names = ", ".join(r.filename for r in missing)
    if not server_configured():
        raise CRDSError(f"{source}: cannot fetch {names}: no CRDS server is configured "
                        f"(CRDS_SERVER_URL is unset or serverless); set "
                        f"CRDS_SERVER_URL=https://hst-crds.stsci.edu and try again")
    context = current_context()
    with _crds_errors(f"{source}: fetching {names}"):
        api.dump_references(context, [r.filename for r in missing], raise_exceptions=True)
    still = [r.filename for r in missing if not r.cached]
    if still:
        raise CRDSError(f"{source}: CRDS did not deliver {', '.join(still)} to {cache_path()}")
    return missing


# --------------------------------------------------------------------------- steps
_SELECTIONS: dict = {}


def _model_parameters(model) -> dict:
    cards = model.meta.headers.instance.get("primary") or []
    header = {keyword: value for keyword, value, _comment in cards
              if keyword not in ("COMMENT", "HISTORY", "")}
    return header_parameters(header, str(model.meta.filename))


def _local_directory_set(instrument: str) -> bool:
    """True if the instrument's reference directory variable (``iref``, ``oref``) is set."""
    prefix = INSTRUMENT_PREFIX[instrument]
    return bool(os.environ.get(prefix) or os.environ.get(prefix.upper()))


def crds_selection(model, reftype: str, *settings):
    """The reference a step should use according to CRDS, or None if CRDS is not in use.

    CRDS is in use when :func:`crds_enabled` says so for ``settings`` and the instrument's
    reference directory variable (``iref`` for WFC3, ``oref`` for STIS) is not set: a local
    directory the user set still wins.

    Parameters
    ----------
    model : HstrampModel
        The exposure (its original primary header gives the matching parameters).
    reftype : str
        Lower-case type (``darkfile``).
    *settings : bool or None
        ``use_crds`` of the step and of its pipeline.

    Returns
    -------
    tuple of str or None
        ``(value to record, path or 'N/A')``, e.g. ``('iref$x_drk.fits', '/cache/x_drk.fits')``.

    Raises
    ------
    CRDSError
        CRDS cannot select the file, or it is not in the cache and cannot be fetched: one
        message naming the keyword, the file and the command that fetches it.
    """
    if not crds_enabled(*settings):
        return None
    parameters = _model_parameters(model)
    if _local_directory_set(str(parameters["INSTRUME"]).strip().upper()):
        return None
    source = str(model.meta.filename)
    _client()
    key = (tuple(sorted(parameters.items())), tuple(sorted(_ENV_SEEN.items())), reftype)
    if key not in _SELECTIONS:
        _SELECTIONS[key] = best_references(parameters, [reftype], source=source)[reftype.upper()]
    best = _SELECTIONS[key]
    if not best.cached and server_configured():
        sync_references([best], source=source)
    if not best.cached:
        raise CRDSError(
            f"{source}: {best.keyword}: CRDS selects {best.filename}, which is not in the "
            f"CRDS cache {cache_path()}; fetch it with: {fetch_command(source)} "
            f"(needs CRDS_SERVER_URL=https://hst-crds.stsci.edu)")
    log.debug("%s: %s from CRDS: %s", model.meta.filename, best.keyword,
             best.filename or "N/A")
    return best.header_value, "N/A" if best.path is None else str(best.path)
