"""Two server hosts sharing one database and one S3 bucket (a real SeaweedFS): a push cut on one host
resumes on the other, every page lands in the bucket verified, and display images are made from it."""

from __future__ import annotations

import hashlib
import signal
import time
from pathlib import Path

import pytest

from correction_server.pages.s3store import S3Store
from testkit.push_helpers import CENTRE_A, run_push, start_push_stalled_midway
from testkit.push_setup import ServerProcess, make_sealed_lot, page_jpeg, seed_exam
from testkit.s3 import SeaweedS3

pytestmark = pytest.mark.slow


def test_a_push_cut_on_one_host_resumes_on_the_other_into_the_bucket(
    db_url: str, tmp_path: Path, seaweed: SeaweedS3, proxy_factory
):
    bucket = seaweed.new_bucket()
    env = {**seaweed.environ(), "MASSICOT_STORE_URL": f"s3://{bucket}/pages"}
    exam = seed_exam(db_url, {CENTRE_A: 6})
    hosts = [
        ServerProcess(db_url, tmp_path / f"host{n}" / "store", tmp_path / f"host{n}", env=env).start()
        for n in (1, 2)
    ]
    try:
        big = {
            (i, n): page_jpeg(f"big {i} {n}", 1200, 1700, noise=25, seed=10 * i + n)
            for i in range(3)
            for n in (1, 2)
        }
        lot = make_sealed_lot(
            tmp_path / "lot", CENTRE_A, exam.paper, exam.candidates[CENTRE_A][:4], big_pages=big
        )
        token = exam.tokens[CENTRE_A]
        proxy = proxy_factory(hosts[0].port)
        station = start_push_stalled_midway(lot.folder, lot.image_bytes, proxy, token)
        station.send_signal(signal.SIGKILL)
        station.wait(10)
        proxy.release()
        store = S3Store(seaweed.client(), bucket, "pages")
        begun = store.partial_uploads()
        assert begun, "the cut push left an upload half-way in the bucket"
        held = {sha: store.upload_offset(sha) for sha in begun}
        assert all(offset > 0 for offset in held.values())

        # The station comes back and reaches the other host: it continues where the bucket stands.
        resumed = run_push(lot.folder, hosts[1].url, token)
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout.startswith("received: 4 copies")
        assert store.partial_uploads() == []
        for copy in lot.manifest.copies:
            for page in copy.pages:
                with store.open(page.sha256) as handle:
                    assert hashlib.sha256(handle.read()).hexdigest() == page.sha256
        # Nothing of the pages was kept on either host's disk: the bucket holds them.
        for n in (1, 2):
            assert not [p for p in (tmp_path / f"host{n}" / "store" / "objects").rglob("*") if p.is_file()]
        # The display images are made from the bucket's originals by the host that received the lot.
        derived = tmp_path / "host2" / "store" / "derived"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(derived.glob("*/*.jpg"))) < lot.pages:
            time.sleep(0.5)
        assert len(list(derived.glob("*/*.jpg"))) >= len(
            {p.sha256 for c in lot.manifest.copies for p in c.pages}
        )
    finally:
        for host in hosts:
            host.stop()
