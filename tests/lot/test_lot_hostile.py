"""Hostile and broken files in an import: each gets its line, the rest of the batch goes on, nothing lost."""

from __future__ import annotations

import io

import pikepdf

from testkit.lot import PAPER, booklet, copy_ids, report, run, sheet_jpeg, write_pdf, write_roll

A = copy_ids(1)[0]


def bomb_jpeg(size: int = 65000) -> bytes:
    data = bytearray(sheet_jpeg(booklet(A, None, pages=2)[1]))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = size.to_bytes(2, "big") + size.to_bytes(2, "big")
    return bytes(data)


def locked_pdf(source: bytes) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(source)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    return out.getvalue()


def test_every_bad_file_has_its_line_and_the_good_copy_is_whole(tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    good = write_pdf(scans / "good.pdf", booklet(A, "CAND001"))
    page = sheet_jpeg(booklet(A, None)[1])
    (scans / "empty.pdf").write_bytes(b"")
    (scans / "cut.jpg").write_bytes(page[: len(page) // 3])
    (scans / "letter.pdf").write_text("Dear centre, please find the scans attached.")
    (scans / "locked.pdf").write_bytes(locked_pdf(good.read_bytes()))
    (scans / "bomb.jpg").write_bytes(bomb_jpeg())
    (scans / "link.jpg").symlink_to(tmp_path / "elsewhere.jpg")
    (tmp_path / "elsewhere.jpg").write_bytes(page)
    write_roll(tmp_path / "roll.csv", [("CAND001", True)])
    lot = tmp_path / "lot"
    run(
        "scan",
        "import",
        str(scans),
        "--paper",
        PAPER,
        "--roll",
        str(tmp_path / "roll.csv"),
        "--lot",
        str(lot),
        "--centre",
        "0130040Y",
        "--quiet",
    )
    rep = report(lot)
    [copy] = rep["copies"]
    assert [p["number"] for p in copy["pages"]] == [1, 2, 3, 4] and copy["status"] == "ok"
    lines = {u["source"].split("#")[0].split("/")[-1]: u for u in rep["unassigned"]}
    assert set(lines) == {"empty.pdf", "cut.jpg", "letter.pdf", "locked.pdf", "bomb.jpg", "link.jpg"}
    assert all(u["reason"] and u["kind"] in ("unreadable", "set_aside") for u in lines.values())
    assert "password" in lines["locked.pdf"]["reason"] and "empty" in lines["empty.pdf"]["reason"]
    assert rep["anomalies"] == []
    refused = run("scan", "seal", str(lot), check=False)
    assert refused.returncode == 2 and "locked.pdf" in refused.stderr and "cut.jpg" in refused.stderr
    for entry in rep["unassigned"]:
        run("scan", "resolve", "discard", str(lot), entry["source"], "--reason", "bad export, rescanned")
    assert report(lot)["blocking"] == []
    run("scan", "seal", str(lot))
    assert run("scan", "verify", str(lot)).returncode == 0
