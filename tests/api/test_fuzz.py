"""Schemathesis against the app's own OpenAPI schema (``/openapi.json``), in process over ASGI:
generated requests, valid and invalid, to every documented operation. No response is a 5xx,
responses conform to the schema (status codes, content types, headers, bodies), every error body
is exactly ``{"error": {"code", "message"}}``, and every citation returned is exact.

The app has API keys; every request carries the write key, and schemathesis's own auth check
also sends each operation without it and with a wrong one (401). Hypothesis is derandomized, so
every run sends the same requests.

Departures from schemathesis's defaults, each for a stated reason:
- ``not_a_server_error`` is replaced by ``no_server_error``: this desk has no LLM, and the README
  documents ``"mode": "llm"`` without one as 503 ``llm_not_configured``; every other 5xx fails.
- ``positive_data_acceptance`` (a schema-valid request must not get a 4xx other than 401, 403,
  404, 409 and 429) is replaced by ``valid_requests_pass_request_validation``: the schema cannot
  say everything the service refuses with 422 ``invalid_input`` (an article whose HTML holds no
  text, a question of blanks, limits set by settings such as ``top_k``, the question's length and
  the number of ``document_ids``). Such a request must still pass request validation: a 422
  ``invalid_request`` for it means the schema and the models disagree, while ``invalid_input``
  and its kinds (``empty_document``...) are the service's. (What the schema can say, it says:
  a summary names exactly one of ``document_id``, ``document_ids`` and ``question``.)
- Streaming (``"stream": true`` on /v1/ask and /v1/summarize) answers ``text/event-stream``, for
  which the schema declares no body; the transport reads the whole stream and
  ``citations_are_exact`` parses it: it must end in one ``answer``, ``summary`` or ``error``
  event, an error in the error shape and never ``internal_error``.
- Uploads (/v1/documents/upload) are fuzzed as generated multipart/form-data, like the rest;
  but ``negative_data_rejection`` is left out for every multipart operation: a form field
  carries text only, so a value generated as invalid for its type (the number -4.0e16 as the
  file, ``false`` as the title) reaches the service as valid text, and is rightly stored.
- GET /healthz takes no input at all, so it has no invalid request to fuzz.
- The generated POST and DELETE requests may add and remove anything: the app runs on a desk of
  its own (the seed ingested; a temporary directory, or its own collections on ``chroma run``
  with FACTDESK_TEST_CHROMA=server).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from service.api.app import create_app
from service.desk import Factdesk
from tests.api.keyed import API_KEYS, WRITE_KEY, api_settings, bearer
from tests.api.sse import parse_sse
from tests.conftest import make_settings, seeded_desk
from tests.samples import SEED_ID

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 30  # per operation and generation mode

# Every operation in the schema, listed so that none is left out unnoticed: a new route fails
# test_every_operation_is_fuzzed until it is added here.
OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/v1/documents"),
    ("POST", "/v1/documents"),
    ("POST", "/v1/documents/upload"),
    ("POST", "/v1/documents/batch"),
    ("GET", "/v1/documents/{document_id}"),
    ("DELETE", "/v1/documents/{document_id}"),
    ("POST", "/v1/ask"),
    ("POST", "/v1/summarize"),
    ("GET", "/v1/doctor"),
]
NO_INPUT = {("GET", "/healthz"), ("GET", "/v1/doctor")}
REQUEST_VALIDATION = {"invalid_request", "malformed_json"}  # service/api/errors.py
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {label}")
    for method, path in OPERATIONS
    for mode, label in [(GenerationMode.POSITIVE, "valid"), (GenerationMode.NEGATIVE, "invalid")]
    if not (mode is GenerationMode.NEGATIVE and (method, path) in NO_INPUT)
]


@pytest.fixture(scope="module")
def fuzz_desk(tmp_path_factory: pytest.TempPathFactory) -> Factdesk:
    return seeded_desk(make_settings(tmp_path_factory.mktemp("fuzz") / "data"))


@pytest.fixture(scope="module")
def api_schema(fuzz_desk: Factdesk) -> Any:
    app = create_app(fuzz_desk, api_settings(fuzz_desk, api_keys=API_KEYS))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def content_type(response: schemathesis.Response) -> str:
    return response.headers.get("content-type", [""])[0]


def is_error_shape(body: object) -> bool:
    if not isinstance(body, dict) or set(body) != {"error"}:
        return False
    error = body["error"]
    return (isinstance(error, dict) and set(error) == {"code", "message"}
            and isinstance(error["code"], str) and isinstance(error["message"], str)
            and bool(error["code"]) and bool(error["message"]))


def asked_for_llm(case: schemathesis.Case) -> bool:
    return isinstance(case.body, dict) and case.body.get("mode") == "llm"


def no_server_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """No 5xx, but for the documented 503 of ``"mode": "llm"`` on a desk without an LLM."""
    if response.status_code < 500:
        return None
    documented = (response.status_code == 503 and asked_for_llm(case)
                  and json.loads(response.content)["error"]["code"] == "llm_not_configured")
    assert documented, f"server error {response.status_code}: {response.text[:500]!r}"
    return None


def errors_have_the_documented_shape(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every 4xx and 5xx body is ``{"error": {"code": str, "message": str}}`` and nothing else,
    sent as JSON, whether the operation documents that status or not."""
    if response.status_code < 400:
        return None
    assert content_type(response).startswith("application/json"), (
        f"{response.status_code} sent as {content_type(response)!r}: {response.text[:300]!r}")
    body = json.loads(response.content)
    assert is_error_shape(body), f"{response.status_code} body is not the error shape: {body!r}"
    return None


def valid_requests_pass_request_validation(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A schema-valid request may be refused by the service (``invalid_input``,
    ``empty_document``, ``unsupported_format``...), never by request validation
    (``invalid_request``, ``malformed_json``): the schema says what the models take."""
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    if response.status_code == 422:
        code = json.loads(response.content)["error"]["code"]
        assert code not in REQUEST_VALIDATION, f"a schema-valid request got {response.text!r}"
    return None


def citations_are_exact(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every citation of an answer or a summary, plain or streamed, is the stored text at its
    offsets; a stream ends in exactly one final event, an error one never ``internal_error``."""
    if response.status_code != 200 or case.operation.path not in ("/v1/ask", "/v1/summarize"):
        return None
    if content_type(response).startswith("text/event-stream"):
        events = parse_sse(response.text.splitlines())
        finals = [name for name, _ in events if name in {"answer", "summary", "error"}]
        assert len(finals) == 1 and events[-1][0] == finals[0], events
        name, reply = events[-1]
        if name == "error":
            assert is_error_shape(reply), reply
            assert reply["error"]["code"] != "internal_error", reply
            return None
    else:
        reply = json.loads(response.content)
    desk: Factdesk = case.operation.schema.app.state.desk
    cited = [*reply.get("citations", []), *(c for s in reply["sentences"] for c in s["citations"])]
    for citation in cited:
        text = desk.get(citation["document_id"]).text
        assert text[citation["start"]:citation["end"]] == citation["quote"], citation
    return None


def stored_documents(operation: Any, desk: Factdesk) -> st.SearchStrategy[schemathesis.Case]:
    """Valid requests for documents the desk holds (a generated id names none): the seed, and
    those the fuzzing of POST added, which DELETE may remove; the seed stays for the questions
    and summaries fuzzed after."""
    ids = sorted(a.id for a in desk.list() if operation.method.upper() == "GET" or a.id != SEED_ID)
    assert ids, "no stored document to fuzz with"
    return st.sampled_from(ids).flatmap(
        lambda document_id: operation.as_strategy(path_parameters={"document_id": document_id}))


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    documented = {(method.upper(), path) for path, methods in api_schema.raw_schema["paths"].items()
                  for method in methods}
    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_the_api_holds_to_its_schema(api_schema: Any, fuzz_desk: Factdesk, method: str,
                                     path: str, mode: GenerationMode) -> None:
    statuses: Counter[int] = Counter()
    operation = api_schema[path][method]
    cases = operation.as_strategy(generation_mode=mode)
    if "{document_id}" in path and mode is GenerationMode.POSITIVE:
        cases = st.one_of(cases, stored_documents(operation, fuzz_desk))

    excluded = [schemathesis.checks.not_a_server_error,
                schemathesis.checks.positive_data_acceptance]
    body = api_schema.raw_schema["paths"][path][method.lower()].get("requestBody", {})
    if "multipart/form-data" in body.get("content", {}):  # form fields carry text only
        excluded.append(schemathesis.checks.negative_data_rejection)

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def holds(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            headers=bearer(WRITE_KEY),
            excluded_checks=excluded,
            additional_checks=[no_server_error, errors_have_the_documented_shape,
                               valid_requests_pass_request_validation, citations_are_exact],
        )
        statuses[response.status_code] += 1

    holds()
    # The requests reached the service: the key was taken, and valid ones were served.
    assert 401 not in statuses and 403 not in statuses, statuses
    if mode is GenerationMode.POSITIVE:
        assert any(200 <= status < 300 for status in statuses), statuses


def test_the_fuzzed_store_is_still_whole(fuzz_desk: Factdesk) -> None:
    """After the fuzzing (the tests above, in this module's order), the store is consistent and
    the desk's catalog and lexical index agree with it."""
    report = fuzz_desk.doctor()
    assert report.problems == 0, report
