"""Running the tiles of a screening on dask.distributed and writing the results.

Before Dask starts, the extracts of the tiles still to compute are cut in one streaming pass
over the region's extract (:func:`.extract.cut_tiles`) into ``<out>/extracts/<tile_id>.osm.pbf``;
tile extracts already there (an earlier, interrupted run) are reused, not cut again. The tasks
read their tile's extract only, so ``--out`` must be on a filesystem every worker sees.
``screen(node_index=...)`` chooses the cut's pyosmium node-location index (:mod:`.extract`).

A ``LocalCluster`` (processes, one thread each, ``memory_limit`` per worker) is started unless a
scheduler address is given. Each tile is one task (:func:`run_tile`) retried ``retries`` times if
its worker dies; it writes ``tiles/<tile_id>.parquet`` (GeoParquet, WGS84 points) atomically
(temporary name, then rename), and a rerun skips the tiles already written, so a crashed run
resumes where it stopped. The per-tile files are then joined into ``results.parquet`` (and
``results.geojson`` on request), ranked and reported by :mod:`.outputs` (``ranked.csv``,
``ranked.html``, ``map.html``).

Per site (:func:`.tile_assess.assess_site`): the highest speed of each vehicle on the road
segments starting within ``SITE_RADIUS_M`` of the site point or, for an area, crossing or running
along its outline; the required rating (IWA 14-1, 90°) of the vehicle with the highest kinetic
energy there; the exposed edge length and the crowd capacity. Each tile file holds the site
points (``geometry``) and outlines (``boundary``, WGS84; empty for a point site).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from rempart.assess.engine.graph import build_network
from rempart.assess.engine.osm import read_osm
from rempart.assess.engine.vehicles import Vehicle, builtin_vehicles

from .candidates import Candidate, find_candidates, parse_capacity
from .extract import NODE_INDEX, count_ways, cut_tiles, extract_tile, tile_extract_path
from .outputs import RESULT_COLUMNS, check_language, rank, write_reports
from .tile_assess import assess_site, tile_fields, tile_speeds
from .tiles import DEFAULT_TILE_M, HALO_M, Tile, halo_m, make_tiles

#: Radius (m) around a site point within which road segments count as its approaches.
SITE_RADIUS_M = 30.0
#: Sub-directory of the output directory holding the tiles' cut extracts.
EXTRACTS_DIR = "extracts"


def run_tile(
    osm_path: str, tile: Tile, out_dir: str, vehicles: Sequence[Vehicle] | None = None
) -> str:
    """Assess one tile and write ``<out_dir>/tiles/<tile_id>.parquet``; returns its path.

    The tile's network is ``<out_dir>/extracts/<tile_id>.osm.pbf`` when :func:`screen` cut it
    there; otherwise it is cut here from ``osm_path`` (two passes over the region's extract).
    """
    vehicles = list(vehicles) if vehicles is not None else builtin_vehicles()
    tiles_dir = Path(out_dir) / "tiles"
    tiles_dir.mkdir(parents=True, exist_ok=True)
    precut = tile_extract_path(Path(out_dir) / EXTRACTS_DIR, tile.tile_id)
    with tempfile.TemporaryDirectory() as tmp:
        rows: list[dict[str, Any]] = []
        if precut.is_file():
            cut = precut
            n_ways = count_ways(cut)
        else:
            cut = Path(tmp) / f"{tile.tile_id}.osm.pbf"
            n_ways = extract_tile(osm_path, tile, cut)
        net = build_network(read_osm(cut)) if n_ways else None
        # one speed field per vehicle for the whole tile (it does not depend on the site)
        fields = tile_fields(net, tile, vehicles) if net is not None else []
        speeds = tile_speeds(net, fields) if net is not None else None
        for site in tile.sites:
            row: dict[str, Any] = {
                "site_id": site.site_id,
                "kind": site.kind,
                "name": site.name,
                "tile_id": tile.tile_id,
            }
            row.update(assess_site(net, speeds, site, vehicles, SITE_RADIUS_M))
            rows.append(row)
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=RESULT_COLUMNS),
        geometry=shapely.points([(s.lon, s.lat) for s in tile.sites]),
        crs="EPSG:4326",
    )
    frame["crowd_capacity"] = frame["crowd_capacity"].astype("Int64")
    frame["boundary"] = gpd.GeoSeries(
        [shapely.Polygon(s.ring) if s.ring is not None else None for s in tile.sites],
        crs="EPSG:4326",
    )
    final = tiles_dir / f"{tile.tile_id}.parquet"
    partial = tiles_dir / f".{tile.tile_id}.{os.getpid()}.parquet"
    frame.to_parquet(partial)
    partial.replace(final)
    return str(final)


#: The run a ``--out`` directory belongs to (written before the first tile).
RUN_FILE = "run.json"


#: Each part of a run's record, in words.
_RUN_WORDS = {
    "osm": "extract file",
    "osm_bytes": "extract size",
    "tile_m": "tile size",
    "halo_m": "halo",
    "sites_sha256": "sites",
}


class OutDirInUse(ValueError):
    """The output directory holds the tiles of another run (one sentence)."""


def _run_fingerprint(
    osm_path: str | Path, sites: Sequence[Candidate], tile_m: float, halo: float
) -> dict[str, Any]:
    """What makes a run's tiles reusable: the extract (path and size in bytes), the tile size
    and halo (m) and the sites (SHA-256 of their ids and points); tile ids alone do not say it."""
    digest = hashlib.sha256()
    for s in sorted(sites, key=lambda c: c.site_id):
        digest.update(f"{s.site_id}|{s.lon:.7f}|{s.lat:.7f}\n".encode())
    return {
        "osm": str(osm_path),
        "osm_bytes": Path(osm_path).stat().st_size,
        "tile_m": float(tile_m),
        "halo_m": float(halo),
        "sites_sha256": digest.hexdigest(),
    }


def _claim_out_dir(out: Path, fingerprint: dict[str, Any]) -> None:
    """Record the run in ``out``, or refuse when ``out`` holds another run's tiles (resuming
    would mix them: tiles are reused by id). A directory of a run from before this record
    (tiles, no ``run.json``) is taken as this run's, as before.

    Raises
    ------
    OutDirInUse
        Naming the directory, what differs and what to do.
    """
    marker = out / RUN_FILE
    if marker.is_file():
        try:
            before = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = {}
        differs = [_RUN_WORDS[k] for k in fingerprint if before.get(k) != fingerprint[k]]
        if differs:
            raise OutDirInUse(
                f"The output directory {out} holds a screening of another run (different "
                f"{', '.join(differs)}); expected a new --out, or the same extract, sites and "
                "tile size to resume."
            )
        return
    marker.write_text(json.dumps(fingerprint, indent=1), encoding="utf-8")


@dataclass
class ScreenReport:
    """What a run did: tiles computed now, tiles found already written, sites in results."""

    computed: list[str]
    skipped: list[str]
    n_sites: int
    dashboard: str | None


def load_sites_geojson(path: str | Path) -> list[Candidate]:
    """Sites from a GeoJSON FeatureCollection (any geometry; its centroid is used; a Polygon's
    outline and a ``capacity`` property are kept for the edge and crowd columns).

    Raises
    ------
    ValueError
        Naming the file and what was expected when it is not such a collection.
    """
    try:
        frame = gpd.read_file(path)
    except Exception as err:  # fiona/pyogrio raise several types
        raise ValueError(
            f"The sites file {path} cannot be read ({err}); expected a GeoJSON FeatureCollection."
        ) from None
    frame = frame.to_crs("EPSG:4326") if frame.crs else frame
    out = []
    for i, row in frame.iterrows():
        c = row.geometry.centroid
        sid = str(row["id"]) if "id" in frame.columns and row["id"] is not None else f"s{i}"
        name = str(row["name"]) if "name" in frame.columns and row["name"] is not None else ""
        geom = row.geometry
        ring = tuple(geom.exterior.coords) if geom.geom_type == "Polygon" else None
        cap = row["capacity"] if "capacity" in frame.columns else None
        if isinstance(cap, float) and cap.is_integer():
            cap = int(cap)
        capacity = parse_capacity(str(cap)) if cap is not None and pd.notna(cap) else None
        out.append(Candidate(sid, "sites-file", name, float(c.x), float(c.y), ring, capacity))
    return out


def screen(
    osm_path: str | Path,
    out_dir: str | Path,
    sites: Sequence[Candidate] | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    geojson: bool = False,
    retries: int = 2,
    memory_limit: str = "4GiB",
    node_index: str = NODE_INDEX,
    tile_m: float = DEFAULT_TILE_M,
    vehicles: Sequence[Vehicle] | None = None,
    progress: bool = True,
    on_start: Callable[[str | None], None] | None = None,
    task: Callable[..., str] = run_tile,
    lang: str = "en",
) -> ScreenReport:
    """Screen every site of ``osm_path`` (or ``sites``) tile by tile on Dask; see the module.

    ``task`` is the per-tile function (:func:`run_tile`; the tests wrap it to kill a worker).
    ``workers=0`` runs the tiles in this process, in sequence, without Dask. ``lang`` is the
    language of ranked.html and map.html (:mod:`.outputs`).
    """
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    check_language(lang)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vehicles = list(vehicles) if vehicles is not None else builtin_vehicles()
    found = list(sites) if sites is not None else find_candidates(osm_path)
    halo = halo_m(vehicles) if vehicles else HALO_M
    tiles = make_tiles(found, tile_m=tile_m, halo=halo)
    _claim_out_dir(out, _run_fingerprint(osm_path, found, tile_m, halo))
    done = (
        {p.stem for p in (out / "tiles").glob("*.parquet")} if (out / "tiles").is_dir() else set()
    )
    todo = [t for t in tiles if t.tile_id not in done]
    skipped = [t.tile_id for t in tiles if t.tile_id in done]
    computed: list[str] = []
    dashboard = None
    extracts = out / EXTRACTS_DIR
    to_cut = [t for t in todo if not tile_extract_path(extracts, t.tile_id).is_file()]
    if to_cut:
        cut_tiles(osm_path, to_cut, extracts, node_index=node_index)
    if todo and workers == 0 and not scheduler:
        for t in todo:
            computed.append(Path(task(str(osm_path), t, str(out), vehicles)).stem)
    elif todo:
        if scheduler:
            client = Client(scheduler)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=memory_limit,
                dashboard_address=":0",
            )
            client = Client(cluster)
        try:
            dashboard = client.dashboard_link
            if on_start:
                on_start(dashboard)
            futures = [
                client.submit(
                    task, str(osm_path), t, str(out), vehicles, retries=retries, pure=False
                )
                for t in todo
            ]
            bar = tqdm(total=len(futures), unit="tile", disable=not progress)
            for fut in as_completed(futures):
                computed.append(Path(fut.result()).stem)
                bar.update(1)
            bar.close()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    wanted = {t.tile_id for t in tiles}
    parts = [
        gpd.read_parquet(p) for p in sorted((out / "tiles").glob("*.parquet")) if p.stem in wanted
    ]
    if parts:
        results = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    else:
        results = gpd.GeoDataFrame(
            pd.DataFrame(columns=RESULT_COLUMNS), geometry=[], crs="EPSG:4326"
        )
    results = rank(results)
    results.to_parquet(out / "results.parquet")
    if geojson:
        (out / "results.geojson").write_text(
            results.drop(columns="boundary", errors="ignore").to_json(), encoding="utf-8"
        )
    write_reports(results, out, lang)
    (out / "manifest.json").write_text(
        json.dumps({"tiles": sorted(wanted), "osm": str(osm_path)}, indent=1), encoding="utf-8"
    )
    return ScreenReport(computed, skipped, len(results), dashboard)
