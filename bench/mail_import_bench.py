"""E-mail intake benchmark: importing 1,000 mails with a filled DOCX comment form, on one core.

`python bench/mail_import_bench.py [--mails 1000] [--database-url URL]` prints one JSON line with, measured
in the same run on the same mails:
- `baseline_mails_per_s`: Python's own `email.message_from_bytes` (policy.default) of each mail, walking its
  parts and decoding each one (`get_content()`): the floor of any MIME-reading importer;
- `parse_mails_per_s`: intake's parse and form reading (`parse_mail` + `read_form`, with the DOCX safety
  checks), no I/O;
- `import_mails_per_s`: the whole import (`import_mail`: parse, safety checks, form, the .eml and the form
  stored in the object store with their sha256, the submission, the mail's row and `submission.received` in
  the outbox, in one transaction) into intake's database (SQLite by default) and the filesystem object store.

- `hostile_bodies`: for text bodies made of one line repeated (lines that look like reply attributions, quoted
  forwards, OpenPGP armour with no end: what a hostile sender would send to make the reply reader backtrack),
  `parse_mail`'s seconds on a 1 MB and a 2 MB body, and their ratio to the baseline parse of the same mail: the
  reader must stay linear (2 MB takes about twice 1 MB) and within a small factor of the MIME parse.

The process is pinned to one CPU. Mails are Gmail-shaped (multipart/mixed, ISO-8859-2 text, base64 DOCX with
an RFC 2231 name), each with its own Message-ID and one of 20 forms of 1-5 filled rows.
"""

from __future__ import annotations

import argparse
import base64
import email
import io
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docx import Document  # noqa: E402

ROWS = [
    ("§ 5 ust. 2", "Współpraca ma charakter finansowy i pozafinansowy.",
     "tworzenie warunków do współpracy między organizacjami pozarządowymi, sieciowania", "zwiększanie świadomości"),
    ("Rozdział 4 pkt 3", "", "rozwijanie kultury współpracy poprzez dialog", "przeciwdziałanie wykluczeniu"),
    ("§ 7", "Program realizowany jest przez komórki Urzędu.", "Toruńskie Forum Organizacji Pozarządowych",
     "najważniejsze wydarzenie sektora"),
    ("Rozdział 9", "", "zwiększenie środków na małe granty", "zapotrzebowanie rośnie z roku na rok"),
    ("§ 12 ust. 1", "Komisje konkursowe powołuje Prezydent.", "udział przedstawicieli RDPP w komisjach",
     "przejrzystość konkursów"),
]


def form(variant: int) -> bytes:
    document = Document()
    document.add_paragraph(f"Imię i nazwisko: Osoba {variant}")
    document.add_paragraph("Adres e-mail: osoba@example.org")
    rows = [ROWS[(variant + i) % len(ROWS)] for i in range(1 + variant % 5)]
    table = document.add_table(rows=2 + len(rows), cols=5)
    header = ("Lp.", "Część dokumentu, do którego odnosi się uwaga", "Zapis w projekcie", "Propozycja zmiany",
              "Uzasadnienie zmiany")
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, "12345"):
        cell.text = text
    for index, (row, values) in enumerate(zip(table.rows[2:], rows), start=1):
        for cell, text in zip(row.cells, (f"{index}.", *values)):
            cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def mail(number: int, attachment: bytes) -> bytes:
    text = base64.encodebytes(f"Dzień dobry,\n\nw załączeniu formularz nr {number}.\n\nPozdrawiam\n".encode("iso-8859-2"))
    return (f"From: =?UTF-8?Q?Osoba_{number}?= <osoba{number}@example.org>\r\nTo: konsultacje@um.torun.pl\r\n"
            f"Message-ID: <bench-{number}-{os.getpid()}@mail.example.org>\r\nSubject: Uwagi {number}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
            "Content-Type: text/plain; charset=\"ISO-8859-2\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + text.decode() + "--b\r\nContent-Type: application/vnd.openxmlformats-officedocument."
            "wordprocessingml.document;\r\n\tname*=UTF-8''Formularz%20uwag%20%E2%80%93%20Toru%C5%84.docx\r\n"
            "Content-Disposition: attachment;\r\n\tfilename*=UTF-8''Formularz%20uwag%20%E2%80%93%20Toru%C5%84.docx\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(attachment).decode() + "--b--\r\n").encode()


def baseline(mails: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in mails:
        message = email.message_from_bytes(raw, policy=policy.default)
        for part in message.walk():
            if not part.is_multipart():
                part.get_content()
    return time.perf_counter() - started


def parse_only(mails: list[bytes]) -> tuple[float, int]:
    from services.intake.mail.form import read_form
    from services.intake.mail.parse import parse_mail

    rows = 0
    started = time.perf_counter()
    for raw in mails:
        parsed = parse_mail(raw)
        for attachment in parsed.attachments:
            rows += len(read_form(attachment.filename, attachment.media_type, attachment.data).rows)
    return time.perf_counter() - started, rows


def full_import(mails: list[bytes], database_url: str | None) -> tuple[float, dict]:
    from services.common.db import upgrade
    from services.common.settings import load_settings
    from services.intake import app as intake_app
    from services.intake import domain, handlers
    from services.intake.mail.importer import import_mail

    folder = Path(tempfile.mkdtemp(prefix="uwagi-mail-bench-"))
    env = {"UWAGI_DATA_DIR": str(folder), "UWAGI_RELAY_INTERVAL": "3600"}
    if database_url:
        env["INTAKE_DATABASE_URL"] = database_url
    settings = load_settings(env)
    upgrade("intake", settings.database_url("intake"))
    ctx = intake_app.build(settings)
    now = datetime.now(timezone.utc)
    consultation = handlers.create_consultation(ctx, domain.OpenConsultation(
        title="Benchmark", opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=10),
        channels=("web", "email"), contact_email="konsultacje@um.torun.pl"), actor="bench")
    statuses: dict[str, int] = {}
    started = time.perf_counter()
    for number, raw in enumerate(mails):
        result = import_mail(ctx, raw, received_at=now, source=f"bench:{number}", consultation_id=consultation.id)
        statuses[result.status] = statuses.get(result.status, 0) + 1
    seconds = time.perf_counter() - started
    ctx.close()
    shutil.rmtree(folder, ignore_errors=True)
    return seconds, statuses


HOSTILE_LINES = {
    "attribution openings": ("On x " * 80)[:398] + ":",
    "quoted openings": ("> q On " * 60)[:398] + ":",
    "addresses and a time": ("a@b " * 40) + " 10:00 2024:",
    "verbs and addresses": ("wrote <@ " * 40) + " 10:00 2024",
    "armour with no end": "-----BEGIN PGP SIGNED MESSAGE-----\n\nx\n-----BEGIN PGP SIGNATURE-----",
    "quoted forwards": "---------- Forwarded message ---------\n> From: a\n> To: b",
    "gateway warnings": "CAUTION: This email originated from outside. Do not click links or open attachments.\n",
    "warning openings": "CAUTION: x " * 70,
    "rewritten link openings": "https://urldefense.com/v3/__x" * 14 + " https://a.safelinks.protection.outlook.com/?url=",
}


def hostile_bodies() -> dict:
    """parse_mail on bodies of one repeated line, 1 MB and 2 MB, against the MIME parse of the same mail."""
    from services.intake.mail.parse import parse_mail

    figures = {}
    for name, line in HOSTILE_LINES.items():
        seconds = {}
        for megabytes in (1, 2):
            raw = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Fwd: x\r\nContent-Type: text/plain; "
                   b"charset=utf-8\r\n\r\nHello\r\n" + "\n".join([line] * (megabytes * 1_000_000 // (len(line) + 1)))
                   .encode())
            started = time.perf_counter()
            parse_mail(raw)
            seconds[megabytes] = time.perf_counter() - started
        floor = baseline([raw])  # the 2 MB mail
        figures[name] = {"seconds_1mb": round(seconds[1], 3), "seconds_2mb": round(seconds[2], 3),
                         "growth_2mb_over_1mb": round(seconds[2] / seconds[1], 2),
                         "ratio_to_mime_parse_2mb": round(seconds[2] / floor, 1)}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--database-url", help="intake's database (default: SQLite in a temporary folder)")
    options = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    forms = [form(variant) for variant in range(20)]
    mails = [mail(number, forms[number % len(forms)]) for number in range(options.mails)]
    baseline_seconds = baseline(mails)
    parse_seconds, rows = parse_only(mails)
    import_seconds, statuses = full_import(mails, options.database_url)
    print(json.dumps({
        "mails": len(mails), "megabytes": round(sum(map(len, mails)) / 1e6, 1), "comments": rows,
        "baseline_mails_per_s": round(len(mails) / baseline_seconds, 1),
        "parse_mails_per_s": round(len(mails) / parse_seconds, 1),
        "import_mails_per_s": round(len(mails) / import_seconds, 1),
        "import_seconds": round(import_seconds, 2), "statuses": statuses,
        "database": "postgresql" if options.database_url and "postgres" in options.database_url else "sqlite",
        "hostile_bodies": hostile_bodies(),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
