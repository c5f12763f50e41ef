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
    from services.common.word_numbering import format_number

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


# ---- the Toruń programme: an uchwała with its annex, in the layout the city publishes ----------------

TORUN_TITLE = "Program współpracy Gminy Miasta Toruń z organizacjami pozarządowymi w {year} r."

# (kind, text). Kinds: "typed" paragraphs of the resolution, the annex heading, "chapter" (Word list
# "Rozdział %1", its title on the next line), "para" (a typed "§ N." opening; with "1. " the line holds
# its ust. 1), "ust" (typed "N."), "pkt" / "lit" (Word list "%1)" / "%2)"), "text" (unnumbered).
# The structure follows art. 5a ust. 4 of the ustawa o działalności pożytku publicznego i o wolontariacie
# (the elements every programme has) and the layout of Toruń's resolutions; the wording is illustrative.
def _torun_entries(year: int) -> list[tuple[str, str]]:
    previous = year - 1
    return [
        ("text", f"UCHWAŁA NR …/{previous % 100:02d}"),
        ("text", "RADY MIASTA TORUNIA"),
        ("text", f"z dnia … {previous} r."),
        ("text", f"w sprawie przyjęcia „Programu współpracy Gminy Miasta Toruń z organizacjami pozarządowymi "
                 f"w {year} r.”"),
        ("text", "Na podstawie art. 18 ust. 2 pkt 15 ustawy z dnia 8 marca 1990 r. o samorządzie gminnym oraz "
                 "art. 5a ust. 1 i 4 ustawy z dnia 24 kwietnia 2003 r. o działalności pożytku publicznego "
                 "i o wolontariacie uchwala się, co następuje:"),
        ("para", f"Przyjmuje się „Program współpracy Gminy Miasta Toruń z organizacjami pozarządowymi w {year} r.”, "
                 "stanowiący załącznik do niniejszej uchwały."),
        ("para", "Wykonanie uchwały powierza się Prezydentowi Miasta Torunia."),
        ("para", f"Uchwała wchodzi w życie z dniem 1 stycznia {year} r. i podlega ogłoszeniu w Biuletynie "
                 "Informacji Publicznej."),
        ("text", "Przewodniczący Rady Miasta Torunia"),
        ("text", "…"),
        ("annex", f"Załącznik do uchwały nr …/{previous % 100:02d} Rady Miasta Torunia z dnia … {previous} r."),
        ("text", f"PROGRAM WSPÓŁPRACY GMINY MIASTA TORUŃ Z ORGANIZACJAMI POZARZĄDOWYMI W {year} R."),
        ("chapter", "Postanowienia ogólne"),
        ("para1", "Program określa cele, zasady, zakres przedmiotowy oraz formy współpracy Gminy Miasta Toruń "
                  "z organizacjami pozarządowymi i podmiotami, o których mowa w art. 3 ust. 3 ustawy."),
        ("ust", "Ilekroć w programie jest mowa o:"),
        ("pkt", "ustawie – rozumie się przez to ustawę z dnia 24 kwietnia 2003 r. o działalności pożytku "
                "publicznego i o wolontariacie;"),
        ("pkt", "organizacjach – rozumie się przez to organizacje pozarządowe oraz podmioty, o których mowa "
                "w art. 3 ust. 3 ustawy;"),
        ("pkt", "Gminie – rozumie się przez to Gminę Miasta Toruń;"),
        ("pkt", "Radzie – rozumie się przez to Radę Działalności Pożytku Publicznego Miasta Torunia;"),
        ("pkt", "konkursie – rozumie się przez to otwarty konkurs ofert, o którym mowa w art. 11 ust. 2 "
                "i art. 13 ustawy."),
        ("chapter", "Cele programu"),
        ("para1", "Celem głównym programu jest rozwój społeczeństwa obywatelskiego przez budowanie partnerstwa "
                  "między Gminą a organizacjami."),
        ("ust", "Cele szczegółowe programu to:"),
        ("pkt", "wspieranie aktywności społeczności lokalnych oraz tworzenie warunków do powstawania nowych "
                "inicjatyw obywatelskich;"),
        ("pkt", "promowanie wolontariatu;"),
        ("pkt", "zwiększenie udziału organizacji w realizacji zadań publicznych, w szczególności:"),
        ("lit", "w zakresie pomocy społecznej,"),
        ("lit", "w zakresie kultury, sztuki, ochrony dóbr kultury i dziedzictwa narodowego,"),
        ("lit", "w zakresie wspierania rodziny i systemu pieczy zastępczej;"),
        ("pkt", "wzmocnienie organizacji, partnerstw i ich wzajemnej współpracy."),
        ("chapter", "Zasady współpracy"),
        ("para", "Współpraca Gminy z organizacjami odbywa się na zasadach pomocniczości, suwerenności stron, "
                 "partnerstwa, efektywności, uczciwej konkurencji i jawności."),
        ("chapter", "Zakres przedmiotowy"),
        ("para", "Przedmiotem współpracy Gminy z organizacjami jest realizacja zadań publicznych, o których "
                 "mowa w art. 4 ust. 1 ustawy, w zakresie odpowiadającym zadaniom własnym Gminy."),
        ("chapter", "Formy współpracy"),
        ("para1", "Współpraca ma charakter finansowy i pozafinansowy."),
        ("ust", "Współpraca finansowa obejmuje:"),
        ("pkt", "powierzanie wykonywania zadań publicznych wraz z udzieleniem dotacji na finansowanie ich "
                "realizacji;"),
        ("pkt", "wspieranie wykonywania zadań publicznych wraz z udzieleniem dotacji na dofinansowanie ich "
                "realizacji;"),
        ("pkt", "zlecanie realizacji zadań publicznych z pominięciem otwartego konkursu ofert, w trybie "
                "art. 19a ustawy."),
        ("ust", "Współpraca pozafinansowa obejmuje w szczególności:"),
        ("pkt", "wzajemne informowanie się o planowanych kierunkach działalności;"),
        ("pkt", "konsultowanie z organizacjami projektów aktów prawa miejscowego;"),
        ("pkt", "udostępnianie organizacjom lokali Toruńskiego Centrum Aktywności Lokalnej „2. Piętro”;"),
        ("pkt", "tworzenie wspólnych zespołów o charakterze doradczym i inicjatywnym."),
        ("chapter", "Priorytetowe zadania publiczne"),
        ("para1", f"W {year} r. priorytetowymi zadaniami publicznymi są zadania w zakresie:"),
        ("pkt", "pomocy społecznej, w tym pomocy rodzinom i osobom w trudnej sytuacji życiowej;"),
        ("pkt", "ochrony i promocji zdrowia;"),
        ("pkt", "kultury, sztuki, ochrony dóbr kultury i dziedzictwa narodowego;"),
        ("pkt", "wspierania i upowszechniania kultury fizycznej;"),
        ("pkt", "działalności na rzecz osób w wieku emerytalnym;"),
        ("pkt", "ekologii i ochrony zwierząt oraz ochrony dziedzictwa przyrodniczego."),
        ("ust", "Szczegółowy wykaz zadań określają ogłoszenia o otwartych konkursach ofert."),
        ("chapter", "Okres realizacji programu"),
        ("para", f"Program realizowany jest w okresie od 1 stycznia do 31 grudnia {year} r."),
        ("chapter", "Sposób realizacji programu"),
        ("para1", "Program realizuje Prezydent Miasta Torunia przy pomocy wydziałów Urzędu Miasta Torunia "
                  "i jednostek organizacyjnych Gminy."),
        ("ust", "Otwarte konkursy ofert ogłasza się w Biuletynie Informacji Publicznej, na stronie "
                "internetowej Gminy oraz na tablicy ogłoszeń Urzędu Miasta Torunia."),
        ("chapter", "Wysokość środków przeznaczonych na realizację programu"),
        ("para", f"Na realizację programu w {year} r. przeznacza się kwotę nie mniejszą niż 9 000 000 zł."),
        ("chapter", "Sposób oceny realizacji programu"),
        ("para1", "Miernikami efektywności realizacji programu są w szczególności:"),
        ("pkt", "liczba ogłoszonych otwartych konkursów ofert;"),
        ("pkt", "liczba ofert złożonych w otwartych konkursach ofert;"),
        ("pkt", "liczba umów zawartych na realizację zadań publicznych;"),
        ("pkt", "wysokość środków finansowych przeznaczonych na realizację zadań publicznych."),
        ("ust", f"Sprawozdanie z realizacji programu Prezydent Miasta Torunia przedkłada Radzie Miasta Torunia "
                f"w terminie do dnia 31 maja {year + 1} r."),
        ("chapter", "Informacja o sposobie tworzenia programu oraz o przebiegu konsultacji"),
        ("para", "Projekt programu powstał w procedurze partycypacyjnej, z udziałem organizacji i Rady, "
                 "i został poddany konsultacjom w trybie określonym uchwałą Rady Miasta Torunia w sprawie "
                 "szczegółowego sposobu konsultowania z organizacjami projektów aktów prawa miejscowego."),
        ("chapter", "Tryb powoływania i zasady działania komisji konkursowych"),
        ("para1", "Komisje konkursowe do opiniowania ofert powołuje Prezydent Miasta Torunia w drodze "
                  "zarządzenia."),
        ("ust", "W skład komisji konkursowej wchodzą:"),
        ("pkt", "przedstawiciele Prezydenta Miasta Torunia;"),
        ("pkt", "osoby wskazane przez organizacje, z wyłączeniem osób reprezentujących organizacje biorące "
                "udział w konkursie."),
        ("ust", "Komisja konkursowa obraduje na posiedzeniach zamkniętych, bez udziału oferentów."),
    ]


def make_torun_draft(year: int, numbering: str = "auto", created: str | None = None) -> bytes:
    """The demo consultation's document: the Toruń resolution with its annex, the programme.

    The resolution's §§ and the annex's "§ 1. 1." lines are typed, as the city types them; with
    `numbering="auto"` the annex's chapters ("Rozdział %1"), points ("%1)") and letters ("%2)") come
    from Word lists, each list of points restarted with w:startOverride; "typed" types them all.
    """
    if numbering not in ("auto", "typed"):
        raise ValueError("numbering must be 'auto' or 'typed'")
    chapter_list, first_point_list = 1, 10
    nums: dict[int, tuple[int, dict[int, int]]] = {chapter_list: (1, {})}
    levels = {1: [ListLevel("decimal", "Rozdział %1")],
              2: [ListLevel("decimal", "%1)", 360), ListLevel("lowerLetter", "%2)", 720)]}
    body: list[str] = []
    paragraph = section = point = letter = chapter = 0
    point_list = first_point_list - 1
    in_annex = False
    bold = rpr_xml(bold=True)
    for kind, text in _torun_entries(year):
        if kind == "text":
            body.append(simple_paragraph(text, align="center" if not in_annex and len(text) < 120 else None))
        elif kind == "annex":
            in_annex, paragraph = True, 0
            body.append(simple_paragraph(text, italic=True, align="right", page_break_before=True))
        elif kind == "chapter":
            chapter += 1
            if numbering == "auto":
                body.append(paragraph_xml("", style="Heading1", numbering=(chapter_list, 0)))
            else:
                body.append(paragraph_xml(run_xml(f"Rozdział {chapter}", bold), style="Heading1"))
            body.append(simple_paragraph(text, bold=True, align="center"))
        elif kind in ("para", "para1"):
            paragraph, section = paragraph + 1, 1 if kind == "para1" else 0
            point = 0
            opening = f"§ {paragraph}. " + ("1. " if kind == "para1" else "")
            body.append(paragraph_xml(run_xml(f"§ {paragraph}.", bold) + run_xml(opening[len(f'§ {paragraph}.'):]
                                                                                 + text)))
        elif kind == "ust":
            section, point = section + 1, 0
            body.append(simple_paragraph(f"{section}. {text}"))
        elif kind == "pkt":
            if point == 0:
                point_list += 1
                nums[point_list] = (2, {0: 1, 1: 1})
            point, letter = point + 1, 0
            body.append(simple_paragraph(f"{point}) {text}") if numbering == "typed"
                        else paragraph_xml(run_xml(text), numbering=(point_list, 0)))
        elif kind == "lit":
            letter += 1
            body.append(simple_paragraph(f"{'abcdefgh'[letter - 1]}) {text}") if numbering == "typed"
                        else paragraph_xml(run_xml(text), numbering=(point_list, 1)))
    title = TORUN_TITLE.format(year=year)
    spec = DocxSpec(body=body, title=title, created=created or f"{year - 1}-09-16T08:00:00Z",
                    abstract_lists=levels if numbering == "auto" else {},
                    nums=nums if numbering == "auto" else {})
    return build_docx(spec)
