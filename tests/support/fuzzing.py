"""schemathesis 4 against one service's OpenAPI document, through its WSGI interface (tests/unit/test_api_fuzzing.py
on SQLite, tests/integration/test_api_fuzzing_postgres.py on PostgreSQL).

Every phase runs (examples, coverage, fuzzing and stateful, whose links schemathesis infers), with an admin token,
so the staff operations are reached beyond their 401. The number of examples per operation is bounded so the four
services take about a minute together; the seed is fixed so a failure reproduces.
"""

from __future__ import annotations

import collections
import importlib

import pytest

schemathesis = pytest.importorskip("schemathesis")  # a test extra: `make install` always has it
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.engine import events, from_schema  # noqa: E402

MAX_EXAMPLES = 8
STATEFUL_MAX_STEPS = 20
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "unsupported_method")


class CountingApp:
    """Counts requests and answers by status at the WSGI boundary, whatever schemathesis reports."""

    def __init__(self, app):
        self.app = app
        self.statuses: collections.Counter = collections.Counter()

    def __call__(self, environ, start_response):
        def counting_start_response(status, headers, exc_info=None):
            self.statuses[int(status.split()[0])] += 1
            return start_response(status, headers, exc_info)

        return self.app(environ, counting_start_response)


def run_schemathesis(app, service: str) -> dict:
    token = app.extensions["uwagi"].signer.issue("u-admin", "admin@um.example", "admin")
    checks: dict = {"enabled": False}
    checks.update({name: {"enabled": True} for name in CHECKS})
    config = SchemathesisConfig.from_dict({
        "seed": 20261126,
        "headers": {"Authorization": f"Bearer {token}"},
        "generation": {"max-examples": MAX_EXAMPLES},
        "phases": {"stateful": {"max-steps": STATEFUL_MAX_STEPS}},
        "checks": checks,
        "cache": {"enabled": False},  # each run starts from the seed, and writes nothing into the work tree
    })
    counter = CountingApp(app.wsgi_app)
    app.wsgi_app = counter
    try:
        schema = schemathesis.openapi.from_wsgi(f"/{service}/api/v1/openapi.json", app, config=config)
        phases: dict[str, str] = {}
        failures: list[str] = []
        errors: list[str] = []
        for event in from_schema(schema).execute():
            if isinstance(event, events.PhaseFinished):
                phases[event.phase.name.value] = event.status.value
            elif isinstance(event, events.ScenarioFinished):
                for case_id, results in event.recorder.checks.items():
                    for check in results:
                        if check.status.value == "failure":
                            case = event.recorder.cases[case_id].value
                            reason = str(check.failure_info.failure) if check.failure_info else ""
                            failures.append(f"{check.name}: {case.as_curl_command()}\n{reason[:800]}")
            elif isinstance(event, (events.NonFatalError, events.FatalError)):
                errors.append(str(getattr(event, "info", None) or getattr(event, "exception", event)))
    finally:
        app.wsgi_app = counter.app
    return {"requests": sum(counter.statuses.values()), "statuses": dict(counter.statuses), "phases": phases,
            "failures": failures, "errors": errors}



def fuzz_service(settings, service: str) -> dict:
    """Migrate `service`'s database, build its app on `settings` and run schemathesis against it."""
    from services.common.db import upgrade

    upgrade(service, settings.database_url(service))
    module = importlib.import_module(f"services.{service}.app")
    app = module.create_app(ctx=module.build(settings))
    try:
        result = run_schemathesis(app, service)
    finally:
        app.extensions["uwagi"].close()
    print(f"\nschemathesis {service}: {result['requests']} requests {result['statuses']} "
          f"phases {result['phases']}, {len(result['failures'])} failures")
    return result


def assert_no_server_error_and_no_undocumented_answer(result: dict) -> None:
    assert not result["errors"], result["errors"]
    assert not result["failures"], "\n\n".join(result["failures"][:10])
    assert result["statuses"].get(500, 0) == 0
    # Every phase ran: the stateful one needs links, which schemathesis infers from the documents.
    for phase in ("coverage", "fuzzing", "stateful"):
        assert result["phases"].get(phase) in {"success", "failure"}, result["phases"]
    assert result["requests"] > 100
