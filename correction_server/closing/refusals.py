"""How closing says no, and the words its sentences carry.

A `ClosingRefused` is a key of the words catalogue (`closing.err.<name>`, in closing/words.py)
with its values. A value may itself be words not yet put in a language (a `Phrase`, e.g. a
difference of the reconciliation quoted by the export's refusal): it is said in the reader's
language with the sentence around it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from massicot_core.errors import Refused
from massicot_core.words import command_line_language, translate


@runtime_checkable
class Sayable(Protocol):
    def words(self, lang: str | None = None) -> str: ...


def in_language(values: Mapping[str, object], lang: str) -> dict[str, object]:
    """The values of a sentence, those that are words themselves said in `lang`."""
    return {k: v.words(lang) if isinstance(v, Sayable) else v for k, v in values.items()}


@dataclass(frozen=True)
class Phrase:
    """A sentence of the catalogue, said in a language only when someone reads it."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)

    def words(self, lang: str | None = None) -> str:
        """In `lang` (the command line's language when None)."""
        lang = lang or command_line_language()
        return translate(lang, self.key, **in_language(self.values, lang))


@dataclass(frozen=True)
class Listing:
    """Several sayings joined into one value of a sentence."""

    parts: Sequence[Sayable]
    separator: str = "; "

    def words(self, lang: str | None = None) -> str:
        return self.separator.join(part.words(lang) for part in self.parts)


class ClosingRefused(Refused):
    status = 409

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(None, key, **values)

    def words(self, lang: str | None = None) -> str:
        return Phrase(self.key, self.values).words(lang)


def clean_reason(text: str, key: str) -> str:
    """The reason kept with a decision; refused (with the sentence `key`) when there is none."""
    text = (text or "").strip()
    if not text:
        raise ClosingRefused(key)
    return text
