"""The offline dependency audit (scripts/audit_lock.py, `make audit`) on real PyPA advisories.

The advisories come from the vendored snapshot (.ci/advisories/advisories.json); the one with a
`last_affected` event (py's PYSEC-2022-42969, the only one in the database) is not for a package
of the lock, so its record is copied here from the same snapshot.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"


def _load(name: str):
    """The script as the module name it imports itself by (vendor_advisories imports audit_lock)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


audit_lock = _load("audit_lock")
vendor_advisories = _load("vendor_advisories")

DATABASE = audit_lock.load_database(audit_lock.DEFAULT_ADVISORIES)

# PYSEC-2022-42969 as it stands in the snapshot (vulns/py/PYSEC-2022-42969.yaml), versions list and
# references left out: the database's only `last_affected` event.
PY_REDOS_YAML = """\
id: PYSEC-2022-42969
details: The py library through 1.11.0 for Python allows remote attackers to
  conduct a ReDoS (Regular expression Denial of Service) attack via a
  Subversion repository with crafted info data, because the InfoSvnCommand
  argument is mishandled.
affected:
- package:
    name: py
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: '0'
    - last_affected: '1.11.0'
aliases:
- CVE-2022-42969
- GHSA-w596-4wvx-j9j6
modified: '2022-11-04T11:00:00Z'
published: '2022-11-04T11:00:00Z'
"""


def advisory(advisory_id: str):
    found = [item for items in DATABASE.advisories.values() for item in items if item.id == advisory_id]
    assert found, f"{advisory_id} is not in the vendored snapshot"
    return found[0]


def affects(item, package: str, version: str) -> bool:
    entries = [entry for entry in item.affected if entry.package == package]
    assert entries, f"{item.id} has no affected entry for {package}"
    return any(audit_lock.is_affected(Version(version), entry) for entry in entries)


def pins(text: str):
    return audit_lock.parse_lock(text)


def run_checker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "audit_lock.py"), *args], capture_output=True, text=True, check=False,
    )


# --- ranges on real advisories --------------------------------------------------------------------


def test_jinja2_sandbox_escape_flags_2_10_but_not_its_fixed_version() -> None:
    escape = advisory("PYSEC-2019-217")  # CVE-2019-10906: introduced 0, fixed 2.10.1
    assert "CVE-2019-10906" in escape.aliases and "GHSA-462w-v97r-4m45" in escape.aliases
    assert affects(escape, "jinja2", "2.10")
    assert affects(escape, "jinja2", "2.0rc1")
    assert not affects(escape, "jinja2", "2.10.1")
    assert not affects(escape, "jinja2", "3.1.6")


def test_requests_proxy_leak_starts_at_its_introduced_version() -> None:
    leak = advisory("PYSEC-2023-74")  # CVE-2023-32681: introduced 2.3.0, fixed 2.31.0
    assert not affects(leak, "requests", "2.2.1")
    assert affects(leak, "requests", "2.3.0")
    assert affects(leak, "requests", "2.30.0")
    assert not affects(leak, "requests", "2.31.0")


def test_werkzeug_advisory_with_two_introduced_fixed_pairs_is_two_intervals() -> None:
    multipart = advisory("PYSEC-2023-221")  # [0, 2.3.8) and [3.0.0, 3.0.1)
    assert affects(multipart, "werkzeug", "2.3.7")
    assert not affects(multipart, "werkzeug", "2.3.8")
    assert affects(multipart, "werkzeug", "3.0.0")
    assert not affects(multipart, "werkzeug", "3.0.1")
    entry = multipart.affected[0]
    assert audit_lock.fixed_above(Version("2.3.7"), entry) == ("2.3.8", "3.0.1")
    assert audit_lock.fixed_above(Version("3.0.0"), entry) == ("3.0.1",)


def test_last_affected_is_inclusive() -> None:
    import yaml

    record = vendor_advisories.compact(yaml.safe_load(PY_REDOS_YAML), {"py"})
    assert record["affected"][0]["ranges"] == [[{"introduced": "0"}, {"last_affected": "1.11.0"}]]
    redos = audit_lock.Advisory.from_dict(record)
    assert affects(redos, "py", "1.4.7.dev3")
    assert affects(redos, "py", "1.11.0")
    assert not affects(redos, "py", "1.11.1")


def test_withdrawn_advisory_is_ignored_though_its_range_covers_the_pin() -> None:
    segfault = advisory("PYSEC-2023-73")  # redis, withdrawn 2023-06-06: introduced 0, never fixed
    assert segfault.withdrawn
    assert affects(segfault, "redis", "8.1.0")
    database = audit_lock.Database(source={}, packages=frozenset({"redis"}), advisories={"redis": [segfault]})
    assert audit_lock.audit(pins("redis==8.1.0\n"), database).findings == []


def test_explicit_versions_list_counts_even_outside_the_ranges() -> None:
    listed = audit_lock.Advisory.from_dict({
        "id": "TEST-1", "affected": [{"package": "Demo_Pkg", "ranges": [[{"introduced": "2.0"}]], "versions": ["1.5"]}],
    })
    assert affects(listed, "demo-pkg", "1.5")
    assert not affects(listed, "demo-pkg", "1.6")
    assert affects(listed, "demo-pkg", "2.0")


def test_events_are_swept_in_version_order_whatever_their_order_in_the_file() -> None:
    events = [{"fixed": "1.2"}, {"introduced": "2.0"}, {"introduced": "1.0"}, {"fixed": "2.1"}]
    assert [audit_lock.in_range(Version(v), events) for v in ("0.9", "1.0", "1.1", "1.2", "1.9", "2.0", "2.1")] == [
        False, True, True, False, False, True, False,
    ]


def test_every_event_of_the_snapshot_is_a_pep_440_version() -> None:
    for items in DATABASE.advisories.values():
        for item in items:
            for entry in item.affected:
                for events in entry.ranges:
                    audit_lock.in_range(Version("0.0.1"), events)  # raises AuditError on a version it cannot order


# --- reading the lock and the ignore file -----------------------------------------------------------


def test_lock_with_comments_extras_markers_and_hashes() -> None:
    lock = pins(
        "# generated\n"
        "--index-url https://mirror.invalid/simple\n"
        "Jinja2==2.10  # templates\n"
        "psycopg[binary]==3.3.9 ; python_version >= '3.11'\n"
        "Werkzeug==3.0.0 \\\n"
        "    --hash=sha256:0123456789abcdef \\\n"
        "    --hash=sha256:fedcba9876543210\n"
        "\n"
        "prometheus_client==0.26.0\n"
    )
    assert [(pin.package, pin.version, pin.line) for pin in lock] == [
        ("jinja2", "2.10", 3), ("psycopg", "3.3.9", 4), ("werkzeug", "3.0.0", 5), ("prometheus-client", "0.26.0", 9),
    ]
    assert lock[1].marker == 'python_version >= "3.11"'


@pytest.mark.parametrize("line", ["jinja2>=2.10", "jinja2", "jinja2==2.*", "jinja2==2.10,<3", "-r other.txt",
                                  "jinja2 @ https://example.invalid/jinja2.whl"])
def test_lock_line_that_is_not_one_pinned_version_is_refused(line: str) -> None:
    with pytest.raises(audit_lock.AuditError):
        pins(line + "\n")


def test_ignore_entry_needs_a_reason() -> None:
    assert audit_lock.parse_ignores("# none\nPYSEC-2019-217  not reachable: no sandbox  # reviewed\n") == {
        "PYSEC-2019-217": "not reachable: no sandbox",
    }
    with pytest.raises(audit_lock.AuditError, match="no reason"):
        audit_lock.parse_ignores("PYSEC-2019-217\n")


# --- the checker as CI runs it --------------------------------------------------------------------


def test_checker_passes_on_the_real_lock() -> None:
    result = run_checker()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no known vulnerability" in result.stdout
    assert "2024-10-10" in result.stdout  # the snapshot's date is printed with the verdict


def test_checker_fails_on_a_planted_vulnerable_pin(tmp_path: Path) -> None:
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8").replace("Jinja2==3.1.6", "jinja2==2.10")
    assert "jinja2==2.10" in lock
    (tmp_path / "requirements.lock").write_text(lock, encoding="utf-8")
    result = run_checker("--lock", str(tmp_path / "requirements.lock"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "jinja2==2.10" in result.stdout
    assert "PYSEC-2019-217 (CVE-2019-10906, GHSA-462w-v97r-4m45)" in result.stdout
    assert "fixed in: 2.10.1" in result.stdout
    assert "PYSEC-2021-66" in result.stdout  # CVE-2020-28493, fixed in 2.11.3


def test_checker_accepts_findings_listed_with_a_reason_and_names_stale_entries(tmp_path: Path) -> None:
    (tmp_path / "lock").write_text("jinja2==2.10\n", encoding="utf-8")
    (tmp_path / "ignore").write_text(
        "CVE-2019-10906  sandbox unused (test)\nGHSA-g3rq-g295-4j3m  no untrusted text (test)\n"
        "PYSEC-2000-1  long gone (test)\n",
        encoding="utf-8",
    )
    result = run_checker("--lock", str(tmp_path / "lock"), "--ignore", str(tmp_path / "ignore"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accepted (ignore file): jinja2==2.10 PYSEC-2019-217: sandbox unused (test)" in result.stdout
    assert "ignore entry PYSEC-2000-1 matches no finding" in result.stdout


def test_checker_refuses_a_package_the_snapshot_was_not_filtered_for(tmp_path: Path) -> None:
    (tmp_path / "lock").write_text("py==1.11.0\n", encoding="utf-8")
    result = run_checker("--lock", str(tmp_path / "lock"))
    assert result.returncode == 2
    assert "not filtered for py" in result.stderr


def test_shipped_ignore_file_is_empty_and_provenance_names_the_snapshot() -> None:
    assert audit_lock.parse_ignores(audit_lock.DEFAULT_IGNORE.read_text(encoding="utf-8")) == {}
    provenance = (audit_lock.DEFAULT_ADVISORIES.parent / "PROVENANCE.md").read_text(encoding="utf-8")
    assert DATABASE.source["commit"] in provenance and DATABASE.source["date"] in provenance
    assert DATABASE.source["repository"] == "https://github.com/pypa/advisory-database"


# --- regenerating the snapshot ----------------------------------------------------------------------


def test_vendor_script_keeps_only_the_locks_packages_from_a_git_copy(tmp_path: Path) -> None:
    source = tmp_path / "advisory-database"
    (source / "vulns" / "py").mkdir(parents=True)
    (source / "vulns" / "py" / "PYSEC-2022-42969.yaml").write_text(PY_REDOS_YAML, encoding="utf-8")
    (source / "vulns" / "jinja2").mkdir()
    (source / "vulns" / "jinja2" / "PYSEC-2019-217.yaml").write_text(
        "id: PYSEC-2019-217\ndetails: In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.\n"
        "affected:\n- package: {name: jinja2, ecosystem: PyPI}\n  ranges:\n"
        "  - {type: GIT, repo: 'https://github.com/pallets/jinja', events: [{introduced: '0'}, {fixed: abc123}]}\n"
        "  - {type: ECOSYSTEM, events: [{introduced: '0'}, {fixed: 2.10.1}]}\n"
        "aliases: [GHSA-462w-v97r-4m45, CVE-2019-10906]\nmodified: '2021-11-22T04:57:52Z'\n",
        encoding="utf-8",
    )
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "vulns"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], check=True)
    (tmp_path / "requirements.lock").write_text("Jinja2==2.10\n", encoding="utf-8")
    out = tmp_path / "out"

    subprocess.run(
        [sys.executable, str(SCRIPTS / "vendor_advisories.py"), str(source), "--lock", str(tmp_path / "requirements.lock"),
         "--out", str(out)],
        check=True, capture_output=True,
    )

    data = json.loads((out / "advisories.json").read_text(encoding="utf-8"))
    assert data["packages"] == ["jinja2"]
    assert [item["id"] for item in data["advisories"]] == ["PYSEC-2019-217"]
    assert data["advisories"][0]["aliases"] == ["CVE-2019-10906", "GHSA-462w-v97r-4m45"]
    assert data["advisories"][0]["affected"] == [
        {"package": "jinja2", "ranges": [[{"introduced": "0"}, {"fixed": "2.10.1"}]], "versions": []},
    ]
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert data["source"]["commit"] == head
    assert head in (out / "PROVENANCE.md").read_text(encoding="utf-8")
    result = run_checker("--lock", str(tmp_path / "requirements.lock"), "--advisories", str(out / "advisories.json"))
    assert result.returncode == 1 and "PYSEC-2019-217" in result.stdout
