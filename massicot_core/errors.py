"""Errors meant for people: one line, plain words, what to do."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a state the user can fix. The CLI prints it and exits with code 2."""

    exit_code = 2
