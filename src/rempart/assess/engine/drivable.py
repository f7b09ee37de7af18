"""Drivable space around a site: an obstacle raster read from OpenStreetMap (docs/method.md,
"Off-road model").

pyosmium reads the obstacles (areas assembled by osmium), numpy rasterises them (a scan-line
polygon fill over all polygons at once) and scipy's Euclidean distance transform gives every
free cell its clearance, the distance (m) to the nearest obstacle: a vehicle of width ``w``
fits where the clearance is at least ``w / 2``, so one transform closes the gaps narrower than
every vehicle. Everything else is drivable: roads, pavements, squares, parks, unmapped ground.

Coordinates are the network's local CRS (azimuthal equidistant, metres); the grid has square
cells of :data:`CELL_M` metres, row ``i`` at ``y0 + (i + 0.5) * cell``, column ``j`` at
``x0 + (j + 0.5) * cell``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from numpy.typing import NDArray
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from .errors import OsmReadError
from .osm import decode_wkb

#: Grid cell (m). 1 m resolves a 2.5 m truck against a 2 m gap (tests/.../test_offroad.py).
CELL_M = 1.0
#: Radius (m) of the drivable space around a site: the run-up in which a 7.2 t N2A truck
#: reaches 96 % of its 90 km/h top speed from rest (X(v) of data/vehicles.toml gives 469 m for
#: the full 90 km/h, 300 m for 80 km/h). Longer approaches arrive through the road network's
#: speed field, which is computed over the whole file.
RADIUS_M = 400.0
#: Area tags that are obstacles (key -> values; ``None``: any value but "no").
AREA_OBSTACLES: dict[str, frozenset[str] | None] = {
    "building": None,
    "natural": frozenset({"water", "bare_rock", "cliff"}),
    "water": None,
    "waterway": frozenset({"riverbank", "dock", "canal"}),
    "landuse": frozenset({"reservoir", "basin"}),
    "railway": frozenset({"platform"}),
    "public_transport": frozenset({"platform"}),
    "highway": frozenset({"steps"}),
}
#: Building values that are not walls at ground level (a vehicle passes under a roof).
BUILDING_NOT_OBSTACLE = frozenset({"no", "roof", "carport", "canopy"})
#: Line tags that are obstacles (:func:`read_features` looks up these five keys by name).
LINE_OBSTACLES: dict[str, frozenset[str]] = {
    "barrier": frozenset({"wall", "retaining_wall", "city_wall"}),
    "natural": frozenset({"cliff"}),
    "highway": frozenset({"steps"}),
    "railway": frozenset({"platform", "platform_edge"}),
    "public_transport": frozenset({"platform"}),
}
#: Footway-like classes whose width the data usually lacks (thin-data warning).
FOOTWAY_CLASSES = frozenset({"footway", "path", "pedestrian", "cycleway", "bridleway"})
#: Free ground farther than this (m) from any mapped feature counts as unmapped.
UNMAPPED_DISTANCE_M = 40.0
#: Cell (m) of the coarse grid on which unmapped ground is measured.
UNMAPPED_CELL_M = 4.0
#: Share of the ground within the radius above which a site gets the unmapped warning.
UNMAPPED_SHARE = 0.10

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Project = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]


def grade_separated(tags: dict[str, str]) -> bool:
    """Whether a way is off the ground level: ``bridge``/``tunnel`` (not "no") or ``layer``
    other than 0 (OSM wiki, Key:layer)."""
    for key in ("bridge", "tunnel"):
        value = tags.get(key, "")
        if value and value != "no":
            return True
    layer = tags.get("layer", "").strip()
    if layer:
        try:
            return float(layer) != 0.0
        except ValueError:
            return False
    return False


@dataclass
class Features:
    """Obstacles and data-quality features of an OSM file, in the local CRS (m).

    ``areas`` / ``lines``: obstacle polygons and lines; ``kerbs``: ``barrier=kerb`` lines;
    ``footways``: footway-like lines without a width tag; ``mapped``: every other feature line
    or outline read (roads, landuse, ...) used to find unmapped ground.
    """

    areas: list[BaseGeometry] = field(default_factory=list)
    lines: list[BaseGeometry] = field(default_factory=list)
    kerbs: list[BaseGeometry] = field(default_factory=list)
    footways: list[BaseGeometry] = field(default_factory=list)
    mapped: list[BaseGeometry] = field(default_factory=list)
    #: obstacle kind of each of ``areas`` / ``lines`` (:func:`obstacle_kind`); may be shorter
    #: than them for features built by hand (the rest are "obstacle")
    area_kinds: list[str] = field(default_factory=list)
    line_kinds: list[str] = field(default_factory=list)

    def trees(self) -> dict[str, tuple[NDArray[np.object_], shapely.STRtree]]:
        out = {}
        for name in ("areas", "lines", "kerbs", "footways", "mapped"):
            arr = np.asarray(getattr(self, name), dtype=object)
            out[name] = (arr, shapely.STRtree(arr))
        return out


def _matches(tags: Any, table: dict[str, Any]) -> bool:
    for key, values in table.items():
        value = tags.get(key)
        if value is None:
            continue
        if values is None:
            if value != "no" and not (key == "building" and value in BUILDING_NOT_OBSTACLE):
                return True
        elif value in values:
            return True
    return False


def obstacle_kind(tags: Any) -> str:
    """Kind of an obstacle feature, a code of the barrier plan's line ends (plan_lines):
    building, wall, water, cliff, steps, platform, else obstacle."""
    if tags.get("building") is not None:
        return "building"
    if tags.get("barrier") in LINE_OBSTACLES["barrier"]:
        return "wall"
    natural = tags.get("natural")
    if natural in ("cliff", "bare_rock"):
        return "cliff"
    if (
        natural == "water"
        or tags.get("water") is not None
        or tags.get("waterway") is not None
        or tags.get("landuse") in ("reservoir", "basin")
    ):
        return "water"
    if tags.get("highway") == "steps":
        return "steps"
    if "platform" in (tags.get("railway"), tags.get("public_transport")) or (
        tags.get("railway") == "platform_edge"
    ):
        return "platform"
    return "obstacle"


def _underground(tags: Any) -> bool:
    layer = tags.get("layer")
    if layer:
        try:
            if float(layer) < 0:
                return True
        except ValueError:
            pass
    return tags.get("location") in ("underground", "indoor") or tags.get("tunnel") not in (
        None,
        "no",
    )


def read_features(
    path: str | Path, project: Project, areas: osmium.area.AreaManager | None = None
) -> Features:
    """Read obstacle areas and lines, kerbs, untagged footways and mapped outlines.

    Untagged objects and nodes are dropped inside osmium (filters after the location and area
    handlers, which still see every object); geometries are built in bulk from osmium's WKB
    and projected to the local CRS in one call for all kinds (:func:`geometries_of_wkb`), not
    one per object. ``areas``: an area manager whose
    first pass over the relations is done (:func:`osm.read_osm` does it in its own read): the
    file is then read once here, not twice.

    Raises
    ------
    OsmReadError
        If the file cannot be read.
    """
    text = str(path)
    wkb = osmium.geom.WKBFactory()
    all_nodes = osmium.geom.use_nodes.ALL
    # kind -> WKB (hex) of the lon/lat geometries, in file order
    kinds = ("areas", "lines", "kerbs", "footways", "mapped")
    raw: dict[str, list[str]] = {k: [] for k in kinds}
    # obstacle kind (:func:`obstacle_kind`) of each of raw["areas"] / raw["lines"]
    area_kinds: list[str] = []
    line_kinds: list[str] = []

    try:
        # tag values are looked up once each (a lookup costs as much as the geometry)
        for item in _ways_and_areas(text, areas):
            obj: Any = item
            tags = obj.tags
            get = tags.get
            # a building tag that is the only tag: no other key needs a lookup
            building = get("building")
            only_building = building is not None and len(tags) == 1
            if isinstance(obj, osmium.osm.Area):
                is_building = (
                    building is not None
                    and building != "no"
                    and building not in BUILDING_NOT_OBSTACLE
                )
                if only_building:
                    is_obstacle = is_building
                else:
                    is_obstacle = (
                        is_building or _matches(tags, AREA_OBSTACLES)
                    ) and not _underground(tags)
                try:
                    hexwkb = wkb.create_multipolygon(obj)
                except RuntimeError:
                    continue
                raw["areas" if is_obstacle else "mapped"].append(hexwkb)
                if is_obstacle:
                    area_kinds.append("building" if building is not None else obstacle_kind(tags))
            elif isinstance(obj, osmium.osm.Way) and only_building:
                # a building outline: neither an obstacle line, a kerb nor a footway
                try:
                    raw["mapped"].append(wkb.create_linestring(obj, use_nodes=all_nodes))
                except (osmium.InvalidLocationError, RuntimeError):
                    outline = _line_of_valid_nodes(obj)
                    if outline is not None:
                        raw["mapped"].append(outline)
            elif isinstance(obj, osmium.osm.Way):
                way: Any = obj
                barrier = get("barrier")
                hw = get("highway")
                is_line = (
                    barrier in LINE_OBSTACLES["barrier"]
                    or hw in LINE_OBSTACLES["highway"]
                    or get("natural") in LINE_OBSTACLES["natural"]
                    or get("railway") in LINE_OBSTACLES["railway"]
                    or get("public_transport") in LINE_OBSTACLES["public_transport"]
                ) and not _underground(tags)
                is_kerb = barrier == "kerb"
                untagged = (
                    hw in FOOTWAY_CLASSES
                    and "width" not in tags
                    and "est_width" not in tags
                    and tags.get("area") != "yes"
                )
                line: str | None
                try:
                    line = wkb.create_linestring(way, use_nodes=all_nodes)
                except (osmium.InvalidLocationError, RuntimeError):
                    # some nodes missing from the file: the line through the others
                    line = _line_of_valid_nodes(way)
                if line is None:
                    continue
                if is_line:
                    raw["lines"].append(line)
                    line_kinds.append(obstacle_kind(tags))
                elif is_kerb:
                    raw["kerbs"].append(line)
                elif untagged:
                    raw["footways"].append(line)
                else:
                    raw["mapped"].append(line)
    except (RuntimeError, ValueError, OSError, osmium.InvalidLocationError) as err:
        raise OsmReadError("OSM file", text, f"readable .osm.pbf or .osm XML ({err})") from None

    # one parse and one projection for all kinds: closed ways are both a line and an area
    geoms = geometries_of_wkb([h for k in kinds for h in raw[k]], project)
    ends = np.cumsum([len(raw[k]) for k in kinds])
    parts = np.split(geoms, ends[:-1])
    return Features(
        **{k: list(part) for k, part in zip(kinds, parts, strict=True)},
        area_kinds=area_kinds,
        line_kinds=line_kinds,
    )


def geometries_of_wkb(hexes: Sequence[str], project: Project) -> NDArray[np.object_]:
    """Shapely geometries of hex WKB (WGS84 lon/lat degrees), projected to the local CRS (m).

    The same geometries as ``shapely.transform(shapely.from_wkb(hexes), project)``, built in
    bulk: the WKB osmium writes (little-endian 2-D LineStrings, MultiPolygons of one polygon
    with one ring) is decoded with numpy (:func:`osm.decode_wkb`), every distinct point
    projected once, in one call, and the geometries made by shapely's vectorised
    constructors; any other record (holes, several polygons, big-endian) goes through
    ``from_wkb`` and ``transform``.
    """
    out = np.empty(len(hexes), dtype=object)
    line, ring, count, lonlat = decode_wkb(hexes)
    simple = line | ring
    if simple.any():
        count = count[simple]
        local = _project_unique(lonlat, project)
        is_line = line[simple]
        on_line = np.repeat(is_line, count)
        geoms = np.empty(count.size, dtype=object)
        for which, on, kind in (
            (is_line, on_line, shapely.GeometryType.LINESTRING),
            (~is_line, ~on_line, shapely.GeometryType.MULTIPOLYGON),
        ):
            k = int(which.sum())
            if k == 0:
                continue
            ends = np.zeros(k + 1, dtype=np.int64)
            np.cumsum(count[which], out=ends[1:])
            # a MultiPolygon of one Polygon of one ring each
            one = np.arange(k + 1, dtype=np.int64)
            offsets = (ends,) if kind == shapely.GeometryType.LINESTRING else (ends, one, one)
            geoms[which] = shapely.from_ragged_array(kind, local[on], offsets)
        out[simple] = geoms
    rest = np.flatnonzero(~simple)
    if rest.size:
        other = shapely.from_wkb(np.array([hexes[int(i)] for i in rest], dtype=object))
        out[rest] = shapely.transform(other, lambda c: np.column_stack(project(c[:, 0], c[:, 1])))
    return out


def _project_unique(lonlat: FloatArray, project: Project) -> FloatArray:
    """(n, 2) local coordinates (m) of (n, 2) lon/lat degrees, each distinct point projected
    once (OSM nodes shared by ways, and every closed way read twice: as its line and as its
    area). Points are keyed on their 1e-7 degree fixed-point value, osmium's: a coordinate is
    that integer divided by 1e7, so equal keys are equal points; if any coordinate is not of
    that form, every point is projected."""
    if lonlat.shape[0] < 2:
        x, y = project(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])
    with np.errstate(invalid="ignore"):
        fixed = np.rint(lonlat * 1e7)
        ok = bool(np.all(np.abs(fixed) < 2.0**31)) and np.array_equal(fixed / 1e7, lonlat)
    if ok:
        ints = fixed.astype(np.int64)
        key = (ints[:, 0] << 32) + ints[:, 1]
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        new = np.empty(key.size, dtype=bool)
        new[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
        group = np.empty(key.size, dtype=np.int64)
        group[order] = np.cumsum(new) - 1
        unique = lonlat[order[new]]
    else:
        x, y = project(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])
    x, y = project(unique[:, 0], unique[:, 1])
    return np.column_stack([x, y])[group]


def _ways_and_areas(text: str, areas: osmium.area.AreaManager | None) -> Iterator[Any]:
    """Tagged ways and assembled areas of the file, with node locations. Without ``areas``,
    pyosmium's FileProcessor (two reads: the relations, then everything); with an area manager
    whose first pass is done, only the second read (as FileProcessor does it: the areas
    assembled in a buffer, yielded after the object that completed them)."""
    filters = (
        osmium.filter.EntityFilter(osmium.osm.WAY | osmium.osm.AREA),
        osmium.filter.EmptyTagFilter(),
    )
    if areas is None:
        processor = osmium.FileProcessor(text).with_locations().with_areas()
        for f in filters:
            processor.with_filter(f)
        yield from processor
        return
    locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
    locations.ignore_errors()
    assembled = osmium.BufferIterator(*filters)
    # the handlers are held here: the iterator does not keep them alive
    handlers = (locations, areas.second_pass_to_buffer(assembled), *filters)
    with osmium.io.Reader(text) as reader:
        for obj in osmium.OsmFileIterator(reader, *handlers):
            yield obj
            if assembled:
                yield from assembled
    if assembled:
        yield from assembled


def _line_of_valid_nodes(way: Any) -> str | None:
    """WKB (hex) of a way's line through its nodes with a valid location (None if under 2)."""
    try:
        coords = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
    except osmium.InvalidLocationError:
        return None
    if len(coords) < 2:
        return None
    return str(shapely.to_wkb(shapely.linestrings(coords), hex=True))


@dataclass(frozen=True)
class Grid:
    """A square grid in the local CRS."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int

    @classmethod
    def around(cls, geom: BaseGeometry, radius_m: float, cell_m: float = CELL_M) -> Grid:
        minx, miny, maxx, maxy = geom.bounds
        x0 = math.floor((minx - radius_m) / cell_m) * cell_m
        y0 = math.floor((miny - radius_m) / cell_m) * cell_m
        nx = int(math.ceil((maxx + radius_m - x0) / cell_m))
        ny = int(math.ceil((maxy + radius_m - y0) / cell_m))
        return cls(x0, y0, cell_m, nx, ny)

    @property
    def box(self) -> BaseGeometry:
        return shapely.box(
            self.x0, self.y0, self.x0 + self.nx * self.cell_m, self.y0 + self.ny * self.cell_m
        )

    def cell_of(self, x: FloatArray, y: FloatArray) -> NDArray[np.int64]:
        """Flat cell index of points; -1 outside the grid."""
        j = np.floor((x - self.x0) / self.cell_m).astype(np.int64)
        i = np.floor((y - self.y0) / self.cell_m).astype(np.int64)
        ok = (i >= 0) & (i < self.ny) & (j >= 0) & (j < self.nx)
        return np.where(ok, i * self.nx + j, -1)

    def centre(self, flat: NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
        i, j = np.divmod(flat, self.nx)
        return self.x0 + (j + 0.5) * self.cell_m, self.y0 + (i + 0.5) * self.cell_m


def fill_polygons(grid: Grid, polygons: Sequence[BaseGeometry]) -> BoolArray:
    """Cells whose centre lies inside any of the polygons (even-odd rule per polygon),
    by a vectorised scan-line fill: every ring edge crossing a row centre line gives a
    crossing; crossings of one polygon on one row are paired in x order."""
    polys = [p for p in polygons if not p.is_empty]
    if not polys:
        return np.zeros((grid.ny, grid.nx), dtype=bool)
    parts, part_of = shapely.get_parts(np.asarray(polys, dtype=object), return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    poly_of_ring = part_of[ring_part]
    same = ring_of[1:] == ring_of[:-1]
    ax, ay = coords[:-1][same, 0], coords[:-1][same, 1]
    bx, by = coords[1:][same, 0], coords[1:][same, 1]
    owner = poly_of_ring[ring_of[:-1][same]]
    # rows whose centre y is in [min(ay, by), max(ay, by))
    c = grid.cell_m
    lo = np.ceil((np.minimum(ay, by) - grid.y0) / c - 0.5).astype(np.int64)
    hi = np.ceil((np.maximum(ay, by) - grid.y0) / c - 0.5).astype(np.int64)  # exclusive
    lo = np.clip(lo, 0, grid.ny)
    hi = np.clip(hi, 0, grid.ny)
    n = np.maximum(hi - lo, 0)
    if n.sum() == 0:
        return np.zeros((grid.ny, grid.nx), dtype=bool)
    edge = np.repeat(np.arange(n.size), n)
    row = lo[edge] + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    yc = grid.y0 + (row + 0.5) * c
    t = (yc - ay[edge]) / (by[edge] - ay[edge])
    xc = ax[edge] + t * (bx[edge] - ax[edge])
    order = np.lexsort((xc, row, owner[edge]))
    xc, row = xc[order], row[order]
    # pairs (0,1), (2,3), ... within each (polygon, row) group: groups have even counts
    xs, xe, r = xc[0::2], xc[1::2], row[0::2]
    j0 = np.clip(np.ceil((xs - grid.x0) / c - 0.5).astype(np.int64), 0, grid.nx)
    j1 = np.clip(np.ceil((xe - grid.x0) / c - 0.5).astype(np.int64), 0, grid.nx)
    keep = j1 > j0
    out = np.zeros((grid.ny, grid.nx), dtype=bool)
    if not keep.any():
        return out
    r, j0, j1 = r[keep], j0[keep], j1[keep]
    # +1 where a run starts, -1 where it ends, on the rows the runs touch only
    r0, r1 = int(r.min()), int(r.max()) + 1
    width = grid.nx + 1
    size = (r1 - r0) * width
    first = (r - r0) * width
    runs = np.bincount(first + j0, minlength=size) - np.bincount(first + j1, minlength=size)
    out[r0:r1] = np.cumsum(runs.reshape(r1 - r0, width), axis=1)[:, : grid.nx] > 0
    return out


def burn_lines(grid: Grid, lines: Sequence[BaseGeometry]) -> BoolArray:
    """Cells touched by the lines (vertices every half cell, shapely.segmentize), thickened to 4-connected
    strokes so that a ray stepping one cell cannot slip through a diagonal."""
    hit = _line_cells(grid, lines)
    out = np.zeros(grid.ny * grid.nx, dtype=bool)
    out[hit[0]] = True
    return _cross_any(out.reshape(grid.ny, grid.nx))


def _line_cells(
    grid: Grid, lines: Sequence[BaseGeometry]
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """Flat cells of the lines' vertices every half cell (a polygon by its boundary) and the
    index of the line of each."""
    geoms = np.asarray(
        [g.boundary if g.geom_type in ("Polygon", "MultiPolygon") else g for g in lines],
        dtype=object,
    )
    owner = np.arange(len(lines), dtype=np.int32)
    keep = ~shapely.is_empty(geoms) if len(lines) else np.zeros(0, dtype=bool)
    if not keep.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32)
    parts, which = shapely.get_parts(geoms[keep], return_index=True)
    solid = shapely.length(parts) > 0
    dense = shapely.segmentize(parts[solid], 0.5 * grid.cell_m)
    xy, k = shapely.get_coordinates(dense, return_index=True)
    label = owner[keep][which[solid]][k]
    cell = grid.cell_of(xy[:, 0], xy[:, 1])
    on = cell >= 0
    return cell[on], label[on]


def _cross_any(hit: BoolArray) -> BoolArray:
    """Cells that are, or have a 4-neighbour that is, ``hit`` (a dilation by the cross)."""
    out = hit.copy()
    out[1:] |= hit[:-1]
    out[:-1] |= hit[1:]
    out[:, 1:] |= hit[:, :-1]
    out[:, :-1] |= hit[:, 1:]
    return out


def _cross_min(lab: NDArray[np.int32]) -> NDArray[np.int32]:
    """Minimum over each cell and its 4-neighbours (outside the grid: no value), as
    ``ndimage.grey_erosion`` with the cross footprint and a constant of the dtype's maximum."""
    out = lab.copy()
    np.minimum(out[1:], lab[:-1], out=out[1:])
    np.minimum(out[:-1], lab[1:], out=out[:-1])
    np.minimum(out[:, 1:], lab[:, :-1], out=out[:, 1:])
    np.minimum(out[:, :-1], lab[:, 1:], out=out[:, :-1])
    return out


def burn_labelled_lines(grid: Grid, lines: Sequence[BaseGeometry]) -> NDArray[np.int32]:
    """(ny, nx) labels of the cells :func:`burn_lines` burns for each line: 0 none, else
    ``i + 1`` for the lowest index ``i`` of the lines whose thickened stroke touches the cell
    (a polygon is burned by its boundary). One pass for all the lines (a rated-barrier
    register may hold thousands)."""
    none = np.iinfo(np.int32).max
    flat = np.full(grid.ny * grid.nx, none, dtype=np.int32)
    cell, label = _line_cells(grid, lines)
    if cell.size == 0:
        return np.zeros((grid.ny, grid.nx), dtype=np.int32)
    np.minimum.at(flat, cell, label + 1)
    lab = _cross_min(flat.reshape(grid.ny, grid.nx))
    return np.asarray(np.where(lab == none, 0, lab), dtype=np.int32)


@dataclass(frozen=True)
class Drivable:
    """Drivable space of one site.

    Attributes
    ----------
    grid : the raster.
    clearance_m : (ny, nx) float32, distance (m) from a cell centre to the nearest obstacle
        (0 on obstacles); a vehicle of width ``w`` fits where it is at least ``w / 2``.
    inside : (ny, nx) bool, the site's interior shrunk by one cell (rays do not cross it).
    kerb : (ny, nx) bool, mapped kerbs (``barrier=kerb``).
    warnings : data-quality codes (see :data:`WARNINGS`).
    """

    grid: Grid
    clearance_m: NDArray[np.float32]
    inside: BoolArray
    kerb: BoolArray
    warnings: tuple[str, ...]


#: Data-quality warnings: code -> (English, French). The web layer translates the codes.
WARNINGS: dict[str, tuple[str, str]] = {
    "untagged_footways": (
        "Footways or paths without a width near the site: if they are wide, vehicles can use them.",
        "Trottoirs ou chemins sans largeur près du site : s'ils sont larges, des véhicules peuvent les emprunter.",
    ),
    "outline_only_square": (
        "The site is mapped only by its outline: nothing inside it (furniture, trees, levels) is known.",
        "Le site n'est cartographié que par son contour : rien n'est connu à l'intérieur (mobilier, arbres, niveaux).",
    ),
    "large_unmapped_area": (
        "Large unmapped areas around the site are assumed drivable.",
        "De grandes zones non cartographiées autour du site sont supposées praticables.",
    ),
}


def distance_cells(obstacle: BoolArray) -> FloatArray:
    """Euclidean distance (cells) from each cell to the nearest ``obstacle`` cell (0 on them):
    ``ndimage.distance_transform_edt(~obstacle)``, the same floats (the square root of the
    integer squared distance), with the distances computed in integers from scipy's feature
    transform rather than in float64 over two full index arrays."""
    fy, fx = ndimage.distance_transform_edt(~obstacle, return_distances=False, return_indices=True)
    dy = fy - np.arange(obstacle.shape[0], dtype=fy.dtype)[:, None]
    dx = fx - np.arange(obstacle.shape[1], dtype=fx.dtype)[None, :]
    dy *= dy
    dx *= dx
    dy += dx
    return np.sqrt(dy, dtype=np.float64)


def drivable_space(
    site: BaseGeometry,
    features: Features,
    trees: dict[str, tuple[NDArray[np.object_], shapely.STRtree]] | None = None,
    barrier_lines: Sequence[BaseGeometry] = (),
    radius_m: float = RADIUS_M,
    cell_m: float = CELL_M,
) -> Drivable:
    """Rasterise the drivable space within ``radius_m`` of ``site`` (local CRS).

    Obstacles overlapping the site by more than half their area (the site's own building)
    are left out; ``barrier_lines`` are extra obstacle lines (none by default: rated barriers
    are handled per vehicle by the search).
    """
    grid = Grid.around(site, radius_m, cell_m)
    trees = trees if trees is not None else features.trees()
    region = grid.box

    def near(name: str) -> list[BaseGeometry]:
        arr, tree = trees[name]
        if arr.size == 0:
            return []
        return list(arr[tree.query(region, predicate="intersects")])

    areas = near("areas")
    if areas:
        arr = np.asarray(areas, dtype=object)
        own = shapely.area(shapely.intersection(arr, site)) > 0.5 * shapely.area(arr)
        areas = list(arr[~own])
    obstacle = fill_polygons(grid, areas) | burn_lines(grid, near("lines") + list(barrier_lines))
    clearance = distance_cells(obstacle).astype(np.float32) * cell_m
    clearance = np.maximum(clearance - 0.5 * cell_m, 0.0).astype(np.float32)
    clearance[obstacle] = 0.0
    inner = site.buffer(-cell_m)
    inside = fill_polygons(grid, [inner]) if not inner.is_empty else np.zeros_like(obstacle)
    kerb = burn_lines(grid, near("kerbs"))
    warnings: list[str] = []
    footways = near("footways")
    if footways:
        warnings.append("untagged_footways")
    mapped = near("mapped")
    inner_feats = np.asarray(mapped + near("lines") + areas, dtype=object)
    if inner_feats.size:
        touching = inner_feats[shapely.intersects(inner_feats, site)]
        outline = site.boundary.buffer(cell_m)
        only_outline = bool(np.all(shapely.contains(outline, touching)))
    else:
        only_outline = True
    if only_outline:
        warnings.append("outline_only_square")
    # unmapped ground on a coarser grid (UNMAPPED_CELL_M): distance to any mapped feature
    coarse = Grid.around(site, radius_m, UNMAPPED_CELL_M)
    known = (
        fill_polygons(coarse, areas)
        | burn_lines(coarse, mapped + footways + near("lines") + areas)
        | fill_polygons(coarse, [site])
    )
    dist = distance_cells(known) * UNMAPPED_CELL_M
    if (dist > UNMAPPED_DISTANCE_M).mean() > UNMAPPED_SHARE:
        warnings.append("large_unmapped_area")
    return Drivable(grid, clearance, inside, kerb, tuple(warnings))
