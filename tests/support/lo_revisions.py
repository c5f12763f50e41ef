"""Let LibreOffice itself accept or reject all tracked changes of a DOCX, and print the text it gets.

Run with the system interpreter that has LibreOffice's Python-UNO bridge (Debian: python3-uno):

    /usr/bin/python3 tests/support/lo_revisions.py accept|reject|none FILE.docx
    /usr/bin/python3 tests/support/lo_revisions.py batch JOBS.json   # [{"mode": …, "path": …}, …] in one soffice

It starts its own headless soffice (private profile, UNO socket on 127.0.0.1 only), loads the
file hidden, dispatches `.uno:AcceptAllTrackedChanges` / `.uno:RejectAllTrackedChanges` (nothing
for `none`), and prints UTF-8 JSON on stdout:

    {"mode": "accept", "comments": ["Zmiana wynikająca z uwag: K-1", …],
     "redlines_before": 26, "redlines_after": 0,
     "blocks": [{"kind": "paragraph", "text": "…", "bold": "…", "label": "§ 5."},
                {"kind": "table", "cells": [["a", "b"], …]}, …]}

`blocks` are the body's paragraphs and tables in document order. `text` is the paragraph's text
(automatic list numbers and footnote anchors are not part of it), `bold` the part of it that is
bold, `label` the number LibreOffice renders for it from the list numbering ("" when none). A
table's `cells` are its rows of cell texts (each cell's paragraphs joined with "\n"). `comments`
are the texts of the Word comments LibreOffice read (see `load_without_comments`), and the
redline counts are those before and after the command. `batch` prints a JSON list of such results, one a job.

soffice is always stopped (its whole process group is killed) and its profile removed.
Exit status: 0 ok, 2 usage, 3 LibreOffice failed (the reason on stderr).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CONNECT_TIMEOUT = 60.0
DEADLINE = 90.0  # then soffice is killed, and a call blocked on it fails; callers wait a little longer
RESTARTS = 2  # fresh soffice processes a batch may start after one died under a document
DISPATCH = {"accept": ".uno:AcceptAllTrackedChanges", "reject": ".uno:RejectAllTrackedChanges"}


def free_port() -> int:
    """A free port below the kernel's ephemeral range, which no outgoing connection can take before soffice binds
    it (this script runs alone under the system Python, so it cannot share tests.support.infra's allocator)."""
    import random

    for _ in range(1000):
        port = random.randint(10000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port for soffice")


def soffice_binary() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise RuntimeError("soffice is not on PATH")
    return found


def property_value(name: str, value):
    from com.sun.star.beans import PropertyValue

    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def connect(port: int, process: subprocess.Popen):
    """The remote ServiceManager, polling until soffice accepts UNO connections (bounded)."""
    import uno
    from com.sun.star.connection import NoConnectException

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + CONNECT_TIMEOUT
    while True:
        try:
            return resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if process.poll() is not None:
                raise RuntimeError(f"soffice exited with status {process.returncode} before accepting UNO")
            if time.monotonic() > deadline:
                raise RuntimeError(f"soffice did not accept UNO on 127.0.0.1:{port} within {CONNECT_TIMEOUT:.0f}s")
            time.sleep(0.1)


def count_redlines(document) -> int:
    redlines = document.getRedlines()
    enumeration = redlines.createEnumeration()
    count = 0
    while enumeration.hasMoreElements():
        enumeration.nextElement()
        count += 1
    return count


def paragraph_block(paragraph) -> dict:
    """The paragraph's text portions (a footnote's anchor, a comment or a bookmark is not text),
    the part of it that is bold, and the list number LibreOffice renders for it."""
    text, bold = [], []
    portions = paragraph.createEnumeration()
    while portions.hasMoreElements():
        portion = portions.nextElement()
        if portion.getPropertyValue("TextPortionType") != "Text":
            continue
        piece = portion.getString()
        text.append(piece)
        if portion.getPropertyValue("CharWeight") >= 150:  # com.sun.star.awt.FontWeight.BOLD
            bold.append(piece)
    try:
        label = paragraph.getPropertyValue("ListLabelString") or ""
    except Exception:  # an older LibreOffice without the property
        label = ""
    return {"kind": "paragraph", "text": "".join(text), "bold": "".join(bold), "label": label}


def cell_text(cell) -> str:
    texts = []
    enumeration = cell.getText().createEnumeration()
    while enumeration.hasMoreElements():
        element = enumeration.nextElement()
        if element.supportsService("com.sun.star.text.Paragraph"):
            texts.append(paragraph_block(element)["text"])
    return "\n".join(texts)


def table_block(table) -> dict:
    rows = table.getRows().getCount()
    columns = table.getColumns().getCount()
    cells = []
    for row in range(rows):
        cells.append([])
        for column in range(columns):
            try:
                cell = table.getCellByPosition(column, row)
            except Exception:  # merged cells leave holes in the grid
                continue
            if cell is not None:
                cells[-1].append(cell_text(cell))
    return {"kind": "table", "cells": cells}


def body_blocks(document) -> list[dict]:
    blocks = []
    enumeration = document.getText().createEnumeration()
    while enumeration.hasMoreElements():
        element = enumeration.nextElement()
        if element.supportsService("com.sun.star.text.TextTable"):
            blocks.append(table_block(element))
        elif element.supportsService("com.sun.star.text.Paragraph"):
            blocks.append(paragraph_block(element))
    return blocks


def load_without_comments(context, desktop, url: str):
    """Load the DOCX as a bare model, take its comments out, then give it a (hidden) view.

    The accept/reject-all commands need a view, and a view of a document with comments builds the
    comments' sidebar windows from UI definitions that the headless (-nogui) LibreOffice packages
    leave out: soffice aborts. So the comments (anchors in the text that hold no body text) are
    removed from the model before any view exists; their texts are returned for the caller.
    """
    model = context.ServiceManager.createInstanceWithContext("com.sun.star.text.TextDocument", context)
    model.load((property_value("URL", url), property_value("FilterName", "MS Word 2007 XML")))
    redlines = count_redlines(model)
    text_before = model.getText().getString()
    comments, fields = [], model.getTextFields().createEnumeration()
    while fields.hasMoreElements():
        field = fields.nextElement()
        if field.supportsService("com.sun.star.text.textfield.Annotation"):
            comments.append(field)
    texts = [field.getPropertyValue("Content") for field in comments]
    for field in comments:
        field.dispose()
    if model.getText().getString() != text_before:
        raise RuntimeError("removing the comments changed the document's text")
    document = desktop.loadComponentFromURL("private:object", "_blank", 0,
                                            (property_value("Model", model), property_value("Hidden", True)))
    if document is None:
        raise RuntimeError("LibreOffice could not open a view of the document")
    return model, redlines, texts


def kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def revise(context, desktop, mode: str, source: Path, workdir: Path) -> dict:
    """Load one file hidden, run the command, read the result back, and close the document."""
    # A private copy: LibreOffice's lock file goes next to it, never next to the caller's file.
    copy = workdir / ("document" + source.suffix)
    shutil.copyfile(source, copy)
    document = None
    try:
        document, before, comments = load_without_comments(context, desktop, copy.as_uri())
        if not document.supportsService("com.sun.star.text.TextDocument"):
            raise RuntimeError(f"LibreOffice did not load {source} as a text document")
        if mode in DISPATCH:
            dispatcher = context.ServiceManager.createInstanceWithContext(
                "com.sun.star.frame.DispatchHelper", context)
            frame = document.getCurrentController().getFrame()
            dispatcher.executeDispatch(frame, DISPATCH[mode], "", 0, ())
        return {"mode": mode, "comments": comments, "redlines_before": before,
                "redlines_after": count_redlines(document), "blocks": body_blocks(document)}
    finally:
        if document is not None:
            try:
                document.close(True)
            except Exception:  # the connection may be gone; the caller's kill ends it all
                pass
        copy.unlink(missing_ok=True)


def run_all(jobs: list[tuple[str, Path]]) -> list[dict]:
    """Each (mode, file) in one soffice: starting soffice costs more than a document, and the corpus test runs
    over a hundred. If soffice dies under a document (LibreOffice crashes now and then on a loaded machine: "Binary
    URP bridge disposed"), a fresh one goes on from that document, at most `RESTARTS` times: a document that
    crashes it every time still fails the run, named."""
    results: list[dict] = []
    restarts = 0
    while len(results) < len(jobs):
        with soffice(len(jobs) - len(results)) as (context, desktop, workdir, process):
            try:
                for mode, source in jobs[len(results):]:
                    results.append(revise(context, desktop, mode, source, workdir))
                    if not restarts and os.environ.get("UWAGI_LO_KILL_AFTER") == str(len(results)):
                        kill_group(process)  # the test of the restart: soffice dies between two documents
            except Exception as error:
                died = type(error).__name__ == "DisposedException" or process.poll() is not None
                if not died or restarts >= RESTARTS:
                    raise RuntimeError(f"{jobs[len(results)][1]}: {type(error).__name__}: {error}") from error
                restarts += 1
                print(f"lo_revisions: soffice died under {jobs[len(results)][1]}; a fresh one goes on",
                      file=sys.stderr)
    return results


@contextlib.contextmanager
def soffice(documents: int):
    """A headless soffice with a private profile, UNO on 127.0.0.1; the watchdog allows DEADLINE per document."""
    workdir = Path(tempfile.mkdtemp(prefix="uwagi-lo-"))
    port = free_port()
    command = [soffice_binary(), f"-env:UserInstallation={(workdir / 'profile').as_uri()}", "--headless",
               "--invisible", "--norestore", "--nologo", "--nodefault", "--nofirststartwizard",
               f"--accept=socket,host=127.0.0.1,port={port};urp;"]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    watchdog = threading.Timer(DEADLINE * max(1, documents), kill_group, (process,))
    watchdog.daemon = True
    watchdog.start()
    desktop = None
    try:
        context = connect(port, process)
        desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        yield context, desktop, workdir, process
    finally:
        try:
            if desktop is not None:
                desktop.terminate()
        except Exception:  # the connection may already be gone; the kill below ends it all
            pass
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        watchdog.cancel()
        kill_group(process)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "batch":
        jobs = [(job["mode"], Path(job["path"])) for job in json.loads(Path(argv[2]).read_text("utf-8"))]
        if not all(mode in ("accept", "reject", "none") for mode, _ in jobs):
            print("batch: every job's mode is accept, reject or none", file=sys.stderr)
            return 2
    elif len(argv) == 3 and argv[1] in ("accept", "reject", "none"):
        jobs = [(argv[1], Path(argv[2]))]
    else:
        print(f"usage: {argv[0]} accept|reject|none FILE.docx  |  {argv[0]} batch JOBS.json", file=sys.stderr)
        return 2
    try:
        results = run_all(jobs)
    except Exception as error:  # reported on stderr for the test's failure message
        print(f"lo_revisions: {type(error).__name__}: {error}", file=sys.stderr)
        return 3
    output = results if argv[1] == "batch" else results[0]
    sys.stdout.buffer.write(json.dumps(output, ensure_ascii=False).encode("utf-8") + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
