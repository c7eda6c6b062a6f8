"""Files the office uploads in the console (a candidate list, a paper, a list of accounts): kept
under the data folder until the import that reads them has run, named by a random id so a check
and the import after it read the same bytes, whichever server process runs them."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

from massicot_core.errors import UserError
from massicot_core.files import write_atomic

UPLOADS_FOLDER = "office-uploads"
# An uploaded file larger than this is refused (an académie's candidate list is a few MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def uploads_dir(store_path: Path) -> Path:
    return Path(store_path).parent / UPLOADS_FOLDER


def safe_name(filename: str, default: str) -> str:
    """The file's own name without folders or odd characters (the problems name it)."""
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .")
    return name or default


def keep_upload(store_path: Path, filename: str, data: bytes, default: str) -> str:
    """Keep the bytes; return the upload's id."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UserError(f"{filename}: the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    upload_id = secrets.token_urlsafe(18)
    folder = uploads_dir(store_path) / upload_id
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / safe_name(filename, default), data)
    return upload_id


def upload_path(store_path: Path, upload_id: str) -> Path:
    """The kept file of an upload (a UserError when it is gone or the id is not one)."""
    folder = uploads_dir(store_path) / upload_id
    files = sorted(folder.iterdir()) if _ID.match(upload_id or "") and folder.is_dir() else []
    if not files:
        raise UserError("This uploaded file is no longer on the server: upload it again.")
    return files[0]


def forget_upload(store_path: Path, upload_id: str) -> None:
    if _ID.match(upload_id or ""):
        shutil.rmtree(uploads_dir(store_path) / upload_id, ignore_errors=True)
