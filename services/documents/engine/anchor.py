"""Anchor a comment to a unit from a free-text hint and an optional quote; re-anchor to a new version.

Principles:
- a quote is stronger evidence than a hint (people mistype numbers more than words);
- the result is None rather than a wrong unit: an unclear hint, a weak quote or
  two equally good candidates give no unit, with the candidates listed;
- re-anchoring never attaches a comment elsewhere silently: unplaceable is "orphaned".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from .model import Unit, Version
from .numbering import from_roman
from .structure import descendants

ACCEPT_CONFIDENCE = 0.6
QUOTE_STRONG = 85.0
QUOTE_WEAK = 60.0
AMBIGUITY_MARGIN = 3.0
HINT_AGREEMENT = 8.0
REANCHOR_MIN_SCORE = 80.0

_WORDS = {
    "division": r"dzia[łl]u?",
    "chapter": r"rozdzia[łl]u?|rozdz\.?|roz\.",
    "paragraph": r"§+|paragrafu?|par\.?",
    "article": r"artyku[łl]u?|art\.?",
    "section": r"ust[eę]pu?|ust\.?",
    "point": r"punktu?|pkt\.?|pk\.",
    "letter": r"litery?|lit\.?",
    "tiret": r"tiret",
    "sentence": r"zdani[ae]|zd\.?",
    "table": r"tabel[aiy]?|tab\.",
    "page": r"stron[aiey]?|str\.?|s\.",
}
_NUMBER = r"[0-9]+[a-z]?|[ivxlcdm]+\b|[a-z]\b"
_TOKEN = re.compile(
    r"(?<![^\W\d_])(?P<word>" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _WORDS.items()) + r")"
    rf"\s*(?P<numbers>(?:{_NUMBER})(?:\s*(?:[–—-]|,|\bi\b|\boraz\b)\s*(?:{_NUMBER}))*)", re.IGNORECASE)
_DOTTED = re.compile(r"§\s*(\d+[a-z]?(?:\.\d+[a-z]?)+)")
_ANNEX = re.compile(r"\bza[łl](?:[ąa]cznik\w*|\.)(?:\s*(?:nr|numer)\.?\s*(\d+))?", re.IGNORECASE)
_ACT = re.compile(r"^\s*(?:uchwał|ustaw|rozporządzeni|zarządzeni|statut)\w*\s+", re.IGNORECASE)
# "część wspólna", also abbreviated as lawyers cite it: "cz. wsp."
_COMMON = re.compile(r"(?:cz[ęe][śs][ćc]\w*\s+|\bcz\.\s*)wsp(?:[óo]ln\w*|\.)", re.IGNORECASE)
# Points are never numbered in upper-case Roman: "pkt II" is how open calls cite their section II.
_ROMAN_SECTION = re.compile(r"[IVXLC]+")
_BARE_LETTER = re.compile(r"(?<![\w.])([a-z])\)")
RANGE_CONFIDENCE = 0.75
EXACT_CONFIDENCE = 0.95
CONFLICT_CONFIDENCE = 0.7


@dataclass(frozen=True)
class Candidate:
    unit: Unit
    confidence: float

    def to_json(self) -> dict:
        return {"unit": self.unit.id, "label": self.unit.label, "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class AnchorResult:
    unit: Unit | None
    confidence: float
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""

    def to_json(self) -> dict:
        return {"unit": self.unit.id if self.unit else None, "label": self.unit.label if self.unit else None,
                "confidence": round(self.confidence, 3),
                "candidates": [candidate.to_json() for candidate in self.candidates]}


@dataclass(frozen=True)
class HintPath:
    """What a hint names: (kind, number) steps, a page, heading words.

    The deepest step may name several units ("pkt 1–3", "pkt 1, 3 i 5"): `deepest` lists them. `annex`
    is "" for the act itself, the annex number (or "*" for "Załącznik" without one), or None when the
    hint does not say. `sentence` keeps "zd. 2" (a sentence inside the unit).
    """

    steps: tuple[tuple[str, str], ...] = ()
    page: int | None = None
    words: str = ""
    deepest: tuple[str, ...] = ()
    annex: str | None = None
    sentence: str = ""


def parse_hint(hint: str) -> HintPath:
    text = " ".join(hint.replace("\u00a0", " ").split())
    steps: list[tuple[str, str]] = []
    page, deepest, annex, sentence = None, (), None, ""
    annex_match = _ANNEX.search(text)
    act = _ACT.match(text)
    if act:  # "uchwała § 1": the act itself, not its annex
        annex = ""
        text = text[act.end():]
    elif annex_match:
        annex = annex_match.group(1) or "*"
        text = text[:annex_match.start()] + " " + text[annex_match.end():]
    common = _COMMON.search(text)
    if common:
        text = text[:common.start()] + " " + text[common.end():]
    dotted = _DOTTED.search(text)
    if dotted:  # "§5.2.3" → § 5 ust. 2 pkt 3 (lit. when a fourth part follows)
        numbers = dotted.group(1).split(".")
        steps = list(zip(("paragraph", "section", "point", "letter"), numbers))
        text = text[:dotted.start()] + text[dotted.end():]
    for match in _TOKEN.finditer(text):
        kind = next(name for name in _WORDS if match.group(name))
        if kind == "point" and _ROMAN_SECTION.fullmatch(match.group("numbers").strip()):
            kind = "chapter"
        numbers = _expand(kind, match.group("numbers"))
        if kind == "page":
            page = int(numbers[0]) if numbers and numbers[0].isdecimal() else page
        elif kind == "sentence":
            sentence = numbers[0] if numbers else ""
        elif numbers:
            steps.append((kind, numbers[0]))
            deepest = tuple(numbers)
    if steps and steps[-1][0] == "point":  # "pkt 2 a)": the letter after a point
        tail = text[text.lower().rfind("pkt"):]
        letter = _BARE_LETTER.search(tail)
        if letter:
            steps.append(("letter", letter.group(1).lower()))
            deepest = (letter.group(1).lower(),)
    if common:
        steps.append(("common", ""))
        deepest = ("",)
    if steps and not deepest:
        deepest = (steps[-1][1],)
    words = "" if steps or page or annex else _TOKEN.sub(" ", text).strip(" ,.;:")
    return HintPath(tuple(steps), page, words, deepest, annex, sentence)


def _expand(kind: str, numbers: str) -> tuple[str, ...]:
    """ "1–3" → 1, 2, 3; "1, 3 i 5" → 1, 3, 5 (decimal, Roman or letters)."""
    parts = re.split(r"\s*(,|\bi\b|\boraz\b)\s*", numbers.strip())
    result: list[str] = []
    for part in parts:
        if not part or part in (",", "i", "oraz"):
            continue
        bounds = re.split(r"\s*[–—-]\s*", part)
        if len(bounds) == 2:
            low, high = (_normalise_number(kind, bound) for bound in bounds)
            result.extend(_between(low, high))
        else:
            result.append(_normalise_number(kind, bounds[0]))
    return tuple(dict.fromkeys(result))


def _between(low: str, high: str) -> list[str]:
    if low.isdecimal() and high.isdecimal() and int(low) <= int(high) <= int(low) + 50:
        return [str(value) for value in range(int(low), int(high) + 1)]
    if len(low) == len(high) == 1 and low.isalpha() and high.isalpha() and low <= high:
        return [chr(code) for code in range(ord(low), ord(high) + 1)]
    return [low, high]


def _normalise_number(kind: str, number: str) -> str:
    if kind in ("chapter", "division"):
        value = int(number) if number.isdecimal() else from_roman(number)
        return str(value) if value else number.upper()
    return number.lower()


def _unit_path(unit: Unit, by_id: dict[str, Unit]) -> dict[str, str]:
    path = {}
    current: Unit | None = unit
    while current is not None:
        number = current.number
        if current.kind in ("table", "block"):
            number = current.label.rsplit(" ", 1)[-1]
        if current.kind == "annex":
            path["annex"] = number or "*"
        elif number or current.kind == "common":
            if current.kind in ("chapter", "division"):
                value = from_roman(number) if not number.isdecimal() else int(number)
                number = str(value) if value else number
            path.setdefault(current.kind, number.lower())
        current = by_id.get(current.parent) if current.parent else None
    return path


def _structural_matches(version: Version, hint: HintPath, number: str | None = None) -> list[Unit]:
    """Units whose own kind is the deepest step of the hint and whose path agrees with every step."""
    if not hint.steps:
        return []
    by_id = version.index()
    deepest_kind = hint.steps[-1][0]
    wanted = dict(hint.steps)
    if number is not None:
        wanted[deepest_kind] = number
    matches = []
    for unit in version.units:
        if unit.kind != deepest_kind:
            continue
        path = _unit_path(unit, by_id)
        if not all(path.get(kind) == value for kind, value in wanted.items()):
            continue
        if hint.annex is not None:
            in_annex = path.get("annex")
            if (hint.annex == "" and in_annex) or (hint.annex != "" and not in_annex) or \
                    (hint.annex not in ("", "*") and in_annex not in (hint.annex, "*")):
                continue
        matches.append(unit)
    return matches


def _exact_label(version: Version, hint: str) -> list[Unit]:
    """Units whose label is exactly what the hint says (case and spacing aside)."""
    wanted = " ".join(hint.replace("\u00a0", " ").split()).strip(" ,.;:").lower()
    if not wanted:
        return []
    exact = [unit for unit in version.units if unit.label.lower() == wanted]
    if exact:
        return exact + [unit for unit in version.units if unit not in exact and
                        re.sub(r"^załącznik(?: nr \d+)? ", "", unit.label.lower()) == wanted]
    return []


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[„”“\"'«»]", "", text)
    return " ".join(text.split())


def quote_scores(version: Version, quote: str, units: list[Unit] | None = None) -> list[tuple[Unit, float]]:
    """(unit, 0–100) for how well `quote` (typos allowed) matches some part of each unit's text."""
    pool = [unit for unit in (units if units is not None else version.units) if unit.text]
    needle = normalise_text(quote)
    if not needle or not pool:
        return []
    texts = [normalise_text(unit.text) for unit in pool]
    scored = process.extract(needle, texts, scorer=_quote_scorer, limit=len(pool))
    return [(pool[index], score) for _, score, index in scored]


def _quote_scorer(needle: str, haystack: str, **_) -> float:
    # partial_ratio finds the quote inside a long unit; penalise a unit much shorter than the quote.
    score = fuzz.partial_ratio(needle, haystack)
    if len(haystack) < 0.6 * len(needle):
        score *= len(haystack) / (0.6 * len(needle))
    return score


def _heading_scores(version: Version, words: str) -> list[tuple[Unit, float]]:
    needle = normalise_text(words)
    pool = [unit for unit in version.units if unit.text and (unit.heading or unit.kind in ("chapter", "paragraph"))]
    scored = []
    for unit in pool:
        title = normalise_text(unit.text[:120])
        scored.append((unit, max(fuzz.token_set_ratio(needle, title), fuzz.partial_ratio(needle, title)
                                 if len(needle) >= 6 else 0)))
    return sorted(scored, key=lambda item: -item[1])


def resolve_anchor(version: Version, hint: str, quote: str | None = None, *, max_candidates: int = 5) -> AnchorResult:
    """The unit a comment concerns, with a confidence (0–1) and the runner-up candidates.

    An exact label wins over fuzzy text; a range or list of units gives their common parent (or none);
    a label that the act and its annex share gives no unit but both candidates, unless the quote decides.
    """
    exact = _exact_label(version, hint or "")
    if len(exact) == 1:
        return _exact_result(version, exact[0], quote, max_candidates)
    parsed = parse_hint(hint or "")
    if len(parsed.deepest) > 1:
        return _range_result(version, parsed, max_candidates)
    structural = exact or _structural_matches(version, parsed)
    if quote and quote.strip():
        return _resolve_with_quote(version, parsed, structural, quote, max_candidates)
    if structural:
        confidence = 0.9 if len(structural) == 1 else 0.45
        candidates = tuple(Candidate(unit, confidence) for unit in structural[:max_candidates])
        return _decide(candidates, reason="hint")
    if parsed.page is not None:
        on_page = [unit for unit in version.units if unit.page == parsed.page]
        confidence = 0.3 if on_page else 0.0
        return AnchorResult(None, confidence, tuple(Candidate(unit, confidence) for unit in on_page[:max_candidates]),
                            reason="page alone does not name a unit")
    if parsed.words:
        scored = _heading_scores(version, parsed.words)[:max_candidates]
        candidates = tuple(Candidate(unit, score / 100) for unit, score in scored if score >= QUOTE_WEAK)
        return _decide(candidates, reason="heading words", minimum=0.8)
    return AnchorResult(None, 0.0, reason="hint not understood")


def _exact_result(version: Version, unit: Unit, quote: str | None, max_candidates: int) -> AnchorResult:
    """The labelled unit; a quote found only elsewhere lowers the confidence and names the other unit."""
    if not quote or not quote.strip():
        return AnchorResult(unit, EXACT_CONFIDENCE, (Candidate(unit, EXACT_CONFIDENCE),), reason="exact label")
    inside_ids = {unit.id} | descendants(version.units, unit.id)
    inside = [item for item in version.units if item.id in inside_ids]
    scored_inside = quote_scores(version, quote, inside)
    own = max((score for _, score in scored_inside), default=0.0)
    elsewhere = [(other, score) for other, score in quote_scores(version, quote) if other.id not in inside_ids]
    best_other = elsewhere[0] if elsewhere else None
    if best_other is not None and best_other[1] >= QUOTE_STRONG and best_other[1] > own + AMBIGUITY_MARGIN:
        candidates = (Candidate(unit, CONFLICT_CONFIDENCE), Candidate(best_other[0], best_other[1] / 100))
        return AnchorResult(unit, CONFLICT_CONFIDENCE, candidates[:max_candidates],
                            reason="exact label; the quote is found elsewhere")
    if own < QUOTE_WEAK:
        return AnchorResult(unit, 0.65, (Candidate(unit, 0.65),), reason="exact label; quote not found")
    best, best_score = scored_inside[0]
    runner_up = scored_inside[1][1] if len(scored_inside) > 1 else 0.0
    if best.id != unit.id and best_score >= QUOTE_STRONG and best_score - runner_up >= AMBIGUITY_MARGIN:
        confidence = min(best_score / 100, 0.9)  # the quote points inside the labelled unit
        return AnchorResult(best, confidence, (Candidate(best, confidence), Candidate(unit, EXACT_CONFIDENCE)),
                            reason="exact label narrowed by the quote")
    return AnchorResult(unit, EXACT_CONFIDENCE, (Candidate(unit, EXACT_CONFIDENCE),), reason="exact label")


def _range_result(version: Version, parsed: HintPath, max_candidates: int) -> AnchorResult:
    """ "pkt 1–3", "§ 2–4": the common parent of the units named, or no unit with them as candidates."""
    named = []
    for number in parsed.deepest:
        matches = _structural_matches(version, parsed, number)
        if len(matches) != 1:
            return AnchorResult(None, 0.3, tuple(Candidate(unit, 0.3) for unit in matches[:max_candidates]),
                                reason="range: a listed unit is missing or ambiguous")
        named.append(matches[0])
    parents = {unit.parent for unit in named}
    candidates = tuple(Candidate(unit, 0.5) for unit in named[:max_candidates])
    parent = version.unit(next(iter(parents))) if len(parents) == 1 and None not in parents else None
    # A list of points belongs to the provision that opens it; §§ of one chapter are not "the chapter".
    if parent is not None and parent.kind in ("paragraph", "article", "section", "point", "letter"):
        return AnchorResult(parent, RANGE_CONFIDENCE, (Candidate(parent, RANGE_CONFIDENCE),) + candidates,
                            reason="range: the common parent")
    return AnchorResult(None, 0.5, candidates, reason="range without a common parent")


def _resolve_with_quote(version: Version, parsed: HintPath, structural: list[Unit], quote: str,
                        max_candidates: int) -> AnchorResult:
    pool = None
    if parsed.page is not None and not structural:  # "str. 4" narrows the search to nearby pages
        pool = [unit for unit in version.units if abs(unit.page - parsed.page) <= 1] or None
    scored = quote_scores(version, quote, pool)
    # A unit inside what the hint names agrees with it: "§ 6" + a quote from § 6 ust. 2 pkt 3.
    agreeing = {unit.id for unit in structural}
    for unit in structural:
        agreeing |= descendants(version.units, unit.id)
    # Rank by quote score plus agreement; report the quote score itself as the confidence.
    ranked = sorted(((unit, score + (HINT_AGREEMENT if unit.id in agreeing else 0.0), score)
                     for unit, score in scored), key=lambda item: -item[1])[:max_candidates]
    candidates = tuple(Candidate(unit, min(score / 100, 1.0)) for unit, _, score in ranked)
    best_quote = scored[0][1] if scored else 0.0
    if best_quote < QUOTE_WEAK and len(structural) == 1:  # the quote is not in the text; trust the hint a little
        return AnchorResult(structural[0], 0.65, candidates, reason="hint; quote not found")
    if best_quote < QUOTE_STRONG:
        return AnchorResult(None, best_quote / 100, candidates, reason="quote too weak")
    tied = len(ranked) > 1 and ranked[0][1] - ranked[1][1] < AMBIGUITY_MARGIN
    if tied:
        return AnchorResult(None, candidates[0].confidence, candidates, reason="quote matches several units")
    return AnchorResult(ranked[0][0], candidates[0].confidence, candidates, reason="quote")


def _decide(candidates: tuple[Candidate, ...], reason: str, minimum: float = ACCEPT_CONFIDENCE) -> AnchorResult:
    if not candidates:
        return AnchorResult(None, 0.0, (), reason=reason)
    best = candidates[0]
    tied = len(candidates) > 1 and (best.confidence - candidates[1].confidence) * 100 < AMBIGUITY_MARGIN
    if best.confidence < minimum or tied:
        return AnchorResult(None, best.confidence, candidates, reason=f"{reason}: ambiguous or weak")
    return AnchorResult(best.unit, best.confidence, candidates, reason=reason)


# ---- re-anchoring --------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    """A comment placed on a unit of some version, with the text it quoted (if any)."""

    comment_ref: str
    unit_id: str
    quote: str | None = None


@dataclass(frozen=True)
class Reanchored:
    comment_ref: str
    old_unit: str
    new_unit: str | None
    new_label: str | None
    status: str  # "kept" | "moved" | "orphaned"
    confidence: float
    candidates: tuple[Candidate, ...] = field(default=())

    def to_json(self) -> dict:
        return {"comment_ref": self.comment_ref, "old_unit": self.old_unit, "new_unit": self.new_unit,
                "label": self.new_label, "status": self.status, "confidence": round(self.confidence, 3),
                "candidates": [candidate.to_json() for candidate in self.candidates]}


def reanchor(old: Version, new: Version, anchors: list[Anchor]) -> list[Reanchored]:
    """Place comments anchored on `old` onto `new` by quote (or the old unit's text) and position."""
    old_index = {unit.id: position for position, unit in enumerate(old.units)}
    old_units = old.index()
    new_ids = new.index() if _descends(new, old) else {}
    return [_reanchor_one(anchor, old_units, old_index, new, new_ids) for anchor in anchors]


def _descends(new: Version, old: Version) -> bool:
    """Unit ids carry over only along a version's own lineage; a separately parsed file starts afresh."""
    current = new
    while current is not None:
        if current is old:
            return True
        current = current.parent
    return False


def _reanchor_one(anchor: Anchor, old_units: dict[str, Unit], old_index: dict[str, int], new: Version,
                  new_ids: dict[str, Unit]) -> Reanchored:
    old_unit = old_units.get(anchor.unit_id)
    if old_unit is None:
        return Reanchored(anchor.comment_ref, anchor.unit_id, None, None, "orphaned", 0.0)
    needle = anchor.quote or old_unit.text
    if new_ids:
        same = new_ids.get(anchor.unit_id)
        if same is None:  # deleted in the new version: never attach to a look-alike
            return Reanchored(anchor.comment_ref, anchor.unit_id, None, None, "orphaned", 0.0)
        if not anchor.quote or _quote_score(needle, same.text) >= REANCHOR_MIN_SCORE:
            return Reanchored(anchor.comment_ref, anchor.unit_id, same.id, same.label, "kept",
                              _quote_score(needle, same.text) / 100)
    relative = old_index[anchor.unit_id] / max(len(old_units) - 1, 1)
    candidates = []
    for position, unit in enumerate(new.units):
        if not unit.text:
            continue
        score = _quote_score(needle, unit.text)
        distance = abs(position / max(len(new.units) - 1, 1) - relative)
        candidates.append(Candidate(unit, max(score - 20 * distance, 0) / 100))
    candidates.sort(key=lambda candidate: -candidate.confidence)
    top = tuple(candidates[:3])
    decided = _decide(top, reason="reanchor", minimum=REANCHOR_MIN_SCORE / 100)
    if decided.unit is None:
        return Reanchored(anchor.comment_ref, anchor.unit_id, None, None, "orphaned", decided.confidence, top)
    return Reanchored(anchor.comment_ref, anchor.unit_id, decided.unit.id, decided.unit.label, "moved",
                      decided.confidence, top)


def _quote_score(needle: str, text: str) -> float:
    return _quote_scorer(normalise_text(needle), normalise_text(text))
