"""`massicot office ...` commands of the jury rules: the harmonisation meeting and its mark
changes, justified absences and the replacement list, voiding a paper after a fraud procedure,
the jury's meetings, payment levels, rates and the confirmation of the work.

The same services as the pages; every decision is in the audit log under the name given by --by.
"""

from __future__ import annotations

from pathlib import Path

import typer

from correction_server.audit.actors import SYSTEM
from correction_server.cli_support import (
    BY_OPTION_HELP,
    DB_OPTION_HELP,
    open_page_store,
    parse_day,
    with_database,
    write_atomically,
)
from massicot_core.errors import UserError

app = typer.Typer()


def _user_id(session, username: str) -> int:
    from sqlalchemy import select

    from correction_server.models import User

    uid = session.scalar(select(User.id).where(User.username == username.strip()))
    if uid is None:
        raise UserError(f"No account is named {username!r}.")
    return uid


@app.command("harmonisation-meeting")
def harmonisation_meeting_command(
    paper: str = typer.Option(..., "--paper"),
    on: str = typer.Option(..., "--on", help="The meeting's date, YYYY-MM-DD."),
    attendees: str = typer.Option(..., "--attendees", help="Who attended."),
    minutes: str = typer.Option(..., "--minutes", help="The minutes."),
    by: str = typer.Option(..., "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Record the harmonisation meeting after marking: the paper's marks may go to the jury after it."""
    from correction_server.coordination.harmonisation_meeting import record_meeting
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    day = parse_day(on, "--on")

    def work(factory):
        with transaction(factory) as session:
            record_meeting(session, find_paper(session, paper).id, day, attendees, minutes, SYSTEM, by)

    with_database(db, work)
    typer.echo(f"Harmonisation meeting of {paper} on {day} recorded: its marks may now be exported.")


@app.command("harmonise")
def harmonise_command(
    paper: str = typer.Option(..., "--paper"),
    reason: str = typer.Option(..., "--reason", help="Why (each corrector reads it on his copies)."),
    corrector: str | None = typer.Option(
        None, "--corrector", help="Every copy of this corrector (username)."
    ),
    every_copy: bool = typer.Option(False, "--all", help="Every copy of the paper."),
    delta: str = typer.Option("", "--delta", help="Points out of 20 added (half points; negative removes)."),
    copy: str | None = typer.Option(None, "--copy", help="One copy (its id)…"),
    new_mark: str = typer.Option("", "--new-mark", help="…and its new mark out of 20."),
    apply: bool = typer.Option(False, "--apply", help="Apply it (without: only the preview)."),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Preview (then --apply) a change of the harmonisation meeting: one copy, or a rule over a set."""
    from correction_server.coordination.harmonisation_rules import RuleIn, apply_rule, preview
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    chosen = [x for x in (corrector, copy, every_copy or None) if x]
    if len(chosen) != 1:
        raise UserError(
            "Say what the change applies to: --corrector NAME, --all, or --copy ID with --new-mark."
        )

    def work(factory):
        with transaction(factory) as session:
            paper_id = find_paper(session, paper).id
            if copy:
                rule = RuleIn("copy", reason, copy_id=copy, new_mark=new_mark)
            elif corrector:
                rule = RuleIn("corrector", reason, delta=delta, corrector_id=_user_id(session, corrector))
            else:
                rule = RuleIn("all", reason, delta=delta)
            seen = preview(session, paper_id, rule)
            applied = apply_rule(session, paper_id, rule, SYSTEM, by) if apply else None
            return seen, applied

    seen, applied = with_database(db, work)
    b, a = seen.before, seen.after
    typer.echo(f"{len(seen.changes)} mark(s) change, {seen.unchanged} stay (at the cap).")
    typer.echo(f"Before: {b.pool_n} copies, mean {b.pool_mean:.2f}, sd {b.pool_sd:.2f}.")
    typer.echo(f"After:  {a.pool_n} copies, mean {a.pool_mean:.2f}, sd {a.pool_sd:.2f}.")
    for name, n, before, after in seen.corrector_means():
        typer.echo(f"  {name}\t{n} copies\t{before:.2f} -> {after:.2f}")
    for c in seen.changes[:20]:
        typer.echo(f"  {c.copy_id}\t{c.before} -> {c.after}")
    if applied is None:
        typer.echo("Preview only: run again with --apply to change the marks.")
    else:
        typer.echo(f"Applied: {applied.changed} mark(s) changed (rule {applied.id}, in the audit log).")


@app.command("justify-absence")
def justify_absence_command(
    paper: str = typer.Option(..., "--paper"),
    candidate: str = typer.Option(..., "--candidate", help="Registration number."),
    evidence: str = typer.Option(..., "--evidence", help="The evidence (medical certificate of …)."),
    file: Path | None = typer.Option(None, "--file", help="A scan of the evidence."),
    store: Path | None = typer.Option(None, "--store", help="Folder of the page images."),
    by: str = typer.Option(..., "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Record an AB copy's absence as justified: mark 0, listed for the replacement session."""
    from correction_server.closing.absence import justify_absence
    from correction_server.closing.attachments import Attachment
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    objects = open_page_store(db, store)[0] if file else None
    attachment = Attachment(file.name, file.read_bytes()) if file else None

    def work(factory):
        with transaction(factory) as session:
            justify_absence(
                session,
                find_paper(session, paper).id,
                candidate,
                evidence,
                SYSTEM,
                by,
                attachment=attachment,
                store=objects,
            )

    with_database(db, work)
    typer.echo(
        f"Absence of {candidate.upper()} from {paper} justified: mark 0, listed for the replacement session."
    )


@app.command("replacement-list")
def replacement_list_command(
    out: Path = typer.Option(..., "--out", help="The CSV to write."),
    paper: str | None = typer.Option(None, "--paper", help="One paper only (default: all)."),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """The candidates of the replacement session (justified absences)."""
    from correction_server.closing.absence import replacement_csv
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with transaction(factory) as session:
            paper_id = find_paper(session, paper).id if paper else None
            return replacement_csv(session, SYSTEM, by, paper_id)

    data = with_database(db, work)
    write_atomically(out, data)
    lines = data.count(b"\n") - 1
    typer.echo(f"{lines} candidate(s) written to {out}.")


@app.command("void")
def void_command(
    paper: str = typer.Option(..., "--paper"),
    candidate: str = typer.Option(..., "--candidate", help="Registration number."),
    decision: str = typer.Option(..., "--decision", help="The sanction decided."),
    by: str = typer.Option(..., "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """End a fraud procedure by voiding the paper: deemed present without having sat it."""
    from correction_server.closing.fraud import declare_void
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with transaction(factory) as session:
            declare_void(session, candidate, find_paper(session, paper).id, decision, SYSTEM, by)

    with_database(db, work)
    typer.echo(f"{paper} declared void for {candidate.upper()}; the procedure is closed.")


@app.command("jury-meeting")
def jury_meeting_command(
    paper: str = typer.Option(..., "--paper"),
    kind: str = typer.Option(..., "--kind", help="deliberation (freezes the marks) or reconvened."),
    on: str = typer.Option(..., "--on", help="YYYY-MM-DD."),
    minutes: str = typer.Option("", "--minutes", help="Minutes; for a reconvened jury, why."),
    by: str = typer.Option(..., "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """Record the jury's deliberation on a paper (its marks freeze) or its reconvening (they thaw)."""
    from correction_server.closing.deliberation import record_jury_meeting
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    day = parse_day(on, "--on")

    def work(factory):
        with transaction(factory) as session:
            record_jury_meeting(session, find_paper(session, paper).id, kind, day, minutes, SYSTEM, by)

    with_database(db, work)
    state = "frozen" if kind == "deliberation" else "open to a material error correction"
    typer.echo(f"Jury {kind} of {paper} on {day} recorded: its marks are {state}.")


@app.command("pay-level")
def pay_level_command(
    paper: str = typer.Option(..., "--paper"),
    level: str = typer.Option(..., "--level", help="bac, iv (other level IV) or v (level V)."),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """The paper's exam level, which sets the rate per copy."""
    from correction_server.closing.payment import set_paper_level
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with transaction(factory) as session:
            set_paper_level(session, find_paper(session, paper).id, level, SYSTEM, by)

    with_database(db, work)
    typer.echo(f"{paper} is paid at the {level} rate.")


@app.command("pay-rates")
def pay_rates_command(
    paper: str = typer.Option(..., "--paper", help="A paper of the session to configure."),
    bac: str | None = typer.Option(None, "--bac", help="€ per copy, baccalauréat (default 5)."),
    iv: str | None = typer.Option(None, "--iv", help="€ per copy, other level IV (default 1.10)."),
    v: str | None = typer.Option(None, "--v", help="€ per copy, level V (default 0.75)."),
    second_reading: str | None = typer.Option(
        None, "--second-reading", help="A second reading counts as N copies."
    ),
    by: str = typer.Option("exam office (command line)", "--by", help=BY_OPTION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """The session's rates per copy by level, and how a second reading counts."""
    from correction_server.closing.payment import configure_rates
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    rates = {k: x for k, x in (("bac", bac), ("iv", iv), ("v", v)) if x is not None}

    def work(factory):
        with transaction(factory) as session:
            row = configure_rates(
                session, find_paper(session, paper).session_id, rates, second_reading, SYSTEM, by
            )
            return dict(row.rates), row.second_reading_weight

    saved, weight = with_database(db, work)
    typer.echo(f"Rates saved: {saved or 'defaults'}; a second reading counts as {weight} copy.")


@app.command("confirm-work")
def confirm_work_command(
    paper: str = typer.Option(..., "--paper"),
    corrector: str = typer.Option(..., "--corrector", help="The corrector's username."),
    capacity: str = typer.Option(..., "--as", help="head_of_centre or coordinator."),
    by: str = typer.Option(..., "--by", help="The name of who confirms."),
    db: str | None = typer.Option(None, "--db", help=DB_OPTION_HELP),
) -> None:
    """The head of centre's or the coordinator's confirmation that the work was done: the line is payable."""
    from correction_server.closing.payment import confirm_work
    from correction_server.db import transaction
    from correction_server.dispatch.planning import find_paper

    def work(factory):
        with transaction(factory) as session:
            confirm_work(
                session, find_paper(session, paper).id, _user_id(session, corrector), capacity, by, SYSTEM
            )

    with_database(db, work)
    typer.echo(f"Work of {corrector} on {paper} confirmed by {by}: the payment line is payable.")
