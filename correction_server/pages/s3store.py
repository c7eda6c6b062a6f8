"""The page store in an S3-compatible bucket (SeaweedFS, MinIO, Garage, a cloud's), for several hosts.

The same contract as the local folder (correction_server.pages.store.ObjectStore):

- content-addressed: a page image is the object `<prefix>objects/ab/cd/<sha256>`;
- resumable at any byte, from any server host: every chunk received is an object of its own,
  `<prefix>partial/<sha256>/<offset>`, so the resume point is what the bucket holds, not what one
  process remembers; a chunk that reaches another host than the previous one continues the same
  upload;
- nothing readable before its bytes hash to its name: the chunks are put together and hashed by
  the host that receives the last one, and only then written under the object's name (with its
  MD5, which the S3 server checks on receipt, and its SHA-256 in the metadata);
- display images (derivatives) made by any host are kept as `<prefix>derived/ab/<name>`, so a
  worker's rendering serves every server host; a page's are deleted with it (`discard`);
- durable before the commit acknowledges: an S3 server answers a PUT once the bytes are stored
  (SeaweedFS: on the volume servers of its replication setting); `make_durable` then checks that
  every image of the lot is there under its name, with its SHA-256, before the lot is committed.

Two hosts may receive the same chunk at once (a station resending after a timeout): both write
the same key with the same bytes, and the one that completes second finds the object there.

Settings (read by `from_url`): the location `s3://bucket/prefix`, and MASSICOT_S3_ENDPOINT
(e.g. http://127.0.0.1:8333), MASSICOT_S3_ACCESS_KEY, MASSICOT_S3_SECRET_KEY, MASSICOT_S3_REGION.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO
from urllib.parse import urlparse

from correction_server.pages.objects import (
    ChunkResult,
    HashMismatch,
    OffsetMismatch,
    StoreError,
    check_sha256,
)

SHA_METADATA = "sha256"
# HEADs at once when checking a lot's images (each is a round trip to the S3 server).
PARALLEL = 16


class S3Store:
    """Content-addressed objects in a bucket; every method is safe from any host at once."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # What `reachable` builds its own client from (known when made by `from_url`): the main
        # client retries for a minute, too long for a health check.
        self._connection: tuple[str | None, str | None, str | None, str] | None = None
        self._probe: Any = None

    @classmethod
    def from_url(cls, url: str, environ: dict[str, str] | None = None) -> S3Store:
        env = os.environ if environ is None else environ
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"{url!r} is not an s3://bucket/prefix location")
        connection = (
            env.get("MASSICOT_S3_ENDPOINT") or None,
            env.get("MASSICOT_S3_ACCESS_KEY") or None,
            env.get("MASSICOT_S3_SECRET_KEY") or None,
            env.get("MASSICOT_S3_REGION") or "us-east-1",
        )
        store = cls(make_client(*connection), parsed.netloc, parsed.path)
        store._connection = connection
        return store

    def reachable(self, timeout: float) -> bool:
        """Whether the bucket answers a HEAD within about `timeout` seconds (one try, no retry)."""
        if self._probe is None:
            self._probe = make_client(*self._connection, timeout=timeout) if self._connection else self.client
        try:
            self._probe.head_bucket(Bucket=self.bucket)
        except Exception:  # noqa: BLE001 - refused, timed out, denied: all mean "not reachable"
            return False
        return True

    # ---------------------------------------------------------------- names

    def object_key(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _partial_prefix(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}partial/{sha256}/"

    # ---------------------------------------------------------------- reading

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if _status(exc) == 404:
                return None
            raise

    def has(self, sha256: str) -> bool:
        return self._head(self.object_key(sha256)) is not None

    def missing(self, hashes: list[str]) -> list[str]:
        unique = list(dict.fromkeys(hashes))
        with ThreadPoolExecutor(PARALLEL) as pool:
            present = list(pool.map(self.has, unique))
        return [sha for sha, there in zip(unique, present, strict=True) if not there]

    def open(self, sha256: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.object_key(sha256))
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(sha256) from exc
        return io.BytesIO(answer["Body"].read())

    def size(self, sha256: str) -> int | None:
        head = self._head(self.object_key(sha256))
        return None if head is None else int(head["ContentLength"])

    def hashes(self) -> list[str]:
        """Every object's name (the backup lists what it must copy)."""
        found = []
        for entry in self._list(f"{self.prefix}objects/"):
            name = entry["Key"].rsplit("/", 1)[-1]
            if len(name) == 64:
                found.append(name)
        return found

    # ---------------------------------------------------------------- uploads

    def _chunks(self, sha256: str) -> list[tuple[int, int, str]]:
        """(offset, size, key) of the chunks held, in order of offset."""
        prefix = self._partial_prefix(sha256)
        chunks = []
        for entry in self._list(prefix):
            tail = entry["Key"][len(prefix) :]
            if tail.isdigit():
                chunks.append((int(tail), int(entry["Size"]), entry["Key"]))
        return sorted(chunks)

    @staticmethod
    def _contiguous(chunks: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """The chunks that follow one another from byte 0 (others are leftovers of a resend)."""
        held, run = 0, []
        for offset, size, key in chunks:
            if offset == held and size > 0:
                run.append((offset, size, key))
                held += size
        return run

    def upload_offset(self, sha256: str) -> int:
        size = self.size(sha256)
        if size is not None:
            return size
        return sum(size for _, size, _ in self._contiguous(self._chunks(sha256)))

    def put(self, data: bytes) -> str:
        """Store whole bytes at once (server-side producers, tests)."""
        sha = hashlib.sha256(data).hexdigest()
        if not self.has(sha):
            self._put_object(sha, data)
        return sha

    def append_chunk(self, sha256: str, offset: int, data: bytes, total: int) -> ChunkResult:
        if offset + len(data) > total:
            raise StoreError(
                f"the chunk ends at byte {offset + len(data)}, beyond the announced size {total}"
            )
        if offset == 0 and len(data) == total:
            # The usual case: the whole image in one chunk, hashed from memory. Whole and verified:
            # taken even if an earlier try left chunks, which go now; and without a HEAD first
            # (written again, the same bytes under the same name change nothing).
            self._verify(sha256, data, [])
            self._put_object(sha256, data)
            self._delete_keys([k for _, _, k in self._chunks(sha256)])
            return ChunkResult(offset=total, complete=True)
        size = self.size(sha256)
        if size is not None:
            return ChunkResult(offset=size, complete=True)
        held_chunks = self._contiguous(self._chunks(sha256))
        held = sum(size for _, size, _ in held_chunks)
        if held != offset:
            raise OffsetMismatch(held)
        key = f"{self._partial_prefix(sha256)}{offset:012d}"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentMD5=_md5(data))
        size = self.size(sha256)
        if size is not None:
            # Completed by another host meanwhile: it may have listed the chunks before this one.
            self._delete_keys([k for _, _, k in self._chunks(sha256)])
            return ChunkResult(offset=size, complete=True)
        held += len(data)
        if held < total:
            return ChunkResult(offset=held, complete=False)
        parts = [*held_chunks, (offset, len(data), key)]
        try:
            whole = b"".join(
                data if k == key else self.client.get_object(Bucket=self.bucket, Key=k)["Body"].read()
                for _, _, k in parts
            )
        except self.client.exceptions.NoSuchKey:
            # Another host completed the same upload and dropped its chunks meanwhile.
            size = self.size(sha256)
            if size is not None:
                return ChunkResult(offset=size, complete=True)
            raise OffsetMismatch(0) from None
        self._verify(sha256, whole, [k for _, _, k in self._chunks(sha256)])
        self._put_object(sha256, whole)
        self._delete_keys([k for _, _, k in self._chunks(sha256)])
        return ChunkResult(offset=len(whole), complete=True)

    def _verify(self, sha256: str, data: bytes, chunk_keys: list[str]) -> None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            self._delete_keys(chunk_keys)
            raise HashMismatch(sha256, actual)

    def _put_object(self, sha256: str, data: bytes) -> None:
        # Written under its name only now, verified: a reader sees the whole image or nothing.
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.object_key(sha256),
            Body=data,
            ContentMD5=_md5(data),
            Metadata={SHA_METADATA: sha256},
        )

    def make_durable(self, hashes: list[str]) -> list[str]:
        """The images that are not there under their name with their SHA-256 (dropped)."""
        unique = list(dict.fromkeys(hashes))

        def damaged(sha: str) -> bool:
            head = self._head(self.object_key(sha))
            if head is None:
                return True
            if head.get("Metadata", {}).get(SHA_METADATA) != sha:
                self.client.delete_object(Bucket=self.bucket, Key=self.object_key(sha))
                return True
            return False

        with ThreadPoolExecutor(PARALLEL) as pool:
            flags = list(pool.map(damaged, unique))
        return [sha for sha, bad in zip(unique, flags, strict=True) if bad]

    def _shared_key(self, name: str) -> str:
        return f"{self.prefix}derived/{name[:2]}/{name}"

    def get_shared(self, name: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._shared_key(name))
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.ClientError as exc:
            if _status(exc) == 404:
                return None
            raise
        return answer["Body"].read()

    def put_shared(self, name: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._shared_key(name), Body=data, ContentMD5=_md5(data)
        )

    def discard(self, sha256: str) -> int:
        freed = 0
        check_sha256(sha256)
        self._delete_keys([e["Key"] for e in self._list(self._shared_key(f"{sha256}-"))])
        chunks = self._chunks(sha256)
        freed += sum(size for _, size, _ in chunks)
        self._delete_keys([key for _, _, key in chunks])
        size = self.size(sha256)
        if size is not None:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(sha256))
            freed += size
        return freed

    def partial_uploads(self) -> list[str]:
        """The images with chunks held and no object yet."""
        names = set()
        for entry in self._list(f"{self.prefix}partial/"):
            name, _, offset = entry["Key"][len(f"{self.prefix}partial/") :].partition("/")
            if len(name) == 64 and offset.isdigit():
                names.add(name)
        return sorted(names)

    # ---------------------------------------------------------------- bucket plumbing

    def _list(self, prefix: str):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            if batch:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except self.client.exceptions.ClientError:
            self.client.create_bucket(Bucket=self.bucket)


def make_client(
    endpoint: str | None,
    access_key: str | None,
    secret_key: str | None,
    region: str,
    timeout: float | None = None,
) -> Any:
    """The S3 client of a store; with `timeout`, one that tries once and waits that long at most
    (for health checks)."""
    import boto3
    from botocore.config import Config

    quick: dict[str, Any] = {}
    if timeout is not None:
        quick = {"connect_timeout": timeout, "read_timeout": timeout, "retries": {"total_max_attempts": 1}}

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(
            s3={"addressing_style": "path"},
            **{"retries": {"max_attempts": 5, "mode": "standard"}, **quick},
            max_pool_connections=32,
            # Checksums only when the operation requires one: S3-compatible servers differ.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _status(exc: Exception) -> int:
    response = getattr(exc, "response", {}) or {}
    try:
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    except (TypeError, ValueError):
        return 0
