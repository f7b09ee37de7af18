"""Issue 10 item 6: the report is a deliverable an assessor can sign, in English and in French.

One hand-built world (a named avenue straight at the site across a T-junction, a footway
without width, a kerb, the site's other sides closed by buildings, two vehicles) is assessed
once and rendered in both languages. Asserted: a cover with date (in the city's time zone),
author, run number, software version and map-data date; every label in the reader's language
with no raw code (``off_road``, ``rest``, ``turn``, ...) and no English left in the French
document; the method summarised inside it, with the numbers the engine uses; no link to a file
of the code repository; the data-gap warnings; a heat map per vehicle; numbered stretches on
the map and in the table.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from importlib.metadata import version

import pypdf
import pytest

from rempart.assess.cli import main
from rempart.assess.engine.drivable import RADIUS_M
from rempart.assess.engine.offroad import KERB_SPEED_LOSS_KMH
from rempart.assess.engine.report import ReportMeta, html_to_pdf, site_data, to_html, words_for
from rempart.assess.engine.run import AssessOptions, assess
from rempart.assess.engine.vehicles import builtin_vehicles

from .engine._netbuild import road, write_osm
from .engine.test_offroad import ENCLOSE, SITE, canyon

# 16:30 UTC on 1 July 2026 is 18:30 in Paris (CEST, UTC+2)
CREATED = dt.datetime(2026, 7, 1, 16, 30, tzinfo=dt.UTC)
VEHICLES = ("M1-car", "N2A-7t")

#: codes of the engine's JSON a reader must never see as such (whole words)
RAW_CODES = (
    "off_road",
    "off-road_",
    "rest",
    "turn",
    "bend",
    "road_crossing",
    "edge_stretch",
    "untagged_footways",
    "outline_only_square",
    "large_unmapped_area",
    "unnamed_way",
    "planning_radius",
    "open_end",
    "rated_barrier",
    "carriageway_only",
    "too narrow",
    "unreachable",
    "None",
    "nan",
)
#: visible words that are the same in both languages (names, notation, "Site", "Date", ...)
SAME_IN_BOTH = {
    "Site",
    "Date",
    "Signature",
    "Source",
    "PAS 68",
    "Place Test",
    "Testville",
    "Aino Assessor",
    "case.osm",
    "Rue de la Paix",
    *VEHICLES,
}


def _meta(**kw) -> ReportMeta:
    base = dict(
        created=CREATED,
        time_zone="Europe/Paris",
        city="Testville",
        author="Aino Assessor",
        run_number=12,
        map_data_date="2026-05-02T08:00:00Z",
        map_file="case.osm",
    )
    base.update(kw)
    return ReportMeta(**base)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("deliverable") / "case.osm"
    write_osm(
        path,
        [
            road([(-600.0, -12.0), (600.0, -12.0)], "secondary", name="Rue de la Paix"),
            road([(0.0, -600.0), (0.0, -12.0)]),
            ({"highway": "footway"}, [(30.0, -200.0), (30.0, -12.0)]),
            ({"barrier": "kerb"}, [(-50.0, -5.0), (50.0, -5.0)]),
            *canyon(6.0, -20.0),
            *ENCLOSE,
        ],
    )
    vehicles = [v for v in builtin_vehicles() if v.name in VEHICLES]
    return path, assess(path, [("Place Test", SITE)], vehicles=vehicles)


@pytest.fixture(scope="module")
def reports(world):
    _, res = world
    return {lang: to_html(res, meta=_meta(), words=words_for(lang)) for lang in ("en", "fr")}


def visible(doc: str) -> list[str]:
    """The text a reader sees: text nodes (SVG too) and the map's accessible labels."""
    body = re.sub(r"<style.*?</style>", "", doc, flags=re.S)
    nodes = [html.unescape(t).strip() for t in re.split(r"<[^>]+>", body)]
    nodes += [html.unescape(t) for t in re.findall(r'(?:aria-label|title)="([^"]*)"', body)]
    return [t for t in nodes if t]


@pytest.mark.parametrize(
    ("lang", "labels", "moment", "map_date"),
    [
        (
            "en",
            ("Author", "Run number", "Software", "Map data", "Checked by"),
            "July 1, 2026 6:30",
            "May 2, 2026 10:00",
        ),
        (
            "fr",
            ("Auteur", "Numéro d'évaluation", "Logiciel", "Données cartographiques", "Vérifié par"),
            "1 juillet 2026 18:30",
            "2 mai 2026 10:00",
        ),
    ],
)
def test_the_cover_dates_signs_and_versions_the_document(reports, lang, labels, moment, map_date):
    doc = html.unescape(reports[lang])
    cover = doc[doc.index("class='cover'") : doc.index("</section>")]
    assert f"<html lang='{lang}'>" in doc
    for label in labels:
        assert f">{label}<" in cover, label
    # the run's moment and the map data's date in the city's time zone (Paris, UTC+2)
    assert moment in cover and "(Europe/Paris)" in cover
    assert map_date in cover
    assert "Aino Assessor" in cover and "Testville" in cover and "Place Test" in cover
    assert ">12<" in cover  # the run number
    assert f"rempart version {version('rempart')}" in cover
    assert "case.osm" in cover


def test_the_french_report_shows_no_raw_code(reports):
    text = visible(reports["fr"])
    for code in RAW_CODES:
        pattern = re.compile(rf"(?<![\w/-]){re.escape(code)}(?![\w/-])")
        hits = [t for t in text if pattern.search(t)]
        assert not hits, (code, hits[:3])


def test_the_french_report_has_no_english_left(reports):
    # every text node the French document shares with the English one is a name, a number,
    # the rating notation or a word that is the same in both languages
    english = set(visible(reports["en"]))
    shared = [
        t
        for t in dict.fromkeys(visible(reports["fr"]))
        if t in english
        and t not in SAME_IN_BOTH
        and re.search(r"[A-Za-z]{3,}", t)
        and not re.fullmatch(r"(V/\S+|\d+: .*|rempart version \S+|[\w .,-]*\d[\w .,-]*)", t)
    ]
    assert shared == []


def test_the_blocked_stretches_say_why_in_words(reports, world):
    # the site's north side is behind buildings: no vehicle reaches it, and the table says so
    _, res = world
    d = site_data(res[0])
    blocked = [v for e in d["entries"] for v in e["vehicles"] if v["speed_kmh"] is None]
    assert blocked and all(v.get("blocked") for v in blocked)
    assert "no approach reaches this stretch" in html.unescape(reports["en"])


def test_the_blocked_stretches_say_why_in_french(reports):
    doc = html.unescape(reports["fr"])
    assert "aucune approche n'atteint ce tronçon" in doc
    assert "no approach reaches this stretch" not in doc


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_method_is_summarised_inside_without_sending_to_the_code(reports, lang):
    doc = html.unescape(reports[lang])
    title = {"en": "Method and assumptions", "fr": "Méthode et hypothèses"}[lang]
    assert f"<h2>{title}</h2>" in doc
    method = doc[doc.index(f"<h2>{title}</h2>") :]
    assert method.count("<li>") >= 7
    # the numbers it states are the ones the engine uses: the 2 m edge sampling, the test
    # speeds, the drivable radius and the kerb's loss
    number = words_for(lang).number
    for needle in (
        "2 m",
        "112 km/h",
        f"{number(RADIUS_M)} m",
        f"{number(KERB_SPEED_LOSS_KMH)} km/h",
    ):
        assert needle in method, needle
    # no reference into the repository: no source file, no docs page, no web link
    for needle in ("docs/", ".md", ".py", "github", "src/", "README"):
        assert needle not in doc, needle
    assert "http" not in doc.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.parametrize(
    ("lang", "footways", "outline"),
    [
        ("en", "Footways or paths without a width", "mapped only by its outline"),
        ("fr", "Trottoirs ou chemins sans largeur", "cartographié que par son contour"),
    ],
)
def test_the_data_gaps_are_warned(reports, world, lang, footways, outline):
    _, res = world
    codes = {w.get("code") for w in site_data(res[0])["warnings"]}
    assert {"untagged_footways", "outline_only_square"} <= codes
    doc = html.unescape(reports[lang])
    title = {"en": "Data gaps and warnings", "fr": "Lacunes des données et avertissements"}
    gaps = doc[doc.index(title[lang]) :]
    gaps = gaps[: gaps.index("</ul>")]
    assert footways in gaps and outline in gaps
    # and the map marks the positioned ones (triangles)
    assert "<polygon" in doc


@pytest.mark.parametrize(("lang", "label"), [("en", "Speeds of"), ("fr", "Vitesses de")])
def test_a_heat_map_per_vehicle(reports, lang, label):
    doc = html.unescape(reports[lang])
    for name in VEHICLES:
        assert doc.count(f'aria-label="{label} {name}"') == 1, name


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_stretches_are_numbered_on_the_map_and_in_the_table(reports, world, lang):
    _, res = world
    entries = site_data(res[0])["entries"]
    n = len(entries)
    assert [e["number"] for e in entries] == list(range(1, n + 1))
    doc = reports[lang]
    rows = len(VEHICLES)
    for k in range(1, n + 1):
        assert f'text-anchor="middle">{k}</text>' in doc, k  # on the map
        assert f"<td rowspan='{rows}'><b>{k}</b></td>" in doc, k  # heading its rows
    # the count is a plural in the reader's language
    word = {"en": "entries", "fr": "entrées"}[lang]
    assert f"<p>{n} {word}</p>" in doc


def test_the_pdf_is_french_from_its_cover(reports):
    pdf = html_to_pdf(reports["fr"])
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    cover = reader.pages[0].extract_text()
    for needle in ("Auteur", "Logiciel", "1 juillet 2026", "Aino Assessor"):
        assert needle in cover, needle
    body = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Méthode et hypothèses" in body
    assert "Method and assumptions" not in body


def test_the_command_line_writes_the_french_report(world, tmp_path):
    path, _ = world
    site = tmp_path / "site.geojson"
    feature = {"type": "Feature", "geometry": SITE, "properties": {"name": "Place Test"}}
    site.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    out = tmp_path / "rapport.html"
    argv = ["--osm", str(path), "--site", str(site), "--html", str(out), "--quiet"]
    code = main([*argv, "--lang", "fr", "--author", "Aino Assessor", "--run-number", "3"])
    assert code == 0
    doc = html.unescape(out.read_text())
    assert "<html lang='fr'>" in doc and "Évaluation des approches de véhicules" in doc
    assert ">Aino Assessor<" in doc and ">3<" in doc
    text = visible(doc)
    for code_word in ("off_road", "edge_stretch", "untagged_footways"):
        assert not any(code_word in t for t in text), code_word


def _run_in_french(client, city, tmp_path, settings, make_user):
    """A finished run of a street ending at a square site, and a French viewer signed in."""
    from .test_run_page_stretches import street_run

    run = street_run(city, tmp_path, settings, make_user)
    client.force_login(make_user("viewer", modules=("core", "assess")))
    client.cookies["django_language"] = "fr"
    return run


@pytest.mark.django_db
def test_the_run_page_plan_says_kind_and_type_in_french(
    client, city, tmp_path, settings, make_user
):
    # the web run page's plan table: "bollards"/"linear" and "fixed"/"active" were shown as the
    # engine's codes to a French reader
    run = _run_in_french(client, city, tmp_path, settings, make_user)
    positions = run.result["plan"]["positions"]
    assert positions
    body = client.get(run.get_absolute_url()).content.decode()
    for code in ("bollards", "linear", "fixed", "active"):
        assert f"<td>{code}</td>" not in body, code
    kinds = {"bollards": "bornes", "linear": "barrière linéaire"}
    for p in positions:
        assert f"<td>{kinds[p['kind']]}</td>" in body
        assert f"<td>{'actif' if p['barrier'] == 'active' else 'fixe'}</td>" in body


@pytest.mark.django_db
def test_the_run_page_plan_note_and_ratings_beyond_tests_are_french(
    client, city, tmp_path, settings, make_user
):
    # the plan's cost note and a rating "V/1500[M1]/exceeds tested speeds" were English on the
    # French run page and on its map labels
    from rempart.assess.engine.ratings import EXCEEDS

    run = _run_in_french(client, city, tmp_path, settings, make_user)
    run.result["plan"]["positions"][0]["rating"] = f"V/1500[M1]/{EXCEEDS}"
    run.result["entries"][0]["vehicles"][0]["rating"] = f"V/1500[M1]/{EXCEEDS}"
    run.save(update_fields=["result"])
    body = html.unescape(client.get(run.get_absolute_url()).content.decode())
    assert "exceeds tested speeds" not in body
    assert "costs indicative" not in body
    assert "V/1500[M1]/au-delà des vitesses d'essai" in body
    assert "coûts indicatifs" in body


def _summary_cells(doc: str) -> list[str]:
    table = doc[doc.index("<h2 class='first'>") :]
    table = table[: table.index("</table>")]
    return [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", table)]


def test_the_summary_names_the_worst_stretch_number_colon_street_in_english(reports):
    cells = _summary_cells(reports["en"])
    assert any(re.fullmatch(r"\d+: \S.*", c) for c in cells), cells
    assert not any(re.fullmatch(r"\d+ : .*", c) for c in cells), cells


def test_the_summary_names_the_worst_stretch_with_french_typography(reports):
    # French puts a space before the colon ("6 : Rue"), through the catalogue
    cells = _summary_cells(reports["fr"])
    assert any(re.fullmatch(r"\d+ : \S.*", c) for c in cells), cells
    assert not any(re.fullmatch(r"\d+: .*", c) for c in cells), cells


@pytest.fixture(scope="module")
def road_only(world):
    """The same world assessed with the off-road model off (``--offroad-radius-m 0``)."""
    path, _ = world
    vehicles = [v for v in builtin_vehicles() if v.name in VEHICLES]
    res = assess(
        path,
        [("Place Test", SITE)],
        vehicles=vehicles,
        options=AssessOptions(offroad=False),
    )
    return {lang: to_html(res, meta=_meta(), words=words_for(lang)) for lang in ("en", "fr")}


def _method_text(doc: str, lang: str) -> str:
    title = {"en": "Method and assumptions", "fr": "Méthode et hypothèses"}[lang]
    doc = html.unescape(doc)
    return doc[doc.index(f"<h2>{title}</h2>") :]


def test_the_method_leaves_out_the_drivable_space_when_off_road_is_off(reports, road_only):
    on, off = _method_text(reports["en"], "en"), _method_text(road_only["en"], "en")
    assert "Drivable space" in on and "Off-road runs are not modelled" not in on
    assert "Drivable space" not in off and f"{RADIUS_M:g} m of the site" not in off
    assert "Off-road runs are not modelled in this assessment" in off
    # the rated barrier's rule holds either way, angle included
    for method in (on, off):
        assert "times the sine of its test angle" in method


def test_the_french_method_leaves_out_the_drivable_space_when_off_road_is_off(reports, road_only):
    on, off = _method_text(reports["fr"], "fr"), _method_text(road_only["fr"], "fr")
    assert "Espace praticable" in on and "Espace praticable" not in off
    assert "hors voirie ne sont pas modélisées" in off
    assert "sinus de son angle d'essai" in off
