"""The content-addressed store on its own: chunks, resume points, races, damaged objects."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from correction_server.pages.store import HashMismatch, LocalStore, OffsetMismatch


def test_chunks_resume_and_the_object_appears_only_when_whole_and_verified(tmp_path: Path):
    store = LocalStore(tmp_path)
    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    assert store.append_chunk(sha, 0, data[:100_000], len(data)).complete is False
    assert not store.has(sha) and store.upload_offset(sha) == 100_000
    with pytest.raises(OffsetMismatch) as lost:
        store.append_chunk(sha, 200_000, data[200_000:], len(data))
    assert lost.value.expected == 100_000
    # A new store on the same folder (a restarted server) resumes from the same point.
    again = LocalStore(tmp_path)
    assert again.append_chunk(sha, 100_000, data[100_000:], len(data)).complete is True
    with again.open(sha) as handle:
        assert handle.read() == data
    assert not list((tmp_path / "partial").iterdir())


def test_a_damaged_upload_is_dropped_and_can_start_again(tmp_path: Path):
    store = LocalStore(tmp_path)
    data = os.urandom(50_000)
    sha = hashlib.sha256(data).hexdigest()
    bad = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(HashMismatch):
        store.append_chunk(sha, 0, bad, len(bad))
    assert not store.has(sha) and store.upload_offset(sha) == 0
    assert store.append_chunk(sha, 0, data, len(data)).complete


def test_two_uploads_of_the_same_image_at_once_store_it_once(tmp_path: Path):
    store = LocalStore(tmp_path)
    data = os.urandom(2_000_000)
    sha = hashlib.sha256(data).hexdigest()
    chunk = 64 * 1024
    errors: list[Exception] = []

    def upload() -> None:
        offset = 0
        while True:
            try:
                result = store.append_chunk(sha, offset, data[offset : offset + chunk], len(data))
            except OffsetMismatch as exc:
                offset = exc.expected
                continue
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            if result.complete:
                return
            offset = result.offset

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.open(sha) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == sha
    assert not list((tmp_path / "partial").iterdir())


def test_make_durable_drops_an_object_damaged_on_disk(tmp_path: Path):
    store = LocalStore(tmp_path)
    good = store.put(b"page one")
    broken = store.put(b"page two")
    store.object_path(broken).write_bytes(b"")  # as a power cut can leave a renamed file
    assert store.make_durable([good, broken]) == [broken]
    assert store.has(good) and not store.has(broken)
