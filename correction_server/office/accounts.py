"""Accounts: the office creates correctors, coordinators and office staff from a CSV/XLSX file.

Columns: `name, email, establishment_uai, papers, capacity, role`
- `email` is also the username (lower-cased);
- `establishment_uai`: where the person teaches (a corrector never marks that
  établissement's candidates); created if the candidate import did not bring it. A teacher of
  several établissements lists them all, separated by spaces or semicolons: the first is his
  own, the others are kept as `CorrectorEstablishment` (DOMAIN rule 23) and honoured alike;
- `papers`: paper codes separated by spaces, commas or semicolons; `U3:120` gives that
  paper its own capacity, otherwise the `capacity` column applies (copies the corrector
  accepts for the paper);
- `role`: corrector (default when empty), coordinator or office. Centre accounts come from
  `massicot office centre-token`.

All lines are checked first: a file with any problem imports nothing, and each problem is
reported with its line. Importing the same file again updates names, établissements and
capacities, and never changes a password, a role or whether an account is active. A new account
gets either a generated initial password (shown once) or a set-password link
(`set_password_links=True`).

The audit log gets, in the import's transaction, one entry per account created (username, role,
établissement, papers, how the first password is handed over and until when a link works) and one
per account the import changed (each changed field, old and new). An account the file leaves as it
was gets no entry, so importing the same file every morning adds nothing to the log. Never a
password, a hash or a link: a link is a bearer secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from correction_server.audit import log as audit
from correction_server.audit.actors import SYSTEM, Actor
from correction_server.auth import sessions as auth
from correction_server.auth.passwords import COMMAND_LINE_OFFICE, existing_account
from correction_server.db import transaction
from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.conflicts import CorrectorEstablishment
from correction_server.models.exam import Establishment, Paper
from correction_server.office.import_report import ImportRejected, Problem
from correction_server.office.tables import read_table
from massicot_core.errors import UserError
from massicot_core.identifiers import PAPER_CODE, UAI_RE

ACCOUNT_COLUMNS = ("name", "email", "establishment_uai", "papers")
OPTIONAL_ACCOUNT_COLUMNS = ("capacity", "role")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PAPER_RE = re.compile(rf"^({PAPER_CODE})(?::(\d+))?$")
# Audit log actions (object: the account, "user" and its id).
ACCOUNT_CREATED = "account.create"
ACCOUNT_UPDATED = "account.update"
LINK_ISSUED = "account.set_password_link"
IMPORTABLE_ROLES = {"corrector": Role.CORRECTOR, "coordinator": Role.COORDINATOR, "office": Role.OFFICE}


@dataclass(frozen=True)
class AccountLine:
    line: int
    name: str
    email: str
    establishment_uai: str | None
    role: Role
    papers: dict[str, int]  # paper code → capacity
    also_uais: tuple[str, ...] = ()  # the other établissements where he teaches


@dataclass(frozen=True)
class NewAccount:
    username: str
    name: str
    role: Role
    password: str | None = None  # shown once, never stored in clear
    set_password_path: str | None = None  # /password/<token>, to put after the server's address


@dataclass
class AccountsImported:
    created: list[NewAccount] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"{len(self.created)} account(s) created, {len(self.changed)} changed, "
            f"{len(self.unchanged)} unchanged."
        ]
        for acc in self.created:
            secret = acc.password if acc.password else acc.set_password_path
            lines.append(f"  {acc.username}\t{acc.role.value}\t{secret}")
        if self.created:
            what = "initial passwords" if self.created[0].password else "set-password links"
            lines.append(f"The {what} above are shown only now: hand each one to its owner.")
        return "\n".join(lines)


def parse_accounts(path: Path) -> list[AccountLine]:
    table = read_table(path)
    problems = list(table.problems)
    missing = [c for c in ACCOUNT_COLUMNS if c not in table.columns]
    if missing:
        raise ImportRejected(
            table.origin,
            [
                Problem(
                    table.header_line,
                    f"missing column(s): {', '.join(missing)} (expected {', '.join(ACCOUNT_COLUMNS)}, "
                    f"and optionally {', '.join(OPTIONAL_ACCOUNT_COLUMNS)})",
                )
            ],
        )
    lines: list[AccountLine] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        parsed = _parse_line(row.line, row.values, problems)
        if parsed is None:
            continue
        if parsed.email in seen:
            problems.append(Problem(row.line, f"{parsed.email} is already on line {seen[parsed.email]}"))
            continue
        seen[parsed.email] = row.line
        lines.append(parsed)
    if not lines and not problems:
        problems.append(Problem(0, "the file has no account line"))
    if problems:
        raise ImportRejected(table.origin, problems)
    return lines


def _parse_line(line: int, v: dict[str, str], problems: list[Problem]) -> AccountLine | None:
    before = len(problems)

    def bad(reason: str) -> None:
        problems.append(Problem(line, reason))

    name = (v.get("name") or "").strip()
    email = (v.get("email") or "").strip().lower()
    uais = [u for u in re.split(r"[\s;,]+", (v.get("establishment_uai") or "").strip().upper()) if u]
    uai = uais[0] if uais else None
    for other in uais[1:]:
        if not UAI_RE.match(other):
            bad(
                f"establishment_uai “{other}” is not a UAI code: "
                "7 digits then a capital letter, e.g. 0130040Y"
            )
    role_text = (v.get("role") or "").strip().lower() or "corrector"
    capacity_text = (v.get("capacity") or "").strip()
    if not name:
        bad("name is empty")
    if not EMAIL_RE.match(email):
        bad(f"“{email}” is not an e-mail address (it is also the login)")
    if uai and not UAI_RE.match(uai):
        bad(f"establishment_uai “{uai}” is not a UAI code: 7 digits then a capital letter, e.g. 0130040Y")
    role = IMPORTABLE_ROLES.get(role_text)
    if role is None:
        hint = " (centre accounts come from `massicot office centre-token`)" if role_text == "centre" else ""
        bad(f"role “{role_text}” is not one of corrector, coordinator, office{hint}")
    default_capacity = 0
    if capacity_text:
        if capacity_text.isdigit():
            default_capacity = int(capacity_text)
        else:
            bad(f"capacity “{capacity_text}” is not a whole number of copies")
    papers: dict[str, int] = {}
    for item in (p for p in re.split(r"[\s;,]+", (v.get("papers") or "").upper()) if p):
        match = PAPER_RE.match(item)
        if not match:
            bad(f"“{item}” in papers is not a paper code (e.g. U3, or U3:120 with its own capacity)")
            continue
        papers[match.group(1)] = int(match.group(2)) if match.group(2) else default_capacity
    if role == Role.CORRECTOR:
        if not papers:
            bad("papers is empty: list the paper codes this corrector marks, e.g. “U3 U4”")
        if uai is None:
            bad("establishment_uai is empty: it is needed to keep a corrector's own students away from him")
        if papers and not any(papers.values()):
            bad("capacity is 0: say how many copies this corrector accepts (capacity column, or U3:120)")
    if len(problems) > before or role is None:
        return None
    return AccountLine(line, name, email, uai, role, papers, tuple(dict.fromkeys(uais[1:])))


def import_accounts(
    factory: sessionmaker[Session],
    path: Path,
    secret_key: str,
    set_password_links: bool = False,
    actor: Actor = SYSTEM,
    by_name: str = COMMAND_LINE_OFFICE,
) -> AccountsImported:
    """Parse, check against the database, and write everything (audit entries included) in one
    transaction."""
    lines = parse_accounts(path)
    with transaction(factory) as session:
        return apply_accounts(session, lines, str(path), secret_key, set_password_links, actor, by_name)


def apply_accounts(
    session: Session,
    lines: list[AccountLine],
    origin: str,
    secret_key: str,
    set_password_links: bool,
    actor: Actor = SYSTEM,
    by_name: str = COMMAND_LINE_OFFICE,
) -> AccountsImported:
    papers_by_code: dict[str, list[Paper]] = {}
    for paper in session.scalars(select(Paper)):
        papers_by_code.setdefault(paper.code, []).append(paper)
    problems = []
    for acc in lines:
        for code in acc.papers:
            found = papers_by_code.get(code, [])
            if not found:
                known = ", ".join(sorted(papers_by_code)) or "none yet: import the papers first"
                problems.append(Problem(acc.line, f"paper {code} is unknown (known: {known})"))
            elif len(found) > 1:
                problems.append(
                    Problem(acc.line, f"paper {code} exists in several sessions; keep one session per file")
                )
    if problems:
        raise ImportRejected(origin, problems)

    result = AccountsImported()
    trace = _Trace(actor, by_name.strip() or COMMAND_LINE_OFFICE, Path(origin).name)
    code_of_paper = {found[0].id: code for code, found in papers_by_code.items()}
    establishments = {e.uai: e for e in session.scalars(select(Establishment))}
    uai_of = {e.id: e.uai for e in establishments.values()}
    users = {
        u.username: u
        for u in session.scalars(select(User).where(User.username.in_([a.email for a in lines])))
    }
    for acc in lines:
        establishment = None
        if acc.establishment_uai:
            establishment = establishments.get(acc.establishment_uai)
            if establishment is None:
                establishment = Establishment(uai=acc.establishment_uai, name="")
                session.add(establishment)
                session.flush()
                establishments[acc.establishment_uai] = establishment
                uai_of[establishment.id] = establishment.uai
        user = users.get(acc.email)
        new_password = None
        before: dict[str, object] = {}
        if user is None:
            new_password = auth.generate_password()
            user = User(username=acc.email, role=acc.role, active=True)
            user.password_hash = None if set_password_links else auth.hash_password(new_password)
            session.add(user)
        elif user.role != acc.role:
            raise ImportRejected(
                origin,
                [
                    Problem(
                        acc.line,
                        f"{acc.email} already exists as {user.role.value}; a role is not changed by import",
                    )
                ],
            )
        else:
            before = _traced_fields(user, uai_of)
        user.display_name = acc.name
        user.email = acc.email
        user.establishment_id = establishment.id if establishment else None
        session.flush()
        _set_other_establishments(session, user, acc.also_uais, establishments, uai_of)
        capacities = _set_papers(
            session, user, {papers_by_code[c][0].id: cap for c, cap in acc.papers.items()}
        )
        capacities = {code_of_paper[paper_id]: change for paper_id, change in capacities.items()}
        if new_password is None:
            changes = _changes(before, _traced_fields(user, uai_of), capacities)
            if changes:
                trace.updated(session, user, changes)
                result.changed.append(acc.email)
            else:
                result.unchanged.append(acc.email)
        elif set_password_links:
            token = auth.set_password_token(user, secret_key)
            expires = auth.set_password_token_expiry(token, secret_key)
            trace.created(session, user, acc, "set_password_link", expires)
            path = "/password/" + token
            result.created.append(NewAccount(acc.email, acc.name, acc.role, set_password_path=path))
        else:
            trace.created(session, user, acc, "initial_password", None)
            result.created.append(NewAccount(acc.email, acc.name, acc.role, password=new_password))
    return result


def _set_other_establishments(
    session: Session,
    user: User,
    uais: tuple[str, ...],
    establishments: dict[str, Establishment],
    uai_of: dict[int, str],
) -> None:
    """The other établissements where he teaches become exactly those of the file."""
    wanted = set()
    for uai in uais:
        establishment = establishments.get(uai)
        if establishment is None:
            establishment = Establishment(uai=uai, name="")
            session.add(establishment)
            session.flush()
            establishments[uai] = establishment
            uai_of[establishment.id] = uai
        wanted.add(establishment.id)
    wanted.discard(user.establishment_id)
    have = {
        row.establishment_id: row
        for row in session.scalars(
            select(CorrectorEstablishment).where(CorrectorEstablishment.user_id == user.id)
        )
    }
    for establishment_id, row in have.items():
        if establishment_id not in wanted:
            session.delete(row)
    for establishment_id in sorted(wanted - set(have)):
        session.add(CorrectorEstablishment(user_id=user.id, establishment_id=establishment_id))
    session.flush()


def _traced_fields(user: User, uai_of: dict[int, str]) -> dict[str, object]:
    """What a re-import may change on an account, as the audit log shows it (never a secret)."""
    session = Session.object_session(user)
    also = []
    if session is not None and user.id is not None:
        also = sorted(
            uai_of.get(e, str(e))
            for e in session.scalars(
                select(CorrectorEstablishment.establishment_id).where(
                    CorrectorEstablishment.user_id == user.id
                )
            )
        )
    return {
        "name": user.display_name,
        "email": user.email,
        "establishment": uai_of.get(user.establishment_id) if user.establishment_id else None,
        "also_teaches_at": also,
        "role": user.role.value,
        "active": user.active,
    }


def _changes(
    before: dict[str, object], after: dict[str, object], capacities: dict[str, tuple[int | None, int]]
) -> dict[str, dict]:
    """Field → {"old", "new"} for what differs; "papers" → code → {"old", "new"} (old None: added)."""
    changes: dict[str, dict] = {
        key: {"old": before[key], "new": after[key]} for key in after if before[key] != after[key]
    }
    if capacities:
        changes["papers"] = {
            code: {"old": old, "new": new} for code, (old, new) in sorted(capacities.items())
        }
    return changes


@dataclass(frozen=True)
class _Trace:
    """Writes an import's audit entries: who ran it (`by`, as reset-password), from which file."""

    actor: Actor
    by: str
    file: str

    def created(
        self,
        session: Session,
        user: User,
        acc: AccountLine,
        first_password: str,
        link_expires: datetime | None,
    ) -> None:
        details: dict[str, object] = {
            "username": user.username,
            "role": user.role.value,
            "establishment": acc.establishment_uai,
            "papers": dict(sorted(acc.papers.items())),
            "active": user.active,
            # How the owner gets in: a generated password shown once, or a link. Neither is written.
            "first_password": first_password,
            "by": self.by,
            "file": self.file,
        }
        if link_expires is not None:
            details["link_expires_at"] = link_expires.isoformat()
        audit.record(session, self.actor, ACCOUNT_CREATED, "user", user.id, details)

    def updated(self, session: Session, user: User, changes: dict[str, dict]) -> None:
        details = {"username": user.username, "changes": changes, "by": self.by, "file": self.file}
        audit.record(session, self.actor, ACCOUNT_UPDATED, "user", user.id, details)


def _set_papers(
    session: Session, user: User, capacities: dict[int, int]
) -> dict[int, tuple[int | None, int]]:
    """Add or update the listed papers. A paper left out of the file is kept (he may hold lots).

    Returns paper id → (old capacity or None if added, new capacity), for the papers that changed."""
    existing = {
        cp.paper_id: cp
        for cp in session.scalars(select(CorrectorPaper).where(CorrectorPaper.user_id == user.id))
    }
    changed: dict[int, tuple[int | None, int]] = {}
    for paper_id, capacity in capacities.items():
        row = existing.get(paper_id)
        if row is None:
            session.add(CorrectorPaper(user_id=user.id, paper_id=paper_id, capacity=capacity))
            changed[paper_id] = (None, capacity)
        elif row.capacity != capacity:
            changed[paper_id] = (row.capacity, capacity)
            row.capacity = capacity
    return changed


@dataclass(frozen=True)
class IssuedLink:
    username: str
    path: str  # /password/<token>: a bearer secret, shown once, never written anywhere
    expires_at: datetime


def set_password_link(
    session: Session,
    username: str,
    secret_key: str,
    actor: Actor = SYSTEM,
    by_name: str = COMMAND_LINE_OFFICE,
) -> IssuedLink:
    """A fresh set-password link for an existing account (the old password stays until it is used).

    The audit log gets whose account, who issued it and until when it works; never the link, whose
    token lets anyone holding it choose the account's password. Caller commits."""
    user = existing_account(session, username)
    if not user.active:
        # The link page refuses disabled accounts: a link handed out would only fail later.
        raise UserError(f"The account {user.username} is disabled: a set-password link would not work.")
    token = auth.set_password_token(user, secret_key)
    expires = auth.set_password_token_expiry(token, secret_key)
    audit.record(
        session,
        actor,
        LINK_ISSUED,
        "user",
        user.id,
        {
            "username": user.username,
            "by": by_name.strip() or COMMAND_LINE_OFFICE,
            "expires_at": expires.isoformat(),
        },
    )
    return IssuedLink(user.username, "/password/" + token, expires)
