"""Errors meant for people: one line, plain words, what to do.

`UserError` is bad input or a state the user can fix; the CLI prints it and exits with 2.
`Refused` is what a service raises when the rules say no: an HTTP status, a key of the words
catalogue (massicot_core.words) and the values its sentence takes. One handler of the server
turns it into an answer in the reader's language; the CLI prints it in the command line's
language. A service never builds an HTTP answer itself.
"""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Bad input or a state the user can fix. The CLI prints it and exits with code 2."""

    exit_code = 2


class Refused(UserError):
    """The rules refuse: `status` (HTTP), `key` (words catalogue) and its `values`.

    `message`, when given, is the sentence itself for a refusal whose words are not in the
    catalogue yet (it is shown as it is, in every language). `extra` is machine-readable detail
    an API answer carries beside the sentence (e.g. the images still missing).
    """

    status = 400

    def __init__(
        self,
        status: int | None = None,
        key: str = "",
        *,
        message: str = "",
        extra: dict[str, Any] | None = None,
        **values: object,
    ) -> None:
        if status is not None:
            self.status = status
        self.key = key
        self.values = values
        self.extra = dict(extra or {})
        self._message = message
        super().__init__(message or key)

    def words(self, lang: str | None = None) -> str:
        """The sentence in `lang` (the command line's language when None)."""
        from massicot_core.words import command_line_language, translate

        if not self.key:
            return self._message
        text = translate(lang or command_line_language(), self.key, **self.values)
        return self._message if text == self.key and self._message else text

    def answer(self, lang: str | None = None) -> dict[str, Any]:
        """The body of an API answer: the sentence, and what a program acts on."""
        return {"detail": self.words(lang), **self.extra}

    def __str__(self) -> str:
        # The sentence a service wrote itself stays what the command line prints.
        return self._message or self.words()
