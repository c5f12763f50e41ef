"""Comment rows suggested from the text of an e-mail, for the staff who transcribe it. Pure.

People write their comments in the mail itself: "w § 5 ust. 2 proponuję dopisać: …", then "Uzasadnienie: …",
often several, numbered or in paragraphs of their own. The transcription page starts from these rows instead of
empty ones; staff read the mail beside them and correct what the rules got wrong before saving. Only text that
names a provision (§, ust., pkt, art., rozdział) becomes a row, so a mail that says "the form is attached" gets
none. Nothing is saved without a person.
"""

from __future__ import annotations

import re
from dataclasses import replace

from services.intake.mail.rows import FormRow

MAX_ROWS = 30
# "§ 5 ust. 2 pkt 3 lit. a", "Rozdział 4 pkt 3" (also inflected: "w Rozdziale 4"), "art. 5 ust. 4", "pkt 3"
_PROVISION = re.compile(
    r"(?:§\s*(?P<par>\d+[a-z]?)|(?:rozdzia[łl]\w*|rozdz\.)\s*(?P<chapter>[IVXLC]+|\d+)\b|art\.\s*(?P<art>\d+[a-z]?))"
    r"(?:\s*,?\s*(?:ust\.|ustęp\w*)\s*(?P<ust>\d+[a-z]?))?"
    r"(?:\s*,?\s*(?:pkt\.?|punkt\w*)\s*(?P<pkt>\d+[a-z]?))?"
    r"(?:\s*,?\s*lit\.?\s*(?P<lit>[a-z])\b)?",
    re.IGNORECASE)
_JUSTIFICATION = re.compile(r"(?:^|\s)uzasadnienie(?: uwagi| propozycji| zmiany)?\s*[:\-–]\s*", re.IGNORECASE)
_CURRENT = re.compile(r"(?:^|\s)(?:jest|obecny zapis|obecne brzmienie|dotychczasowy zapis|aktualny zapis)\s*:\s*",
                      re.IGNORECASE)
_PROPOSED = re.compile(r"(?:^|\s)(?:powinno być|ma być|proponowany zapis|proponowane brzmienie|propozycja zmiany|"
                       r"nowe brzmienie|nowy zapis|proponowana (?:zmiana|treść)|zmiana na|zmienić na|"
                       r"(?:zapis )?otrzymuje brzmienie)\s*:\s*", re.IGNORECASE)
# The provision's words quoted before the proposal: „…”, "…", »…«
_QUOTED = re.compile(r"[„\"»“]([^„”\"»«“]{3,}?)[”\"«“]")
# A line opening an item of a list of comments: "1.", "2)", "-", "•", "Uwaga 3:", "Uwaga nr 3 –"
_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]\s+(?!ust|pkt)|[-–•*]\s+|uwaga\s+(?:nr\s*)?\d+\s*[:.\-–]\s*)", re.IGNORECASE)
_FIELD_LABEL = re.compile(r"^\s*\w+(?:\s+\w+){0,2}\s*:\s*$")
_GREETING = re.compile(r"^\s*(?:dzień dobry|dzien dobry|witam|szanown\w+ \w+)(?:\s+\w+){0,2}\s*[,!.]\s*",
                       re.IGNORECASE)


def suggested_rows(body: str) -> list[FormRow]:
    """The rows a clerk would type from this mail text, or none when it names no provision."""
    rows: list[FormRow] = []
    last_part = ""  # the text the last row was made from, while no proposal marker split it
    for block in _blocks(body):
        text, justification = _split_justification(block)
        if justification is not None and not text and rows and not rows[-1].justification:
            rows[-1] = replace(rows[-1], justification=justification)  # "Uzasadnienie: …" in a paragraph of its own
            continue
        stated = _CURRENT.match(text)
        if stated and rows and not _PROVISION.search(text) and not _PROPOSED.search(text):
            # "Obecny zapis: …" in a paragraph of its own, under the provision (the form's labels typed as text)
            rows[-1] = replace(rows[-1], current_text=text[stated.end():].strip(),
                               justification=justification or rows[-1].justification)
            continue
        if last_part and _PROPOSED.match(text) and not _PROVISION.search(text):
            # "Zmiana na: …" in a paragraph of its own, after the provision and its quoted words
            current, proposal = _current_and_proposal(f"{last_part} {text}")
            rows[-1] = replace(rows[-1], current_text=current or rows[-1].current_text, proposal=proposal,
                               justification=justification or rows[-1].justification)
            last_part = ""
            continue
        parts = [(part, found) for part in _by_provision(text) if (found := _PROVISION.search(part))]
        for index, (part, provision) in enumerate(parts):
            current, proposal = _current_and_proposal(part)
            if proposal:  # a reason given after several proposals in one sentence is the last one's
                rows.append(FormRow(_label(provision, part), current, proposal,
                                    (justification or "") if index == len(parts) - 1 else ""))
                last_part = "" if _PROPOSED.search(part) else part
        if len(rows) >= MAX_ROWS:
            break
    return rows[:MAX_ROWS]


# Where one sentence goes on to the next provision: "…co kwartał, a w § 9 dodać …", "…; w Rozdziale 4 …",
# "…. W art. 5 …". A provision named inside a proposal ("dopisać odwołanie do § 9") is not preceded so.
_NEXT_PROVISION = re.compile(r"[,;.]\s+(?:a\s+|oraz\s+|zaś\s+)?(?=w\s+(?:§|rozdzia[łl]|rozdz\.|art\.))",
                             re.IGNORECASE)


def _by_provision(text: str) -> list[str]:
    """The text cut before each clause that opens with another provision, the joining words left out."""
    parts, start = [], 0
    for found in _NEXT_PROVISION.finditer(text):
        if _PROVISION.search(text[start:found.start()]):
            parts.append(text[start:found.start() + 1].strip().rstrip(",;").strip())
            start = found.end()
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _blocks(body: str) -> list[str]:
    """Paragraphs, and within a paragraph each line that opens an item of a list."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", body.replace("\r\n", "\n")):
        current: list[str] = []
        for line in paragraph.split("\n"):
            if _FIELD_LABEL.match(line) and not (_CURRENT.match(line) or _PROPOSED.match(line)
                                                 or _JUSTIFICATION.match(line)):
                # A web form's field name over its value ("Wiadomość:" / "Dzień dobry, …"): not the comment's text.
                if current:
                    blocks.append(" ".join(current))
                    current = []
                continue
            if _ITEM.match(line) and current:
                blocks.append(" ".join(current))
                current = []
            current.append(_ITEM.sub("", line, count=1).strip() if _ITEM.match(line) else line.strip())
        if current:
            blocks.append(" ".join(current))
    return [_GREETING.sub("", " ".join(block.split()), count=1).strip() for block in blocks if block.strip()]


def _split_justification(block: str) -> tuple[str, str | None]:
    """(the text before "Uzasadnienie:", the reason after it, or None when the block gives none)."""
    found = _JUSTIFICATION.search(block)
    return (block, None) if found is None else (block[:found.start()].strip(), block[found.end():].strip())


def _current_and_proposal(text: str) -> tuple[str, str]:
    """ "Jest: … Powinno być: …" gives both; so does the provision's text quoted before "Zmiana na: …" ("§ 12
    ust. 19 „Prezydent … podejmuje …” Zmiana na: „Prezydent … zatwierdza …”"), quotation marks left off;
    otherwise the whole text is the proposal."""
    current, proposed = _CURRENT.search(text), _PROPOSED.search(text)
    if current and proposed and current.start() < proposed.start():
        return text[current.end():proposed.start()].strip(), text[proposed.end():].strip()
    if proposed:
        quoted = _QUOTED.search(text, 0, proposed.start())
        return (quoted.group(1).strip() if quoted else ""), _unquoted(text[proposed.end():].strip()) or text
    return "", text


def _unquoted(text: str) -> str:
    """A proposal given whole in quotation marks, without them (and the full stop after them)."""
    whole = _QUOTED.fullmatch(text.rstrip(".").strip())
    return whole.group(1).strip() if whole else text


def _label(found: re.Match, text: str) -> str:
    """ "§ 5 ust. 2", "Rozdział IV pkt 2", "art. 5"; a chapter with the § named after it in the same breath
    ("Rozdział VI Zasady realizacji § 12 ust. 19") is both."""
    if found.group("chapter") and not any(found.group(name) for name in ("ust", "pkt", "lit")):
        paragraph = _PROVISION.search(text, found.end(), found.end() + 80)
        if paragraph and paragraph.group("par"):
            return f"Rozdział {found.group('chapter').upper()} {_label(paragraph, text)}"
    parts = []
    if found.group("par"):
        parts.append(f"§ {found.group('par')}")
    elif found.group("chapter"):
        parts.append(f"Rozdział {found.group('chapter').upper()}")
    else:
        parts.append(f"art. {found.group('art')}")
    for name, word in (("ust", "ust."), ("pkt", "pkt"), ("lit", "lit.")):
        if found.group(name):
            parts.append(f"{word} {found.group(name)}")
    return " ".join(parts)


# The words a Polish NGO's name opens or holds (its legal form): what a letter's heading names the sender by.
_ORGANISATION = re.compile(
    r"\b(?:stowarzyszeni\w*|fundacj\w*|federacj\w*|towarzystw\w*|zwi[aą]z\w*|klub\w*|ko[lł]o|ko[lł]a|"
    r"spó[lł]dzielni\w*|ochotnicza stra[zż]|uczniowski klub|rada\s+\w+|parafi\w*|caritas|izba|instytut\w*|"
    r"centrum|forum|sto[lł]eczn\w*|polski\s+zwi[aą]zek|oddzia[lł]|ko[lł]o gospody[nń]|uniwersytet\w*)\b",
    re.IGNORECASE)


def suggested_organisation(letter_text: str) -> str:
    """The sender's organisation as a letter's heading names it ("Kujawsko-Pomorska Federacja Organizacji
    Pozarządowych"): the first of its first three short paragraphs that holds a legal form's word, or ""."""
    for paragraph in [p.strip() for p in letter_text.split("\n\n") if p.strip()][:3]:
        line = paragraph.split("\n", 1)[0].strip()
        if len(line) <= 150 and _ORGANISATION.search(line) and not _PROVISION.search(line):
            return line
    return ""
