"""A realistic, fictional draft "Programme of cooperation with NGOs" as DOCX.

Used by the demo consultation (scripts/make_demo_draft.py), the tests and the
benchmarks. The same content can be numbered by hand ("typed") or by Word list
numbering ("auto", in numbering.xml, with restarts and three levels), which is
how the tests prove both give the same labels. `scale` repeats the priority
task areas to make long documents (scale 25 is about 100 pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from .docxwriter import (DocxSpec, ListLevel, build_docx, footnote_reference_xml, paragraph_xml, rpr_xml,
                         row_xml, run_xml, simple_paragraph, table_xml)
from .numbering import typed_prefix

TITLE = "Program współpracy Gminy Miasta Wzorowo z organizacjami pozarządowymi na rok 2025"

# (kind, text) in document order; numbers follow from the order.
_GENERAL = [
    ("chapter", "Postanowienia ogólne"),
    ("paragraph", "Program określa cele, zasady, zakres i formy współpracy Gminy z organizacjami."),
    ("paragraph", "Ilekroć w programie jest mowa o:"),
    ("point", "ustawie – rozumie się przez to ustawę o działalności pożytku publicznego i o wolontariacie;"),
    ("point", "organizacjach – rozumie się przez to organizacje pozarządowe oraz podmioty wymienione w ustawie;"),
    ("point", "Radzie – rozumie się przez to Gminną Radę Działalności Pożytku Publicznego;"),
    ("point", "konkursie – rozumie się przez to otwarty konkurs ofert na realizację zadań publicznych."),
    ("chapter", "Cele programu"),
    ("paragraph", "Cel główny i cele szczegółowe"),
    ("section", "Celem głównym programu jest budowanie partnerstwa między Gminą a organizacjami."),
    ("section", "Cele szczegółowe programu to:"),
    ("point", "wzmacnianie potencjału organizacji i aktywności mieszkańców;"),
    ("point", "zwiększanie udziału organizacji w realizacji zadań publicznych, w szczególności:"),
    ("letter", "w zakresie pomocy społecznej,"),
    ("letter", "w zakresie kultury i ochrony dziedzictwa narodowego,"),
    ("letter", "w zakresie wspierania rodziny;"),
    ("point", "poprawę jakości życia mieszkańców przez pełniejsze zaspokajanie potrzeb społecznych."),
    ("chapter", "Zasady i formy współpracy"),
    ("paragraph", "Współpraca odbywa się na zasadach pomocniczości, suwerenności stron, partnerstwa, "
                  "efektywności, uczciwej konkurencji i jawności."),
    ("paragraph", "Formy współpracy"),
    ("section", "Współpraca ma charakter finansowy i pozafinansowy."),
    ("section", "Współpraca finansowa obejmuje:"),
    ("point", "powierzanie wykonywania zadań publicznych wraz z udzieleniem dotacji;"),
    ("point", "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji na ich dofinansowanie;"),
    ("point", "zlecanie realizacji zadań w trybie art. 19a ustawy (tzw. małe granty)."),
    ("section", "Współpraca pozafinansowa obejmuje w szczególności:"),
    ("point", "wzajemne informowanie się o planowanych kierunkach działalności;"),
    ("point", "konsultowanie projektów aktów prawa miejscowego;"),
    ("point", "tworzenie wspólnych zespołów o charakterze doradczym i inicjatywnym."),
]

_PRIORITY_AREAS = [
    "pomocy społecznej", "ochrony i promocji zdrowia", "kultury, sztuki i ochrony dóbr kultury",
    "wspierania i upowszechniania kultury fizycznej", "ekologii i ochrony zwierząt",
    "działalności na rzecz osób w wieku emerytalnym", "przeciwdziałania uzależnieniom",
    "turystyki i krajoznawstwa", "edukacji i wychowania", "działalności na rzecz integracji cudzoziemców",
]

_FINAL = [
    ("chapter", "Sposób realizacji i finansowania programu"),
    ("paragraph", "Na realizację programu planuje się przeznaczyć środki w wysokości określonej w tabeli."),
    ("table", ""),
    ("paragraph", "Ocena realizacji programu"),
    ("section", "Miernikami efektywności realizacji programu są w szczególności:"),
    ("point", "liczba ogłoszonych otwartych konkursów ofert;"),
    ("point", "liczba ofert złożonych w otwartych konkursach ofert;"),
    ("point", "wysokość środków finansowych przeznaczonych na realizację zadań."),
    ("section", "Sprawozdanie z realizacji programu przedkłada się Radzie Miasta do dnia 31 maja."),
    ("chapter", "Postanowienia końcowe"),
    ("paragraph", "Program był konsultowany z organizacjami w trybie określonym uchwałą Rady Miasta."),
]


def _priority_chapter(repeat: int) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = [("chapter", "Priorytetowe zadania publiczne"
                                       + (f" – część {repeat + 1}" if repeat else ""))]
    for area in _PRIORITY_AREAS:
        entries.append(("paragraph", f"Zadania w zakresie {area}"))
        entries.append(("section", f"Priorytetem w zakresie {area} jest zapewnienie mieszkańcom dostępu do "
                                   "wysokiej jakości usług realizowanych przez organizacje działające lokalnie, "
                                   "z uwzględnieniem potrzeb osób z niepełnosprawnościami i seniorów."))
        entries.append(("section", "Zadania będą realizowane w szczególności przez:"))
        for activity in ("organizowanie warsztatów, szkoleń i spotkań otwartych dla mieszkańców wszystkich "
                         "dzielnic miasta, w tym w formie zdalnej;",
                         "prowadzenie punktów informacyjnych i poradnictwa, dostępnych także w godzinach "
                         "popołudniowych i w soboty;",
                         "wspieranie wolontariatu i inicjatyw sąsiedzkich, w tym przez drobne granty "
                         "na działania lokalne."):
            entries.append(("point", activity))
    return entries


def draft_entries(scale: int = 1) -> list[tuple[str, str]]:
    entries = list(_GENERAL)
    for repeat in range(scale):
        entries += _priority_chapter(repeat)
    return entries + _FINAL


@dataclass(frozen=True)
class _Lists:
    """numIds of the demo's Word lists: chapters, §, and one ust./pkt/lit. list instance per §."""

    chapter: int = 1
    paragraph: int = 2
    first_inner: int = 10


_AUTO_LEVELS = {
    1: [ListLevel("upperRoman", "Rozdział %1")],
    2: [ListLevel("decimal", "§ %1.")],
    3: [ListLevel("decimal", "%1.", 0), ListLevel("decimal", "%2)", 360), ListLevel("lowerLetter", "%3)", 720)],
}
_INNER_LEVEL = {"section": 0, "point": 1, "letter": 2}


def make_demo_draft(numbering: str = "auto", scale: int = 1, created: str = "2024-09-16T08:00:00Z") -> bytes:
    """The demo draft as DOCX bytes; `numbering` is "auto" (Word lists) or "typed"."""
    if numbering not in ("auto", "typed"):
        raise ValueError("numbering must be 'auto' or 'typed'")
    lists = _Lists()
    nums: dict[int, tuple[int, dict[int, int]]] = {lists.chapter: (1, {}), lists.paragraph: (2, {})}
    counters = {"chapter": 0, "paragraph": 0, "section": 0, "point": 0, "letter": 0}
    body = [simple_paragraph(TITLE, style="Title"),
            simple_paragraph("Projekt – dokument przedstawiony do konsultacji społecznych", italic=True,
                             align="center")]
    footnotes = ["Ustawa z dnia 24 kwietnia 2003 r. o działalności pożytku publicznego i o wolontariacie."]
    inner_num = lists.first_inner - 1
    for kind, text in draft_entries(scale):
        if kind == "table":
            body.append(_budget_table())
            continue
        _advance(counters, kind)
        if kind == "paragraph":
            inner_num += 1
            nums[inner_num] = (3, {0: 1, 1: 1, 2: 1})
        number = _displayed_number(kind, counters)
        style = "Heading1" if kind == "chapter" else None
        page_break = kind == "chapter" and counters["chapter"] > 1
        content = _content_runs(kind, text, counters)
        if numbering == "typed":
            body.append(paragraph_xml(run_xml(typed_prefix(kind, number), _prefix_rpr(kind)) + content,
                                      style=style, page_break_before=page_break))
        else:
            num_id = {"chapter": lists.chapter, "paragraph": lists.paragraph}.get(kind, inner_num)
            body.append(paragraph_xml(content, style=style, numbering=(num_id, _INNER_LEVEL.get(kind, 0)),
                                      page_break_before=page_break))
    spec = DocxSpec(body=body, title=TITLE, created=created, footnotes=footnotes,
                    abstract_lists=_AUTO_LEVELS if numbering == "auto" else {},
                    nums=nums if numbering == "auto" else {})
    return build_docx(spec)


def _advance(counters: dict[str, int], kind: str) -> None:
    counters[kind] += 1
    order = ["chapter", "paragraph", "section", "point", "letter"]
    for deeper in order[order.index(kind) + 1:]:
        if kind != "chapter" or deeper != "paragraph":  # § runs through the whole act
            counters[deeper] = 0


def _displayed_number(kind: str, counters: dict[str, int]) -> str:
    from .numbering import format_number

    fmt = {"chapter": "upperRoman", "letter": "lowerLetter"}.get(kind, "decimal")
    return format_number(counters[kind], fmt)


def _prefix_rpr(kind: str) -> str:
    return rpr_xml(bold=kind in ("chapter", "paragraph"))


def _content_runs(kind: str, text: str, counters: dict[str, int]) -> str:
    """The unit's text as runs, with some bold, italic and a footnote, as real drafts have."""
    if kind == "chapter":
        return run_xml(text, rpr_xml(bold=True))
    if kind == "point" and text.startswith("ustawie"):
        head, rest = text.split(" – ", 1)
        return (run_xml(head, rpr_xml(italic=True)) + footnote_reference_xml(1) + run_xml(" – " + rest))
    if kind == "paragraph" and counters["paragraph"] == 1:
        first, rest = text.split(" ", 1)
        return run_xml(first, rpr_xml(bold=True)) + run_xml(" " + rest)
    return run_xml(text)


def _budget_table() -> str:
    widths = [5000, 2500, 2500]
    rows = [row_xml(["Zadanie", "Kwota 2025 (zł)", "Kwota 2024 (zł)"], widths, header=True)]
    for task, amount, previous in (("Pomoc społeczna", "4 250 000", "3 980 000"),
                                   ("Kultura", "2 100 000", "2 050 000"),
                                   ("Sport", "3 400 000", "3 300 000"),
                                   ("Zdrowie", "850 000", "800 000")):
        rows.append(row_xml([task, amount, previous], widths))
    return table_xml(rows, widths)
