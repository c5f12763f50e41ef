"""Audit requirements.lock against the vendored PyPA advisories, offline.

    .venv/bin/python scripts/audit_lock.py [--lock requirements.lock]
        [--advisories .ci/advisories/advisories.json] [--ignore .ci/advisories/ignore.txt]

Every `name==version` pin of the lock is checked against the advisories in
`.ci/advisories/advisories.json` (a snapshot of the PyPA advisory database, filtered to the
lock's packages by scripts/vendor_advisories.py). An advisory in OSV form affects a version when
the version is listed in its `versions`, or falls in one of its ECOSYSTEM ranges: the sorted
events are swept as the OSV schema says (`introduced` opens a range, `fixed` closes it before
that version, `last_affected` closes it after that version). Withdrawn advisories are skipped.
Environment markers are not evaluated: a pin for another platform is audited too.

Exit status: 0 no finding (accepted ones listed in the ignore file excepted), 1 findings,
2 the lock, the advisories or the ignore file cannot be used as they are (an unpinned
requirement, a package the snapshot was not filtered for, an ignore line without a reason).
Only the standard library and `packaging` are used, so this runs before the test suite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = ROOT / "requirements.lock"
DEFAULT_ADVISORIES = ROOT / ".ci" / "advisories" / "advisories.json"
DEFAULT_IGNORE = ROOT / ".ci" / "advisories" / "ignore.txt"

# pip options a lock may carry that say nothing about which versions are installed.
_HARMLESS_OPTIONS = (
    "-i", "--index-url", "--extra-index-url", "--trusted-host", "-f", "--find-links",
    "--no-binary", "--only-binary", "--prefer-binary", "--require-hashes", "--pre", "--no-index",
)
_HASH = re.compile(r"\s--hash[=\s]\S+")


class AuditError(Exception):
    """The lock, the advisories or the ignore file cannot be audited as they are (exit 2)."""


@dataclass(frozen=True)
class Pin:
    name: str  # as written in the lock
    package: str  # PEP 503 normalised
    version: str
    line: int
    marker: str = ""


@dataclass(frozen=True)
class Affected:
    package: str  # PEP 503 normalised
    ranges: tuple[tuple[Mapping[str, str], ...], ...]  # ECOSYSTEM ranges: their events, as in OSV
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    affected: tuple[Affected, ...]
    withdrawn: str = ""

    @classmethod
    def from_dict(cls, data: Mapping) -> "Advisory":
        return cls(
            id=data["id"],
            aliases=tuple(data.get("aliases", ())),
            summary=data.get("summary", ""),
            withdrawn=data.get("withdrawn", ""),
            affected=tuple(
                Affected(
                    package=canonicalize_name(entry["package"]),
                    ranges=tuple(tuple(events) for events in entry.get("ranges", ())),
                    versions=tuple(entry.get("versions", ())),
                )
                for entry in data["affected"]
            ),
        )


@dataclass(frozen=True)
class Finding:
    pin: Pin
    advisory: Advisory
    fixed: tuple[str, ...]  # fixed versions above the pinned one, lowest first


@dataclass
class Database:
    source: Mapping[str, str]
    packages: frozenset[str]  # the packages the snapshot was filtered for (PEP 503 names)
    advisories: dict[str, list[Advisory]] = field(default_factory=dict)  # by package


@dataclass
class Report:
    findings: list[Finding]
    accepted: list[tuple[Finding, str]]  # with the ignore file's reason
    unused_ignores: list[str]


# --- versions and ranges -------------------------------------------------------------------------


def parse_version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as error:
        raise AuditError(f"not a PEP 440 version: {text!r}") from error


def _event_key(event: Mapping[str, str]) -> tuple[int, Version | None]:
    (kind, value), = event.items()
    if kind == "introduced" and value == "0":
        return (0, None)  # "0" is below every version, pre-releases of 0 included
    return (1, parse_version(value))


def in_range(version: Version, events: Iterable[Mapping[str, str]]) -> bool:
    """OSV's ECOSYSTEM range evaluation: sweep the events in version order.

    `introduced: X` makes X and later affected, `fixed: X` makes X and later unaffected,
    `last_affected: X` makes everything after X unaffected; so several introduced/fixed pairs
    in one range are several intervals. `limit` events (only meaningful for GIT ranges) are
    ignored.
    """
    affected = False
    for event in sorted((e for e in events if not e.keys() & {"limit"}), key=_event_key):
        (kind, value), = event.items()
        if kind == "introduced":
            if value == "0" or version >= parse_version(value):
                affected = True
        elif kind == "fixed":
            if version >= parse_version(value):
                affected = False
        elif kind == "last_affected":
            if version > parse_version(value):
                affected = False
        else:
            raise AuditError(f"unknown OSV range event {kind!r}")
    return affected


def _listed(version: Version, versions: Iterable[str]) -> bool:
    for listed in versions:
        try:
            if Version(listed) == version:
                return True
        except InvalidVersion:
            if listed == str(version):
                return True
    return False


def is_affected(version: Version, affected: Affected) -> bool:
    """A version is affected when it is listed explicitly or lies in one of the ECOSYSTEM ranges."""
    return _listed(version, affected.versions) or any(in_range(version, events) for events in affected.ranges)


def fixed_above(version: Version, affected: Affected) -> tuple[str, ...]:
    fixes = {
        event["fixed"]
        for events in affected.ranges
        for event in events
        if "fixed" in event and parse_version(event["fixed"]) > version
    }
    return tuple(sorted(fixes, key=parse_version))


# --- inputs --------------------------------------------------------------------------------------


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Lines with `\\` continuations joined and comments removed, numbered by their first line."""
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            yield start, buffer.strip()
        buffer = ""
    if buffer.strip():
        yield start, buffer.strip()


def parse_lock(text: str) -> list[Pin]:
    """The `name==version` pins of a requirements lock (extras, markers and hashes allowed)."""
    pins = []
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            option = re.split(r"[=\s]", line, maxsplit=1)[0]
            if option in _HARMLESS_OPTIONS:
                continue
            raise AuditError(f"line {number}: {option} is not supported in a lock: {line}")
        line = _HASH.sub("", " " + line).strip()
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            raise AuditError(f"line {number}: {error}") from error
        specifiers = list(requirement.specifier)
        if requirement.url or len(specifiers) != 1 or specifiers[0].operator not in ("==", "===") \
                or specifiers[0].version.endswith(".*"):
            raise AuditError(f"line {number}: not pinned to one version (name==version): {line}")
        version = specifiers[0].version
        parse_version(version)
        pins.append(Pin(
            name=requirement.name, package=canonicalize_name(requirement.name), version=version,
            line=number, marker=str(requirement.marker or ""),
        ))
    return pins


def load_database(path: Path) -> Database:
    data = json.loads(path.read_text(encoding="utf-8"))
    database = Database(
        source=data["source"], packages=frozenset(canonicalize_name(name) for name in data["packages"]),
    )
    for raw in data["advisories"]:
        advisory = Advisory.from_dict(raw)
        for package in {entry.package for entry in advisory.affected}:
            database.advisories.setdefault(package, []).append(advisory)
    return database


def parse_ignores(text: str) -> dict[str, str]:
    """`ID  reason…` per line (ID: the advisory's id or one of its aliases); `#` starts a comment."""
    ignores = {}
    for number, line in _logical_lines(text):
        parts = line.split(None, 1)
        if len(parts) < 2 or not parts[1].strip(" -—:"):
            raise AuditError(f"ignore file, line {number}: {parts[0]} has no reason; write `ID reason`")
        ignores[parts[0].upper()] = parts[1].strip(" -—:")
    return ignores


# --- the audit -----------------------------------------------------------------------------------


def audit(pins: Sequence[Pin], database: Database, ignores: Mapping[str, str] | None = None) -> Report:
    ignores = dict(ignores or {})
    uncovered = sorted({pin.package for pin in pins} - database.packages)
    if uncovered:
        raise AuditError(
            "the advisory snapshot was not filtered for " + ", ".join(uncovered)
            + ": regenerate it with scripts/vendor_advisories.py (see README, Dependency audit)"
        )
    findings, accepted, used = [], [], set()
    for pin in pins:
        version = parse_version(pin.version)
        for advisory in database.advisories.get(pin.package, ()):
            if advisory.withdrawn:
                continue
            entries = [entry for entry in advisory.affected if entry.package == pin.package]
            hits = [entry for entry in entries if is_affected(version, entry)]
            if not hits:
                continue
            fixed = tuple(sorted({f for entry in hits for f in fixed_above(version, entry)}, key=parse_version))
            finding = Finding(pin=pin, advisory=advisory, fixed=fixed)
            keys = [key for key in (advisory.id, *advisory.aliases) if key.upper() in ignores]
            if keys:
                used.update(key.upper() for key in keys)
                accepted.append((finding, ignores[keys[0].upper()]))
            else:
                findings.append(finding)
    return Report(findings=findings, accepted=accepted, unused_ignores=sorted(set(ignores) - used))


def describe(finding: Finding) -> str:
    advisory, pin = finding.advisory, finding.pin
    aliases = ", ".join(advisory.aliases) or "no aliases"
    fixed = ", ".join(finding.fixed) if finding.fixed else "no fixed version known"
    return (
        f"{pin.name}=={pin.version} (line {pin.line}): {advisory.id} ({aliases})\n"
        f"    fixed in: {fixed}\n    {advisory.summary}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--advisories", type=Path, default=DEFAULT_ADVISORIES)
    parser.add_argument("--ignore", type=Path, default=DEFAULT_IGNORE,
                        help="accepted findings, `ID reason` a line (a missing file is an empty list)")
    options = parser.parse_args(argv)
    try:
        database = load_database(options.advisories)
        pins = parse_lock(options.lock.read_text(encoding="utf-8"))
        ignores = parse_ignores(options.ignore.read_text(encoding="utf-8")) if options.ignore.exists() else {}
        report = audit(pins, database, ignores)
    except (AuditError, OSError, ValueError, KeyError) as error:
        print(f"audit_lock: cannot audit: {error}", file=sys.stderr)
        return 2
    source = database.source
    count = sum(len(items) for items in database.advisories.values())
    print(
        f"audit_lock: {len(pins)} pins of {options.lock.name} against {count} advisories of "
        f"{source['repository']} at {source['commit'][:12]} ({source['date']}); "
        "advisories published after that date are not known"
    )
    for finding, reason in report.accepted:
        print(f"accepted (ignore file): {finding.pin.name}=={finding.pin.version} {finding.advisory.id}: {reason}")
    for key in report.unused_ignores:
        print(f"note: ignore entry {key} matches no finding any more; remove it")
    if report.findings:
        print(f"\n{len(report.findings)} known vulnerabilit{'y' if len(report.findings) == 1 else 'ies'}:")
        for finding in report.findings:
            print(describe(finding))
        return 1
    print("audit_lock: no known vulnerability")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
