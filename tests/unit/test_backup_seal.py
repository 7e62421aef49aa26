"""Backups encrypted at rest (``actors.backup_seal``, ``domain.backup_crypt``): what leaves the
store PC is ciphertext with a plain header (whose store, which seq) that HQ can check; a restore
needs the store's key, and a wrong key, a changed, cut or reordered file is refused with nothing
restored; a rotated key seals the next backups while the old one, kept, still opens the old."""

from __future__ import annotations

import io
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from actors.backup import BackupError, read_manifest, restore, take_backup
from actors.backup_seal import KEY_FILE, ensure_key, load_key, sealed
from backupkit import make_store
from domain.backup_crypt import MAGIC, PIECE, decrypt_stream, encrypt_stream


@pytest.fixture
def store(tmp_path: Path):
    j = make_store(tmp_path / "data")
    yield tmp_path / "data", j
    j.close()


def test_a_sealed_backup_is_ciphertext_and_restores_only_with_the_key(store, tmp_path):
    data, j = store
    key = ensure_key(data)
    assert stat.S_IMODE((data / KEY_FILE).stat().st_mode) == 0o600 and len(key) == 32
    path = take_backup(data, tmp_path / "usb", key=key)
    raw = path.read_bytes()
    assert raw.startswith(MAGIC) and sealed(path)
    assert b'"store":"S001"' in raw[:4096]  # the header: HQ checks whose backup it keeps
    for secret in ((data / "pin_key").read_bytes(), (data / "store.json").read_bytes()[:40]):
        assert secret not in raw  # nothing of the folder in the clear
    with pytest.raises(tarfile.TarError), tarfile.open(path) as tar:
        tar.getnames()
    assert (read_manifest(path).store, read_manifest(path).seq) == ("S001", j.seq)
    assert not [p for p in data.iterdir() if p.name.startswith(".kassa-partial")]
    assert [p.name for p in (tmp_path / "usb").iterdir()] == [path.name]  # no plain copy there
    with pytest.raises(BackupError) as no_key:
        restore(path, tmp_path / "a")
    assert no_key.value.code == "backup.key_missing"
    with pytest.raises(BackupError) as wrong:
        restore(path, tmp_path / "b", key=bytes(32))
    assert wrong.value.code == "backup.key_wrong"
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    (tmp_path / "key.txt").write_text(key.hex() + "\n")
    out = restore(path, tmp_path / "new", key=load_key(tmp_path / "key.txt"))
    assert out["seq"] == j.seq
    assert (tmp_path / "new" / "pin_key").read_bytes() == (data / "pin_key").read_bytes()
    assert (tmp_path / "new" / KEY_FILE).read_bytes() == (data / KEY_FILE).read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kassa-opened")]


def _sealed(plain: bytes, key: bytes) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(plain), len(plain), out, key, {"store": "S001", "seq": 1})
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, PIECE - 1, PIECE, 2 * PIECE + 5])
def test_every_size_round_trips(size):
    key = bytes(range(32))
    plain = bytes(i % 251 for i in range(size))
    out = io.BytesIO()
    header = decrypt_stream(io.BytesIO(_sealed(plain, key)), out, key)
    assert out.getvalue() == plain and header["manifest"]["store"] == "S001"


def _refused(raw: bytes, key: bytes) -> str:
    with pytest.raises(BackupError) as exc:
        decrypt_stream(io.BytesIO(raw), io.BytesIO(), key)
    return exc.value.code


def test_a_changed_cut_or_reordered_file_is_refused():
    key = bytes(range(32))
    plain = bytes(i % 251 for i in range(2 * PIECE + 100))
    raw = _sealed(plain, key)
    body = len(raw) - (2 * (PIECE + 16) + 100 + 16)  # where the first sealed piece starts
    flipped = bytearray(raw)
    flipped[body + 10] ^= 1
    assert _refused(bytes(flipped), key) == "backup.key_wrong"
    assert _refused(raw[:-1], key) == "backup.key_wrong"  # cut short
    assert _refused(raw[: body + PIECE + 16], key) == "backup.key_wrong"  # whole pieces dropped
    p0, p1 = raw[body : body + PIECE + 16], raw[body + PIECE + 16 : body + 2 * (PIECE + 16)]
    swapped = raw[:body] + p1 + p0 + raw[body + 2 * (PIECE + 16) :]
    assert _refused(swapped, key) == "backup.key_wrong"
    assert _refused(raw + b"x", key) == "backup.key_wrong"  # bytes after the last piece
    header_changed = raw.replace(b'"seq":1', b'"seq":2', 1)
    assert _refused(header_changed, key) == "backup.key_wrong"  # the header is bound too
    other = _sealed(plain, key)  # another file's pieces (another nonce) do not fit
    assert _refused(raw[:body] + other[body:], key) == "backup.key_wrong"


def test_a_bad_key_file_is_named(tmp_path):
    (tmp_path / "k").write_text("not a key")
    with pytest.raises(BackupError) as exc:
        load_key(tmp_path / "k")
    assert exc.value.code == "backup.bad_key"


def _kassa(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "kassa_cli.main", "store", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_a_rotated_key_seals_the_next_backups_and_the_old_ones_still_restore(store, tmp_path):
    data, j = store
    old = ensure_key(data)
    # a minute earlier: two backups of one seq in the same second share a name (and a file)
    before = take_backup(
        data, tmp_path / "usb", key=old, now_us=time.time_ns() // 1000 - 60_000_000
    )
    done = _kassa("backup-key", "rotate", "--data", str(data))
    assert done.returncode == 0, done.stderr
    new = load_key(data / KEY_FILE)
    assert new != old and done.stdout.strip() == new.hex()
    assert load_key(data / f"{KEY_FILE}.1") == old  # kept: the old backups need it
    assert "backup.key.1" in done.stderr
    for name in (KEY_FILE, f"{KEY_FILE}.1"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
    after = take_backup(data, tmp_path / "usb", key=ensure_key(data))
    with pytest.raises(BackupError) as wrong:  # the new key alone does not open the old backup
        restore(before, tmp_path / "x", key=new)
    assert wrong.value.code == "backup.key_wrong"
    for path, target in ((before, "old"), (after, "new")):  # --key backup.key: .1 tried too
        res = _kassa("restore", "--data", str(tmp_path / target), "--from", str(path),
                     "--key", str(data / KEY_FILE))  # fmt: skip
        assert res.returncode == 0, res.stderr
        assert f"journal up to seq {j.seq}" in res.stdout
    assert load_key(tmp_path / "new" / f"{KEY_FILE}.1") == old  # a restored store keeps both
    again = _kassa("backup-key", "rotate", "--data", str(data))
    assert again.returncode == 0 and load_key(data / f"{KEY_FILE}.2") == new
    assert load_key(data / f"{KEY_FILE}.1") == old
