"""Writing tiny hand-made .osm XML files for the screening tests."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr


def write_osm(
    path: Path,
    nodes: list[tuple[int, float, float, dict[str, str]]],
    ways: list[tuple[int, list[int], dict[str, str]]],
) -> Path:
    """Write nodes ``(id, lon, lat, tags)`` and ways ``(id, node ids, tags)`` as OSM XML 0.6."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']
    for nid, lon, lat, tags in nodes:
        lines.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}">')
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("</node>")
    for wid, refs, tags in ways:
        lines.append(f'<way id="{wid}" version="1">')
        lines += [f'<nd ref="{r}"/>' for r in refs]
        lines += [f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
