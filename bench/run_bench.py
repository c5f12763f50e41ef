"""Document engine benchmarks (`make bench`). Prints figures; asserts nothing.

Measured in one run:
- the python-docx baseline: the same comment table built with `table.add_row().cells`;
- the engine's report for 10,000 and 20,000 comments, each in a fresh subprocess
  (time of REPORT.json → DOCX bytes, and the child's peak RSS);
- the tracked-changes DOCX of a ~100-page programme with 500 changes;
- the time and peak Python memory of refusing each hostile upload;
- grouping of duplicate and campaign comments (bench/grouping_bench.py): 100,000 comments, 20% campaign
  copies with small edits, against the exact-hash baseline measured in the same run;
- e-mail intake (bench/mail_import_bench.py): 1,000 mails with DOCX forms on one CPU, against Python's own
  `email.message_from_bytes` of the same mails.
- the text of letters attached to mails (bench/letter_reading_bench.py), per format, against the floor of reading
  the format at all (unzip and parse, the OLE streams, pypdf's text) on the same files.
- bulk import of 20,000 comments from CSV and from XLSX into PostgreSQL with the outbox
  (bench/bulk_import_bench.py), against a psycopg COPY of as many rows as wide in the same run;
- the triage queue's sorting, paging, filters and search at 100,000 comments on
  PostgreSQL, as ratios against a primary-key page (bench/triage_queue.py).
- intake's public submission API under wrk against a trivial Flask JSON app (bench/intake_wrk.py, P1) and against
  the least code that writes the same rows durably (bench/floor_app.py, bare and in a bare Flask route), and the
  outbox relay against raw kombu publishing (bench/relay_bench.py, P2), on PostgreSQL and RabbitMQ.
- notify's worker processes sending 10,000 receipts to a local SMTP server with 20 SIGKILLs (bench/notify_bench.py,
  P7), against raw smtplib over one connection, with the workers' CPU per message.
- the whole system in its production shape at a fixed 100 submissions/s for 60 s (bench/system_bench.py, P3): CPU per
  submission of every process, the 201's latency and the receipt's arrival at a local SMTP server, against a trivial
  Flask JSON app at the same rate through the same open-loop client.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from report_data import make_report_json  # noqa: E402

from services.documents.engine.report import ReportData, build_report_docx, table_rows, TEXTS  # noqa: E402

DATABASE_GROUPING_COMMENTS = 2000
PROGRAMME_SCALE = 32  # the demo programme at this scale is 101 pages in LibreOffice
TARGETS = {"report_10k_seconds": 3.0, "speedup_vs_python_docx": 5.0, "peak_rss_mb": 500.0,
           "ratio_20k_to_10k": 2.2, "tracked_seconds": 3.0, "hostile_seconds": 1.0, "hostile_mb": 100.0,
           "grouping_seconds": 60.0, "grouping_recall": 0.95, "grouping_precision": 0.95}


def _best_of(repeats: int, action) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def python_docx_baseline(rows: int) -> float:
    """Seconds for the straightforward python-docx build of the comment table (add_row().cells)."""
    import docx

    data = ReportData.from_json(make_report_json(rows))
    cells_text = table_rows(data, "pl", True)
    header = TEXTS["pl"]["columns"]

    def build() -> None:
        document = docx.Document()
        table = document.add_table(rows=1, cols=len(header))
        for cell, text in zip(table.rows[0].cells, header):
            cell.text = text
        for row in cells_text:
            cells = table.add_row().cells
            for cell, text in zip(cells, row):
                cell.text = text
        document.save(io.BytesIO())

    started = time.perf_counter()
    build()
    return time.perf_counter() - started


def report_in_child(count: int, repeats: int) -> dict:
    """Run the engine's report build in a fresh interpreter, so its peak RSS is its own."""
    output = subprocess.run([sys.executable, __file__, "--child-report", str(count), "--repeats", str(repeats)],
                            check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output)


def child_report(count: int, repeats: int) -> None:
    raw = make_report_json(count)
    timings, size = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        size = len(build_report_docx(ReportData.from_json(raw)))
        timings.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": min(timings), "median": statistics.median(timings), "bytes": size,
                      "peak_rss_mb": peak_mb}))


def tracked_benchmark(changes_count: int) -> dict:
    from services.documents.engine.demo_draft import make_demo_draft
    from services.documents.engine.model import Change
    from services.documents.engine.ooxml import read_package
    from services.documents.engine.parse import parse_docx
    from services.documents.engine.render import render_clean, render_tracked
    from services.documents.engine.versions import apply_changes

    draft = make_demo_draft("auto", scale=PROGRAMME_SCALE)
    started = time.perf_counter()
    original = parse_docx(draft)
    parse_seconds = time.perf_counter() - started
    targets = [unit for unit in original.units if unit.kind == "point"]  # leaves: changes never overlap
    step = max(len(targets) // changes_count, 1)
    changes = []
    for index, unit in enumerate(targets[::step][:changes_count]):
        ref = f"K-2024-{index:06d}"
        if index % 5 == 0:
            changes.append(Change(unit.id, "insert_after", f"nowy punkt dodany w wyniku uwagi {ref};", (ref,)))
        elif index % 7 == 0:
            changes.append(Change(unit.id, "delete", "", (ref,)))
        else:
            changes.append(Change(unit.id, "replace", unit.text.replace("w szczególności", "przede wszystkim")
                                  .replace("mieszkańców", "mieszkanek i mieszkańców") + " (zmiana)", (ref,)))
    approved = datetime(2024, 11, 4, 12, 0, tzinfo=timezone.utc)
    result = {}

    def build() -> None:
        version = apply_changes(original, changes, approved_by="Prezydent Miasta Wzorowo", approved_at=approved)
        result["tracked"] = render_tracked(original, version)
        result["clean"] = render_clean(version)

    seconds = _best_of(3, build)
    document = read_package(result["tracked"])["word/document.xml"]
    revisions = document.count(b"<w:ins ") + document.count(b"<w:del ")
    return {"seconds": seconds, "parse_seconds": parse_seconds, "changes": len(changes),
            "units": len(original.units), "pages": _libreoffice_pages(draft) or _estimated_pages(original),
            "revisions": revisions}


def _estimated_pages(version) -> str:
    return f"~{max(unit.page for unit in version.units)} (estimated)"


def _libreoffice_pages(docx: bytes) -> str | None:
    """Pages as LibreOffice lays the programme out (PDF export), when soffice is installed."""
    import re
    import shutil
    import tempfile

    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "programme.docx"
        source.write_bytes(docx)
        subprocess.run([soffice, f"-env:UserInstallation=file://{work}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", work, str(source)], capture_output=True, timeout=300)
        pdf = Path(work) / "programme.pdf"
        if not pdf.exists():
            return None
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
        return f"{pages} (LibreOffice)"


def hostile_benchmark() -> list[tuple[str, float, float, str]]:
    sys.path.insert(0, str(ROOT / "tests" / "unit" / "documents_engine"))
    from docx_fixtures import repack

    from services.documents.engine.demo_draft import make_demo_draft
    from services.documents.engine.errors import DocumentRejected
    from services.documents.engine.safety import check_docx

    draft = make_demo_draft("auto")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b"<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"/>")
    cases = {
        "billion laughs": repack(draft, replace={"word/document.xml": laughs}),
        "zip bomb (200 MB of zeros)": repack(draft, add={"word/media/image1.png": b"\0" * (200 * 1024 * 1024)}),
        "macros": repack(draft, add={"word/vbaProject.bin": b"macro"}),
        "600 members": repack(draft, add={f"word/media/m{i}.png": b"x" for i in range(600)}),
        "not a zip": b"%PDF-1.7" + b"0" * 1000,
        "encrypted (OLE)": bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 4096,
        "oversize (30 MB)": b"PK" + b"\0" * (30 * 1024 * 1024),
    }
    results = []
    for name, data in cases.items():
        tracemalloc.start()
        started = time.perf_counter()
        try:
            check_docx(data)
            code = "ACCEPTED"
        except DocumentRejected as rejected:
            code = rejected.code
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
        tracemalloc.stop()
        results.append((name, seconds, peak, code))
    return results


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def grouping_in_child(comments: int, *options: str) -> dict:
    """bench/grouping_bench.py in a fresh interpreter, so the other benchmarks' memory does not weigh on it."""
    output = subprocess.run([sys.executable, str(ROOT / "bench" / "grouping_bench.py"), "--comments", str(comments),
                             *options], check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def print_grouping(comments: int) -> None:
    result = grouping_in_child(comments)
    baseline = result["baseline"]
    ok_time = result["seconds"] <= TARGETS["grouping_seconds"]
    ok_quality = (result["recall"] >= TARGETS["grouping_recall"]
                  and result["precision"] >= TARGETS["grouping_precision"])
    print(f"\nduplicate and campaign grouping, {result['comments']:,} comments "
          f"({result['campaign_copies']:,} campaign copies in {result['planted_groups']} campaigns):")
    print(f"  MinHash LSH, incremental: {result['seconds']:.1f} s = {result['comments'] / result['seconds']:,.0f} "
          f"comments/s, {result['predicted_groups']} groups  [target ≤ {TARGETS['grouping_seconds']:.0f} s: "
          f"{_verdict(ok_time)}]")
    print(f"  (CPU time {result['cpu_seconds']:.1f} s; load average {result['load_average']:.1f} "
          f"on {result['cpus']} CPUs during the run)")
    print(f"  pairwise recall {result['recall']:.4f}, precision {result['precision']:.4f}  [targets ≥ "
          f"{TARGETS['grouping_recall']} and ≥ {TARGETS['grouping_precision']}: {_verdict(ok_quality)}]")
    print(f"  baseline, exact hash of the normalised text: {result['baseline_seconds']:.1f} s, "
          f"recall {baseline['recall']:.4f}, precision {baseline['precision']:.4f}, "
          f"{baseline['predicted_groups']} groups")
    database = grouping_in_child(DATABASE_GROUPING_COMMENTS, "--database")
    print(f"  the event handler's path (SQLite, a transaction per comment, buckets in the database), "
          f"{database['comments']:,} comments: {database['seconds']:.1f} s = "
          f"{database['comments'] / database['seconds']:,.0f} comments/s, recall {database['recall']:.4f}, "
          f"precision {database['precision']:.4f}, same groups as in memory: "
          f"{'yes' if database['same_as_in_memory'] else 'NO'}")


def print_mail_import(mails: int) -> None:
    """bench/mail_import_bench.py in a fresh interpreter pinned to one CPU: e-mail intake against email's parser."""
    output = subprocess.run([sys.executable, str(ROOT / "bench" / "mail_import_bench.py"), "--mails", str(mails)],
                            check=True, capture_output=True, text=True, cwd=ROOT).stdout
    result = json.loads(output.strip().splitlines()[-1])
    print(f"\ne-mail intake, {result['mails']:,} mails with a DOCX form ({result['megabytes']} MB, "
          f"{result['comments']:,} comments), one CPU:")
    print(f"  baseline, email.message_from_bytes + get_content of every part: {result['baseline_mails_per_s']:,.1f} mails/s")
    print(f"  parse_mail + read_form (safety checks, form table, no I/O): {result['parse_mails_per_s']:,.1f} mails/s")
    print(f"  import_mail ({result['database']}, object store, outbox): {result['import_mails_per_s']:,.1f} mails/s "
          f"= {result['import_mails_per_s'] / result['baseline_mails_per_s']:.2f}× the baseline; {result['statuses']}")
    print("  hostile text bodies (one line repeated), parse_mail: 1 MB → 2 MB, and 2 MB against the MIME parse:")
    for name, figures in result["hostile_bodies"].items():
        print(f"    {name:22s} {figures['seconds_1mb']:.2f} s → {figures['seconds_2mb']:.2f} s "
              f"(×{figures['growth_2mb_over_1mb']:.2f}), {figures['ratio_to_mime_parse_2mb']:.1f}× the MIME parse")


def print_letter_reading() -> None:
    """bench/letter_reading_bench.py in a fresh interpreter pinned to one CPU: a letter's text against its format's
    floor (unzip + parse, the OLE streams, pypdf's text)."""
    output = subprocess.run([sys.executable, str(ROOT / "bench" / "letter_reading_bench.py")],
                            check=True, capture_output=True, text=True, cwd=ROOT).stdout
    result = json.loads(output.strip().splitlines()[-1])
    print("\nletters attached to mails, the text staff read beside the form, one CPU (median ms a file):")
    for kind, figures in result.items():
        print(f"  {kind:5s} {figures['files']} files: floor {figures['floor_ms']:.2f} ms, letter_text "
              f"{figures['ours_ms']:.2f} ms = {figures['ratio']:.2f}× the floor")


def print_bulk_import(comments: int) -> None:
    """bench/bulk_import_bench.py: the staff bulk import into PostgreSQL against a COPY of as many rows."""
    output = subprocess.run([sys.executable, str(ROOT / "bench" / "bulk_import_bench.py"), "--comments", str(comments)],
                            check=True, capture_output=True, text=True, cwd=ROOT).stdout
    print("\n" + "\n".join(output.strip().splitlines()[:-1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child-report", type=int)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-rows", type=int, default=3000)
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--grouping-comments", type=int, default=100_000)
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--bulk-comments", type=int, default=20_000)
    parser.add_argument("--only", choices=["grouping", "mail", "letters", "intake", "relay", "bulk", "notify", "system"],
                        help="run one benchmark only")
    options = parser.parse_args()
    if options.child_report:
        child_report(options.child_report, options.repeats)
        return 0
    if options.only == "grouping":
        print_grouping(options.grouping_comments)
        return 0
    if options.only == "mail":
        print_mail_import(options.mails)
        return 0
    if options.only == "letters":
        print_letter_reading()
        return 0
    if options.only in ("intake", "relay", "notify", "system"):
        run_service_benchmarks(options.only)
        return 0
    if options.only == "bulk":
        print_bulk_import(options.bulk_comments)
        return 0

    print(f"Uwagi document engine benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)\n")
    baseline_seconds = python_docx_baseline(options.baseline_rows)
    baseline_rate = options.baseline_rows / baseline_seconds
    print(f"python-docx baseline, add_row().cells, {options.baseline_rows} rows: "
          f"{baseline_seconds:.2f} s = {baseline_rate:,.0f} rows/s")

    ten = report_in_child(10_000, options.repeats)
    twenty = report_in_child(20_000, options.repeats)
    rate = 10_000 / ten["seconds"]
    speedup = rate / baseline_rate
    growth = twenty["seconds"] / ten["seconds"]
    peak = max(ten["peak_rss_mb"], twenty["peak_rss_mb"])
    print(f"engine report, 10,000 comments: {ten['seconds']:.2f} s (best of {options.repeats}), "
          f"{rate:,.0f} rows/s, {ten['bytes'] / 1e6:.1f} MB, peak RSS {ten['peak_rss_mb']:.0f} MB"
          f"  [target ≤ {TARGETS['report_10k_seconds']} s: {_verdict(ten['seconds'] <= TARGETS['report_10k_seconds'])}]")
    print(f"engine report, 20,000 comments: {twenty['seconds']:.2f} s, peak RSS {twenty['peak_rss_mb']:.0f} MB")
    print(f"speed-up vs python-docx: {speedup:.1f}×  [target ≥ {TARGETS['speedup_vs_python_docx']}×: "
          f"{_verdict(speedup >= TARGETS['speedup_vs_python_docx'])}]")
    print(f"20k / 10k time: {growth:.2f}  [target ≤ {TARGETS['ratio_20k_to_10k']}: "
          f"{_verdict(growth <= TARGETS['ratio_20k_to_10k'])}]")
    print(f"peak RSS of report builds: {peak:.0f} MB  [target ≤ {TARGETS['peak_rss_mb']:.0f} MB: "
          f"{_verdict(peak <= TARGETS['peak_rss_mb'])}]")

    tracked = tracked_benchmark(options.changes)
    print(f"tracked changes: programme of {tracked['pages']} pages, {tracked['units']} units, "
          f"{tracked['changes']} changes → {tracked['revisions']} w:ins/w:del; parse {tracked['parse_seconds']:.2f} s, "
          f"apply + tracked + clean DOCX: {tracked['seconds']:.2f} s "
          f"[target ≤ {TARGETS['tracked_seconds']} s: {_verdict(tracked['seconds'] <= TARGETS['tracked_seconds'])}]")

    print("\nhostile uploads (check_docx):")
    for name, seconds, peak_mb, code in hostile_benchmark():
        ok = seconds <= TARGETS["hostile_seconds"] and peak_mb <= TARGETS["hostile_mb"] and code != "ACCEPTED"
        print(f"  {name:28s} → {code:16s} {seconds * 1000:7.1f} ms, peak {peak_mb:6.1f} MB  [{_verdict(ok)}]")

    print_grouping(options.grouping_comments)
    print_mail_import(options.mails)
    print_letter_reading()
    print_bulk_import(options.bulk_comments)
    print()
    # The triage queue at 100,000 comments, on PostgreSQL (bench/triage_queue.py; says so when there is none).
    subprocess.run([sys.executable, str(ROOT / "bench" / "triage_queue.py")], check=True, cwd=ROOT)
    run_service_benchmarks("intake", "relay", "notify", "system")
    return 0


def run_service_benchmarks(*names: str) -> None:
    """P1 (intake under wrk, needs Debian's `wrk`), P2 (the relay), P7 (notify) and P3 (the whole system), each in
    its own interpreter."""
    scripts = {"intake": ["intake_wrk.py", "--floor"], "relay": ["relay_bench.py"], "notify": ["notify_bench.py"],
               "system": ["system_bench.py"]}
    for name in names:
        script, *options = scripts[name]
        print()
        subprocess.run([sys.executable, str(ROOT / "bench" / script), *options], check=True, cwd=ROOT)


if __name__ == "__main__":
    raise SystemExit(main())
