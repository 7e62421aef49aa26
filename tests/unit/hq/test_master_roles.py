"""Who may call an HQ route (``cloud.hqauth.caller`` / ``allowed``) and HQ users' sign-in rules
(``cloud.hqusers``) without a server: the lock-out counts an attempt before it checks it."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from cloud.hqauth import HQ_ROLES, HqAuth, allowed, caller, declare
from cloud.hqusers import HqUsers
from domain.errors import Throttled, Unauthorized
from domain.ports import ManualClock


@pytest.fixture
def users(tmp_path):
    u = HqUsers(tmp_path, ManualClock(), hasher=PasswordHasher(time_cost=1, memory_cost=8192))
    u.add("ann", "catalogue", "ann-password-1", "cli")
    yield u
    u.close()


def test_roles_of_declared_and_undeclared_routes():
    declare("PUT", "/v1/hq/test-thing/{id}", roles=("catalogue",))
    assert HQ_ROLES[("PUT", "/v1/hq/test-thing/{id}")] == {"admin", "catalogue"}
    assert allowed("PUT", "/v1/hq/test-thing/{id}", "catalogue")
    assert not allowed("PUT", "/v1/hq/test-thing/{id}", "finance")
    assert not allowed("GET", "/v1/hq/test-thing/{id}", "catalogue")  # another method
    assert allowed("GET", "/v1/hq/never-declared", "admin")
    assert not allowed("GET", "/v1/hq/never-declared", "support")  # undeclared: admin only
    with pytest.raises(ValueError):
        declare("GET", "/v1/hq/x", roles=("owner",))


def test_the_hq_token_is_admin_and_a_session_is_its_user(users):
    auth = HqAuth("token", "t0ken-secret", "test")
    assert caller("Bearer t0ken-secret", auth, users) == ("token", "admin")
    session = users.login("ann", "ann-password-1", "10.0.0.1")
    assert caller(f"Bearer {session['token']}", auth, users) == ("ann", "catalogue")
    assert caller("Bearer nonsense", auth, users) is None
    assert caller(f"Basic {session['token']}", auth, users) is None
    assert caller("Bearer x", HqAuth("open", "", "lab"), None) == ("open", "admin")


def test_the_sixth_attempt_is_refused_before_the_password_is_checked(users):
    checked = []

    class Spy(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            checked.append(password)
            return super().verify(hash, password)

    users.hasher = Spy(time_cost=1, memory_cost=8192)
    for i in range(5):
        with pytest.raises(Unauthorized):
            users.login("ann", f"wrong-{i}", "10.0.0.1")
    with pytest.raises(Throttled) as err:
        users.login("ann", "ann-password-1", "10.0.0.1")
    assert err.value.code == "hquser.locked"
    assert checked == [f"wrong-{i}" for i in range(5)]  # the right one was never looked at
    users.clock.advance(15 * 60)
    assert users.login("ann", "ann-password-1", "10.0.0.1")["role"] == "catalogue"


def test_passwords_are_argon2id_and_never_stored(users, tmp_path):
    users.add("bob", "finance", "bob-password-1", "cli")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("hqusers.sqlite*"))
    assert b"bob-password-1" not in raw and b"$argon2id$" in raw
