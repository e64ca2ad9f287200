"""Schemathesis hooks for `npm run test:fuzz` (loaded through SCHEMATHESIS_HOOKS by test/fuzz/run.ts).

- `problem_details_for_client_errors`: every 4xx is application/problem+json whose `code` is one of
  the contract's (src/api/problem.ts PROBLEMS, handed over as BANJIAN_FUZZ_PROBLEMS) and belongs to
  that status.
- Path parameters are sometimes swapped for ids the runner seeded (BANJIAN_FUZZ_SEEDED), so that
  generated requests reach real cases, organisations, items and calendars, not only 404s.
- One string or number in a generated path, query or body is sometimes swapped for a hostile value
  (NUL, lone surrogates, leap seconds, overflowing numbers, forged cursors), so that each run tries
  the inputs that random generation rarely hits.
"""

import base64
import json
import os

import schemathesis
from hypothesis import strategies as st

PROBLEMS: dict[str, int] = json.loads(os.environ["BANJIAN_FUZZ_PROBLEMS"])
SEEDED: dict = json.loads(os.environ.get("BANJIAN_FUZZ_SEEDED", "{}"))


@schemathesis.check
def problem_details_for_client_errors(ctx, response, case):
    status = response.status_code
    if not 400 <= status < 500:
        return None
    media_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip().lower()
    if media_type != "application/problem+json":
        raise AssertionError(f"{status} answered with content-type {media_type or '(none)'}, not application/problem+json")
    try:
        body = json.loads(response.content)
    except ValueError as err:
        raise AssertionError(f"{status} problem body is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{status} problem body is not an object")
    code = body.get("code")
    if code not in PROBLEMS:
        raise AssertionError(f"{status} problem code {code!r} is not in the contract's catalogue")
    if PROBLEMS[code] != status:
        raise AssertionError(f"problem code {code!r} belongs to {PROBLEMS[code]}, answered with {status}")
    if body.get("status") != status:
        raise AssertionError(f"problem body says status {body.get('status')!r}, the response is {status}")
    return None


def _seeded_for(path: str) -> dict | None:
    if path.startswith("/v1/cases/{id}") and "caseId" in SEEDED:
        return {"id": SEEDED["caseId"]}
    if path.startswith("/v1/organizations/{id}") and "organizationId" in SEEDED:
        return {"id": SEEDED["organizationId"]}
    if path.startswith("/v1/service-items/{code}") and "serviceItemCode" in SEEDED:
        return {"code": SEEDED["serviceItemCode"]}
    if path.startswith("/v1/calendar/{year}") and "year" in SEEDED:
        return {"year": SEEDED["year"]}
    return None


def _cursor(key: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


# Values that random generation rarely hits but that have broken this API: strings Postgres cannot
# store, instants JavaScript cannot represent, numbers past int4 and past 2^53, forged cursors.
HOSTILE_STRINGS = [
    "\x00",
    "a\x00b",
    "%_",
    "' OR 1=1 --",
    "2026-12-02T23:59:60Z",
    "0000-01-01T00:00:00Z",
    "275760-09-13T00:00:01Z",
]
# Only in bodies: a query string or a path cannot carry a lone surrogate through `requests`.
HOSTILE_BODY_STRINGS = [*HOSTILE_STRINGS, "\ud800", "x\udfff"]
HOSTILE_CURSORS = [
    "\x00",
    "' OR 1=1 --",
    _cursor([1e308, "9999-99-99T99:99:99Z", "x"]),
    _cursor([1.5, "2026-01-01T00:00:00.000Z", "a\x00b"]),
    _cursor([2 ** 64, "x", "y"]),
    _cursor(["'; DROP TABLE cases; --"]),
    _cursor([{}]),
]
HOSTILE_NUMBERS = [2 ** 31, 2 ** 53 + 1, 2 ** 63, -(2 ** 31) - 1, 1.5, 1e308]


def _leaves(value, path=()):
    """Paths of the string and number leaves of a JSON-like value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield path, value


def _replaced(value, path, replacement):
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, replacement)}
    return [*value[:head], _replaced(value[head], rest, replacement), *value[head + 1:]]


def _with_hostile_leaf(value, strings):
    """The generated value as it is, or with one of its leaves swapped for a hostile value."""
    leaves = list(_leaves(value)) if value is not None else []
    if not leaves:
        return st.just(value)

    def swap(choice):
        index, pick = choice
        path, original = leaves[index % len(leaves)]
        if not isinstance(original, str):
            pool = HOSTILE_NUMBERS
        else:
            pool = HOSTILE_CURSORS if path[-1:] == ("cursor",) else strings
        return _replaced(value, path, pool[pick % len(pool)])

    swapped = st.tuples(st.integers(0, len(leaves) - 1), st.integers(0, 63)).map(swap)
    return st.one_of(st.just(value), swapped)


@schemathesis.hook
def flatmap_path_parameters(ctx, path_parameters):
    seeded = _seeded_for(ctx.operation.path) if ctx.operation is not None else None
    if seeded is None or path_parameters is None:
        return _with_hostile_leaf(path_parameters, HOSTILE_STRINGS)
    return st.sampled_from([path_parameters, {**path_parameters, **seeded}]).flatmap(
        lambda chosen: _with_hostile_leaf(chosen, HOSTILE_STRINGS))


@schemathesis.hook
def flatmap_query(ctx, query):
    strategies = [_with_hostile_leaf(query, HOSTILE_STRINGS)]
    # A list is asked for its next page with a cursor the server gave out; try forged ones too.
    if ctx.operation is not None and "cursor" in ctx.operation.query:
        strategies.append(st.sampled_from(HOSTILE_CURSORS).map(lambda cursor: {**(query or {}), "cursor": cursor}))
    return st.one_of(strategies)


@schemathesis.hook
def flatmap_body(ctx, body):
    # Only bodies that match their schema: a swap could turn a deliberately invalid body into a
    # valid one, and negative_data_rejection would then blame the server for accepting it.
    # (Path and query values that swaps made valid again are re-checked by schemathesis itself.)
    if ctx.operation is None or not _matches_schema(ctx.operation, body):
        return st.just(body)
    if ctx.operation.path == "/v1/applications":
        steered = _submission_of_seeded_item(body)
    elif ctx.operation.path == "/v1/escalations":
        steered = _escalation_about_seeded_case(body)
    else:
        steered = None
    chosen = st.just(body) if steered is None else st.sampled_from([body, steered])
    return chosen.flatmap(lambda value: _with_hostile_leaf(value, HOSTILE_BODY_STRINGS))


def _submission_of_seeded_item(body):
    """The generated application, for the seeded item, on one of its channels, with its materials."""
    if "serviceItemCode" not in SEEDED or not isinstance(body, dict):
        return None
    codes = SEEDED["materialCodes"]
    return {
        **body,
        "serviceItemCode": SEEDED["serviceItemCode"],
        "channel": body.get("channel") if body.get("channel") in SEEDED["channels"] else SEEDED["channels"][0],
        "materials": [{**m, "code": codes[i % len(codes)]} for i, m in enumerate(body.get("materials") or [])],
    }


def _escalation_about_seeded_case(body):
    """The generated escalation, about the seeded case (an unknown related case is only a 422)."""
    if "caseId" not in SEEDED or not isinstance(body, dict):
        return None
    return {**body, "relatedCaseId": SEEDED["caseId"]}


def _matches_schema(operation, body) -> bool:
    if not isinstance(body, (dict, list)):  # raw bytes and scalars: negative cases
        return False
    return any(alternative.is_valid(body) for alternative in operation.body)
