"""The JSON API fuzzed from its own OpenAPI schema (schemathesis): nothing makes it fail with 5xx.

Every operation gets a bounded number of generated requests with an editor's token
(who may call each of them), on the real server, on both backends.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.backends import BACKENDS
from tests.web import bearer, desk_server

EXAMPLES = 12


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory):
    with desk_server(tmp_path_factory.mktemp("fuzz"), request.param) as desk:
        yield desk


@pytest.mark.slow
def test_no_request_makes_the_api_fail(served):
    schema = schemathesis.openapi.from_url(f"{served.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    statuses: list[int] = []
    for operation in operations:
        _fuzz(operation.as_strategy(), served, statuses)
    assert len(statuses) >= 4 * len(operations)  # requests were really sent
    assert {200, 400} <= set(statuses)


def _fuzz(strategy, served, statuses: list[int]) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case):
        response = case.call(headers=bearer(served, "bob"), timeout=60)
        statuses.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])
        assert response.status_code in (200, 201, 400, 401, 403, 404, 409), response.text
        if response.status_code >= 400:
            assert set(response.json()) == {"error"}

    call()
