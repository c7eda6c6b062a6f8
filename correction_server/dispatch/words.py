"""Words of dispatch: the lot slip (page and PDF), and why a dispatch is not possible."""

from __future__ import annotations

FR = {
    "slip.title": "Bordereau de notation",
    "slip.document_title": "Bordereau de notation – {paper} – Lot {lot}",
    "slip.paper": "Épreuve",
    "slip.lot": "Lot",
    "slip.corrector": "Correcteur",
    "slip.count": "Nombre de copies",
    "slip.copy_id": "Numéro d'anonymat",
    "slip.mark": "Note",
    "slip.print": "Imprimer",
    "slip.session": "Session",
    "slip.pages": "Pages",
    "slip.total": "Total",
    "slip.total_copies": "{n} copie(s)",
    "slip.page_of": "Page {page}/{pages}",
    "slip.signature": "Date et signature du correcteur :",
    "lot.slip_pdf": "Bordereau (PDF)",
    "dispatch.impossible": "Répartition impossible : {reasons} Rien n'a été modifié.",
    "dispatch.impossible.no_corrector": (
        "{copies} copies attendent mais aucun correcteur avec une capacité supérieure à 0 n'est "
        "affecté à cette épreuve : importez d'abord ses correcteurs (massicot office users import)."
    ),
    "dispatch.impossible.capacity": (
        "{copies} copies attendent mais la capacité déclarée restante des correcteurs est de "
        "{free} copies : augmentez leurs capacités ou ajoutez des correcteurs."
    ),
    "dispatch.impossible.no_possible_corrector": (
        "{count} copies de candidats de l'établissement {group} ({where} ; p. ex. {sample}) n'ont "
        "aucun correcteur possible : tous les correcteurs de cette épreuve ({teachers}) enseignent "
        "dans l'établissement {group}. Ajoutez un correcteur d'un autre établissement."
    ),
    "dispatch.impossible.correctors_full": (
        "{count} copies de candidats de l'établissement {group} ({where} ; p. ex. {sample}) ne "
        "peuvent pas être placées : les correcteurs qui peuvent les corriger ({correctors}) sont "
        "complets ({capacity} copies de capacité déclarée en tout). Augmentez leurs capacités ou "
        "ajoutez un correcteur d'un autre établissement."
    ),
    "dispatch.impossible.incompatible": (
        "{count} copies ({where} ; p. ex. {sample}) n'ont aucun correcteur possible : {why}. Ajoutez un "
        "correcteur sans lien avec ces candidats."
    ),
    "conflict.teaches": "{corrector} enseigne dans l'établissement {group}",
    "conflict.candidate": "l'office a enregistré une incompatibilité entre {corrector} et le candidat",
    "conflict.establishment": (
        "l'office a enregistré une incompatibilité entre {corrector} et l'établissement {group}"
    ),
    "dispatch.group.unknown": "inconnu",
    "dispatch.group.number": "n° {id}",
    "dispatch.from_centre": "{n} du centre {centre}",
}

EN = {
    "slip.title": "Marking slip",
    "slip.document_title": "Marking slip – {paper} – Lot {lot}",
    "slip.paper": "Paper",
    "slip.lot": "Lot",
    "slip.corrector": "Corrector",
    "slip.count": "Number of copies",
    "slip.copy_id": "Copy number",
    "slip.mark": "Mark",
    "slip.print": "Print",
    "slip.session": "Session",
    "slip.pages": "Pages",
    "slip.total": "Total",
    "slip.total_copies": "{n} copy(ies)",
    "slip.page_of": "Page {page}/{pages}",
    "slip.signature": "Date and corrector's signature:",
    "lot.slip_pdf": "Slip (PDF)",
    "dispatch.impossible": "Dispatch is not possible: {reasons} Nothing was changed.",
    "dispatch.impossible.no_corrector": (
        "{copies} copies are waiting but no corrector with a capacity above 0 is assigned to this "
        "paper: import correctors for it (massicot office users import) first."
    ),
    "dispatch.impossible.capacity": (
        "{copies} copies are waiting but the correctors' remaining declared capacity is {free} "
        "copies: raise their capacities or add correctors."
    ),
    "dispatch.impossible.no_possible_corrector": (
        "{count} copies of candidates from {group} ({where}; e.g. {sample}) have no possible "
        "corrector: every corrector of this paper ({teachers}) teaches at {group}. Add a corrector "
        "from another établissement."
    ),
    "dispatch.impossible.correctors_full": (
        "{count} copies of candidates from {group} ({where}; e.g. {sample}) cannot be placed: the "
        "correctors who may mark them ({correctors}) are full ({capacity} copies of declared "
        "capacity in all). Raise their capacities or add a corrector from another établissement."
    ),
    "dispatch.impossible.incompatible": (
        "{count} copies ({where}; e.g. {sample}) have no possible corrector: {why}. Add a corrector with no "
        "tie to these candidates."
    ),
    "conflict.teaches": "{corrector} teaches at {group}",
    "conflict.candidate": "the office recorded an incompatibility between {corrector} and the candidate",
    "conflict.establishment": "the office recorded an incompatibility between {corrector} and {group}",
    "dispatch.group.unknown": "no known établissement",
    "dispatch.group.number": "établissement #{id}",
    "dispatch.from_centre": "{n} from centre {centre}",
}
