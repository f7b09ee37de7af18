"""Outputs of an assessment: JSON, GeoJSON, a text table, and the signed-off report (a dated,
versioned HTML document with a cover, in the reader's language, also as PDF).

Modules: :mod:`.formats` (JSON, GeoJSON, text), :mod:`.meta` (what the report states about
itself), :mod:`.words` (language), :mod:`.maps` (SVG maps), :mod:`.document` (the HTML
document), :mod:`.pdf` (WeasyPrint).
"""

from .document import render_html, to_html
from .formats import (
    data_gaps,
    geojson_features,
    site_data,
    speed_colour,
    to_geojson,
    to_json,
    to_text,
)
from .meta import ReportMeta, map_data_date
from .pdf import html_to_pdf
from .words import Words, words_for

__all__ = [
    "ReportMeta",
    "Words",
    "data_gaps",
    "geojson_features",
    "html_to_pdf",
    "map_data_date",
    "render_html",
    "site_data",
    "speed_colour",
    "to_geojson",
    "to_html",
    "to_json",
    "to_text",
    "words_for",
]
