"""A small, fast WordprocessingML writer: runs, paragraphs and tables as strings.

The report, the demo draft and the test fixtures are written with it. Strings
(not python-docx objects) are what makes the 10,000-row report fast: each row
is one formatted template with escaped text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ooxml import (CT_FOOTNOTES, CT_NUMBERING, CT_SETTINGS, CT_STYLES, WML_NS_DECL,
                    XML_DECL, PackageBuilder, app_properties_xml, core_properties_xml, xml_escape)

FONT = "Liberation Serif"


def rpr_xml(bold: bool = False, italic: bool = False, size_half_points: int | None = None) -> str:
    inner = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "")
    if size_half_points:
        inner += f'<w:sz w:val="{size_half_points}"/><w:szCs w:val="{size_half_points}"/>'
    return f"<w:rPr>{inner}</w:rPr>" if inner else ""


def text_xml(text: str, deleted: bool = False) -> str:
    """Run content for text: tabs and line breaks become their own elements."""
    tag = "w:delText" if deleted else "w:t"
    pieces = []
    for index, line in enumerate(text.split("\n")):
        if index:
            pieces.append("<w:br/>")
        for tab_index, chunk in enumerate(line.split("\t")):
            if tab_index:
                pieces.append("<w:tab/>")
            if chunk:
                pieces.append(f'<{tag} xml:space="preserve">{xml_escape(chunk)}</{tag}>')
    return "".join(pieces)


def run_xml(text: str, rpr: str = "", deleted: bool = False) -> str:
    return f"<w:r>{rpr}{text_xml(text, deleted)}</w:r>"


def paragraph_xml(content: str, style: str | None = None, numbering: tuple[int, int] | None = None,
                  align: str | None = None, keep_next: bool = False, page_break_before: bool = False) -> str:
    ppr = ""
    if style:
        ppr += f'<w:pStyle w:val="{style}"/>'
    if keep_next:
        ppr += "<w:keepNext/>"
    if page_break_before:
        ppr += "<w:pageBreakBefore/>"
    if numbering:
        ppr += f'<w:numPr><w:ilvl w:val="{numbering[1]}"/><w:numId w:val="{numbering[0]}"/></w:numPr>'
    if align:
        ppr += f'<w:jc w:val="{align}"/>'
    return f"<w:p>{'<w:pPr>' + ppr + '</w:pPr>' if ppr else ''}{content}</w:p>"


def simple_paragraph(text: str, style: str | None = None, bold: bool = False, italic: bool = False,
                     **options) -> str:
    return paragraph_xml(run_xml(text, rpr_xml(bold, italic)), style=style, **options)


def table_xml(rows: list[str], widths: list[int], style: str = "TableGrid") -> str:
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="{style}"/><w:tblW w:w="0" w:type="auto"/>'
            f'<w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>')


def row_xml(cells: list[str], widths: list[int], header: bool = False) -> str:
    trpr = "<w:trPr><w:tblHeader/></w:trPr>" if header else ""
    rpr = rpr_xml(bold=header)
    body = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
        f"<w:p>{run_xml(text, rpr)}</w:p></w:tc>" for text, width in zip(cells, widths))
    return f"<w:tr>{trpr}{body}</w:tr>"


def section_xml(landscape: bool = False) -> str:
    width, height = (16838, 11906) if landscape else (11906, 16838)
    orient = ' w:orient="landscape"' if landscape else ""
    return (f'<w:sectPr><w:pgSz w:w="{width}" w:h="{height}"{orient}/>'
            '<w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" '
            'w:header="708" w:footer="708" w:gutter="0"/></w:sectPr>')


def styles_xml(language: str = "pl-PL") -> str:
    def paragraph_style(style_id: str, name: str, rpr: str = "", ppr: str = "", outline: int | None = None) -> str:
        outline_xml = f'<w:outlineLvl w:val="{outline}"/>' if outline is not None else ""
        return (f'<w:style w:type="paragraph" w:styleId="{style_id}"><w:name w:val="{name}"/>'
                f'<w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>'
                f'<w:pPr><w:keepNext/>{ppr}{outline_xml}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>')

    return (
        f"{XML_DECL}<w:styles {WML_NS_DECL}>"
        f'<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}"/>'
        f'<w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="{language}"/></w:rPr></w:rPrDefault>'
        '<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault>'
        "</w:docDefaults>"
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>'
        + paragraph_style("Title", "Title", '<w:b/><w:sz w:val="36"/>', '<w:jc w:val="center"/>')
        + paragraph_style("Heading1", "heading 1", '<w:b/><w:sz w:val="28"/>', '<w:spacing w:before="240"/>', 0)
        + paragraph_style("Heading2", "heading 2", '<w:b/><w:sz w:val="24"/>', '<w:spacing w:before="180"/>', 1)
        + '<w:style w:type="paragraph" w:styleId="FootnoteText"><w:name w:val="footnote text"/>'
        '<w:basedOn w:val="Normal"/><w:rPr><w:sz w:val="18"/></w:rPr></w:style>'
        '<w:style w:type="paragraph" w:styleId="TableText"><w:name w:val="Table Text"/>'
        '<w:basedOn w:val="Normal"/><w:pPr><w:spacing w:after="0"/></w:pPr><w:rPr><w:sz w:val="18"/></w:rPr></w:style>'
        '<w:style w:type="character" w:styleId="FootnoteReference"><w:name w:val="footnote reference"/>'
        '<w:rPr><w:vertAlign w:val="superscript"/></w:rPr></w:style>'
        '<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr>'
        '<w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        '<w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        '<w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        '<w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        '<w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
        '<w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tblBorders>'
        '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
        "</w:tblPr></w:style>"
        "</w:styles>"
    )


def settings_xml(track_revisions: bool = False, auto_hyphenation: bool = False) -> str:
    track = "<w:trackRevisions/>" if track_revisions else ""
    # CT_Settings order: trackRevisions comes before defaultTabStop, which comes before autoHyphenation.
    hyphenation = "<w:autoHyphenation/>" if auto_hyphenation else ""
    return (f"{XML_DECL}<w:settings {WML_NS_DECL}>{track}<w:defaultTabStop w:val=\"708\"/>{hyphenation}"
            '<w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" '
            'w:val="15"/></w:compat></w:settings>')


def footnotes_xml(notes: list[str]) -> str:
    """footnotes.xml with the two separator notes Word expects, then `notes` as ids 1..n."""
    separators = ('<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
                  '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
                  "</w:r></w:p></w:footnote>")
    items = "".join(
        f'<w:footnote w:id="{index}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr>'
        f'<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r>'
        f"{run_xml(' ' + text)}</w:p></w:footnote>" for index, text in enumerate(notes, start=1))
    return f"{XML_DECL}<w:footnotes {WML_NS_DECL}>{separators}{items}</w:footnotes>"


def footnote_reference_xml(note_id: int) -> str:
    return f'<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="{note_id}"/></w:r>'


@dataclass
class ListLevel:
    fmt: str
    text: str
    indent: int = 0
    start: int = 1


@dataclass
class DocxSpec:
    """Everything a simple document needs: body, numbering, footnotes, metadata."""

    body: list[str]
    title: str = ""
    creator: str = "Uwagi"
    language: str = "pl-PL"
    created: str = "2024-01-01T00:00:00Z"
    landscape: bool = False
    abstract_lists: dict[int, list[ListLevel]] = field(default_factory=dict)
    # numId -> (abstractNumId, {ilvl: startOverride})
    nums: dict[int, tuple[int, dict[int, int]]] = field(default_factory=dict)
    footnotes: list[str] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)


def numbering_xml(abstract_lists: dict[int, list[ListLevel]], nums: dict[int, tuple[int, dict[int, int]]]) -> str:
    abstracts = []
    for abstract_id, levels in sorted(abstract_lists.items()):
        level_xml = "".join(
            f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{level.start}"/><w:numFmt w:val="{level.fmt}"/>'
            f'<w:lvlText w:val="{xml_escape(level.text)}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{level.indent + 360}" w:hanging="360"/></w:pPr></w:lvl>'
            for ilvl, level in enumerate(levels))
        abstracts.append(f'<w:abstractNum w:abstractNumId="{abstract_id}"><w:multiLevelType w:val="multilevel"/>'
                         f"{level_xml}</w:abstractNum>")
    instances = []
    for num_id, (abstract_id, overrides) in sorted(nums.items()):
        override_xml = "".join(f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
                               for ilvl, start in sorted(overrides.items()))
        instances.append(f'<w:num w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>{override_xml}</w:num>')
    return f"{XML_DECL}<w:numbering {WML_NS_DECL}>{''.join(abstracts)}{''.join(instances)}</w:numbering>"


def build_docx(spec: DocxSpec, date_time: tuple | None = None) -> bytes:
    """A complete, deterministic DOCX package from `spec`."""
    from .ooxml import zip_date_from_iso

    builder = PackageBuilder()
    builder.add_part("word/styles.xml", styles_xml(spec.language), CT_STYLES, "styles")
    builder.add_part("word/settings.xml", settings_xml(), CT_SETTINGS, "settings")
    if spec.abstract_lists:
        builder.add_part("word/numbering.xml", numbering_xml(spec.abstract_lists, spec.nums), CT_NUMBERING, "numbering")
    if spec.footnotes:
        builder.add_part("word/footnotes.xml", footnotes_xml(spec.footnotes), CT_FOOTNOTES, "footnotes")
    media_rel_ids = {}
    for name, data in sorted(spec.media.items()):
        builder.add_default(name.rsplit(".", 1)[-1], "image/png")
        media_rel_ids[name] = builder.add_part(f"word/media/{name}", data, None, "image")
    body = "".join(spec.body)
    for name, rel_id in media_rel_ids.items():
        body = body.replace(f"@rel:{name}", rel_id)
    document = (f"{XML_DECL}<w:document {WML_NS_DECL}><w:body>{body}"
                f"{section_xml(spec.landscape)}</w:body></w:document>")
    core = core_properties_xml(spec.title, spec.creator, spec.created, spec.language)
    return builder.build(document, core, app_properties_xml(),
                         date_time=date_time or zip_date_from_iso(spec.created))

