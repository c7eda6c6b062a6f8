"""What a backup folder holds, as its manifest says.

    manifest.json                   the database dump's name, size and SHA-256, the Alembic
                                    revision, every page image with its size, and the history
    database-<when>.sqlite3|.pgdump the latest database dump
    objects/ab/cd/<sha256>          the page images, named by the SHA-256 of their bytes

The manifest is replaced whole (written beside, flushed, renamed) and only once the dump and
the images it names are on disk: a folder always holds one whole backup, the last one finished.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from massicot_core.errors import Refused
from massicot_core.files import write_atomic

MANIFEST_FILE = "manifest.json"
OBJECTS_FOLDER = "objects"
FORMAT = "massicot-backup/1"


@dataclass
class Manifest:
    made_at: str
    database_kind: str
    dump_file: str
    dump_sha256: str
    dump_size: int
    alembic_revision: str
    objects: dict[str, int] = field(default_factory=dict)  # sha256 → size in bytes
    history: list[dict[str, object]] = field(default_factory=list)
    format: str = FORMAT


def object_file(folder: Path, sha256: str) -> Path:
    return folder / OBJECTS_FOLDER / sha256[:2] / sha256[2:4] / sha256


def load(folder: Path, damaged_key: str) -> Manifest | None:
    """The folder's manifest; None when it holds none; refused in `damaged_key`'s words if unreadable."""
    path = folder / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, not {FORMAT}")
        manifest = Manifest(**data)
        if not isinstance(manifest.objects, dict) or not all(
            isinstance(size, int) and len(sha) == 64 for sha, size in manifest.objects.items()
        ):
            raise ValueError("the list of page images is not sha256 → size")
        return manifest
    except (OSError, ValueError, TypeError) as exc:
        raise Refused(400, damaged_key, folder=folder, file=path, reason=str(exc)[:200]) from None


def save(folder: Path, manifest: Manifest) -> None:
    text = json.dumps(asdict(manifest), indent=1, sort_keys=True, ensure_ascii=False)
    write_atomic(folder / MANIFEST_FILE, text.encode("utf-8"))
