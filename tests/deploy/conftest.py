"""The several-host topology on this machine (deploy/up_local.py), brought up once for the tests
that ask for it: PostgreSQL, SeaweedFS, two `massicot serve`, nginx in front. Tests that stop a
part start it again before they end, so the next test finds the site whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from correction_server.auth.sessions import hash_password
from correction_server.db import make_engine, make_session_factory
from deploy.up_local import NGINX, up_local
from testkit.deployment import PASSWORD, Site
from testkit.missing import missing
from testkit.worlds.marking import build_world


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    if not NGINX.is_file():
        missing(f"nginx is missing at {NGINX} (apt-get install nginx)")
    with up_local() as deployment:
        engine = make_engine(deployment.db_url)
        try:
            now = datetime.now(UTC)
            world = build_world(
                make_session_factory(engine),
                window=(now - timedelta(days=1), now + timedelta(days=5)),
                password_hash=hash_password(PASSWORD),
            )
        finally:
            engine.dispose()
        yield Site(deployment, world)
