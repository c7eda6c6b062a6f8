"""What the hostile-input tests (tests/hostile) share: pushing in-process, and lots that lie.

`Pushing` is a TestClient on the real application with a paper sat in two centres
(`testkit.push_setup.seed_exam`) and helpers that announce, send and commit a lot folder as
`massicot push` does; `lie` rewrites a lot's manifest and seals it again consistently, as a
broken or hostile station would.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from correction_server.app import create_app
from correction_server.settings import Settings
from massicot_core.contract import IDENTITY_FILE, MANIFEST_FILE, Manifest
from testkit.push_setup import Exam, SealedLot, make_sealed_lot, reseal

CENTRE_A, CENTRE_B = "0130040Y", "0130041Z"
SECRET = "test-secret-key-for-sessions"  # testkit.worlds.auth.SECRET: its login cookies work here


def make_app(db_url: str, store: Path, **settings: object):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_app(Settings(database_url=db_url, store_path=store, secret_key=SECRET, **settings))


@dataclass
class Pushing:
    client: TestClient
    exam: Exam
    db_url: str
    folder: Path

    def bearer(self, centre: str = CENTRE_A) -> dict[str, str]:
        return {"authorization": f"Bearer {self.exam.tokens[centre]}"}

    def lot(self, name: str, registrations: list[str], centre: str = CENTRE_A, **options) -> SealedLot:
        return make_sealed_lot(self.folder / name, centre, self.exam.paper, registrations, **options)

    def announce(self, lot: SealedLot | Path, centre: str = CENTRE_A):
        folder = lot.folder if isinstance(lot, SealedLot) else lot
        body = {
            "manifest": json.loads((folder / MANIFEST_FILE).read_text()),
            "identity": base64.b64encode((folder / IDENTITY_FILE).read_bytes()).decode(),
        }
        return self.client.post("/api/v1/lots", json=body, headers=self.bearer(centre))

    def send_images(self, lot: SealedLot | Path, centre: str = CENTRE_A) -> list:
        folder = lot.folder if isinstance(lot, SealedLot) else lot
        manifest = Manifest.model_validate_json((folder / MANIFEST_FILE).read_text())
        answers = []
        for copy in manifest.copies:
            for page in copy.pages:
                data = (folder / page.image).read_bytes()
                answers.append(
                    self.client.put(
                        f"/api/v1/lots/{manifest.manifest_sha256}/images/{page.sha256}",
                        content=data,
                        headers={
                            **self.bearer(centre),
                            "content-range": f"bytes 0-{len(data) - 1}/{len(data)}",
                        },
                    )
                )
        return answers

    def commit(self, seal: str, centre: str = CENTRE_A):
        return self.client.post(f"/api/v1/lots/{seal}/commit", headers=self.bearer(centre))


def lie(
    lot: SealedLot, change: Callable[[dict], None], identity: Callable[[dict], None] | None = None
) -> str:
    """Rewrite the lot's manifest (and identity file) by `change`, sealed again consistently."""
    data = json.loads((lot.folder / MANIFEST_FILE).read_text())
    if identity is not None:
        import hashlib

        ident = json.loads((lot.folder / IDENTITY_FILE).read_text())
        identity(ident)
        raw = json.dumps(ident).encode()
        (lot.folder / IDENTITY_FILE).write_bytes(raw)
        data["identity_sha256"] = hashlib.sha256(raw).hexdigest()
    change(data)
    return reseal(lot.folder, Manifest.model_construct(**_constructed(data)))


def _constructed(data: dict) -> dict:
    """A Manifest built without validation, so that a lie the schema would refuse can be sealed."""
    from massicot_core.contract import (
        ManifestCopy,
        ManifestPage,
        ManifestSource,
        RollCounts,
        RoomReport,
    )

    out = dict(data)
    out["counts"] = RollCounts.model_construct(**data["counts"])
    out["sources"] = [ManifestSource.model_construct(**s) for s in data["sources"]]
    out["copies"] = [
        ManifestCopy.model_construct(
            **{**c, "pages": [ManifestPage.model_construct(**p) for p in c["pages"]]}
        )
        for c in data["copies"]
    ]
    if data.get("room_report") is not None:
        # Validated, so its defaults are filled in exactly as the server will fill them.
        out["room_report"] = RoomReport.model_validate(data["room_report"])
    return out
