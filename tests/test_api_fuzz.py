"""Property-based fuzzing of the API (calculation, jobs, PACT listing, events, token) against the service's own OpenAPI document
(schemathesis): generated bodies, valid and invalid, never get a 500 and every answer matches the
documented responses. The server is a real process on 127.0.0.1. (Uploads stream multipart
bodies outside the schema's generator; tests/test_api_endpoints.py covers malformed ones.)"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.specs.openapi.checks import ignored_auth, missing_required_header, negative_data_rejection
from test_api_support import ServerProcess, register, settings_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    client = register(settings_for(tmp), "Fuzzer", client_id="fuzzer")
    with ServerProcess(tmp) as server:
        answer = httpx.post(f"{server.base}/auth/token", data={"grant_type": "client_credentials"}, auth=client)
        server.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        yield server


def operations(live):
    """The service's operations as its OpenAPI document states them, uploads left out."""
    schema = schemathesis.openapi.from_url(f"{live.base}/openapi.json").exclude(path="/v1/uploads")
    return [result.ok() for result in schema.get_all_operations()]


def test_endpoints_never_fail_and_match_their_schema(live):
    # Each operation gets its own hypothesis run (schemathesis' strategy per operation), driven
    # here rather than through schemathesis' pytest plugin, so the test follows pytest's public API.
    tried = []
    for operation in operations(live):
        @given(case=operation.as_strategy())
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            check(case, live)

        fuzz()
        tried.append(operation.label)
    assert len(tried) >= 10, tried  # every documented operation but uploads was fuzzed


def check(case, live) -> None:
    # Left out: (1) schema-valid bodies may rightly be refused by rules the OpenAPI document does
    # not state (a leg's fuel_amount needs fuel_unit and energy_carrier, logistics.Leg; batch ids
    # unique, 422; batch count within the setting, 413); (2) unknown query parameters are ignored
    # by design, and the token is sent on every case; (3) PACT answers a missing or invalid token
    # with 400 BadRequest (iLEAP TAD: 403), not the 401 these checks expect (tested in
    # test_api_endpoints / test_api_server). Every other check applies: no 5xx, documented status
    # codes and content types, responses valid against their schema.
    case.call_and_validate(base_url=live.base, headers=live.headers, excluded_checks=[
        positive_data_acceptance, negative_data_rejection, ignored_auth, missing_required_header])
