"""A paper typed in the console's form (session, code, title, maximum mark, one question per
line as "label; max points[; step]"), written as the YAML file `massicot office import paper`
reads: the same checks, the same words, one way in."""

from __future__ import annotations

import yaml


def paper_yaml(session: str, code: str, title: str, max_mark: str, questions: str) -> str:
    data: dict[str, object] = {
        "session": session.strip(),
        "code": code.strip(),
        "title": title.strip(),
        "max_mark": _number(max_mark),
    }
    items = []
    for line in questions.splitlines():
        if not line.strip():
            continue
        cells = [c.strip() for c in line.replace("\t", ";").split(";")]
        item: dict[str, object] = {"label": cells[0]}
        if len(cells) > 1:
            item["max"] = _number(cells[1])
        if len(cells) > 2 and cells[2]:
            item["step"] = _number(cells[2])
        items.append(item)
    data["questions"] = items
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _number(text: str) -> object:
    """A number as typed (a French comma accepted); anything else is kept for the check to name."""
    cleaned = (text or "").strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return cleaned
    return int(value) if value.is_integer() else value
