"""The content-addressed store's contract, on the local folder and on a real S3 server (SeaweedFS):
chunks, resume points (from another host), races, damaged objects."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from correction_server.pages.s3store import S3Store
from correction_server.pages.store import HashMismatch, LocalStore, OffsetMismatch


def partials(store) -> list[str]:
    return store.partial_uploads()


def another_host(store):
    """The same store as another server host opens it: nothing shared but the folder or bucket."""
    if isinstance(store, LocalStore):
        return LocalStore(store.root)
    return S3Store(store.client, store.bucket, store.prefix)


def test_chunks_resume_and_the_object_appears_only_when_whole_and_verified(any_store):
    store = any_store
    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    assert store.append_chunk(sha, 0, data[:100_000], len(data)).complete is False
    assert not store.has(sha) and store.upload_offset(sha) == 100_000
    with pytest.raises(FileNotFoundError):
        store.open(sha)
    with pytest.raises(OffsetMismatch) as lost:
        store.append_chunk(sha, 200_000, data[200_000:], len(data))
    assert lost.value.expected == 100_000
    # Another host (or a restarted server) resumes from the same point.
    again = another_host(store)
    assert again.upload_offset(sha) == 100_000
    assert again.append_chunk(sha, 100_000, data[100_000:250_000], len(data)).complete is False
    assert store.append_chunk(sha, 250_000, data[250_000:], len(data)).complete is True
    with again.open(sha) as handle:
        assert handle.read() == data
    assert store.upload_offset(sha) == len(data)
    assert partials(store) == []


def test_a_damaged_upload_is_dropped_and_can_start_again(any_store):
    store = any_store
    data = os.urandom(50_000)
    sha = hashlib.sha256(data).hexdigest()
    bad = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(HashMismatch):
        store.append_chunk(sha, 0, bad, len(bad))
    assert not store.has(sha) and store.upload_offset(sha) == 0
    # Damaged in a later chunk: every chunk is dropped, the upload starts again at byte 0.
    store.append_chunk(sha, 0, bad[:20_000], len(bad))
    with pytest.raises(HashMismatch):
        store.append_chunk(sha, 20_000, bad[20_000:], len(bad))
    assert not store.has(sha) and store.upload_offset(sha) == 0 and partials(store) == []
    assert store.append_chunk(sha, 0, data, len(data)).complete


def test_two_uploads_of_the_same_image_at_once_store_it_once(any_store):
    store = any_store
    data = os.urandom(1_000_000)
    sha = hashlib.sha256(data).hexdigest()
    chunk = 128 * 1024
    errors: list[Exception] = []

    def upload(host) -> None:
        offset = 0
        while True:
            try:
                result = host.append_chunk(sha, offset, data[offset : offset + chunk], len(data))
            except OffsetMismatch as exc:
                offset = exc.expected
                continue
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            if result.complete:
                return
            offset = result.offset

    threads = [threading.Thread(target=upload, args=(another_host(store),)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.open(sha) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == sha
    assert partials(store) == []


def test_make_durable_reports_what_is_not_there_and_discard_frees_it(any_store):
    store = any_store
    good = store.put(b"page one")
    absent = hashlib.sha256(b"never sent").hexdigest()
    assert store.make_durable([good, absent, good]) == [absent]
    assert store.missing([good, absent]) == [absent]
    assert store.discard(good) == len(b"page one")
    assert not store.has(good)


def test_make_durable_drops_a_local_object_damaged_on_disk(tmp_path):
    store = LocalStore(tmp_path)
    good = store.put(b"page one")
    broken = store.put(b"page two")
    store.object_path(broken).write_bytes(b"")  # as a power cut can leave a renamed file
    assert store.make_durable([good, broken]) == [broken]
    assert store.has(good) and not store.has(broken)


def test_an_s3_object_without_its_verified_hash_is_not_taken_as_durable(seaweed):
    store = S3Store(seaweed.client(), seaweed.new_bucket())
    sha = hashlib.sha256(b"page").hexdigest()
    # Written under the name by something else than the store (no verified SHA-256 with it).
    store.client.put_object(Bucket=store.bucket, Key=store.object_key(sha), Body=b"other bytes")
    assert store.make_durable([sha]) == [sha]
    assert not store.has(sha)


def test_a_display_image_made_on_one_host_is_read_by_another_from_the_bucket_and_goes_with_its_page(
    seaweed, tmp_path
):
    from correction_server.pages import images
    from testkit.push_setup import page_jpeg

    store = S3Store(seaweed.client(), seaweed.new_bucket(), "pages")
    sha = store.put(page_jpeg("a page", 900, 1270, noise=10, seed=1))
    other = store.put(page_jpeg("another page", 900, 1270, noise=10, seed=2))
    look = images.PageLook(sha, 90, 0.0)
    made = images.display_image(store, tmp_path / "worker", sha, 90, 0.0, 900)
    name = made.path.name
    assert another_host(store).get_shared(name) == made.path.read_bytes()
    # The other host serves the shared bytes as they are: it does not render the page again.
    store.put_shared(name, b"the worker's bytes")
    served = images.display_image(another_host(store), tmp_path / "server", sha, 90, 0.0, 900)
    assert served.path.read_bytes() == b"the worker's bytes" and served.etag == made.etag
    assert images.derivative_path(tmp_path / "server", look, 900) == served.path
    images.display_image(store, tmp_path / "worker", other, 0, 0.0, 900)
    assert store.get_shared("0" * 64 + "-r0-s+0.0-w900-v3.jpg") is None
    # Purging a page (retention) takes its display images from the bucket too, and only its own.
    store.discard(sha)
    assert store.get_shared(name) is None
    assert store.get_shared(images.derivative_name(other, 0, 0.0, 900)) is not None


def test_a_local_store_shares_nothing_but_its_derived_folder(tmp_path):
    store = LocalStore(tmp_path / "store")
    store.put_shared("x.jpg", b"bytes")
    assert store.get_shared("x.jpg") is None
