"""Edits a real draft with LibreOffice's change tracking on, as a resident does who returns the draft with Track
Changes instead of the form: `draft-piatnica-tracked.docx` from the drafting corpus's Piątnica resolution.

Needs LibreOffice's Python-UNO bridge (Debian: python3-uno), so run it with the system interpreter:

    /usr/bin/python3 tests/corpus/mail/make_tracked_draft.py

Changes made (recorded by LibreOffice as w:ins / w:del): § 3 gets "… Wójtowi Gminy Piątnica w porozumieniu z
Radą Działalności Pożytku Publicznego."; § 4 is deleted whole, with its paragraph mark.
"""

import os
import subprocess
import time

import uno
from com.sun.star.beans import PropertyValue

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "drafting", "uchwala-piatnica-program.typed-lo.docx")
TARGET = os.path.join(HERE, "draft-piatnica-tracked.docx")
PORT = 2302  # LibreOffice's UNO listener, on the loopback only


def _property(name: str, value) -> PropertyValue:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def main() -> None:
    office = subprocess.Popen(["soffice", "--headless", "--invisible", "--norestore",
                               "-env:UserInstallation=file:///tmp/uwagi_tracked_draft_profile",
                               f"--accept=socket,host=127.0.0.1,port={PORT};urp;"])
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _attempt in range(60):
            try:
                context = resolver.resolve(f"uno:socket,host=127.0.0.1,port={PORT};urp;StarOffice.ComponentContext")
                break
            except Exception:  # not listening yet
                time.sleep(0.5)
        desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(SOURCE)), "_blank", 0,
                                                (_property("Hidden", True),))
        document.RecordChanges = True
        search = document.createSearchDescriptor()
        search.SearchString = "Wójtowi Gminy Piątnica."
        document.findFirst(search).setString(
            "Wójtowi Gminy Piątnica w porozumieniu z Radą Działalności Pożytku Publicznego.")
        paragraphs = document.Text.createEnumeration()
        while paragraphs.hasMoreElements():
            paragraph = paragraphs.nextElement()
            if paragraph.getString().replace("\xa0", " ").startswith("§ 4"):
                cursor = document.Text.createTextCursorByRange(paragraph.getStart())
                cursor.gotoEndOfParagraph(True)
                cursor.goRight(1, True)  # with the paragraph's mark
                cursor.setString("")
                break
        document.storeToURL(uno.systemPathToFileUrl(TARGET), (_property("FilterName", "MS Word 2007 XML"),))
        document.close(True)
    finally:
        office.terminate()


if __name__ == "__main__":
    main()
