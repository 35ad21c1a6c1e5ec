"""asdf's plugins in a process hstramp owns: everything but the packages hstramp never uses.

The first datamodel of a process makes asdf load its configuration: it calls every installed
``asdf.resource_mappings`` and ``asdf.extensions`` entry point, and those calls import the
packages behind them and parse their manifests. Three of those packages serve nothing
hstramp reads or writes, and they are most of the cost:

* stdatamodels' JWST datamodels and transforms (their entry points import
  ``stdatamodels.jwst.datamodels`` and ``stdatamodels.jwst.transforms.models``, the latter
  with all of gwcs, astropy.modeling and parts of scipy);
* gwcs;
* asdf-astropy (the converters of astropy's units, times, tables, coordinates and models:
  its extensions parse some forty manifests with PyYAML's pure-Python loader).

No hstramp schema refers to their schemas, and no hstramp model, product or parameter file
holds their tags or objects: the trees are numbers, strings and arrays (asdf's own
converters). Leaving them out shortens a batch worker's start from about 2.5 s to about 1 s
(``docs/performance.md``, session 10); the whole test suite passes in a process configured
so (``filterwarnings = error``: an unknown tag would have failed it).

asdf has no supported way to choose the entry points it loads (``docs/performance.md``: the
configuration's ``add_*``/``remove_*`` methods load everything first). :func:`load_plugins_except`
therefore wraps, for the duration of one call, the entry-point listing of asdf's private
``asdf._entry_points`` module and makes asdf load its configuration through it; asdf's own
code does the rest (order, proxies, warnings for a plugin that fails). It is meant only for
processes hstramp starts and owns, a local batch worker (:func:`hstramp.batch.warm_up_worker`),
never for the user's own process (the ``hstramp`` program, ``strun``, ``Pipeline.call()`` or a
dask worker load every plugin, as asdf does). Where asdf is not as this was written for (its
configuration already loaded, the private listing gone or renamed), nothing is changed and
asdf loads every plugin when it first needs them, as usual: slower, never different.
"""

from __future__ import annotations

import logging

__all__ = ["UNUSED_PLUGINS", "load_plugins_except", "plugin_entry_points"]

log = logging.getLogger(__name__)

#: entry points (their ``module:function`` values start so) whose schemas, tags and
#: converters no hstramp datamodel, product or parameter file uses
UNUSED_PLUGINS = ("stdatamodels.jwst.", "gwcs.", "asdf_astropy.")

#: the entry-point groups asdf loads its configuration from
PLUGIN_GROUPS = ("asdf.resource_mappings", "asdf.extensions")


def plugin_entry_points(listing, skipped):
    """An entry-point listing like ``listing`` (``importlib.metadata.entry_points``) without
    the entry points whose value starts with one of ``skipped``.

    Parameters
    ----------
    listing : callable
        ``listing(group=...)`` returns the installed entry points of a group.
    skipped : tuple of str
        Prefixes of the entry-point values (``module:function``) to leave out.

    Returns
    -------
    callable
        The filtered listing; it returns a list.
    """
    def listed(*args, **selection):
        return [point for point in listing(*args, **selection)
                if not point.value.startswith(skipped)]

    return listed


def load_plugins_except(skipped=UNUSED_PLUGINS):
    """Load asdf's configuration now, without the plugins whose entry points start with
    ``skipped``. Only for a process hstramp owns (see the module's documentation).

    Parameters
    ----------
    skipped : tuple of str
        Prefixes of the entry-point values to leave out (default :data:`UNUSED_PLUGINS`).

    Returns
    -------
    bool
        True when asdf's resource mappings and extensions were loaded without them. False
        when they were not loaded this way (the configuration was already loaded, or asdf's
        private entry-point listing is not there or not called as expected): asdf then
        loads every plugin it has not loaded yet, as usual.
    """
    import asdf

    try:
        from asdf import _entry_points
    except ImportError:
        return _unchanged("asdf has no _entry_points module")
    listing = getattr(_entry_points, "entry_points", None)
    if not callable(listing):
        return _unchanged("asdf._entry_points has no entry_points listing")
    filtered = plugin_entry_points(listing, tuple(skipped))
    groups = []

    def listed(*args, **selection):
        groups.append(selection.get("group", args[0] if args else None))
        if groups != list(PLUGIN_GROUPS[:len(groups)]):  # not the first load: asdf's own
            return list(listing(*args, **selection))
        return filtered(*args, **selection)

    config = asdf.get_config()
    _entry_points.entry_points = listed
    try:
        config.resource_mappings  # noqa: B018  (reading them loads them)
        config.extensions  # noqa: B018
    finally:
        _entry_points.entry_points = listing
    if groups != list(PLUGIN_GROUPS):
        return _unchanged(f"asdf listed the entry points of {groups or 'no group'}, "
                          f"not of {', '.join(PLUGIN_GROUPS)} in turn")
    log.debug("asdf's plugins loaded without those of %s", ", ".join(skipped))
    return True


def _unchanged(reason):
    log.debug("asdf's plugins left to asdf: %s", reason)
    return False
