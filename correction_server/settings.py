"""Where the server keeps its data. Defaults: SQLite + a local folder, under ./massicot-data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("massicot-data")
DERIVED_FOLDER = "derived"  # under the store's folder


@dataclass(frozen=True)
class Settings:
    database_url: str
    store_path: Path
    secret_key: str
    # Largest page image accepted, in bytes (a 600 dpi colour A4 JPEG is ~6 MB).
    max_page_bytes: int = 20 * 1024 * 1024
    # Addresses (or networks, e.g. 10.0.0.0/24) of the reverse proxies in front of the server:
    # only from them are X-Forwarded-For / X-Forwarded-Proto believed. Default: none (the
    # peer's own address and scheme count). MASSICOT_TRUSTED_PROXIES, comma-separated.
    trusted_proxies: tuple[str, ...] = ()
    # Whether /docs and /openapi.json are open to anyone; by default only to the office.
    # MASSICOT_PUBLIC_API_DOCS=1 opens them (a test installation).
    public_api_docs: bool = False
    # The page images in an S3-compatible bucket (`s3://bucket/prefix`, MASSICOT_STORE_URL) rather
    # than under `store_path`, which then holds only this host's derived display images.
    store_url: str | None = None
    # Where background jobs run: "in-process" (the server's own renderer and threads, one host)
    # or "queue" (PostgreSQL's job queue, run by `massicot worker` on any host). MASSICOT_JOBS.
    jobs: str = "in-process"

    @property
    def store_location(self) -> str:
        """What `pages.store.open_store` opens: the bucket when one is set, else the folder."""
        return self.store_url or str(self.store_path)

    @property
    def derived_path(self) -> Path:
        """Where display images are made, beside the store's originals."""
        return derived_dir(self.store_path)

    @classmethod
    def from_env(cls, database_url: str | None = None, store_path: Path | None = None) -> Settings:
        data_dir = Path(os.environ.get("MASSICOT_DATA", DEFAULT_DATA_DIR))
        url = database_url or os.environ.get("MASSICOT_DB")
        if not url:
            data_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{(data_dir / 'massicot.sqlite3').resolve()}"
        store = store_path or Path(os.environ.get("MASSICOT_STORE", data_dir / "store"))
        secret = os.environ.get("MASSICOT_SECRET_KEY") or _local_secret(data_dir)
        max_page = os.environ.get("MASSICOT_MAX_PAGE_BYTES")
        extra: dict[str, object] = {"store_url": os.environ.get("MASSICOT_STORE_URL") or None}
        if max_page:
            extra["max_page_bytes"] = int(max_page)
        proxies = os.environ.get("MASSICOT_TRUSTED_PROXIES", "")
        extra["trusted_proxies"] = tuple(p.strip() for p in proxies.split(",") if p.strip())
        extra["jobs"] = "queue" if os.environ.get("MASSICOT_JOBS", "").strip() == "queue" else "in-process"
        extra["public_api_docs"] = os.environ.get("MASSICOT_PUBLIC_API_DOCS", "") in ("1", "true", "yes")
        return cls(database_url=url, store_path=store, secret_key=secret, **extra)  # type: ignore[arg-type]


def derived_dir(store_path: Path | str) -> Path:
    return Path(store_path) / DERIVED_FOLDER


def _local_secret(data_dir: Path) -> str:
    """A per-installation secret kept beside the data, so sessions survive a restart."""
    import secrets

    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value
