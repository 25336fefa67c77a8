"""schemathesis against the OpenAPI document: no server error across thousands of generated requests.

In-process over the ASGI transport, with a fixed seed. Every operation gets
valid (positive) and invalid (negative) requests, sent with a token whose
role may use it so that the data reach the code behind the authorisation
check; operations on a patient also get valid requests on a patient that
exists (random keys would only ever meet 404).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode

from tests.web.conftest import Web, seed_case

SEED = 20261125
EXAMPLES = 30
# Drawing a figure or a report per example is slow; fewer examples reach the same code.
EXAMPLES_ON_A_PATIENT = {"/api/v1/patients/{key}/report": 6, "/api/v1/patients/{key}/timeline": 10}
MINIMUM_REQUESTS = 2000
ADMIN_PATHS = ("/api/v1/users", "/api/v1/audit")


def test_no_server_error_on_generated_requests(web: Web) -> None:
    existing = web.api("clinician").post("/api/v1/patients", params={"key": "fuzzed"}, json=seed_case()).json()["key"]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", web.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len({(o.method, o.path) for o in operations}) == len(operations) >= 20
    sent: Counter[str] = Counter()
    failures: list[str] = []

    def run(operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str], **fixed: Any) -> None:
        @seed(SEED)
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(mode, **fixed))
        def send(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            sent[f"{operation.method.upper()} {operation.path}"] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")

        send()

    for operation in operations:
        role = "admin" if operation.path.startswith(ADMIN_PATHS) else "clinician"
        headers = {"Authorization": f"Bearer {web.tokens[role]}"}
        run(operation, GenerationMode.POSITIVE, EXAMPLES, headers)
        run(operation, GenerationMode.NEGATIVE, EXAMPLES, headers)
        if "{key}" in operation.path:
            fixed: dict[str, Any] = {"path_parameters": {"key": existing}}
            if operation.path.endswith("/report"):
                fixed["query"] = {"format": "html"}
            run(operation, GenerationMode.POSITIVE, EXAMPLES_ON_A_PATIENT.get(operation.path, EXAMPLES), headers, **fixed)

    assert failures == []
    assert sum(sent.values()) >= MINIMUM_REQUESTS, sent
