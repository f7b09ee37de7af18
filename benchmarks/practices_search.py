"""Practices search benchmark: index build time, query latency p50/p95, recall@10.

Generates ``--count`` synthetic practices (six languages, domain vocabulary so that queries hit
thousands of records) into a fresh database per engine, builds the index, times queries and
measures recall@10 and nDCG@10 (per language and kind) on the labelled query set
(src/rempart/practices/data/) with the evaluation records mixed into the generated ones.

    .venv/bin/python benchmarks/practices_search.py --count 100000
    .venv/bin/python benchmarks/practices_search.py --count 2000 --engines sqlite

Each engine runs in its own process (Django settings are per process). PostgreSQL uses a
database ``--bench-db`` (default ``rempart_search_bench``) created (and dropped) on the server of
``--postgres``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

VOCAB: dict[str, dict[str, list[str]]] = {
    "en": {
        "what": [
            "mentoring programme",
            "exit work",
            "prevention project",
            "school workshop",
            "family support",
            "street outreach",
            "multi-agency panel",
            "bollard scheme",
            "training course",
            "online campaign",
            "victim support service",
            "community policing",
        ],
        "who": [
            "young people",
            "parents",
            "teachers",
            "inmates",
            "former extremists",
            "residents",
            "shop owners",
            "police officers",
            "social workers",
            "pupils",
        ],
        "where": [
            "neighbourhood",
            "school",
            "prison",
            "city centre",
            "market square",
            "promenade",
            "railway station",
            "online forums",
            "youth club",
            "stadium",
        ],
        "verb": [
            "supports",
            "trains",
            "protects",
            "mentors",
            "meets",
            "helps",
            "reaches",
            "advises",
            "involves",
            "monitors",
        ],
    },
    "fr": {
        "what": [
            "programme de mentorat",
            "dispositif de sortie",
            "projet de prévention",
            "atelier scolaire",
            "soutien aux familles",
            "maraude",
            "cellule partenariale",
            "plan de bornes",
            "formation",
            "campagne en ligne",
            "aide aux victimes",
            "police de proximité",
        ],
        "who": [
            "jeunes",
            "parents",
            "enseignants",
            "détenus",
            "anciens extrémistes",
            "habitants",
            "commerçants",
            "policiers",
            "travailleurs sociaux",
            "élèves",
        ],
        "where": [
            "quartier",
            "collège",
            "prison",
            "centre-ville",
            "place du marché",
            "promenade",
            "gare",
            "réseaux sociaux",
            "maison des jeunes",
            "stade",
        ],
        "verb": [
            "accompagne",
            "forme",
            "protège",
            "conseille",
            "rencontre",
            "aide",
            "rejoint",
            "oriente",
            "associe",
            "surveille",
        ],
    },
    "de": {
        "what": [
            "Mentoringprogramm",
            "Ausstiegsarbeit",
            "Präventionsprojekt",
            "Schulworkshop",
            "Familienberatung",
            "Streetwork",
            "Fallkonferenz",
            "Pollerkonzept",
            "Fortbildung",
            "Onlinekampagne",
            "Opferberatung",
            "Bürgerpolizei",
        ],
        "who": [
            "Jugendliche",
            "Eltern",
            "Lehrkräfte",
            "Gefangene",
            "Aussteiger",
            "Anwohner",
            "Händler",
            "Polizisten",
            "Sozialarbeiter",
            "Schüler",
        ],
        "where": [
            "Stadtteil",
            "Schule",
            "Gefängnis",
            "Innenstadt",
            "Marktplatz",
            "Promenade",
            "Bahnhof",
            "soziale Netzwerke",
            "Jugendzentrum",
            "Stadion",
        ],
        "verb": [
            "begleitet",
            "schult",
            "schützt",
            "berät",
            "trifft",
            "hilft",
            "erreicht",
            "unterstützt",
            "beteiligt",
            "beobachtet",
        ],
    },
    "es": {
        "what": [
            "programa de mentoría",
            "programa de salida",
            "proyecto de prevención",
            "taller escolar",
            "apoyo familiar",
            "educación de calle",
            "mesa interinstitucional",
            "plan de bolardos",
            "formación",
            "campaña en línea",
            "atención a víctimas",
            "policía de proximidad",
        ],
        "who": [
            "jóvenes",
            "padres",
            "profesores",
            "reclusos",
            "antiguos extremistas",
            "vecinos",
            "comerciantes",
            "policías",
            "trabajadores sociales",
            "alumnos",
        ],
        "where": [
            "barrio",
            "escuela",
            "prisión",
            "centro urbano",
            "plaza del mercado",
            "paseo marítimo",
            "estación",
            "redes sociales",
            "centro juvenil",
            "estadio",
        ],
        "verb": [
            "acompaña",
            "forma",
            "protege",
            "asesora",
            "reúne",
            "ayuda",
            "alcanza",
            "orienta",
            "implica",
            "vigila",
        ],
    },
    "it": {
        "what": [
            "programma di mentoring",
            "percorso di uscita",
            "progetto di prevenzione",
            "laboratorio scolastico",
            "sostegno alle famiglie",
            "educativa di strada",
            "tavolo interistituzionale",
            "piano dissuasori",
            "formazione",
            "campagna online",
            "supporto alle vittime",
            "polizia di prossimità",
        ],
        "who": [
            "giovani",
            "genitori",
            "insegnanti",
            "detenuti",
            "ex estremisti",
            "residenti",
            "commercianti",
            "agenti",
            "assistenti sociali",
            "studenti",
        ],
        "where": [
            "quartiere",
            "scuola",
            "carcere",
            "centro città",
            "piazza del mercato",
            "lungomare",
            "stazione",
            "social network",
            "centro giovanile",
            "stadio",
        ],
        "verb": [
            "accompagna",
            "forma",
            "protegge",
            "consiglia",
            "incontra",
            "aiuta",
            "raggiunge",
            "orienta",
            "coinvolge",
            "sorveglia",
        ],
    },
    "nl": {
        "what": [
            "mentorprogramma",
            "exitprogramma",
            "preventieproject",
            "schoolworkshop",
            "gezinsondersteuning",
            "straatwerk",
            "casusoverleg",
            "pollerplan",
            "training",
            "onlinecampagne",
            "slachtofferhulp",
            "wijkpolitie",
        ],
        "who": [
            "jongeren",
            "ouders",
            "leraren",
            "gedetineerden",
            "ex-extremisten",
            "bewoners",
            "winkeliers",
            "agenten",
            "maatschappelijk werkers",
            "leerlingen",
        ],
        "where": [
            "wijk",
            "school",
            "gevangenis",
            "binnenstad",
            "marktplein",
            "boulevard",
            "station",
            "sociale media",
            "jongerencentrum",
            "stadion",
        ],
        "verb": [
            "begeleidt",
            "traint",
            "beschermt",
            "adviseert",
            "ontmoet",
            "helpt",
            "bereikt",
            "ondersteunt",
            "betrekt",
            "bewaakt",
        ],
    },
}
THEMES = [
    "radicalisation_prevention", "disengagement", "public_space_protection", "juvenile_delinquency",
    "multi_agency", "family_support", "education", "online_hate", "community_policing",
    "victim_support", "crisis_response", "training",
]  # fmt: skip
COUNTRIES = ["FR", "DE", "ES", "IT", "NL", "BE", "DK", "AT", "PT", "FI", "SE", "PL"]
LABELS = ["", "", "", "inspiring", "promising", "peer_reviewed", "effective", "no_effect"]


def fake_practice(rng: random.Random, number: int) -> dict[str, Any]:
    language = list(VOCAB)[number % len(VOCAB)]
    v = VOCAB[language]
    title = f"{rng.choice(v['what'])} {rng.choice(v['who'])} {rng.choice(v['where'])}"
    sentences = [
        f"{rng.choice(v['what'])} {rng.choice(v['verb'])} {rng.choice(v['who'])} "
        f"{rng.choice(v['where'])}."
        for _ in range(4)
    ]
    return {
        "ref": f"bench-{number}",
        "language": language,
        "title": title[:1].upper() + title[1:],
        "summary": " ".join(sentences),
        "themes": rng.sample(THEMES, 2),
        "audiences": ["young_people"] if rng.random() < 0.5 else ["practitioners"],
        "settings": [rng.choice(["school", "street", "online", "neighbourhood", "public_space"])],
        "country": rng.choice(COUNTRIES),
        "evidence_label": rng.choice(LABELS),
        "status": "published",
    }


def benchmark_queries(rng: random.Random, n: int) -> list[str]:
    queries = []
    for _ in range(n):
        v = VOCAB[rng.choice(list(VOCAB))]
        parts = [rng.choice(v["what"]), rng.choice(v["who"]), rng.choice(v["where"])]
        queries.append(" ".join(parts[: rng.choice([1, 2, 3])]))
    return queries


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def time_queries(queries: list[str], **kwargs: Any) -> dict[str, float]:
    from rempart.practices.search import search

    for query in queries[:10]:  # warm caches
        search(query, **kwargs)
    times, cpu = [], []
    for query in queries:
        start, start_cpu = time.perf_counter(), time.process_time()
        search(query, **kwargs)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_p95_ms": round(percentile(cpu, 0.95), 1),
        "queries": len(times),
    }


def time_rebuild(queries: list[str]) -> dict[str, Any]:
    """A change to the catalogue, then queries while the child process rebuilds the index
    (answered by the database), until the saved index is loaded."""
    from rempart.practices import index_builder, search, sparse_index
    from rempart.practices.models import Practice

    practice = Practice.objects.filter(status="published").order_by("pk").first()
    search.index_practices([practice])  # new stamp
    times: list[float] = []
    first_ms = None
    start_rebuild = time.perf_counter()
    number = 0
    while True:
        start = time.perf_counter()
        search.search(queries[number % len(queries)], limit=10, facets=True)
        elapsed_ms = (time.perf_counter() - start) * 1000
        number += 1
        if first_ms is None:
            first_ms = round(elapsed_ms, 1)
        cached = sparse_index.INDEX.get_cached()
        if cached is not None and cached.stamp is not None and not index_builder.running():
            loaded_after_s = round(time.perf_counter() - start_rebuild, 1)
            break
        times.append(elapsed_ms)
        if time.perf_counter() - start_rebuild > 300:
            loaded_after_s = None
            break
    return {
        "first_query_after_change_ms": first_ms,
        "queries_during_rebuild": len(times),
        "p50_ms_during_rebuild": round(statistics.median(times), 1) if times else None,
        "p95_ms_during_rebuild": round(percentile(times, 0.95), 1) if times else None,
        "index_served_after_s": loaded_after_s,
    }


def time_browse(repeat: int) -> dict[str, Any]:
    """Browsing without a query (list_published: the first 20 by title with every facet's
    counts): the landing page and one browse per single filter value, each ``repeat`` times,
    with the facet counts kept between calls (as served) and, as the baseline in the same
    process, counted at every call (a cache that keeps nothing)."""
    from rempart.practices import search

    filters: list[dict[str, list[str]]] = [{}]
    filters += [{kind: [value]} for kind, values in search.FACET_BITS.items() for value in values]
    filters += [{"country": [c]} for c in ("FR", "DE", "ES", "IT", "NL", "DK")]
    filters += [{"evidence": [e]} for e in ("promising", "none")]

    def timings() -> dict[str, dict[str, float]]:
        landing, filtered = [], []
        for _ in range(repeat):
            for given in filters:
                start = time.perf_counter()
                search.list_published(filters=given or None)
                (filtered if given else landing).append((time.perf_counter() - start) * 1000)
        return {
            name: {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "calls": len(times),
            }
            for name, times in (("landing", landing), ("one_filter", filtered))
        }

    served = search.BROWSE_COUNTS
    try:
        search.BROWSE_COUNTS = search.BrowseCounts(size=0)  # keeps nothing: counts every call
        baseline = timings()
    finally:
        search.BROWSE_COUNTS = served
    kept = timings()  # the first round counts, the next ones read the stamp only
    return {
        "counted_every_call": baseline,
        "counts_kept": kept,
        "ratio_p50_landing": round(
            baseline["landing"]["p50_ms"] / max(kept["landing"]["p50_ms"], 0.01), 1
        ),
        "ratio_p50_one_filter": round(
            baseline["one_filter"]["p50_ms"] / max(kept["one_filter"]["p50_ms"], 0.01), 1
        ),
    }


def insert_generated(count: int, seed: int, offset: int = 0) -> None:
    from django.db import transaction

    from rempart.practices.models import Practice

    rng = random.Random(seed)
    batch: list[Practice] = []
    with transaction.atomic():
        for number in range(offset, offset + count):
            batch.append(Practice(**fake_practice(rng, number)))
            if len(batch) == 5000:
                Practice.objects.bulk_create(batch)  # no signals: no audit entry per row
                batch = []
        Practice.objects.bulk_create(batch)


def worker(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from rempart.practices.evaluation import load_eval_catalogue, relevance
    from rempart.practices.models import Practice
    from rempart.practices.search import reindex_all

    call_command("migrate", verbosity=0)
    result: dict[str, Any] = {"engine": engine, "vendor_version": connection.vendor}
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if engine == "sqlite" else "SHOW server_version")
        result["vendor_version"] = f"{connection.vendor} {cursor.fetchone()[0]}"

    start = time.perf_counter()
    insert_generated(args.count, args.seed)
    result["insert_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    reindex_all()
    result["index_build_s"] = round(time.perf_counter() - start, 1)
    result["practices"] = Practice.objects.count()
    load_eval_catalogue()  # imported and indexed like any catalogue file (embedding off below)
    queries = benchmark_queries(random.Random(args.seed + 1), args.queries)
    # baseline (the database's full-text index, narrower matches first) and as served (the
    # index held in memory), in the same process on the same index
    from django.db import connection as db

    from rempart.practices import search, sparse_index

    with db.cursor() as cursor:
        start = time.perf_counter()
        index = sparse_index.build(cursor, None)
        result["memory_index"] = {
            "build_s": round(time.perf_counter() - start, 2),
            "memory_mb": round(index.memory_bytes() / 1e6, 1),
            "columns": len(index.columns),
            "entries": int(index.weights.size),
        }
        from rempart.practices import index_cache

        cursor.execute(search.INDEX_STAMP_SQL)
        index = replace(index, stamp=str(cursor.fetchone()[0]))
        start = time.perf_counter()
        path = index_cache.save(index)
        result["memory_index"]["save_s"] = round(time.perf_counter() - start, 2)
        assert path is not None
        result["memory_index"]["file_mb"] = round(path.stat().st_size / 1e6, 1)
        start = time.perf_counter()
        loaded = index_cache.load(index.stamp)
        result["memory_index"]["load_s"] = round(time.perf_counter() - start, 2)
        assert loaded is not None
        del index, loaded
    for name, in_memory in (("database_narrowed", False), ("in_memory", True)):
        search.IN_MEMORY = in_memory
        result[name] = {
            "latency_top10": time_queries(queries, limit=10, facets=False),
            "latency_top10_with_facets": time_queries(queries, limit=10, facets=True),
            "relevance10": relevance(10).as_dict(),
        }
    # after a change to the index: rebuilt by a child process, the database answers meanwhile
    result["in_memory"]["rebuild"] = time_rebuild(queries)
    result["browse"] = time_browse(args.browse_repeat)
    return result


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "rempart.settings"
    tmp = tempfile.mkdtemp(prefix="rempart-bench-")
    env["REMPART_VAR_DIR"] = tmp
    if engine == "sqlite":
        env["REMPART_DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        import psycopg

        admin = args.postgres.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.bench_db}")
            conn.execute(f"CREATE DATABASE {args.bench_db}")
        env["REMPART_DATABASE_URL"] = args.postgres.rsplit("/", 1)[0] + f"/{args.bench_db}"
    out = Path(tmp) / "result.json"
    command = [sys.executable, __file__, "--worker", engine, "--out", str(out), *sys.argv[1:]]
    subprocess.run(command, env=env, check=True)
    result = json.loads(out.read_text())
    if engine == "postgres":
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.bench_db}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="generated practices")
    parser.add_argument("--queries", type=int, default=300, help="timed queries per engine")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--bench-db", default="rempart_search_bench")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument(
        "--browse-repeat", type=int, default=5, help="calls of each browse (no query)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        Path(args.out).write_text(json.dumps(worker(args.worker, args)))
        return
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "count": args.count,
        "engines": [run_engine(e.strip(), args) for e in args.engines.split(",") if e.strip()],
    }
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
