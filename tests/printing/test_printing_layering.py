"""The copy model stands alone: it imports neither the server nor the station, and the paper
check it makes is the one the command line hands in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from massicot_core.errors import UserError
from paper.printing import check_paper

PAPER_PACKAGE = Path(__file__).parents[2] / "paper"
FORBIDDEN = ("correction_server", "scanner", "massicot")


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_copy_model_imports_nothing_of_the_server_or_the_station() -> None:
    sources = sorted(PAPER_PACKAGE.glob("**/*.py"))
    assert sources, "no source found in paper/"
    wrong = {
        f"{path.relative_to(PAPER_PACKAGE.parent)}: {module}"
        for path in sources
        for module in _imported_modules(path)
        if module.split(".")[0] in FORBIDDEN
    }
    assert not wrong, f"paper/ must import only massicot_core: {sorted(wrong)}"


def test_check_paper_asks_the_lookup_it_is_given() -> None:
    asked: list[str] = []

    def known(code: str) -> bool:
        asked.append(code)
        return code == "U3"

    assert check_paper("U3", known) == "U3"
    with pytest.raises(UserError, match="paper U4 is not known in the database"):
        check_paper("U4", known)
    assert asked == ["U3", "U4"]
    # Without a lookup only the code's form is checked.
    assert check_paper("U4") == "U4"
    with pytest.raises(UserError):
        check_paper("u 4", lambda code: True)


def test_the_configured_lookup_reads_massicot_db_only(
    tmp_path: Path, monkeypatch, database_with_paper: str
) -> None:
    from correction_server.cli_support import configured_paper_known

    monkeypatch.delenv("MASSICOT_DB", raising=False)
    assert configured_paper_known("U4")  # no database named: any code prints
    monkeypatch.setenv("MASSICOT_DB", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert configured_paper_known("U4")  # no paper imported anywhere yet
    monkeypatch.setenv("MASSICOT_DB", database_with_paper)
    assert configured_paper_known("U3")
    assert not configured_paper_known("U4")
    monkeypatch.setenv("MASSICOT_DB", f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}")
    with pytest.raises(UserError, match="the database in MASSICOT_DB cannot be read"):
        configured_paper_known("U3")
