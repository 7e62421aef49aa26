"""HQ's users over real HTTP on loopback: sign-in, sessions, the lock-out per user and per
address (attempts counted before the password is checked), and roles enforced on every route."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from cloud.hqusers import HqUsers
from cloudkit import Cloud
from domain.ports import ManualClock

pytestmark = pytest.mark.timeout(300)

PASSWORDS = {
    "root": "root-password-1",
    "cat": "catalogue-pw-1",
    "fin": "finance-pw-1",
    "sup": "support-pw-1",
    "bob": "bob-password-1",
}
ROLES = {
    "root": "admin",
    "cat": "catalogue",
    "fin": "finance",
    "sup": "support",
    "bob": "catalogue",
}


def add_users(data, clock) -> None:
    """As ``kassa admin user add`` does, on HQ's folder before the cloud starts."""
    users = HqUsers(data, clock)
    for name, role in ROLES.items():
        users.add(name, role, PASSWORDS[name], "cli")
    users.close()


async def login(s: aiohttp.ClientSession, url: str, user: str, password: str):
    async with s.post(f"{url}/v1/hq/login", json={"user": user, "password": password}) as r:
        return r.status, await r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run(tmp_path, body) -> None:
    clock = ManualClock()
    add_users(tmp_path, clock)

    async def main() -> None:
        cloud = await Cloud(tmp_path, clock).start()
        try:
            async with aiohttp.ClientSession() as s:
                await body(s, cloud, clock)
        finally:
            await cloud.stop()

    asyncio.run(main())


def test_sign_in_who_am_i_and_sign_out(tmp_path):
    async def body(s, cloud, clock):
        st, js = await login(s, cloud.url, "root", PASSWORDS["root"])
        assert st == 200 and (js["user"], js["role"]) == ("root", "admin")
        assert js["expires_us"] == clock.now_us() + 30 * 60 * 1_000_000
        async with s.get(f"{cloud.url}/v1/hq/me", headers=bearer(js["token"])) as r:
            assert (r.status, (await r.json())["user"]) == (200, "root")
        async with s.post(f"{cloud.url}/v1/hq/logout", headers=bearer(js["token"])) as r:
            assert r.status == 200
        async with s.get(f"{cloud.url}/v1/hq/me", headers=bearer(js["token"])) as r:
            assert (r.status, (await r.json())["code"]) == (401, "auth.hq_token")
        # the HQ token acts as user "token", role admin
        async with s.get(f"{cloud.url}/v1/hq/me", headers=cloud.hq) as r:
            assert (await r.json())["user"] == "token"
        # a session idle for 30 minutes is over
        _, js = await login(s, cloud.url, "cat", PASSWORDS["cat"])
        clock.advance(30 * 60)
        async with s.get(f"{cloud.url}/v1/hq/me", headers=bearer(js["token"])) as r:
            assert r.status == 401
        # the session token is stored hashed: the file never holds it
        assert js["token"].encode() not in (tmp_path / "hqusers.sqlite").read_bytes()

    run(tmp_path, body)


def test_wrong_passwords_lock_the_user_even_against_the_right_one(tmp_path):
    async def body(s, cloud, clock):
        for _ in range(5):
            st, js = await login(s, cloud.url, "cat", "wrong-password")
            assert (st, js["code"]) == (401, "hquser.bad_login")
        st, js = await login(s, cloud.url, "cat", PASSWORDS["cat"])
        assert (st, js["code"]) == (429, "hquser.locked")
        # another user from the same address is not locked out
        assert (await login(s, cloud.url, "fin", PASSWORDS["fin"]))[0] == 200
        clock.advance(15 * 60)
        assert (await login(s, cloud.url, "cat", PASSWORDS["cat"]))[0] == 200
        # ten guesses at once: counted before they are checked, so only five are ever checked
        results = await asyncio.gather(
            *(login(s, cloud.url, "bob", f"guess-{i}-xxxx") for i in range(10))
        )
        codes = sorted(js["code"] for _, js in results)
        assert codes == ["hquser.bad_login"] * 5 + ["hquser.locked"] * 5
        async with s.get(f"{cloud.url}/v1/hq/audit?what=user.locked", headers=cloud.hq) as r:
            assert {a["who"] for a in (await r.json())["audit"]} == {"cat", "bob"}

    run(tmp_path, body)


def test_many_names_tried_from_one_address_lock_the_address(tmp_path):
    async def body(s, cloud, clock):
        for i in range(20):
            st, js = await login(s, cloud.url, f"nobody{i}", "not-a-password")
            assert (st, js["code"]) == (401, "hquser.bad_login")
        st, js = await login(s, cloud.url, "root", PASSWORDS["root"])
        assert (st, js["code"]) == (429, "hquser.throttled")

    run(tmp_path, body)


def test_roles_decide_who_may_call_which_route(tmp_path):
    async def body(s, cloud, clock):
        tokens = {}
        for name in ("root", "cat", "fin", "sup"):
            tokens[name] = (await login(s, cloud.url, name, PASSWORDS[name]))[1]["token"]
        product = {"sku": "A1", "names": {"en": "Cola"}, "price": 1500}

        async def call(who: str, method: str, path: str, **kw) -> tuple[int, str]:
            headers = cloud.hq if who == "token" else bearer(tokens[who])
            async with s.request(method, cloud.url + path, headers=headers, **kw) as r:
                js = await r.json()
                return r.status, js.get("code", "") if isinstance(js, dict) else ""

        refused = (403, "hquser.role_refused")
        # a catalogue editor edits products, but may not manage users
        assert await call("cat", "GET", "/v1/hq/users") == refused
        assert (
            await call(
                "cat",
                "POST",
                "/v1/hq/users",
                json={"user": "eve", "role": "admin", "password": "x" * 12},
            )
            == refused
        )
        assert (await call("cat", "PUT", "/v1/hq/products/A1", json=product))[0] == 200
        # finance reads products and revenue, but may not edit a product
        assert await call("fin", "PUT", "/v1/hq/products/A1", json=product) == refused
        assert (await call("fin", "GET", "/v1/hq/products/A1"))[0] == 200
        assert (await call("fin", "GET", "/v1/revenue"))[0] == 200
        # support reads stores and the audit, not revenue
        assert (await call("sup", "GET", "/v1/stores"))[0] == 200
        assert (await call("sup", "GET", "/v1/hq/audit"))[0] == 200
        assert await call("sup", "GET", "/v1/revenue") == refused
        # admin and the HQ token may do everything
        assert (await call("root", "GET", "/v1/hq/users"))[0] == 200
        assert (await call("token", "PUT", "/v1/hq/profiles/S001", json={"id": "S001"}))[0] == 200
        # a store's route and a public one are untouched by roles
        assert (await call("fin", "GET", "/v1/health"))[0] == 200

    run(tmp_path, body)


def test_user_administration_and_its_bad_input(tmp_path):
    async def body(s, cloud, clock):
        root = bearer((await login(s, cloud.url, "root", PASSWORDS["root"]))[1]["token"])

        async def post(js):
            async with s.post(f"{cloud.url}/v1/hq/users", json=js, headers=root) as r:
                return r.status, await r.json()

        assert (await post({"user": "eve", "role": "boss", "password": "x" * 12}))[1]["code"] == (
            "hquser.unknown_role"
        )
        assert (await post({"user": "eve", "role": "finance", "password": "short"}))[1][
            "code"
        ] == "hquser.weak_password"
        assert (await post({"user": "Eve Smith", "role": "finance", "password": "x" * 12}))[1][
            "code"
        ] == "hquser.bad_name"
        st, js = await post({"user": "eve", "role": "finance", "password": "eve-password"})
        assert (st, js["role"]) == (201, "finance")
        assert (await post({"user": "eve", "role": "finance", "password": "x" * 12}))[0] == 409
        _, js = await login(s, cloud.url, "eve", "eve-password")
        eve = bearer(js["token"])
        # made a support user: her session acts with the new role at once
        async with s.patch(
            f"{cloud.url}/v1/hq/users/eve", json={"role": "support"}, headers=root
        ) as r:
            assert r.status == 200
        async with s.get(f"{cloud.url}/v1/revenue", headers=eve) as r:
            assert r.status == 403
        # made inactive: her session ends
        async with s.patch(
            f"{cloud.url}/v1/hq/users/eve", json={"active": False}, headers=root
        ) as r:
            assert r.status == 200
        async with s.get(f"{cloud.url}/v1/hq/me", headers=eve) as r:
            assert r.status == 401
        # the last active admin cannot be demoted
        async with s.patch(
            f"{cloud.url}/v1/hq/users/root", json={"role": "finance"}, headers=root
        ) as r:
            assert (r.status, (await r.json())["code"]) == (409, "hquser.last_admin")
        async with s.get(f"{cloud.url}/v1/hq/audit?what=user.", headers=root) as r:
            whats = [(a["who"], a["what"]) for a in (await r.json())["audit"]]
        assert ("root", "user.add") in whats and ("root", "user.change") in whats

    run(tmp_path, body)
