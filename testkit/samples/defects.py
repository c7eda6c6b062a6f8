"""What may go wrong on a real exam evening, and how many times: the generator's defect plan."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from massicot_core.errors import UserError


@dataclass(frozen=True)
class DefectPlan:
    """How many of each defect of a real evening to inject (0 = none)."""

    upside_down: int = 0  # pages fed upside down (180°)
    skew_max_deg: float = 0.0  # every page turned by a random angle in ±skew_max_deg
    blank_verso: int = 0  # blank back sides from a duplex scan, after random pages
    missing_page: int = 0  # copies with one page (not page 1) never scanned
    duplicate_page: int = 0  # copies with one page scanned twice
    foreign_copy: int = 0  # copies of another paper slipped into the pile
    annex: int = 0  # copies with an annex sheet (no code) stapled after a page
    torn_label: int = 0  # labels with half torn off: unreadable
    no_label: int = 0  # present candidates who did not stick their label
    blank_copy: int = 0  # present candidates who handed in an empty booklet
    missing_copy: int = 0  # present candidates whose copy never reached the scanner
    duplicate_copy: int = 0  # copies scanned twice (a batch fed again after a jam)
    header_ink: int = 0  # candidates who wrote an answer in the header, outside the identity boxes
    faint_pencil: int = 0  # candidates who wrote a few short lines in a light, thin pencil stroke
    extra_booklet: int = 0  # candidates given a second booklet (no label, no name), slid in the first
    orphan_booklet: int = 0  # extra booklets that reached the scanner first, before any copy
    printed_insert: int = 0  # copies with a printed insert sheet (graph paper) after a page

    @classmethod
    def none(cls) -> DefectPlan:
        return cls()

    @classmethod
    def all(cls) -> DefectPlan:
        return cls(
            upside_down=2,
            skew_max_deg=5.0,
            blank_verso=2,
            missing_page=1,
            duplicate_page=1,
            foreign_copy=1,
            annex=1,
            torn_label=1,
            no_label=1,
            blank_copy=1,
            missing_copy=1,
            duplicate_copy=1,
            header_ink=1,
        )

    @classmethod
    def parse(cls, text: str) -> DefectPlan:
        """`all`, `none`, or a comma list such as `upside_down=3,skew=2.5,torn_label`."""
        text = text.strip().lower()
        if text in ("", "none"):
            return cls.none()
        if text == "all":
            return cls.all()
        defaults = asdict(cls.all())
        values: dict[str, float] = {}
        for item in text.split(","):
            name, _, number = item.strip().partition("=")
            name = {"skew": "skew_max_deg"}.get(name.strip(), name.strip())
            if name not in defaults:
                known = ", ".join(["skew", *(f.name for f in fields(cls) if f.name != "skew_max_deg")])
                raise UserError(f"unknown defect {name!r}: use all, none or a comma list of {known}")
            try:
                values[name] = float(number) if number else (defaults[name] or 1)
            except ValueError:
                raise UserError(f"defect {name}: {number!r} is not a number") from None
        return cls(**{k: (v if k == "skew_max_deg" else int(v)) for k, v in values.items()})
