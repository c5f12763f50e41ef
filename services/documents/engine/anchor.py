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
    "chapter": r"rozdzia[łl]u?|rozdz\.?|roz\.",
    "paragraph": r"§+|paragrafu?|par\.?",
    "section": r"ust[eę]pu?|ust\.?",
    "point": r"punktu?|pkt\.?|pk\.",
    "letter": r"litery?|lit\.?",
    "page": r"stron[aiey]?|str\.?|s\.",
}
_TOKEN = re.compile(
    r"(?P<word>" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _WORDS.items()) + r")"
    r"\s*(?P<number>[0-9]+[a-z]?|[ivxlcdm]+\b|[a-z]\b)", re.IGNORECASE)
_DOTTED = re.compile(r"§\s*(\d+[a-z]?(?:\.\d+[a-z]?)+)")


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
    """What a hint names: (kind, number) steps, a page, or heading words."""

    steps: tuple[tuple[str, str], ...] = ()
    page: int | None = None
    words: str = ""


def parse_hint(hint: str) -> HintPath:
    text = " ".join(hint.replace("\u00a0", " ").split())
    steps: list[tuple[str, str]] = []
    page = None
    dotted = _DOTTED.search(text)
    if dotted:  # "§5.2.3" → § 5 ust. 2 pkt 3 (lit. when a fourth part follows)
        numbers = dotted.group(1).split(".")
        steps = list(zip(("paragraph", "section", "point", "letter"), numbers))
        text = text[:dotted.start()] + text[dotted.end():]
    for match in _TOKEN.finditer(text):
        kind = next(name for name in _WORDS if match.group(name))
        number = match.group("number")
        if kind == "page":
            page = int(number) if number.isdigit() else page
        else:
            steps.append((kind, _normalise_number(kind, number)))
    words = "" if steps or page else _TOKEN.sub(" ", text).strip(" ,.;:")
    return HintPath(tuple(steps), page, words)


def _normalise_number(kind: str, number: str) -> str:
    if kind == "chapter":
        value = int(number) if number.isdigit() else from_roman(number)
        return str(value) if value else number.upper()
    if kind == "letter":
        return number.lower()
    return number.lower()


def _unit_path(unit: Unit, by_id: dict[str, Unit]) -> dict[str, str]:
    path = {}
    current: Unit | None = unit
    while current is not None:
        if current.number:
            number = current.number
            if current.kind == "chapter":
                value = from_roman(number) if not number.isdigit() else int(number)
                number = str(value) if value else number
            path[current.kind] = number.lower()
        current = by_id.get(current.parent) if current.parent else None
    return path


def _structural_matches(version: Version, hint: HintPath) -> list[Unit]:
    """Units whose own kind is the deepest step of the hint and whose path agrees with every step."""
    if not hint.steps:
        return []
    by_id = version.index()
    deepest_kind = hint.steps[-1][0]
    wanted = dict(hint.steps)
    matches = []
    for unit in version.units:
        if unit.kind != deepest_kind:
            continue
        path = _unit_path(unit, by_id)
        if all(path.get(kind) == number for kind, number in wanted.items()):
            matches.append(unit)
    return matches


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
    """The unit a comment concerns, with a confidence (0–1) and the runner-up candidates."""
    parsed = parse_hint(hint or "")
    structural = _structural_matches(version, parsed)
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
