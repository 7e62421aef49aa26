"""Licence activation, pure rules and the store's keeper against HQ's activation book (SQLite, no
sockets): install ids, HQ's signed activation, one install per licence, the features rule."""

from __future__ import annotations

import json
import shutil

import pytest

from actors.licence import FakeTransport, LicenceKeeper
from cloud.activation import create_licence, renew_licence
from cloud.activation_db import Activations
from cloud.licence import LicenceAuthority
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.licence import new_private_key, read_licence
from domain.licence_activation import (
    FEATURES,
    Activation,
    approval_conflicts,
    granted,
    install_id,
    read_activation,
    require_feature,
    sign_activation,
    valid_install_id,
)
from domain.ports import ManualClock
from licence_helpers import DAY, START, _no_ray, run  # noqa: F401

KEY = new_private_key()


# ---------------------------------------------------------------- pure rules


def test_install_id_is_stable_per_seed_and_machine_and_readable():
    a = install_id("seed-1", "machine-a")
    assert a == install_id("seed-1", "machine-a") and valid_install_id(a)
    assert len(a) == 19 and a.count("-") == 3
    assert install_id("seed-1", "machine-b") != a  # the same folder on another PC
    assert install_id("seed-2", "machine-a") != a  # another install on the same PC


def _signed(**kw):
    act = Activation(**{"licence_id": "L1", "store": "S001", "install_id": "I1", "at": 5, **kw})
    return sign_activation(act, KEY)


def test_activation_reads_back_only_for_its_licence_store_and_install():
    doc = _signed()
    act = read_activation(doc, KEY.public_key(), licence_id="L1", store="S001", install="I1")
    assert act.at == 5
    for kw in ({"licence_id": "L2"}, {"store": "S002"}, {"install": "I2"}):
        args = {"licence_id": "L1", "store": "S001", "install": "I1", **kw}
        with pytest.raises(Conflict) as e:
            read_activation(doc, KEY.public_key(), **args)
        assert e.value.code == "activation.other_install"


@pytest.mark.parametrize(
    "forge",
    [
        lambda d: d["activation"].update(install_id="I2"),  # moved to another PC by hand
        lambda d: d.update(sig=_signed(install_id="I2")["sig"]),  # another activation's signature
        lambda d: d.update(sig="not base64!"),
        lambda d: d.pop("activation"),
    ],
)
def test_a_forged_activation_is_refused(forge):
    doc = json.loads(json.dumps(_signed()))
    forge(doc)
    with pytest.raises(InvalidInput) as e:
        read_activation(doc, KEY.public_key(), licence_id="L1", store="S001", install="I2")
    assert e.value.code == "activation.bad_signature"


def test_an_activation_signed_by_another_key_is_refused():
    doc = sign_activation(Activation("L1", "S001", "I1", 5), new_private_key())
    with pytest.raises(InvalidInput):
        read_activation(doc, KEY.public_key(), licence_id="L1", store="S001", install="I1")


def _rec(rid, install, status, licence="L1"):
    return {"id": rid, "licence_id": licence, "install_id": install, "status": status}


def test_one_install_per_licence_unless_moved_or_released():
    active = _rec("A1", "I1", "approved")
    new = _rec("A2", "I2", "pending")
    with pytest.raises(Conflict) as e:
        approval_conflicts([active, new], new, move=False)
    assert e.value.code == "activation.licence_in_use"
    assert e.value.details["active_install"] == "I1"
    assert approval_conflicts([active, new], new, move=True) == ["A1"]
    released = _rec("A1", "I1", "released")
    assert approval_conflicts([released, new], new, move=False) == []
    other_licence = _rec("A3", "I3", "approved", licence="L2")
    assert approval_conflicts([other_licence, new], new, move=False) == []
    assert approval_conflicts([active], active, move=False) == []  # approving twice: no-op


def test_features_rule_is_backwards_compatible():
    assert granted([]) == set(FEATURES)  # licences from before features were enforced
    assert granted(["demo", "reports"]) == set(FEATURES)  # old free-text labels only
    assert granted(["wallet", "reports"]) == {"wallet"}
    assert granted(["core"]) == set()
    require_feature(["wallet"], "wallet")
    with pytest.raises(Forbidden) as e:
        require_feature(["wallet"], "bigscreen")
    assert e.value.code == "licence.feature_not_licensed" and e.value.http_status == 403


def test_old_licences_need_no_activation_and_keep_their_signature(tmp_path):
    hq = LicenceAuthority(tmp_path, clock=ManualClock(START))
    hq.ensure_key()
    old = hq.issue("S001", START, START + DAY, 7, 2, [], activation=False)
    assert "activation" not in old["licence"]  # the format before activation existed
    assert read_licence(old, hq.public_key_text()).activation is False
    new = hq.issue("S001", START, START + DAY, 7, 2, [])
    assert read_licence(new, hq.public_key_text()).activation is True
    new["licence"]["activation"] = False  # the owner strips the requirement
    with pytest.raises(InvalidInput) as e:
        read_licence(new, hq.public_key_text())
    assert e.value.code == "licence.bad_signature"


# ---------------------------------------------------------------- the keeper and HQ's book


class Shop:
    def __init__(self, root, machine="machine-a", folder="store"):
        self.root = root
        self.clock = ManualClock(START)
        self.hq = LicenceAuthority(root / "hq", clock=self.clock)
        self.acts = Activations(root / "hq", self.hq)
        self.events: list = []
        self.transport = FakeTransport(self.hq.answer)
        self.transport.activation = self.acts.request
        if not (root / "hq" / "licence" / "issued").exists():
            self.hq.ensure_key()
            self.doc = create_licence(
                self.hq, {"store": "S001", "days": 365, "tills": 2, "id": "LIC-1"}
            )
        self.keeper = self.new_keeper(machine, folder)

    async def _journal(self, body):
        self.events.append(body)

    def new_keeper(self, machine="machine-a", folder="store"):
        return LicenceKeeper(
            self.root / folder,
            "S001",
            self.hq.public_key_text(),
            self.transport,
            self.clock,
            self._journal,
            history=lambda: [],
            machine_id=machine,
        )


def test_not_activated_refuses_the_day_until_hq_approves(tmp_path):
    shop = Shop(tmp_path)
    k = shop.keeper
    run(k.install(shop.doc))
    st = run(k.may_open_day())
    assert st["ok"] is False and st["code"] == "licence.not_activated"
    assert k.install_id in st["message"] and st["install_id"] == k.install_id
    res = run(k.activate_once())
    assert res["code"] == "activation.pending" and not res["ok"]
    (req,) = shop.acts.rows(status="pending")
    assert req["install_id"] == k.install_id and req["licence_id"] == "LIC-1"
    assert run(k.may_open_day())["code"] == "licence.not_activated"
    shop.acts.approve(req["id"], "alice")
    res = run(k.activate_once())
    assert res["ok"] and res["activation"] == "approved"
    assert run(k.may_open_day())["ok"] is True
    kinds = [type(e).__name__ for e in shop.events]
    assert "LicenceActivationRequested" in kinds and "LicenceActivated" in kinds
    # a restart keeps it: the activation is verified from its file
    assert run(shop.new_keeper().may_open_day())["ok"] is True
    assert (tmp_path / "store" / "install_id").stat().st_mode & 0o777 == 0o600


def test_a_data_folder_copied_to_another_pc_is_not_activated_there(tmp_path):
    shop = Shop(tmp_path)
    run(shop.keeper.install(shop.doc))
    run(shop.keeper.activate_once())
    shop.acts.approve(shop.acts.rows()[0]["id"], "alice")
    run(shop.keeper.activate_once())
    shutil.copytree(tmp_path / "store", tmp_path / "copy")
    copy = shop.new_keeper(machine="machine-b", folder="copy")
    assert copy.install_id != shop.keeper.install_id
    assert run(copy.may_open_day())["code"] == "licence.not_activated"
    run(copy.activate_once())
    second = next(r for r in shop.acts.rows() if r["install_id"] == copy.install_id)
    with pytest.raises(Conflict) as e:  # the licence is active on the first PC
        shop.acts.approve(second["id"], "alice")
    assert e.value.code == "activation.licence_in_use"
    shop.acts.approve(second["id"], "alice", move=True)  # the first PC was replaced
    run(copy.activate_once())
    assert run(copy.may_open_day())["ok"] is True
    # the first PC learns it when it confirms online, and stops opening days
    res = run(shop.keeper.activate_once(confirm=True))
    assert res["code"] == "activation.released"
    assert run(shop.keeper.may_open_day())["code"] == "licence.not_activated"


def test_a_forged_activation_file_does_not_open_the_day(tmp_path):
    shop = Shop(tmp_path)
    run(shop.keeper.install(shop.doc))
    fake = sign_activation(Activation("LIC-1", "S001", shop.keeper.install_id, 1), KEY)
    (tmp_path / "store" / "licence" / "activation.json").write_text(json.dumps(fake))
    assert run(shop.new_keeper().may_open_day())["code"] == "licence.not_activated"
    with pytest.raises(InvalidInput):
        run(shop.keeper.accept_activation(fake))


def test_renewal_carries_the_activation_over(tmp_path):
    shop = Shop(tmp_path)
    run(shop.keeper.install(shop.doc))
    run(shop.keeper.activate_once())
    shop.acts.approve(shop.acts.rows()[0]["id"], "alice")
    run(shop.keeper.activate_once())
    early = renew_licence(shop.hq, shop.acts, "LIC-1", 365, "alice")
    assert early["licence"]["valid_from"] == shop.doc["licence"]["valid_until"]  # follows it
    shop.clock.advance(us=366 * DAY)
    assert run(shop.keeper.may_open_day())["code"] == "licence.expired"
    new = renew_licence(shop.hq, shop.acts, "LIC-1", 365, "alice")  # ended: from today
    run(shop.keeper.install(new))
    assert shop.keeper.needs_activation()  # the old activation is for the old licence
    assert run(shop.keeper.may_open_day())["ok"] is True  # asked at the day open: approved at once
    assert shop.keeper.activation_view()["activation"] == "approved"


def test_a_licence_approved_in_advance_opens_on_the_first_install_only(tmp_path):
    shop = Shop(tmp_path)
    shop.acts.allow_first("LIC-1", "alice")  # a new store set up from HQ's setup bundle
    run(shop.keeper.install(shop.doc))
    assert run(shop.keeper.may_open_day())["ok"] is True  # asked at the day open: approved
    other = shop.new_keeper(machine="machine-b", folder="other")
    run(other.install(shop.doc))
    assert run(other.may_open_day())["code"] == "licence.not_activated"
    assert sorted(r["status"] for r in shop.acts.rows()) == ["approved", "pending"]
