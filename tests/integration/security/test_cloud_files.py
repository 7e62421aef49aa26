"""HQ's files holding secrets or personal data are 0600 in 0700 folders — store secrets, the HQ
token, the licence key, each store's uploaded journal, the warehouse — including files created
after the start; and the store's own upload secret (``cloud_secret``) is 0600.

The data folders live in a world-traversable folder, so only the modes stand between them and
another local account (which is tried for real, as ``nobody``, when the suite runs as root)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from actors.uploader import FileState, HttpTransport, Uploader
from cloud.licence import LicenceAuthority
from cloudkit import Cloud, LedgerSource, Shop, make_uploader
from domain.ports import ManualClock
from seckit import run_as_other

pytestmark = pytest.mark.timeout(240)

PUBLIC_OK = {"licence/hq_ed25519.pub"}  # HQ hands the public key to every store


@pytest.fixture
def open_dir():
    """A folder anyone may enter (as /srv or a home folder often is), removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="kassa-cloudsec-", dir="/tmp"))
    os.chmod(d, 0o755)
    old = os.umask(0o022)  # a usual umask: the code must not rely on the caller's
    try:
        yield d
    finally:
        os.umask(old)
        shutil.rmtree(d, ignore_errors=True)


def _modes(root: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(root.stat().st_mode)}
    for p in root.rglob("*"):
        out[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    return out


def _loose(root: Path) -> dict[str, str]:
    bad = {}
    for rel, mode in _modes(root).items():
        p = root / rel
        want = 0o700 if p.is_dir() else (0o644 if rel in PUBLIC_OK else 0o600)
        if mode != want:
            bad[rel] = oct(mode)
    return bad


def test_hq_files_are_owner_only_also_those_created_later(open_dir):
    data = open_dir / "hq"
    clock = ManualClock()
    shop = Shop(open_dir / "shop", clock, seed=2)
    shop.member("M1", 10_000)
    shop.trade(4)

    async def main():
        secret = Cloud.register(data)
        auth = LicenceAuthority(data)
        auth.ensure_key()
        doc = auth.issue("S001", 0, 10**18, 7, 2)
        auth.revoke(doc["licence"]["licence_id"], "test")
        cloud = await Cloud(data, clock).start()
        up = make_uploader(shop, cloud.url, secret, open_dir / "shop" / "up.json")
        try:
            await up.drain()
            await cloud.warehouse.flush()
            first = _loose(data)
            # later: a second store registers and uploads; new warehouse partitions appear
            secret2 = Cloud.register(data, "S002")
            shop.trade(3, step_s=86_400)
            # the same shop's journal, uploaded under S002's name
            up2 = Uploader(
                LedgerSource(shop.ledger),
                HttpTransport(cloud.url, timeout_s=5),
                FileState(open_dir / "shop" / "up2.json"),
                clock,
                store="S002",
                secret=secret2,
            )
            await up2.drain()
            await up2.transport.close()
            await cloud.warehouse.flush()
            later = _loose(data)
            names = set(_modes(data))
        finally:
            await up.transport.close()
            await cloud.stop()
        return first, later, names

    first, later, names = asyncio.run(main())
    shop.close()
    assert first == {} and later == {}, (first, later)
    # the files that matter were there to be checked
    for must in (
        "cloud.sqlite",
        "hq_token",
        "licence/hq_ed25519.key",
        "licence/revoked.json",
        "stores/S001/events.sqlite",
        "stores/S002/events.sqlite",
        "warehouse/.lock",
    ):
        assert must in names, must
    assert any(
        n.startswith("warehouse/orders/store=S002/") and n.endswith(".parquet") for n in names
    )
    assert any(n.endswith(".sqlite-wal") for n in names)
    assert _loose(data) == {}

    # another account on HQ's machine reads none of it
    targets = [
        str(data / n)
        for n in ("cloud.sqlite", "hq_token", "licence/hq_ed25519.key", "stores/S001/events.sqlite")
    ]
    targets.append(str(next((data / "warehouse" / "orders").rglob("*.parquet"))))
    r = run_as_other(f"""
        import json
        out = {{}}
        for p in {targets!r}:
            try:
                open(p, 'rb').read(1)
                out[p] = 'read'
            except PermissionError:
                out[p] = 'denied'
        print(json.dumps(out))
    """)
    assert r.returncode == 0, r.stderr
    assert set(json.loads(r.stdout).values()) == {"denied"}, r.stdout


def test_an_older_data_folder_is_tightened_at_start(open_dir):
    data = open_dir / "old"
    (data / "licence").mkdir(parents=True)
    (data / "stores" / "S001").mkdir(parents=True)
    (data / "warehouse").mkdir()
    for name in ("cloud.sqlite", "licence/hq_ed25519.key", "licence/revoked.json"):
        (data / name).write_bytes(b"")
    (data / "licence" / "revoked.json").write_text("{}")
    for p in [data, *data.rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    os.remove(data / "cloud.sqlite")  # let SQLite make a real one, then loosen it
    from cloud.registry import Registry

    Registry(data).close()
    os.chmod(data / "cloud.sqlite", 0o644)
    os.chmod(data, 0o755)

    async def main():
        cloud = await Cloud(data, ManualClock()).start()
        await cloud.stop()

    asyncio.run(main())
    modes = _modes(data)
    assert modes["."] == 0o700
    for d in ("licence", "stores", "warehouse"):
        assert modes[d] == 0o700, d
    for f in ("cloud.sqlite", "hq_token", "licence/hq_ed25519.key", "licence/revoked.json"):
        assert modes[f] == 0o600, (f, oct(modes[f]))


def test_the_stores_cloud_secret_is_owner_only(open_dir):
    from kassa_cli.main import main

    data = open_dir / "store"
    data.mkdir()
    (data / "cloud_secret").write_text("00" * 32)  # an older install left it world-readable
    os.chmod(data / "cloud_secret", 0o644)
    secret = "ab" * 32
    assert (
        main(
            [
                "store",
                "link",
                "--data",
                str(data),
                "--cloud",
                "http://127.0.0.1:9",
                "--secret",
                secret,
            ]
        )
        == 0
    )
    path = data / "cloud_secret"
    assert path.read_text() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in data.iterdir() if p.name.startswith(".cloud_secret")]
    r = run_as_other(f"""
        try:
            print(open({str(path)!r}).read())
        except PermissionError:
            print('denied')
    """)
    assert r.stdout.strip() == "denied", r.stdout
