"""The course server's JSON API fuzzed from its own OpenAPI description (schemathesis).

Every operation in ``/openapi.json`` gets generated requests, valid and not, as a student
with a personal token and as nobody. Whatever it is sent, the API answers without a 5xx,
without a stack trace, with a status code and a body its schema documents. The
application runs in-process on SQLite and on PostgreSQL (``tests.test_server``'s
``server`` fixture): a path id past 64 bits, say, must not reach the database as an error.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from autograder.server import accounts, db
from tests import test_server
from tests.test_server import submission_id, upload

server = test_server.server  # the fixture: SQLite, and PostgreSQL where there is one

TRACE_MARKS = ("Traceback", 'File "')


@schemathesis.check
def no_stack_trace(ctx, response, case) -> bool:  # noqa: ANN001  (schemathesis's signature)
    """No response body shows the server's internals."""
    body = response.text or ""
    for mark in TRACE_MARKS:
        if mark in body:
            raise AssertionError(f"{mark!r} in the response to {case.method} {case.formatted_path}")
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, no_stack_trace]


def fuzz(schema, headers: dict[str, str], examples: int = 25) -> int:
    """Every operation of ``schema``, with valid and invalid requests (hypothesis, a fixed
    seed); returns the number of operations tried. A failed check raises."""
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        inputs = [operation.path_parameters, operation.query, operation.headers, operation.body]
        modes = [GenerationMode.POSITIVE]
        if any(len(kind) for kind in inputs):  # nothing to get wrong otherwise
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            @given(case=operation.as_strategy(mode))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def call(case) -> None:  # noqa: ANN001
                case.call_and_validate(headers=headers, checks=CHECKS)

            call()
        operations += 1
    return operations


@pytest.mark.parametrize("caller", ["token", "anonymous"])
def test_the_api_never_fails_and_answers_as_documented(server, caller):
    headers = {}
    if caller == "token":
        with server.engine.begin() as conn:
            ann = conn.execute(select(db.users.c.id).where(db.users.c.login == "ann")).scalar()
            headers = {"Authorization": f"Bearer {accounts.new_token(conn, ann)}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", server.app)
    assert fuzz(schema, headers) == 3


def test_the_schema_documents_every_refusal_of_the_api(server):
    schema = server.app.openapi()
    for path, methods in schema["paths"].items():
        assert path.startswith("/api/"), path  # the pages stay out of the description
        for operation in methods.values():
            codes = set(operation["responses"])
            assert {"401", "429"} <= codes, (path, codes)
            for code in codes - {"200", "201", "422"}:
                ref = operation["responses"][code]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorView"}, (path, code)
    submit = schema["paths"]["/api/v1/assignments/{ident}/submissions"]["post"]["responses"]
    assert {"400", "403", "404", "507"} <= set(submit)


def test_a_real_result_conforms_to_the_schema(server):
    """Fuzzing rarely hits a submission id that exists: a graded one, checked directly."""
    sid = submission_id(upload(server.client("ann")))
    assert server.work() == 1
    with server.engine.begin() as conn:
        ann = conn.execute(select(db.users.c.id).where(db.users.c.login == "ann")).scalar()
        headers = {"Authorization": f"Bearer {accounts.new_token(conn, ann)}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", server.app)
    case = schema["/api/v1/submissions/{sid}"]["GET"].Case(path_parameters={"sid": sid})
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    assert response.status_code == 200 and response.json()["public_score"] == 2
    other = schema["/api/v1/submissions/{sid}"]["GET"].Case(path_parameters={"sid": sid})
    assert other.call_and_validate(checks=CHECKS).status_code == 401  # anonymous
