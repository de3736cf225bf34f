"""Schemathesis against the served OpenAPI document, as every role (issue #10).

Each role gets a store of its own (``tests/fuzz/world.py``: people, evidence, an order, appeals,
an oversight case, a venue, a guardian with a dependant) and every operation of /openapi.json
the role may call is fuzzed with its valid token: schemathesis's examples, coverage and fuzzing
phases, in its positive and negative modes, with every check on. A role whose answers were all
401/403 fails: it would have tested nothing but authentication.

Which operations a role may call is read from the routes' declared policies (``web/auth.py``).
The refusals of everyone else are ``tests/e2e/test_authorization_matrix.py``'s job: with the
authorization dependency running before validation, fuzzing a refused operation only repeats
one 401/403 a hundred times. Public operations ignore any token, so they are fuzzed once, in the
anonymous run; the source's one operation is ``POST /api/v1/evidence/batches``, signed.

``HEALTHCODE_FUZZ_EXAMPLES`` sets Hypothesis's examples per operation (100 here, 2000 under
``make fuzz``), ``HEALTHCODE_FUZZ_BACKENDS`` the stores (``sqlite``, or ``sqlite,postgres``);
generation is derandomized, so a failure here is a failure on every machine.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

# One Hypothesis test per operation, as `schema.parametrize()` builds them (examples, coverage,
# fuzzing); called here, not through `schemathesis.pytest.from_fixture`, whose lazy tests fail
# on pytest 9 (they rename `request.node._nodeid`), and so that one role's counts are in reach.
from schemathesis.pytest.lazy import get_all_tests

from healthcode.bootstrap import Services
from healthcode.services.clock import FixedClock
from healthcode.web.api.schemas import has_nul
from healthcode.web.app import create_app
from tests.fuzz.world import ROLES, World, build_world

EXAMPLES = int(os.environ.get("HEALTHCODE_FUZZ_EXAMPLES", "100"))
# The quick pass runs on SQLite alone, to stay within a few minutes on two cores; `make fuzz`
# adds PostgreSQL, whose column types and text rules differ (a 32-bit version, no NUL in text).
BACKENDS = os.environ.get("HEALTHCODE_FUZZ_BACKENDS", "sqlite").split(",")

# Every check is on. Two are told what this API answers, and why:
CHECKS = {
    # A well-formed request the rules refuse is answered 422 with a code of its own
    # (`order.evidence_missing`, `cohort.too_small`, ... docs/errors.md): positive data may meet
    # those. That the schema documents every *shape* rule is checked apart, by
    # `not_refused_as_malformed` below, which positive data must always pass.
    "positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
    },
    # 413 is how this API refuses input over its size limits (`request.too_large`).
    "negative_data_rejection": {
        "expected-statuses": ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]
    },
}
MALFORMED = frozenset({"request.malformed"})


def not_refused_as_malformed(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Data the schema calls valid is never refused as malformed: if it is, /openapi.json lacks
    a rule the server enforces (a closed list, a length, a required part of a body)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return
    if has_nul([case.path_parameters, case.query, case.body]):
        # A NUL is refused in any text, by one rule for the whole API (docs/api.md), rather
        # than by a pattern on each of its strings.
        return
    if isinstance(case.body, dict) and case.body.get("image") is not None:
        # `format: binary` cannot say "a picture": the generator's arbitrary bytes are refused
        # as `request.malformed` ("unreadable image"), by design (tests/e2e/test_dcc_http.py).
        return
    body = response.json()
    assert body.get("code") not in MALFORMED, f"valid by the schema, refused: {body}"


@pytest.fixture(params=ROLES)
def world(request: pytest.FixtureRequest, services: Services, clock: FixedClock) -> World:
    return build_world(request.param, services, clock)


@pytest.mark.slow
@pytest.mark.parametrize("database", BACKENDS, indirect=True)
def test_every_operation_as_every_role(world: World, subtests: pytest.Subtests) -> None:
    app = create_app(world.services, run_scheduler=False)
    # The token goes in as the document's `bearer` scheme, so schemathesis knows it is the
    # credential: `ignored_auth` then also calls each operation without it and with a bad one.
    auth = {"openapi": {"bearer": {"bearer": world.token}}} if world.token else {}
    config = schemathesis.Config.from_dict({"checks": CHECKS, "auth": auth})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    mine = world.operations(app)
    schema = schema.include(lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in mine)

    @schema.hook("flatmap_case")
    def real_ids(context: Any, case: schemathesis.Case) -> Any:
        return world.flatmap_case(context, case)

    def call(case: schemathesis.Case) -> None:
        response = case.call_and_validate(additional_checks=[not_refused_as_malformed])
        world.statuses[response.status_code] += 1

    # No deadline and no slowness health checks: large bodies are slow to draw on two busy
    # cores, and that says nothing about the API. No example database: every run is the same.
    tuned = settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.data_too_large],
    )  # fmt: skip
    operations = 0
    for result in get_all_tests(schema=schema, test_func=call, settings=tuned, given_kwargs=None):
        operation, test = result.ok()
        operations += 1
        with subtests.test(operation.label):
            test()
    store = world.services.db.url.split(":")[0].split("+")[0]
    print(
        f"\n{world.role} ({store}): {operations} operations, answers {sorted(world.statuses.items())}"
    )
    reached = sum(n for status, n in world.statuses.items() if status not in (401, 403))
    assert reached > 0, f"{world.role}: every answer was 401/403 {dict(world.statuses)}"
