"""Bad input of any kind gets a 4xx with a stable code, never a 5xx, and never changes the journal:
hypothesis generates requests from the gateway's own OpenAPI description (valid-looking ones, and
ones broken on purpose) against a real store server. And a retried command id gives the same answer.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.openapi import operations
from actors.process import StoreProcess
from gwkit import DEMO, Api, error_code, journal_rows, journal_seq, new_id, sign_in, write_auth

pytestmark = pytest.mark.ray

FUZZ_TILL = "F1"
SKIP = {("DELETE", "/v1/sessions/current"), ("GET", "/v1/events/stream")}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz") / "store"
    write_auth(data)
    proc = StoreProcess(data, products=200).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def fuzzer(store):
    api = sign_in(store.url, "m1", FUZZ_TILL)
    r = api.post("/v1/day/open", {"id": new_id(), "float": 0})
    assert r.status_code == 200, r.text
    return api


# ---------------------------------------------------------------- strategies from the schemas

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def from_schema(schema: dict) -> st.SearchStrategy:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "oneOf" in schema:
        return st.one_of([from_schema(s) for s in schema["oneOf"]])
    t = schema.get("type")
    if t == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        if schema.get("format") == "date":
            return st.dates().map(str)
        return st.text(
            min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40)
        )
    if t == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if t == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e9))
    if t == "boolean":
        return st.booleans()
    if t == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=schema.get("maxItems", 4))
    if t == "object":
        props = schema.get("properties", {})
        if not props:
            return st.dictionaries(st.text(max_size=10), JSON, max_size=4)
        req = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in req},
            optional={k: from_schema(v) for k, v in props.items() if k not in req},
        )
    return JSON


WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.text(max_size=3),
    st.text(min_size=300, max_size=400),
)


@st.composite
def requests_(draw, broken: bool):
    method, path, op = draw(st.sampled_from([o for o in operations() if (o[0], o[1]) not in SKIP]))
    url = path
    for p in op.get("parameters", []):
        if p["in"] == "path":
            value = draw(from_schema(p["schema"]) | st.text(min_size=1, max_size=30))
            url = url.replace(f"{{{p['name']}}}", quote(str(value), safe="") or "x")
    query = {}
    for p in op.get("parameters", []):
        if p["in"] == "query" and draw(st.booleans()):
            if p["name"] == "wait":  # a long poll: keep it short
                query["wait"] = draw(st.sampled_from(["0", "0.05", "x", "-5", "nan", "", "1e999"]))
                continue
            query[p["name"]] = str(draw(from_schema(p["schema"]) | st.text(max_size=10)))
    body: object = None
    raw: bytes | None = None
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        body = draw(from_schema(schema))
        for key in ("staff",):  # never guess a real account's PIN: it would lock it
            if isinstance(body, dict) and body.get(key) in DEMO:
                body[key] = "zz" + body[key]
        if (
            isinstance(body, dict)
            and isinstance(body.get("approval"), dict)
            and body["approval"].get("staff") in DEMO
        ):
            body["approval"]["staff"] = "zz" + body["approval"]["staff"]
        if broken:
            how = draw(
                st.sampled_from(["drop_id", "bad_id", "wrong_type", "junk", "not_object", "huge"])
            )
            if how == "drop_id":
                body.pop("id", None)
            elif how == "bad_id":
                body["id"] = draw(
                    st.one_of(
                        st.text(max_size=7),
                        st.integers(),
                        st.none(),
                        st.text(min_size=65, max_size=80),
                    )
                )
            elif how == "wrong_type":
                required = [k for k in schema.get("required", []) if k != "id"] or ["id"]
                key = draw(st.sampled_from(required))
                body[key] = draw(WRONG.filter(lambda v: not _fits(v, schema["properties"][key])))
            elif how == "junk":
                raw = draw(st.binary(max_size=60).filter(lambda b: not _is_object(b)))
            elif how == "not_object":
                raw = json.dumps(draw(st.lists(JSON, max_size=3) | st.integers())).encode()
            else:
                raw = b'{"id": "' + b"x" * (300 * 1024) + b'"}'
    return method, url, query, body, raw


def _is_object(b: bytes) -> bool:
    try:
        return isinstance(json.loads(b), dict)
    except ValueError:
        return False


def _fits(value: object, schema: dict) -> bool:
    """Does ``value`` (roughly) satisfy ``schema``? Used to make sure a 'wrong' value is wrong."""
    if "enum" in schema:
        return value in schema["enum"]
    if "oneOf" in schema:
        return any(_fits(value, s) for s in schema["oneOf"])
    t = schema.get("type")
    if t == "string":
        return (
            isinstance(value, str)
            and schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 10**9)
            and (not schema.get("pattern") or re.fullmatch(schema["pattern"], value) is not None)
        )
    if t == "integer":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and schema.get("minimum", -(10**30)) <= value <= schema.get("maximum", 10**30)
        )
    if t == "boolean":
        return isinstance(value, bool)
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    return True


def send(api: Api, store, method, url, query, body, raw) -> requests.Response:
    r = api.call(method, url, body, raw=raw, **query)
    if r.status_code == 401 and error_code(r) == "auth.session_expired":
        # the fuzzer signed itself out or was locked: sign in again and retry once
        fresh = sign_in(store.url, "m1", FUZZ_TILL)
        api.token = fresh.token
        r = api.call(method, url, body, raw=raw, **query)
    return r


def assert_coded_4xx(r: requests.Response) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        err = r.json()["error"]
        assert isinstance(err["code"], str) and "." in err["code"] and err["message"]


# ---------------------------------------------------------------- the fuzz tests


@settings(
    max_examples=250, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(req=requests_(broken=False))
def test_requests_from_the_openapi_description_never_get_a_5xx(store, fuzzer, req):
    assert_coded_4xx(send(fuzzer, store, *req))


@settings(
    max_examples=250, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(req=requests_(broken=True))
def test_broken_requests_get_a_coded_4xx_and_change_nothing(store, fuzzer, req):
    method, url, query, body, raw = req
    seq = journal_seq(store.data)
    r = send(fuzzer, store, method, url, query, body, raw)
    if body is not None or raw is not None:
        assert 400 <= r.status_code < 500, (url, body if raw is None else raw[:80], r.text[:300])
    assert_coded_4xx(r)
    # nothing journaled by this request (background system events may come and go)
    new = [x for x in journal_rows(store.data, seq) if x[2] not in ("system", "")]
    assert new == [], (url, new)


def test_unauthenticated_fuzz_never_gets_a_5xx(store):
    anon = Api(store.url)
    seq = journal_seq(store.data)

    @settings(
        max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(req=requests_(broken=False))
    def run(req):
        method, url, query, body, raw = req
        r = anon.call(method, url, body, raw=raw, **query)
        assert r.status_code < 500, r.text[:200]
        if url not in ("/v1/health", "/v1/config", "/v1/openapi.json", "/v1/sessions", "/v1/staff"):
            assert r.status_code in (401, 404, 405, 400), (url, r.status_code, r.text[:200])

    run()
    new = [
        x
        for x in journal_rows(store.data, seq)
        if x[1] not in ("auth.pin_attempt",) and x[2] not in ("system", "")
    ]
    assert new == []


def test_paths_that_do_not_exist_and_wrong_methods_are_coded(store, fuzzer):
    r = fuzzer.get("/v1/nothing/here")
    assert r.status_code == 404 and error_code(r) == "http.not_found"
    r = fuzzer.call("PUT", "/v1/sessions")
    assert r.status_code == 405 and error_code(r) == "http.method_not_allowed"
    r = fuzzer.call("POST", "/v1/products/import", raw=b"[" * 400_000)
    assert r.status_code in (400, 413) and error_code(r) in ("input.too_large", "input.bad_json")


# ---------------------------------------------------------------- retries


def test_a_retried_command_id_gives_the_same_answer(store, fuzzer):
    # the admin: the fuzzer may have changed the manager's permissions
    m = sign_in(store.url, "admin", "FA")
    m.ok(m.post("/v1/day/open", {"id": new_id(), "float": 0}))
    c = sign_in(store.url, "c1", FUZZ_TILL + "c")
    m.ok(m.post("/v1/day/open", {"id": new_id(), "till": FUZZ_TILL + "c", "float": 10_000}))
    code = m.ok(m.get("/v1/products", q="885", limit=5))[0]["barcodes"][0]

    def twice(api: Api, method: str, path: str, body: dict) -> dict:
        r1 = api.call(method, path, body)
        r2 = api.call(method, path, body)
        assert r1.status_code == r2.status_code == 200, (path, r1.text, r2.text)
        a, b = r1.json(), r2.json()
        assert not a.get("duplicate") and b.get("duplicate"), path
        a.pop("duplicate"), b.pop("duplicate")
        assert a == b, path
        seq = journal_seq(store.data)
        r3 = api.call(method, path, body)  # a third time: still nothing new
        assert r3.status_code == 200 and journal_seq(store.data) == seq
        return a

    till = f"/v1/tills/{FUZZ_TILL}c/commands"
    twice(c, "POST", till, {"id": new_id(), "op": "scan", "args": {"code": code}})
    view = c.ok(c.get(f"/v1/tills/{FUZZ_TILL}c/basket"))
    order = twice(
        c,
        "POST",
        till,
        {
            "id": new_id(),
            "op": "pay",
            "args": {"tenders": [{"kind": "cash", "amount": view["total"] + 1000}]},
        },
    )["order"]
    twice(c, "POST", "/v1/members/M0001/topup", {"id": new_id(), "amount": 500})
    twice(m, "POST", "/v1/members", {"id": new_id(), "member": "MF1", "name": "Fuzz"})
    twice(m, "POST", f"/v1/orders/{order['order_id']}/refund", {"id": new_id()})
    twice(
        m, "POST", "/v1/stock/receive", {"id": new_id(), "sku": order["lines"][0]["sku"], "qty": 3}
    )
    twice(
        m,
        "POST",
        "/v1/permissions",
        {"id": new_id(), "action": "members.view", "roles": ["cashier", "aftersales", "manager"]},
    )
    twice(m, "POST", "/v1/staff/c2/lock", {"id": new_id(), "reason": "retry test"})
    twice(
        m,
        "POST",
        "/v1/day/close",
        {"id": new_id(), "till": FUZZ_TILL + "c", "counted_cash": 12_345},
    )
    # the same id for a different command is refused
    cid = new_id()
    m.ok(m.post("/v1/members", {"id": cid, "member": "MF2", "name": "Fuzz"}))
    r = m.post("/v1/members", {"id": cid, "member": "MF3", "name": "Fuzz"})
    assert r.status_code == 409 and error_code(r) == "command.id_reused"
