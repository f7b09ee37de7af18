"""The movement network: traversable ways split into links between junctions, with widths,
bends and turns, in a local metric projection.

Hand-written because no library models what a hostile vehicle can drive: which OSM ways a
vehicle fits on (one-way and access tags deliberately ignored), usable widths from tags or
per-class defaults, the grouping of densely drawn vertices into one bend and the widest-line
radius through bends and junction turns. pyproj does the projection, shapely the spatial index.

CRS: input WGS84; all metric work in a local azimuthal equidistant projection centred on the
data (distortion below 0.1 % within 40 km of the centre). Lengths in m, bearings in radians
(clockwise from grid north) unless named ``_deg``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from .osm import OsmData

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Usable carriageway width (m) by highway class when no width/lanes tag exists. Engineering
#: assumptions (typical European urban cross-sections), documented in docs/method.md.
DEFAULT_WIDTH_M: dict[str, float] = {
    "motorway": 11.0,
    "trunk": 10.0,
    "primary": 9.0,
    "secondary": 8.0,
    "tertiary": 7.0,
    "unclassified": 6.0,
    "residential": 6.0,
    "road": 6.0,
    "motorway_link": 5.0,
    "trunk_link": 5.0,
    "primary_link": 5.0,
    "secondary_link": 5.0,
    "tertiary_link": 5.0,
    "living_street": 5.0,
    "pedestrian": 6.0,
    "service": 4.0,
    "track": 3.0,
    "busway": 4.0,
    "raceway": 10.0,
}
#: Classes traversable only where a width tag says the vehicle fits.
TAG_WIDTH_ONLY = frozenset({"footway", "cycleway", "path", "bridleway", "sidewalk", "crossing"})
#: Never traversable (steps) or not a way on the ground.
NEVER = frozenset(
    {
        "steps",
        "elevator",
        "corridor",
        "proposed",
        "construction",
        "abandoned",
        "platform",
        "bus_stop",
        "razed",
        "disused",
        "ladder",
        "via_ferrata",
    }
)
LANE_WIDTH_M = 3.0
#: Vertices deflecting less than this are straight (noise in the drawing).
BEND_MIN_DEFLECTION_RAD = math.radians(0.5)
#: Consecutive deflecting vertices closer than this along the way belong to one bend.
BEND_WINDOW_M = 50.0

_NUM = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(m|meters|metres)?\s*$")


def parse_width_m(text: str | None) -> float:
    """Metres from an OSM width value (``"7"``, ``"7.5 m"``, ``"7,5"``); NaN if unparsable."""
    if not text:
        return math.nan
    match = _NUM.match(text)
    if not match:
        return math.nan
    return float(match.group(1).replace(",", "."))


#: Pavement width (m) assumed beside a carriageway whose ``sidewalk`` tag says a pavement is
#: there but gives no width: 2.0 m, the clear footway width UK guidance recommends (DfT,
#: *Inclusive Mobility*, 2021, s. 4.2; **assumption** that a mapped pavement has it).
DEFAULT_PAVEMENT_WIDTH_M = 2.0
#: At most this much pavement (m) per side widens the widest line: beyond it, trees, lamp
#: posts, benches and building fronts make a clear drivable strip unlikely (**assumption**).
MAX_PAVEMENT_WIDTH_M = 3.0
_SIDES = {"both": ("left", "right"), "left": ("left",), "right": ("right",)}


def pavement_widths_m(tags: dict[str, str]) -> tuple[float, float]:
    """Drivable pavement (m) on the left and right of a way's carriageway, from its OSM
    ``sidewalk=*`` tags: ``sidewalk=both|left|right`` or ``sidewalk:<side>=yes``, the width
    from ``sidewalk:<side>:width``, else ``sidewalk:both:width``, else ``sidewalk:width``, else
    :data:`DEFAULT_PAVEMENT_WIDTH_M`; each side capped at :data:`MAX_PAVEMENT_WIDTH_M`. A
    pavement mapped as its own way (``sidewalk=separate``) or absent (``no``/``none``) adds
    nothing: kerbs are assumed mountable (a kerb does not stop a vehicle, docs/method.md s. 2).
    """
    present: set[str] = set(_SIDES.get(tags.get("sidewalk", "").strip().lower(), ()))
    for key, sides in _SIDES.items():
        if tags.get(f"sidewalk:{key}", "").strip().lower() in ("yes", "both", key):
            present.update(sides)
    out = []
    for side in ("left", "right"):
        if side not in present:
            out.append(0.0)
            continue
        width = math.nan
        for key in (f"sidewalk:{side}:width", "sidewalk:both:width", "sidewalk:width"):
            width = parse_width_m(tags.get(key))
            if not math.isnan(width):
                break
        if math.isnan(width):
            width = DEFAULT_PAVEMENT_WIDTH_M
        out.append(min(max(width, 0.0), MAX_PAVEMENT_WIDTH_M))
    return out[0], out[1]


def usable_width_m(tags: dict[str, str]) -> float:
    """Width (m) the widest line through a bend may use: the carriageway
    (:func:`way_width_m`) plus the drivable pavement on both sides
    (:func:`pavement_widths_m`); 0 where the way is not traversable."""
    carriageway = way_width_m(tags)
    if carriageway <= 0:
        return 0.0
    left, right = pavement_widths_m(tags)
    return carriageway + left + right


def way_width_m(tags: dict[str, str]) -> float:
    """Usable width (m) of a way for vehicles; 0 if it is not a vehicle way at all."""
    highway = tags.get("highway", "")
    if highway in NEVER:
        return 0.0
    tagged = parse_width_m(tags.get("width:carriageway"))
    if math.isnan(tagged):
        tagged = parse_width_m(tags.get("width"))
    if math.isnan(tagged):
        tagged = parse_width_m(tags.get("est_width"))
    if highway in TAG_WIDTH_ONLY:
        return 0.0 if math.isnan(tagged) else tagged
    if not math.isnan(tagged):
        return tagged
    lanes = parse_width_m(tags.get("lanes"))
    if not math.isnan(lanes) and lanes >= 1:
        return lanes * LANE_WIDTH_M
    return DEFAULT_WIDTH_M.get(highway, 0.0)


@dataclass(frozen=True)
class Network:
    """Links between junctions, ready for the speed propagation of any vehicle.

    A link ``l`` runs from junction ``link_u[l]`` to ``link_v[l]`` through points
    ``link_offsets[l]:link_offsets[l+1]`` of ``pt_x, pt_y`` (m, local CRS) at distances
    ``pt_s`` (m from the link's start). Directed link ``2l`` goes u->v, ``2l+1`` v->u.
    Bends are grouped vertices with a widest-line radius (``bend_*``, sorted by link).
    Transitions (``trans_*``) are every pair (incoming, outgoing) of directed links at a
    junction, U-turns included, with the widest-line radius of the turn and its hold: the
    distance (m) into the outgoing link over which the vehicle stays on the widest-line arc
    (at the turn's cap speed) before it can accelerate again.
    """

    lon0: float
    lat0: float
    node_x: FloatArray
    node_y: FloatArray
    link_u: IntArray
    link_v: IntArray
    link_offsets: IntArray
    pt_x: FloatArray
    pt_y: FloatArray
    pt_s: FloatArray
    link_length_m: FloatArray
    link_width_m: FloatArray
    link_usable_width_m: FloatArray
    link_way_id: IntArray
    link_highway: NDArray[np.str_]
    bend_link: IntArray
    bend_s_m: FloatArray
    bend_radius_m: FloatArray
    bend_deflection_rad: FloatArray
    trans_from: IntArray
    trans_to: IntArray
    trans_radius_m: FloatArray
    trans_deflection_rad: FloatArray
    trans_hold_m: FloatArray
    link_name: list[str] = field(repr=False)
    #: per transition, the drawn distance (m) back along the incoming link from the junction
    #: to the apex of a bend merged through the junction (0: a corner, apex at the junction):
    #: where a run-up capped by the turn starts
    trans_apex_m: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def n_links(self) -> int:
        return int(self.link_u.size)

    @property
    def n_directed(self) -> int:
        return 2 * self.n_links

    @property
    def n_segments(self) -> int:
        """Number of undirected drawn segments (vertex to vertex)."""
        return int(self.pt_x.size - self.link_u.size)

    @cached_property
    def to_local(self) -> Transformer:
        return _transformers(self.lon0, self.lat0)[0]

    @cached_property
    def to_wgs84(self) -> Transformer:
        return _transformers(self.lon0, self.lat0)[1]

    def project(self, lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        """WGS84 degrees -> local metres."""
        x, y = self.to_local.transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def unproject(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Local metres -> WGS84 degrees."""
        lon, lat = self.to_wgs84.transform(x, y)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    @cached_property
    def link_lines(self) -> NDArray[np.object_]:
        """Shapely LineStrings of the links (local CRS)."""
        coords = np.column_stack([self.pt_x, self.pt_y])
        indices = np.repeat(np.arange(self.n_links), np.diff(self.link_offsets))
        return np.asarray(shapely.linestrings(coords, indices=indices))

    @cached_property
    def link_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.link_lines)

    @cached_property
    def apex_by_key(self) -> tuple[IntArray, FloatArray]:
        """The transitions through a bend whose apex lies before the junction
        (:attr:`trans_apex_m` > 0): their keys ``from * n_directed + to``, sorted, and the
        apex's distance back from the junction (m), for the run-up walks
        (:func:`.entries.runups`)."""
        apex_all = self.trans_apex_m
        on = (
            np.flatnonzero(apex_all > 0)
            if apex_all.size == self.trans_from.size
            else np.zeros(0, dtype=np.int64)
        )
        keys = self.trans_from[on] * self.n_directed + self.trans_to[on]
        by_key = np.argsort(keys)
        return keys[by_key], apex_all[on][by_key]

    @cached_property
    def dl_length_m(self) -> FloatArray:
        return np.repeat(self.link_length_m, 2)

    @cached_property
    def dl_head_node(self) -> IntArray:
        out = np.empty(self.n_directed, dtype=np.int64)
        out[0::2] = self.link_v
        out[1::2] = self.link_u
        return out

    @cached_property
    def dl_tail_node(self) -> IntArray:
        out = np.empty(self.n_directed, dtype=np.int64)
        out[0::2] = self.link_u
        out[1::2] = self.link_v
        return out

    def link_points(self, link: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(x, y, s) of one link's points in drawing order."""
        a, b = self.link_offsets[link], self.link_offsets[link + 1]
        return self.pt_x[a:b], self.pt_y[a:b], self.pt_s[a:b]

    def point_at(self, link: int, s_m: float) -> tuple[float, float, float]:
        """(x, y, bearing rad of the u->v direction) at ``s_m`` from the link's start."""
        x, y, s = self.link_points(link)
        i = int(np.clip(np.searchsorted(s, s_m, side="right") - 1, 0, len(s) - 2))
        seg = s[i + 1] - s[i]
        t = 0.0 if seg <= 0 else (s_m - s[i]) / seg
        px = x[i] + t * (x[i + 1] - x[i])
        py = y[i] + t * (y[i + 1] - y[i])
        return float(px), float(py), math.atan2(x[i + 1] - x[i], y[i + 1] - y[i])

    def points_at(self, links: IntArray, s_m: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Vectorised position part of :meth:`point_at`: (x, y) in m at ``s_m`` m from the
        start of each link (same arithmetic, so the same values)."""
        px, py, _, _ = self.segments_at(links, s_m)
        return px, py

    def segments_at(
        self, links: IntArray, s_m: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(x, y, dx, dy) in m: the point at ``s_m`` m from the start of each link and the
        u->v vector of the drawn segment it lies on (``math.atan2(dx, dy)`` is the bearing
        :meth:`point_at` returns)."""
        links = np.asarray(links, dtype=np.int64)
        s = np.asarray(s_m, dtype=float)
        first = self.link_offsets[links]
        # i = clip(searchsorted(link's pt_s, s, "right") - 1, 0, n - 2): bisection per link
        lo = first.copy()
        hi = self.link_offsets[links + 1].copy()
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            right = self.pt_s[np.minimum(mid, self.pt_s.size - 1)] <= s
            active = lo < hi
            lo = np.where(active & right, mid + 1, lo)
            hi = np.where(active & ~right, mid, hi)
        i = np.clip(lo - 1, first, self.link_offsets[links + 1] - 2)
        seg = self.pt_s[i + 1] - self.pt_s[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(seg <= 0, 0.0, (s - self.pt_s[i]) / np.where(seg <= 0, 1.0, seg))
        dx = self.pt_x[i + 1] - self.pt_x[i]
        dy = self.pt_y[i + 1] - self.pt_y[i]
        return self.pt_x[i] + t * dx, self.pt_y[i] + t * dy, dx, dy


def _transformers(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    proj = f"+proj=aeqd +lat_0={lat0:.7f} +lon_0={lon0:.7f} +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    return (
        Transformer.from_crs("EPSG:4326", proj, always_xy=True),
        Transformer.from_crs(proj, "EPSG:4326", always_xy=True),
    )


def widest_line_radius_m(
    width_m: FloatArray,
    deflection_rad: FloatArray,
    centre_radius_m: FloatArray | float = 0.0,
    width_out_m: FloatArray | None = None,
) -> FloatArray:
    """Radius (m) of the widest line through a bend.

    For a sharp corner of deflection theta between carriageways of usable width w the arc
    tangent to both outer edges through the inner corner has ``R = w / (1 - cos(theta/2))``
    (domain.md s. 2). Between carriageways of different widths ``w1`` (in) and ``w2`` (out)
    the same three conditions (distance R to each outer edge, through the inner corner) give
    ``R = (w1 + w2 + 2 sqrt(w1 w2) cos(theta/2)) / (1 - cos theta)`` (derivation in
    docs/method.md), which reduces to the former when ``w1 = w2``. For a drawn curve of
    centre-line radius ``Rc`` the inner edge is an arc of radius ``Ri = Rc - w/2`` and the
    same construction around the arc's centre gives ``R = Ri + R_corner`` (with two widths,
    ``Ri = Rc - max(w1, w2)/2``, the tighter inner edge); beyond 180 degrees the line cannot
    open further, so theta is capped at pi. Straight (theta ~ 0) gives ``inf``.
    """
    w = np.asarray(width_m, dtype=float)
    theta = np.minimum(np.abs(np.asarray(deflection_rad, dtype=float)), math.pi)
    rc = np.asarray(centre_radius_m, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if width_out_m is None:
            inner = np.maximum(rc - w / 2.0, 0.0)
            radius = inner + w / (1.0 - np.cos(theta / 2.0))
        else:
            w2 = np.asarray(width_out_m, dtype=float)
            same = w == w2
            inner_same = np.maximum(rc - w / 2.0, 0.0)
            same_r = inner_same + w / (1.0 - np.cos(theta / 2.0))
            inner_two = np.maximum(rc - np.maximum(w, w2) / 2.0, 0.0)
            # 1 - cos(theta) written as 2 sin^2(theta/2): no cancellation for gentle turns
            two_r = inner_two + (w + w2 + 2.0 * np.sqrt(w * w2) * np.cos(theta / 2.0)) / (
                2.0 * np.sin(theta / 2.0) ** 2
            )
            # equal widths keep the one-width arithmetic (bit-identical results)
            radius = np.where(same, same_r, two_r)
    return np.where(theta < BEND_MIN_DEFLECTION_RAD, np.inf, radius)


def build_network(osm: OsmData) -> Network:
    """Split the traversable ways of ``osm`` into links and derive bends and turns.

    Ways with zero usable width (steps, footways without a width tag, ...) are dropped here;
    per-vehicle width checks happen at propagation time.
    """
    widths = np.array([way_width_m(t) for t in osm.way_tags], dtype=float)
    # the widest line through bends may use the pavement where it is drivable
    usable = np.array([usable_width_m(t) for t in osm.way_tags], dtype=float)
    keep_way = widths > 0
    counts = np.diff(osm.way_offsets)
    node_keep = np.repeat(keep_way, counts)
    way_of_ref = np.repeat(np.arange(len(counts)), counts)[node_keep]
    refs = osm.node_ids[node_keep]
    lon = osm.lon[node_keep]
    lat = osm.lat[node_keep]
    # drop repeated consecutive refs (zero-length segments)
    dup = np.zeros(refs.size, dtype=bool)
    dup[1:] = (refs[1:] == refs[:-1]) & (way_of_ref[1:] == way_of_ref[:-1])
    refs, lon, lat, way_of_ref = refs[~dup], lon[~dup], lat[~dup], way_of_ref[~dup]
    if refs.size == 0:
        return _empty_network(osm)
    first = np.ones(refs.size, dtype=bool)
    first[1:] = way_of_ref[1:] != way_of_ref[:-1]
    last = np.ones(refs.size, dtype=bool)
    last[:-1] = way_of_ref[1:] != way_of_ref[:-1]
    single = first & last
    refs, lon, lat, way_of_ref = refs[~single], lon[~single], lat[~single], way_of_ref[~single]
    first, last = first[~single], last[~single]

    lon0 = 0.5 * (float(lon.min()) + float(lon.max()))
    lat0 = 0.5 * (float(lat.min()) + float(lat.max()))
    fwd, _ = _transformers(lon0, lat0)
    x, y = fwd.transform(lon, lat)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)

    uniq, node_of_ref = np.unique(refs, return_inverse=True)
    usage = np.bincount(node_of_ref, minlength=uniq.size)
    junction_node = usage >= 2
    is_junction = junction_node[node_of_ref] | first | last
    jpos = np.flatnonzero(is_junction)
    # a link joins consecutive junction positions of the same way
    same_way = way_of_ref[jpos[1:]] == way_of_ref[jpos[:-1]]
    a = jpos[:-1][same_way]
    b = jpos[1:][same_way]
    lengths = b - a + 1
    total = int(lengths.sum())
    starts = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    idx = np.repeat(a - starts[:-1], lengths) + np.arange(total)
    pt_x = x[idx]
    pt_y = y[idx]
    seg = np.hypot(np.diff(pt_x), np.diff(pt_y))
    seg[starts[1:-1] - 1] = 0.0  # no segment between the last point of a link and the next
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    pt_s = cum - np.repeat(cum[starts[:-1]], lengths)
    link_length = pt_s[starts[1:] - 1]
    # junction numbering: compact over junction OSM nodes
    jnodes, link_uv = np.unique(
        np.concatenate([node_of_ref[a], node_of_ref[b]]), return_inverse=True
    )
    n_links = a.size
    link_u = link_uv[:n_links].astype(np.int64)
    link_v = link_uv[n_links:].astype(np.int64)
    node_x = np.zeros(jnodes.size)
    node_y = np.zeros(jnodes.size)
    node_x[link_u] = x[a]
    node_y[link_u] = y[a]
    node_x[link_v] = x[b]
    node_y[link_v] = y[b]
    link_way = way_of_ref[a]
    link_width = widths[link_way]
    link_usable = usable[link_way]
    link_highway = np.array([osm.way_tags[w].get("highway", "") for w in link_way], dtype=str)
    link_name = [osm.way_tags[w].get("name", "") for w in link_way]

    groups = _bend_groups(pt_x, pt_y, pt_s, starts)
    bends = _bends(groups, link_usable)
    trans = _transitions(
        pt_x, pt_y, starts, link_u, link_v, link_usable, jnodes.size, groups, link_length
    )
    return Network(
        lon0=lon0,
        lat0=lat0,
        node_x=node_x,
        node_y=node_y,
        link_u=link_u,
        link_v=link_v,
        link_offsets=starts,
        pt_x=pt_x,
        pt_y=pt_y,
        pt_s=pt_s,
        link_length_m=link_length,
        link_width_m=link_width,
        link_usable_width_m=link_usable,
        link_way_id=osm.way_ids[link_way],
        link_highway=link_highway,
        bend_link=bends[0],
        bend_s_m=bends[1],
        bend_radius_m=bends[2],
        bend_deflection_rad=bends[3],
        trans_from=trans[0],
        trans_to=trans[1],
        trans_radius_m=trans[2],
        trans_deflection_rad=trans[3],
        trans_hold_m=trans[4],
        link_name=link_name,
        trans_apex_m=trans[5],
    )


def _empty_network(osm: OsmData) -> Network:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    lon0 = 0.5 * (osm.bounds[0] + osm.bounds[2])
    lat0 = 0.5 * (osm.bounds[1] + osm.bounds[3])
    return Network(
        lon0,
        lat0,
        z,
        z,
        zi,
        zi,
        np.zeros(1, dtype=np.int64),
        z,
        z,
        z,
        z,
        z,
        z,
        zi,
        np.zeros(0, dtype=str),
        zi,
        z,
        z,
        z,
        zi,
        zi,
        z,
        z,
        z,
        [],
    )


@dataclass(frozen=True)
class _Groups:
    """Bend groups of drawn vertices (one row per group, all of them, in link order).

    ``theta`` signed total deflection (rad, + = clockwise along u->v), ``n`` vertices,
    ``s_first``/``s_last`` positions of the end vertices from the link's start (m),
    ``d_first``/``d_last`` their absolute deflections, ``abs_sum`` the sum of absolute
    deflections, ``rc`` the drawn centre-line radius (m), ``mid`` the apex position (m),
    ``first`` the index of the group's first vertex in ``vert_s``, the positions (m from the
    link's start) of all grouped vertices in link order.
    """

    link: IntArray
    theta: FloatArray
    n: IntArray
    s_first: FloatArray
    s_last: FloatArray
    d_first: FloatArray
    d_last: FloatArray
    abs_sum: FloatArray
    rc: FloatArray
    mid: FloatArray
    first: IntArray
    vert_s: FloatArray


def _centre_radius(
    theta_abs: FloatArray,
    n: IntArray,
    span: FloatArray,
    d_first: FloatArray,
    d_last: FloatArray,
    abs_sum: FloatArray,
) -> FloatArray:
    """Drawn centre-line radius (m) of a group of n vertices spanning ``span`` m.

    Each vertex stands for the arc around it. Between the first and last vertex the span
    holds all of the interior vertices' arc and, of an end vertex, either half its arc (a
    curve drawn with vertices evenly on the arc: end deflection like the interior ones) or
    all of it (tangent points drawn as vertices: end deflection about half the interior).
    """
    interior_mean = (abs_sum - d_first - d_last) / np.maximum(n - 2, 1)
    ref = np.where(n >= 3, interior_mean, np.maximum(d_first, d_last))
    outside = np.where(d_first > 0.75 * ref, d_first / 2, 0.0) + np.where(
        d_last > 0.75 * ref, d_last / 2, 0.0
    )
    owned = np.maximum(theta_abs - outside, 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1, span / owned, 0.0)


def _bend_groups(pt_x: FloatArray, pt_y: FloatArray, pt_s: FloatArray, starts: IntArray) -> _Groups:
    """Group deflecting interior vertices into bends (see :func:`_bends`)."""
    n_pts = pt_x.size
    interior = np.ones(n_pts, dtype=bool)
    interior[starts[:-1]] = False
    interior[starts[1:] - 1] = False
    i = np.flatnonzero(interior)
    zi = np.zeros(0, dtype=np.int64)
    z = np.zeros(0)
    empty = _Groups(zi, z, zi, z, z, z, z, z, z, z, zi, z)
    if i.size == 0:
        return empty
    h_in = np.arctan2(pt_x[i] - pt_x[i - 1], pt_y[i] - pt_y[i - 1])
    h_out = np.arctan2(pt_x[i + 1] - pt_x[i], pt_y[i + 1] - pt_y[i])
    dev = (h_out - h_in + math.pi) % (2 * math.pi) - math.pi
    sig = np.abs(dev) > BEND_MIN_DEFLECTION_RAD
    i, dev = i[sig], dev[sig]
    if i.size == 0:
        return empty
    link = np.searchsorted(starts, i, side="right") - 1
    s = pt_s[i]
    new = np.ones(i.size, dtype=bool)
    new[1:] = (
        (link[1:] != link[:-1])
        | (np.sign(dev[1:]) != np.sign(dev[:-1]))
        | (s[1:] - s[:-1] > BEND_WINDOW_M)
    )
    gstart = np.flatnonzero(new)
    theta_signed = np.add.reduceat(dev, gstart)
    theta = np.abs(theta_signed)
    n = np.diff(np.append(gstart, i.size))
    s_first = s[gstart]
    gend = np.append(gstart[1:], i.size) - 1
    s_last = s[gend]
    absdev = np.abs(dev)
    d_first = absdev[gstart]
    d_last = absdev[gend]
    abs_sum = np.add.reduceat(absdev, gstart)
    rc = _centre_radius(theta, n, s_last - s_first, d_first, d_last, abs_sum)
    # the cap applies at the middle vertex of the bend (its apex)
    mid = s[gstart + (n - 1) // 2]
    return _Groups(
        link[gstart].astype(np.int64),
        theta_signed,
        n.astype(np.int64),
        s_first,
        s_last,
        d_first,
        d_last,
        abs_sum,
        rc,
        mid,
        gstart.astype(np.int64),
        s,
    )


def _bends(
    groups: _Groups, link_width: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """One widest-line radius per bend group.

    A bend is a run of consecutive vertices of one link deflecting the same way, each within
    :data:`BEND_WINDOW_M` of the previous. Its total deflection ``theta`` and its arc length
    ``A`` (span between first and last vertex, corrected for what the end vertices stand
    for, :func:`_centre_radius`) give the drawn radius ``Rc = A / theta``, independent of how
    densely the curve was drawn; the cap uses the widest line through it
    (:func:`widest_line_radius_m`).
    """
    theta = np.abs(groups.theta)
    radius = widest_line_radius_m(link_width[groups.link], theta, groups.rc)
    keep = np.isfinite(radius)
    return groups.link[keep], groups.mid[keep], radius[keep], theta[keep]


def _end_groups(groups: _Groups, link_length: FloatArray, n_links: int) -> dict[str, np.ndarray]:
    """Per directed link, the bend group at its head (arriving) and at its tail (leaving).

    Signs are along the direction of travel; ``gap`` is the distance (m) from the group's
    vertex nearest the junction to the junction, ``span`` the group's extent (m), ``near`` /
    ``far`` the absolute deflections of its vertices nearest to / farthest from the junction.
    Links without a group have ``has = False``.
    """
    n_dir = 2 * n_links
    out: dict[str, np.ndarray] = {}
    for end in ("head", "tail"):
        out[f"{end}_has"] = np.zeros(n_dir, dtype=bool)
        out[f"{end}_n"] = np.zeros(n_dir, dtype=np.int64)
        out[f"{end}_g"] = np.zeros(n_dir, dtype=np.int64)
        for k in ("theta", "gap", "span", "near", "far", "abs_sum"):
            out[f"{end}_{k}"] = np.zeros(n_dir)
    if groups.link.size == 0:
        return out
    gl = groups.link
    is_last = np.ones(gl.size, dtype=bool)
    is_last[:-1] = gl[1:] != gl[:-1]
    is_first = np.ones(gl.size, dtype=bool)
    is_first[1:] = gl[1:] != gl[:-1]
    span = groups.s_last - groups.s_first
    length = link_length[gl]
    # (end, directed offset, group mask, sign, gap, near, far)
    cases = (
        ("head", 0, is_last, 1.0, length - groups.s_last, groups.d_last, groups.d_first),
        ("head", 1, is_first, -1.0, groups.s_first, groups.d_first, groups.d_last),
        ("tail", 0, is_first, 1.0, groups.s_first, groups.d_first, groups.d_last),
        ("tail", 1, is_last, -1.0, length - groups.s_last, groups.d_last, groups.d_first),
    )
    for end, off, mask, sign, gap, near, far in cases:
        d = 2 * gl[mask] + off
        out[f"{end}_has"][d] = True
        out[f"{end}_n"][d] = groups.n[mask]
        out[f"{end}_g"][d] = np.flatnonzero(mask)
        out[f"{end}_theta"][d] = sign * groups.theta[mask]
        out[f"{end}_gap"][d] = gap[mask]
        out[f"{end}_span"][d] = span[mask]
        out[f"{end}_near"][d] = near[mask]
        out[f"{end}_far"][d] = far[mask]
        out[f"{end}_abs_sum"][d] = groups.abs_sum[mask]
    return out


def _through_bends(
    groups: _Groups,
    link_length: FloatArray,
    link_width: FloatArray,
    t_from: IntArray,
    t_to: IntArray,
    t_dev: FloatArray,
) -> tuple[NDArray[np.bool_], FloatArray, FloatArray, FloatArray]:
    """Bends continuing through a junction: one bend, not two (or three).

    For each transition (in -> out) the vertices of the path are the bend group of ``in``
    nearest the junction, the junction vertex itself (deflection ``t_dev``, signed, rad) and
    the group of ``out`` nearest the junction; they are grouped by the same rule as within a
    link (same direction of deflection, consecutive significant vertices within
    :data:`BEND_WINDOW_M`). Where the group spans the junction, its total deflection and
    drawn radius give one widest-line radius (two widths: in and out), applied at the
    junction when the bend's apex (middle vertex) is at or before the junction; a bend whose
    apex lies on the outgoing link is capped there by that link's own bend group. Returns
    (merged mask, radius m, hold m, apex m) per transition: the hold is the second half of the
    widest-line arc, ``R theta / 2`` past the apex (the middle vertex), less the drawn distance
    from the apex to the junction (zero when the hold ends before the junction); apex is that
    drawn distance (0 when the apex is the junction vertex). Only transitions with a bend
    group at the end of the incoming or the start of the outgoing link can merge: the others
    are not merged (radius, hold and apex 0, unused) and are not computed.
    """
    eg = _end_groups(groups, link_length, link_width.size)
    n = t_from.size
    merged = np.zeros(n, dtype=bool)
    radius, hold, apex = np.zeros(n), np.zeros(n), np.zeros(n)
    cand = np.flatnonzero(eg["head_has"][t_from] | eg["tail_has"][t_to])
    if cand.size:
        out = _through_bends_of(
            eg, groups, link_length, link_width, t_from[cand], t_to[cand], t_dev[cand]
        )
        merged[cand], radius[cand], hold[cand], apex[cand] = out
    return merged, radius, hold, apex


def _through_bends_of(
    eg: dict[str, np.ndarray],
    groups: _Groups,
    link_length: FloatArray,
    link_width: FloatArray,
    a: IntArray,
    b: IntArray,
    t_dev: FloatArray,
) -> tuple[NDArray[np.bool_], FloatArray, FloatArray, FloatArray]:
    """:func:`_through_bends` of the given transitions (``a`` in, ``b`` out, directed links),
    with the end groups ``eg`` of :func:`_end_groups`."""
    j_sig = np.abs(t_dev) > BEND_MIN_DEFLECTION_RAD
    j_sign = np.sign(t_dev)
    a_has, b_has = eg["head_has"][a], eg["tail_has"][b]
    a_sign, b_sign = np.sign(eg["head_theta"][a]), np.sign(eg["tail_theta"][b])
    a_gap, b_gap = eg["head_gap"][a], eg["tail_gap"][b]
    # with a deflecting junction vertex: each side joins if it turns the same way and its
    # nearest vertex is within the window of the junction; without: the sides join each other
    use_a = np.where(
        j_sig,
        a_has & (a_sign == j_sign) & (a_gap <= BEND_WINDOW_M),
        a_has & b_has & (a_sign == b_sign) & (a_gap + b_gap <= BEND_WINDOW_M),
    )
    use_b = np.where(
        j_sig,
        b_has & (b_sign == j_sign) & (b_gap <= BEND_WINDOW_M),
        use_a,
    )
    merged = (use_a | use_b) & (j_sig | (use_a & use_b))
    # The merged bend's apex is its middle vertex (as within a link). When it lies on the
    # outgoing link the bend is still ahead at the junction: its cap belongs at the apex, which
    # the outgoing link's own bend group already caps, not at the junction (a site edge between
    # the junction and the bend was rated at the bend's speed, issue 10). Such a transition
    # keeps the plain corner of the junction vertex.
    n_before = np.where(use_a, eg["head_n"][a], 0) + j_sig.astype(np.int64)
    n_all = n_before + np.where(use_b, eg["tail_n"][b], 0)
    merged &= ~(use_b & ((n_all - 1) // 2 >= n_before))
    zero = np.zeros(a.size)
    theta = (
        np.where(use_a, np.abs(eg["head_theta"][a]), zero)
        + np.where(j_sig, np.abs(t_dev), zero)
        + np.where(use_b, np.abs(eg["tail_theta"][b]), zero)
    )
    n = (
        np.where(use_a, eg["head_n"][a], 0)
        + j_sig.astype(np.int64)
        + np.where(use_b, eg["tail_n"][b], 0)
    )
    span = np.where(use_a, eg["head_span"][a] + a_gap, zero) + np.where(
        use_b, b_gap + eg["tail_span"][b], zero
    )
    abs_sum = (
        np.where(use_a, eg["head_abs_sum"][a], zero)
        + np.where(j_sig, np.abs(t_dev), zero)
        + np.where(use_b, eg["tail_abs_sum"][b], zero)
    )
    j_abs = np.where(j_sig, np.abs(t_dev), zero)
    d_first = np.where(use_a, eg["head_far"][a], np.where(j_sig, j_abs, eg["tail_near"][b]))
    d_last = np.where(use_b, eg["tail_far"][b], np.where(j_sig, j_abs, eg["head_near"][a]))
    rc = _centre_radius(theta, n, span, d_first, d_last, abs_sum)
    radius = widest_line_radius_m(link_width[a // 2], theta, rc, width_out_m=link_width[b // 2])
    # the apex (middle vertex along the path) is the junction vertex or one of the incoming
    # group's vertices: its distance to the junction, from the drawn vertex positions
    k = (n_all - 1) // 2
    n_a = np.where(use_a, eg["head_n"][a], 0)
    on_in = use_a & (k < n_a)
    apex_dist = np.zeros(a.size)
    if np.any(on_in) and groups.link.size:
        g = eg["head_g"][a[on_in]]
        kk = k[on_in]
        fwd = a[on_in] % 2 == 0
        idx = groups.first[g] + np.where(fwd, kk, groups.n[g] - 1 - kk)
        s_apex = groups.vert_s[idx]
        apex_dist[on_in] = np.where(fwd, link_length[a[on_in] // 2] - s_apex, s_apex)
    with np.errstate(invalid="ignore"):
        hold = np.where(np.isfinite(radius), np.maximum(radius * theta / 2.0 - apex_dist, 0.0), 0.0)
    return merged, radius, hold, apex_dist


def _transitions(
    pt_x: FloatArray,
    pt_y: FloatArray,
    starts: IntArray,
    link_u: IntArray,
    link_v: IntArray,
    link_width: FloatArray,
    n_nodes: int,
    groups: _Groups,
    link_length: FloatArray,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """All (incoming, outgoing) directed-link pairs at each junction, with turn radii, holds
    (m) and the distance (m) from a merged bend's apex back to the junction.

    A turn is a sharp corner between the two carriageways (each with its own width), unless
    it continues a bend drawn on either side (:func:`_through_bends`): then the whole bend
    gives the radius. The hold of a sharp corner is the second half of its widest-line arc,
    ``R theta / 2`` (its apex is at the junction).
    """
    first = starts[:-1]
    last = starts[1:] - 1
    h_start = np.arctan2(pt_x[first + 1] - pt_x[first], pt_y[first + 1] - pt_y[first])
    h_end = np.arctan2(pt_x[last] - pt_x[last - 1], pt_y[last] - pt_y[last - 1])
    n_links = link_u.size
    d = np.arange(2 * n_links)
    # heading when leaving the tail / arriving at the head of each directed link
    tail_heading = np.empty(2 * n_links)
    head_heading = np.empty(2 * n_links)
    tail_heading[0::2] = h_start
    head_heading[0::2] = h_end
    tail_heading[1::2] = h_end + math.pi
    head_heading[1::2] = h_start + math.pi
    tail = np.empty(2 * n_links, dtype=np.int64)
    head = np.empty(2 * n_links, dtype=np.int64)
    tail[0::2], tail[1::2] = link_u, link_v
    head[0::2], head[1::2] = link_v, link_u
    out_order = np.argsort(tail, kind="stable")
    out_ptr = np.searchsorted(tail[out_order], np.arange(n_nodes + 1))
    n_out = np.diff(out_ptr)[head]
    total = int(n_out.sum())
    t_from = np.repeat(d, n_out)
    base = np.repeat(out_ptr[head] - (np.cumsum(n_out) - n_out), n_out)
    t_to = out_order[base + np.arange(total)]
    signed = (tail_heading[t_to] - head_heading[t_from] + math.pi) % (2 * math.pi) - math.pi
    defl = np.abs(signed)
    u_turn = (t_to // 2 == t_from // 2) & (t_to != t_from)
    defl = np.where(u_turn, math.pi, defl)
    radius = widest_line_radius_m(link_width[t_from // 2], defl, width_out_m=link_width[t_to // 2])
    merged, through, through_hold, through_apex = _through_bends(
        groups, link_length, link_width, t_from, t_to, signed
    )
    merged &= ~u_turn
    with np.errstate(invalid="ignore"):
        hold = np.where(np.isfinite(radius), radius * defl / 2.0, 0.0)
    hold = np.where(merged, through_hold, hold)
    radius = np.where(merged, through, radius)
    defl = np.where(merged, np.abs(signed), defl)
    # Turning back on the same link needs a turning circle no street offers at speed: the
    # vehicle stops and manoeuvres, so a U-turn restarts from rest.
    radius = np.where(u_turn, 0.0, radius)
    hold = np.where(u_turn, 0.0, hold)
    apex = np.where(merged, through_apex, 0.0)
    order = np.argsort(t_from, kind="stable")
    return (
        t_from[order].astype(np.int64),
        t_to[order].astype(np.int64),
        radius[order],
        defl[order],
        hold[order],
        apex[order],
    )


def links_of_ways(net: Network, way_ids: Iterable[int]) -> NDArray[np.bool_]:
    """Boolean mask of links that belong to the given OSM way ids."""
    return np.isin(net.link_way_id, np.fromiter(way_ids, dtype=np.int64))
