"""Property-based fuzzing of the JSON API, generated from its own OpenAPI document (schemathesis).

Every operation is called with data that fits the document and with data that breaks it, without a
token and with the token of a signed-in person who has a few papers (half of the generated paper ids
are replaced by the id of one of them, so the happy paths are reached too). Whatever comes in, the API
must never answer 5xx, and every answer must be documented: its status, its media type, its required
headers and its body's schema. Data that breaks the document must be refused with a 4xx.

The run in the suite is short and deterministic (SQLite, a fixed number of examples per operation,
``derandomize``). A longer one, for instance before a release:

    CONSIGNE_FUZZ_EXAMPLES=500 CONSIGNE_FUZZ_SEED=12345 CONSIGNE_FUZZ_DATABASES=sqlite,postgresql \\
        .venv/bin/python -m pytest -p no:cacheprovider tests/web/test_fuzz_api.py

or against a running server with schemathesis's own command line, which adds its coverage (boundary
values) and stateful phases (a token of a person with papers; the sign-out operations are left out so
the token lives through the run):

    .venv/bin/st run http://127.0.0.1:8000/api/v1/openapi.json --checks all \\
        --exclude-checks positive_data_acceptance --exclude-path-regex /sessions --max-examples 500 \\
        --header "Authorization: Bearer $TOKEN"

(positive_data_acceptance is left out because valid shapes are still refused for what they mean: a
common password, a username taken, a code that is not yours.) Schemathesis's own pytest plugin is not
used: with pytest 9 its lazy fixtures fail (``Function`` has no ``_nodeid``), so the operations'
strategies are driven with Hypothesis directly.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.vault import media_samples as samples
from web.api.registry import API_PREFIX, ROUTES

EXAMPLES = int(os.environ.get("CONSIGNE_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("CONSIGNE_FUZZ_SEED")
DATABASES = os.environ.get("CONSIGNE_FUZZ_DATABASES", "sqlite").split(",")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, ignored_auth]
OPERATIONS = [(route.method, API_PREFIX + route.path) for route in ROUTES]

# SQLite only by default (the suite's other tests cover PostgreSQL), which keeps the run short. Each
# operation's test gets its own database and person, so signing out or deleting a paper in one cannot
# starve another.
pytestmark = [pytest.mark.parametrize("database_url", DATABASES, indirect=True),
              pytest.mark.timeout(300)]


@pytest.fixture
def schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def person_with_papers(api):
    person = api.person("fuzz")
    papers = []
    for files, kind in [([(samples.png_bytes(), "carte.png")], "carte_identite"),
                        ([(samples.pdf_bytes(pages=2), "acte.pdf")], "acte_naissance"),
                        ([(samples.webp_bytes(), "rib.webp")], "rib")]:
        created = api.upload(person, files, kind=kind)
        assert created.status_code == 201, created.get_json()
        papers.append(created.get_json()["id"])
    return person, papers


def settings_for_run() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=SEED is None,
        database=None,  # nothing written next to the code
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def strategies(operation, headers: dict, paper_id: str | None) -> st.SearchStrategy:
    """Positive and negative cases; with a paper at hand, half the cases name it."""
    choices = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        choices.append(operation.as_strategy(generation_mode=mode, headers=headers))
        if paper_id is not None and "{document_id}" in operation.path:
            choices.append(operation.as_strategy(generation_mode=mode, headers=headers,
                                                 path_parameters={"document_id": paper_id}))
    return st.one_of(choices)


def fuzz(operation, headers: dict, paper_id: str | None) -> None:
    @settings_for_run()
    @given(case=strategies(operation, headers, paper_id))
    def call(case):
        case.call_and_validate(checks=CHECKS)

    if SEED is not None:
        call = hypothesis.seed(int(SEED))(call)
    call()


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{method} {path}" for method, path in OPERATIONS])
def test_anonymous_calls_get_documented_answers(schema, method, path):
    fuzz(schema[path][method], headers={}, paper_id=None)


@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{method} {path}" for method, path in OPERATIONS])
def test_signed_in_calls_get_documented_answers(schema, person_with_papers, method, path):
    person, papers = person_with_papers
    fuzz(schema[path][method], headers=person.auth, paper_id=papers[OPERATIONS.index((method, path)) % len(papers)])
