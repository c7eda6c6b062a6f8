"""Fixtures for the push tests (helpers in testkit.push_helpers): a seeded server process, proxies,
and the page store under contract (`any_store`: the local folder, and a bucket of a real SeaweedFS
started once for the session by testkit.s3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from correction_server.pages.s3store import S3Store
from correction_server.pages.store import LocalStore
from testkit.push_helpers import CENTRE_A, CENTRE_B, Site, TcpProxy
from testkit.push_setup import ServerProcess, seed_exam
from testkit.s3 import SeaweedS3, throwaway_seaweed


def _start_site(db_url: str, root: Path, env: dict[str, str] | None = None) -> Site:
    exam = seed_exam(db_url, {CENTRE_A: 12, CENTRE_B: 4})
    store = root / "store"
    server = ServerProcess(db_url, store, root / "server-data", env=env).start()
    return Site(server, exam, db_url, store, root)


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    made = _start_site(db_url, tmp_path)
    yield made
    made.server.stop()


@pytest.fixture
def small_limit_site(db_url: str, tmp_path: Path) -> Iterator[Site]:
    """A server that accepts pages up to 100 kB only."""
    made = _start_site(db_url, tmp_path, env={"MASSICOT_MAX_PAGE_BYTES": "100000"})
    yield made
    made.server.stop()


@pytest.fixture
def proxy_factory() -> Iterator:
    made: list[TcpProxy] = []

    def make(target_port: int) -> TcpProxy:
        proxy = TcpProxy(target_port)
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    with throwaway_seaweed() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def any_store(request, tmp_path: Path):
    """A fresh, empty page store of each kind."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    server: SeaweedS3 = request.getfixturevalue("seaweed")
    return S3Store(server.client(), server.new_bucket(), "pages")
