"""The office's dispatch page in a test: a logged-in office account's client and its CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from correction_server.auth import sessions as auth
from correction_server.models import Role, User
from testkit.worlds.auth import SECRET, login_cookie, make_client


@contextmanager
def office_client(
    factory: sessionmaker[Session], db_url: str, store: Path
) -> Iterator[tuple[TestClient, str]]:
    """A client logged in as a new office account, and the account's CSRF token."""
    with factory() as s, s.begin():
        office = User(username="office@ac.fr", role=Role.OFFICE)
        s.add(office)
        s.flush()
        office_id = office.id
    cookie, csrf = login_cookie(factory, office_id, SECRET)
    with make_client(db_url, store) as client:
        client.cookies.set(auth.SESSION_COOKIE, cookie)
        yield client, csrf
