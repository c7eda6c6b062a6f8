"""The hostile-input suite over the API description: schemathesis, every operation × every role.

Every operation of /openapi.json gets generated requests (valid and invalid bodies, paths,
queries, headers) with a centre's station token, an office, a coordinator and a corrector
session, and without credentials; no answer may be a server error. Then a sequence over the
push protocol (announce → chunks → commit) with hypothesis choosing what each step sends.
Bounded for CI: `EXAMPLES` per operation and role (MASSICOT_FUZZ_EXAMPLES raises it).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from correction_server.auth import sessions as auth
from correction_server.db import make_engine, make_session_factory
from testkit.hostile import CENTRE_A, make_app
from testkit.push_setup import seed_exam
from testkit.worlds.auth import SECRET, build_world, login_cookie

EXAMPLES = int(os.environ.get("MASSICOT_FUZZ_EXAMPLES", "8"))
ROLES = ("anonymous", "centre", "office", "coordinator", "corrector")
COUNTS = {"operations": 0, "cells": 0, "examples": 0}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'db.sqlite3'}"
    from correction_server.migrate import upgrade_database

    upgrade_database(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    world = build_world(factory, SECRET)
    # The description is read as the office reads it; the routes keep their own rules.
    app = make_app(url, folder / "store", public_api_docs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema, world, factory
    engine.dispose()


def _credentials(world, factory, role: str) -> tuple[dict[str, str], dict[str, str]]:
    if role == "anonymous":
        return {}, {}
    account = world.accounts[role]
    cookie, csrf = login_cookie(factory, account.user_id, SECRET)
    headers = {auth.CSRF_HEADER: csrf}
    if account.bearer:
        headers["authorization"] = f"Bearer {account.bearer}"
    return headers, {auth.SESSION_COOKIE: cookie}


def test_no_operation_answers_a_server_error_to_any_role(fuzzed) -> None:
    schema, world, factory = fuzzed
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    failures: list[str] = []
    for operation in operations:
        COUNTS["operations"] += 1
        for role in ROLES:
            headers, cookies = _credentials(world, factory, role)
            COUNTS["cells"] += 1

            _fuzz(operation, role, headers, cookies, failures)
    print(f"\nschemathesis: {COUNTS}")
    assert not failures, "\n".join(failures[:10])


def _fuzz(operation, role: str, headers: dict, cookies: dict, failures: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def one(case) -> None:
        COUNTS["examples"] += 1
        response = case.call(headers={**(case.headers or {}), **headers}, cookies=cookies)
        if response.status_code >= 500:
            failures.append(f"{role} {operation.label}: {response.status_code} for {case.as_curl_command()}")

    one()


# --- a sequence over the push protocol ---------------------------------------------------------


@pytest.fixture
def push_site(tmp_path: Path):
    from fastapi.testclient import TestClient

    from correction_server.migrate import upgrade_database
    from testkit.hostile import Pushing

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_database(url)
    exam = seed_exam(url, {CENTRE_A: 3}, paper="H1")
    with TestClient(make_app(url, tmp_path / "store")) as client:
        yield Pushing(client, exam, url, tmp_path)


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["chunk", "head", "commit", "state", "announce"]),
        st.integers(0, 10),  # which image
        st.integers(-5, 5000),  # start offset shift
        st.integers(0, 4000),  # chunk length
        st.booleans(),  # corrupt the chunk's bytes
        st.sampled_from(["ok", "range-lies", "no-range", "total-lies"]),
    ),
    max_size=25,
)


def test_announce_chunks_commit_in_any_order_never_fails_the_server(push_site, tmp_path) -> None:
    pushing = push_site
    lot = pushing.lot("lot", pushing.exam.candidates[CENTRE_A][:2], pages_per_copy=2)
    pages = [page for copy in lot.manifest.copies for page in copy.pages]
    datas = [(lot.folder / page.image).read_bytes() for page in pages]
    runs = {"sequences": 0, "requests": 0}

    @settings(
        max_examples=EXAMPLES * 4, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(steps=STEPS)
    def sequence(steps) -> None:
        runs["sequences"] += 1
        client, bearer = pushing.client, pushing.bearer()
        for action, which, shift, length, corrupt, range_kind in steps:
            page, data = pages[which % len(pages)], datas[which % len(datas)]
            base = f"/api/v1/lots/{lot.seal}"
            if action == "announce":
                answer = pushing.announce(lot)
            elif action == "commit":
                answer = client.post(base + "/commit", headers=bearer)
            elif action == "state":
                answer = client.get(base, headers=bearer)
            elif action == "head":
                answer = client.head(f"{base}/images/{page.sha256}", headers=bearer)
            else:
                offset = int(
                    client.head(f"{base}/images/{page.sha256}", headers=bearer).headers.get(
                        "upload-offset", 0
                    )
                )
                start = max(0, offset + shift) if shift < 4000 else offset
                chunk = data[start : start + length]
                if corrupt and chunk:
                    chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                end = start + len(chunk) - 1
                total = len(data) + (7 if range_kind == "total-lies" else 0)
                headers = dict(bearer)
                if range_kind != "no-range":
                    headers["content-range"] = (
                        f"bytes {start}-{end + (3 if range_kind == 'range-lies' else 0)}/{total}"
                    )
                answer = client.put(f"{base}/images/{page.sha256}", content=chunk, headers=headers)
            runs["requests"] += 1
            assert answer.status_code < 500, (action, answer.status_code, answer.text[:300])
        # Whatever happened, an honest push still finishes the lot.
        assert pushing.announce(lot).status_code == 200
        for answer in pushing.send_images(lot):
            assert answer.status_code in (200, 409), answer.text
        assert pushing.commit(lot.seal).status_code in (200, 201)

    sequence()
    print(f"\npush sequences: {runs}")
