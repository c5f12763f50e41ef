"""schemathesis 4 against the four OpenAPI documents, on SQLite: no server error, every answer as documented.

How it runs: tests/support/fuzzing.py. tests/integration/test_api_fuzzing_postgres.py runs the same on PostgreSQL,
which refuses values SQLite stores (a NUL in a text, an integer beyond 32 bits).

Checks: server errors, status codes, content types, headers and bodies against the documented
responses, and the answer to undeclared methods (405 with `Allow`). schemathesis' data-acceptance
checks are left out on purpose: the APIs refuse schema-valid input for domain reasons (an unknown
comment id, a deadline in the past) with a documented 4xx.
"""

from __future__ import annotations

import pytest

from services.common.settings import SERVICES, load_settings
from tests.support.fuzzing import assert_no_server_error_and_no_undocumented_answer, fuzz_service


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return load_settings({"UWAGI_DATA_DIR": str(tmp_path_factory.mktemp("var"))})


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(settings, service):
    assert_no_server_error_and_no_undocumented_answer(fuzz_service(settings, service))
