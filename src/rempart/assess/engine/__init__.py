"""rempart's vehicle-approach assessment engine (pure Python, no Django).

Public API: :func:`load_network`, :func:`assess_sites`, :func:`assess`, :class:`SiteResult`
(``to_dict()``), :func:`to_geojson`, :func:`to_html`, :func:`to_text`, :class:`AssessOptions`,
:func:`builtin_vehicles`, :func:`load_vehicles`, :func:`load_costs`, :func:`load_barriers`.
"""

from .errors import AssessError
from .plan import default_costs, load_costs
from .report import to_geojson, to_html, to_json, to_text
from .run import AssessOptions, LoadedNetwork, SiteResult, assess, assess_sites, load_network
from .sites import load_barriers, load_sites
from .vehicles import Vehicle, builtin_vehicles, load_vehicles

__all__ = [
    "AssessError",
    "AssessOptions",
    "LoadedNetwork",
    "SiteResult",
    "Vehicle",
    "assess",
    "assess_sites",
    "builtin_vehicles",
    "default_costs",
    "load_barriers",
    "load_costs",
    "load_network",
    "load_sites",
    "load_vehicles",
    "to_geojson",
    "to_html",
    "to_json",
    "to_text",
]
