# ruff: noqa: E501  (sentences of the pages read better unbroken)
"""The words of the account pages (changing one's password), in French and English."""

from __future__ import annotations

FR = {
    "account.nav.password": "Mot de passe",
    "account.password.title": "Changer mon mot de passe",
    "account.password.current": "Mot de passe actuel",
    "account.password.new": "Nouveau mot de passe",
    "account.password.confirm": "Nouveau mot de passe, une seconde fois",
    "account.password.submit": "Changer le mot de passe",
    "account.password.rule": "Au moins {n} caractères, dont au moins {distinct} différents ; ni votre identifiant, ni votre mot de passe actuel. Une phrase de quelques mots est longue, donc difficile à deviner, et facile à retenir.",
    "account.password.must_change": "Le mot de passe avec lequel vous vous êtes connecté a été donné par le service des examens pour une seule fois : choisissez le vôtre pour continuer.",
    "account.password.done": "Votre mot de passe est changé. Vos autres sessions ouvertes (autres navigateurs, autres appareils) sont fermées.",
    "account.password.continue": "Continuer",
    "account.password.err.wrong_current": "Le mot de passe actuel n'est pas le bon. Rien n'a été changé.",
    "account.password.err.mismatch": "Les deux nouveaux mots de passe sont différents. Rien n'a été changé.",
    "account.password.err.too_short": "Le nouveau mot de passe doit compter au moins {n} caractères. Rien n'a été changé.",
    "account.password.err.too_simple": "Le nouveau mot de passe doit compter au moins {distinct} caractères différents. Rien n'a été changé.",
    "account.password.err.has_username": "Le nouveau mot de passe ne doit pas contenir votre identifiant. Rien n'a été changé.",
    "account.password.err.same": "Le nouveau mot de passe doit être différent de l'actuel. Rien n'a été changé.",
    "account.password.err.too_many": "Trop d'essais manqués. Réessayez dans {minutes} minute(s).",
    "account.password.err.too_many_here": "Trop d'essais manqués depuis cet ordinateur ou ce réseau, sur plusieurs comptes. Réessayez dans {minutes} minute(s).",
}

EN = {
    "account.nav.password": "Password",
    "account.password.title": "Change my password",
    "account.password.current": "Current password",
    "account.password.new": "New password",
    "account.password.confirm": "New password, once more",
    "account.password.submit": "Change the password",
    "account.password.rule": "At least {n} characters, of which at least {distinct} different; neither your username nor your current password. A sentence of a few words is long, so hard to guess, and easy to remember.",
    "account.password.must_change": "The password you logged in with was given by the exam office for one use only: choose your own to go on.",
    "account.password.done": "Your password is changed. Your other open sessions (other browsers, other devices) are closed.",
    "account.password.continue": "Continue",
    "account.password.err.wrong_current": "The current password is not right. Nothing was changed.",
    "account.password.err.mismatch": "The two new passwords differ. Nothing was changed.",
    "account.password.err.too_short": "The new password needs at least {n} characters. Nothing was changed.",
    "account.password.err.too_simple": "The new password needs at least {distinct} different characters. Nothing was changed.",
    "account.password.err.has_username": "The new password may not contain your username. Nothing was changed.",
    "account.password.err.same": "The new password must differ from the current one. Nothing was changed.",
    "account.password.err.too_many": "Too many failed attempts. Try again in {minutes} minute(s).",
    "account.password.err.too_many_here": "Too many failed attempts from this computer or network, on several accounts. Try again in {minutes} minute(s).",
}
