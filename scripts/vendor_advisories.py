"""Regenerate .ci/advisories/ from a git copy of the PyPA advisory database.

    .venv/bin/python scripts/vendor_advisories.py PATH [--ref HEAD] [--lock requirements.lock]

PATH is a clone (bare or not) of github.com/pypa/advisory-database; it is read with git at
--ref, never checked out. Only the advisories of packages pinned in the lock (PEP 503 names)
are kept, each with its id, aliases, a trimmed summary, its withdrawn date if any and, per
affected package, its ECOSYSTEM ranges and explicit versions (GIT ranges, references and
severity are dropped). Writes advisories.json (one advisory a line, sorted, so a refresh
reads as a diff) and PROVENANCE.md. Needs PyYAML (the test extra).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_lock import DEFAULT_LOCK, ROOT, parse_lock, parse_version  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402

REPOSITORY = "https://github.com/pypa/advisory-database"
OUT = ROOT / ".ci" / "advisories"
SUMMARY_CHARS = 300
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def git(mirror: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={_git_dir(mirror)}", *args], input=data, check=True, capture_output=True,
    ).stdout


def _git_dir(mirror: Path) -> Path:
    return mirror / ".git" if (mirror / ".git").is_dir() else mirror


def read_yaml_files(mirror: Path, ref: str) -> list[tuple[str, dict]]:
    names = [
        name for name in git(mirror, "ls-tree", "-r", "--name-only", ref, "vulns/").decode().splitlines()
        if name.endswith((".yaml", ".yml"))
    ]
    batch = git(mirror, "cat-file", "--batch", data="".join(f"{ref}:{name}\n" for name in names).encode())
    files, offset = [], 0
    for name in names:
        header_end = batch.index(b"\n", offset)
        _sha, _kind, size = batch[offset:header_end].split()
        start = header_end + 1
        files.append((name, yaml.load(batch[start:start + int(size)], Loader=Loader)))
        offset = start + int(size) + 1
    return files


def trim(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def compact(advisory: dict, packages: set[str]) -> dict | None:
    """The advisory reduced to what the audit reads, or None when it names none of `packages`."""
    affected = []
    for entry in advisory.get("affected", ()):
        package = entry.get("package", {})
        name = canonicalize_name(package.get("name", ""))
        if package.get("ecosystem") != "PyPI" or name not in packages:
            continue
        ranges = [
            [{kind: str(value)} for event in item["events"] for kind, value in event.items()]
            for item in entry.get("ranges", ()) if item.get("type") == "ECOSYSTEM"
        ]
        for events in ranges:  # the checker must be able to order every event
            for event in events:
                (_kind, value), = event.items()
                if value != "0":
                    parse_version(value)
        affected.append({
            "package": name, "ranges": ranges, "versions": [str(v) for v in entry.get("versions", ())],
        })
    if not affected:
        return None
    result = {
        "id": advisory["id"],
        "aliases": sorted(advisory.get("aliases", ())),
        "summary": trim(advisory.get("summary") or advisory.get("details", "")),
        "published": str(advisory.get("published", "")),
        "modified": str(advisory.get("modified", "")),
    }
    if advisory.get("withdrawn"):
        result["withdrawn"] = str(advisory["withdrawn"])
    result["affected"] = affected
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("--ref", default="HEAD")
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--out", type=Path, default=OUT)
    options = parser.parse_args()

    packages = {pin.package for pin in parse_lock(options.lock.read_text(encoding="utf-8"))}
    commit, date = git(options.mirror, "log", "-1", "--format=%H%n%cI", options.ref).decode().split()
    files = read_yaml_files(options.mirror, options.ref)
    advisories = sorted(
        (item for _name, data in files if (item := compact(data, packages))),
        key=lambda item: (item["affected"][0]["package"], item["id"]),
    )
    source = {"repository": REPOSITORY, "commit": commit, "date": date, "license": "CC-BY-4.0"}
    lines = ",\n".join(json.dumps(item, ensure_ascii=False, sort_keys=False) for item in advisories)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "advisories.json").write_text(
        "{\n"
        f'"source": {json.dumps(source)},\n'
        f'"packages": {json.dumps(sorted(packages))},\n'
        f'"advisories": [\n{lines}\n]\n'
        "}\n",
        encoding="utf-8",
    )
    withdrawn = sum(1 for item in advisories if "withdrawn" in item)
    with_advisories = sorted({entry["package"] for item in advisories for entry in item["affected"]})
    (options.out / "PROVENANCE.md").write_text(
        f"""# Provenance of advisories.json

- Source: the PyPA advisory database, {REPOSITORY}
  (OSV records in YAML, `vulns/<package>/<id>.yaml`).
- Commit: `{commit}`, committed {date}.
  Advisories published or corrected after that date are not in this snapshot.
- Licence of the data: Creative Commons Attribution 4.0 (CC-BY-4.0), as the source repository states.
- Read: {len(files)} advisories; kept {len(advisories)} ({withdrawn} of them withdrawn, which the audit skips)
  for the {len(packages)} packages pinned in requirements.lock when it was generated, of which
  {len(with_advisories)} have advisories:
  {textwrap.fill(", ".join(with_advisories), 96, subsequent_indent="  ")}.
- Kept of each: id, aliases (CVE, GHSA), summary (or details) trimmed to {SUMMARY_CHARS} characters,
  published, modified, withdrawn, and per affected package its ECOSYSTEM ranges and explicit
  `versions`. Dropped: GIT ranges, references, severity, credits.
- Regenerate: `.venv/bin/python scripts/vendor_advisories.py PATH-TO-A-CLONE [--ref REF]`
  (also after a package is added to requirements.lock: the audit refuses packages it was not
  filtered for).
""",
        encoding="utf-8",
    )
    print(f"kept {len(advisories)} of {len(files)} advisories ({withdrawn} withdrawn) for {len(packages)} packages "
          f"at {commit[:12]} ({date}) into {options.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
