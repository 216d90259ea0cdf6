"""Property-based fuzzing of the API from its own OpenAPI schema (Schemathesis): no server errors.

For every operation, Schemathesis generates schema-valid (positive) and schema-violating
(negative) requests — a bounded number each — and runs all its checks on every response: not a
5xx, a documented status code, content type and body schema, and (on the keyed app) that requests
with missing or invalid credentials are refused. Driven through `as_strategy` + hypothesis rather
than the Schemathesis pytest plugin, which does not load under pytest 9.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis (dev extra)")
from hypothesis import HealthCheck, given, settings  # noqa: E402

MAX_EXAMPLES = 25
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE


def runner(operation, mode, headers: dict[str, str] | None, codes: set[int]):
    """A hypothesis test for one operation that records the status codes it saw."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case) -> None:
        codes.add(case.call_and_validate(headers=headers).status_code)

    return run


def fuzz(app, mode, headers: dict[str, str] | None = None) -> dict[str, set[int]]:
    """Run every operation's strategy; returns the status codes seen per operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/embeddings", "POST /search", "GET /healthz"}
    seen: dict[str, set[int]] = {}
    for operation in operations:
        if mode == NEGATIVE and not len(operation.body):
            continue  # nothing in a parameterless GET can be made invalid
        runner(operation, mode, headers, seen.setdefault(operation.label, set()))()
    assert all(code < 500 for codes in seen.values() for code in codes), seen
    return seen


@pytest.mark.parametrize("mode", [POSITIVE, NEGATIVE], ids=lambda m: m.value)
def test_open_api_never_fails_on_generated_requests(app, mode) -> None:
    seen = fuzz(app, mode)
    if mode == NEGATIVE:  # invalid bodies were really sent and refused
        assert 400 in seen["POST /v1/embeddings"] and 400 in seen["POST /search"]
    else:
        assert 200 in seen["POST /search"]


def test_keyed_api_never_fails_and_enforces_auth(keyed_app) -> None:
    seen = fuzz(keyed_app, POSITIVE, headers={"Authorization": "Bearer test-key-123"})
    assert 200 in seen["POST /search"]
