"""The words of the web pages, in French (default) and English.

A tiny catalogue, not gettext: a key → text per language. Templates call `t("key")` (the
`t` function is put in every template's context by `correction_server.web.rendering`);
Python code calls `translate(lang, "key", **values)`.

Each area keeps its own words beside its code and registers them once at import::

    from correction_server.i18n import add_messages
    add_messages(
        fr={"marking.save": "Enregistrer"},
        en={"marking.save": "Save"},
    )

A key missing in English falls back to French; a key missing everywhere shows as the key
itself, so a forgotten word is visible on the page rather than an error. tests/auth checks
that every French key has an English translation.
"""

from __future__ import annotations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
LANGUAGE_COOKIE = "massicot_lang"

CATALOGUE: dict[str, dict[str, str]] = {"fr": {}, "en": {}}


def add_messages(*, fr: dict[str, str], en: dict[str, str]) -> None:
    """Register words of one area. A key registered twice with another text is a mistake."""
    for lang, messages in (("fr", fr), ("en", en)):
        for key, text in messages.items():
            previous = CATALOGUE[lang].get(key)
            if previous is not None and previous != text:
                raise ValueError(f"i18n key {key!r} ({lang}) is already defined as {previous!r}")
            CATALOGUE[lang][key] = text


def translate(lang: str, key: str, **values: object) -> str:
    text = CATALOGUE.get(lang, {}).get(key) or CATALOGUE[DEFAULT_LANGUAGE].get(key) or key
    return text.format(**values) if values else text


def pick_language(cookie_value: str | None, accept_language: str | None) -> str:
    """The language chosen with the switch (cookie), else French: the product's default."""
    if cookie_value in LANGUAGES:
        return cookie_value
    return DEFAULT_LANGUAGE


add_messages(
    fr={
        "app.name": "Massicot",
        "app.tagline": "Correction dématérialisée des copies d'examen",
        "nav.skip": "Aller au contenu",
        "nav.home": "Accueil",
        "nav.logout": "Se déconnecter",
        "nav.language": "Langue",
        "nav.logged_in_as": "Connecté : {name} ({role})",
        "role.office": "service des examens",
        "role.centre": "centre d'épreuve",
        "role.corrector": "correcteur",
        "role.coordinator": "coordonnateur",
        "login.title": "Connexion",
        "login.username": "Identifiant",
        "login.password": "Mot de passe",
        "login.submit": "Se connecter",
        "login.failed": "Identifiant ou mot de passe incorrect.",
        "login.too_many": "Trop d'essais manqués. Réessayez dans {minutes} minute(s).",
        "login.too_many_here": (
            "Trop d'essais manqués depuis cet ordinateur ou ce réseau, sur plusieurs comptes. "
            "Réessayez dans {minutes} minute(s)."
        ),
        "login.expired_form": "Le formulaire a expiré. Réessayez.",
        "login.logged_out": "Vous êtes déconnecté.",
        "password.title": "Choisir votre mot de passe",
        "password.new": "Nouveau mot de passe (au moins {n} caractères)",
        "password.confirm": "Confirmez le mot de passe",
        "password.submit": "Enregistrer le mot de passe",
        "password.mismatch": "Les deux mots de passe sont différents.",
        "password.too_short": "Le mot de passe doit compter au moins {n} caractères.",
        "password.bad_link": "Ce lien n'est plus valable. Demandez un nouveau lien au service des examens.",
        "password.done": "Mot de passe enregistré. Vous pouvez vous connecter.",
        "error.title": "Accès impossible",
        "error.forbidden": "Votre compte ne permet pas d'ouvrir cette page.",
        "error.not_found": "Page introuvable, ou elle ne vous est pas destinée.",
        "error.back_home": "Retour à l'accueil",
        "home.title": "Accueil",
        "home.office.intro": "Service des examens : préparation, répartition des copies, exports.",
        "home.office.dispatch": "Répartir les copies en lots de correction",
        "home.centre.intro": "Centre d'épreuve : les lots numérisés sont envoyés avec « massicot push ».",
        "home.corrector.intro": "Vos lots de copies à corriger.",
        "home.corrector.none": "Aucun lot ne vous est attribué pour le moment.",
        "home.coordinator.intro": "Les épreuves que vous coordonnez : correcteurs et avancement.",
        "home.coordinator.none": "Aucune épreuve ne vous est attribuée.",
        "lot.title": "Lot {number} — épreuve {paper}",
        "lot.copies": "{n} copie(s)",
        "lot.progress": "{marked} / {total} corrigée(s)",
        "lot.window": "Correction du {opens} au {closes}",
        "lot.slip": "Bordereau",
        "lot.slip_csv": "Bordereau (CSV)",
        "lot.corrector": "Correcteur",
        "slip.title": "Bordereau de notation",
        "slip.paper": "Épreuve",
        "slip.lot": "Lot",
        "slip.corrector": "Correcteur",
        "slip.count": "Nombre de copies",
        "slip.copy_id": "Numéro d'anonymat",
        "slip.mark": "Note",
        "slip.print": "Imprimer",
        "dispatch.title": "Répartition des copies",
        "dispatch.intro": (
            "Les copies sont mélangées entre les centres ; aucun correcteur ne reçoit la copie d'un "
            "candidat de son propre établissement ; les lots suivent la capacité déclarée de chacun. "
            "Relancer la répartition ne distribue que les copies arrivées depuis."
        ),
        "dispatch.paper": "Épreuve",
        "dispatch.copies": "Copies reçues",
        "dispatch.dispatched": "Déjà réparties",
        "dispatch.correctors": "Correcteurs (capacité)",
        "dispatch.seed": "Graine (facultatif)",
        "dispatch.run": "Répartir",
        "dispatch.done": "{copies} copie(s) réparties en {lots} lot(s) (graine {seed}).",
        "dispatch.nothing": "Aucune nouvelle copie à répartir pour l'épreuve {paper}.",
        "dispatch.failed": "Répartition impossible :",
        "dispatch.lots": "Lots de l'épreuve {paper}",
        "coordinator.correctors": "Correcteurs",
        "coordinator.capacity": "Capacité",
    },
    en={
        "app.name": "Massicot",
        "app.tagline": "Online marking of exam copies",
        "nav.skip": "Skip to content",
        "nav.home": "Home",
        "nav.logout": "Log out",
        "nav.language": "Language",
        "nav.logged_in_as": "Logged in: {name} ({role})",
        "role.office": "exam office",
        "role.centre": "exam centre",
        "role.corrector": "corrector",
        "role.coordinator": "coordinator",
        "login.title": "Log in",
        "login.username": "Username",
        "login.password": "Password",
        "login.submit": "Log in",
        "login.failed": "Wrong username or password.",
        "login.too_many": "Too many failed attempts. Try again in {minutes} minute(s).",
        "login.too_many_here": (
            "Too many failed attempts from this computer or network, on several accounts. "
            "Try again in {minutes} minute(s)."
        ),
        "login.expired_form": "The form has expired. Please try again.",
        "login.logged_out": "You are logged out.",
        "password.title": "Choose your password",
        "password.new": "New password (at least {n} characters)",
        "password.confirm": "Confirm the password",
        "password.submit": "Save the password",
        "password.mismatch": "The two passwords differ.",
        "password.too_short": "The password needs at least {n} characters.",
        "password.bad_link": "This link is no longer valid. Ask the exam office for a new one.",
        "password.done": "Password saved. You can log in.",
        "error.title": "Cannot open this page",
        "error.forbidden": "Your account may not open this page.",
        "error.not_found": "Page not found, or not meant for you.",
        "error.back_home": "Back to the home page",
        "home.title": "Home",
        "home.office.intro": "Exam office: preparation, dispatch of copies, exports.",
        "home.office.dispatch": "Dispatch copies into correction lots",
        "home.centre.intro": "Exam centre: scanned lots are sent with “massicot push”.",
        "home.corrector.intro": "Your lots of copies to mark.",
        "home.corrector.none": "No lot is assigned to you yet.",
        "home.coordinator.intro": "The papers you coordinate: correctors and progress.",
        "home.coordinator.none": "No paper is assigned to you.",
        "lot.title": "Lot {number} — paper {paper}",
        "lot.copies": "{n} copy(ies)",
        "lot.progress": "{marked} / {total} marked",
        "lot.window": "Marking from {opens} to {closes}",
        "lot.slip": "Slip",
        "lot.slip_csv": "Slip (CSV)",
        "lot.corrector": "Corrector",
        "slip.title": "Marking slip",
        "slip.paper": "Paper",
        "slip.lot": "Lot",
        "slip.corrector": "Corrector",
        "slip.count": "Number of copies",
        "slip.copy_id": "Copy number",
        "slip.mark": "Mark",
        "slip.print": "Print",
        "dispatch.title": "Dispatch of copies",
        "dispatch.intro": (
            "Copies are shuffled across centres; no corrector gets a copy of a candidate from his own "
            "establishment; lots follow each corrector's declared capacity. Running it again only "
            "dispatches the copies that arrived since."
        ),
        "dispatch.paper": "Paper",
        "dispatch.copies": "Copies received",
        "dispatch.dispatched": "Already dispatched",
        "dispatch.correctors": "Correctors (capacity)",
        "dispatch.seed": "Seed (optional)",
        "dispatch.run": "Dispatch",
        "dispatch.done": "{copies} copy(ies) dispatched into {lots} lot(s) (seed {seed}).",
        "dispatch.nothing": "No new copy to dispatch for paper {paper}.",
        "dispatch.failed": "Dispatch is not possible:",
        "dispatch.lots": "Lots of paper {paper}",
        "coordinator.correctors": "Correctors",
        "coordinator.capacity": "Capacity",
    },
)
