# ruff: noqa: E501  (sentences of the pages read better unbroken)
"""Words of closing: the office's closing pages, its refusals, the reconciliation's differences,
the retention report and the consultation PDF, in French and English.

The English of a refusal is the sentence the command line prints (its default language).
"""

from __future__ import annotations

FR: dict[str, str] = {
    # The closing pages.
    "closing.title": "Clôture des épreuves",
    "closing.intro": "Rapprochement, export pour le jury, décisions du jury, blocages, consultation, paiement.",
    "closing.open": "Clôture de {paper}",
    "closing.ready": "Prêt pour le jury",
    "closing.blocked": "{n} écart(s) bloquant(s)",
    "closing.recon": "Rapprochement par centre",
    "closing.registered": "Inscrits",
    "closing.present": "Présents",
    "closing.absent": "Absents",
    "closing.scanned": "Copies numérisées",
    "closing.blank": "Blanches",
    "closing.absent_copies": "Copies ABSENT",
    "closing.marked": "Corrigées",
    "closing.missing": "Manquantes",
    "closing.total": "Total",
    "closing.differences": "Écarts ({n})",
    "closing.no_difference": "Aucun écart : chaque inscrit a une copie corrigée.",
    "closing.registration": "N° d'inscription",
    "closing.name": "Nom",
    "closing.problem": "Écart",
    "closing.blocking": "Bloque l'export",
    "closing.yes": "oui",
    "closing.no": "non",
    "closing.export": "Export pour le jury",
    "closing.export_csv": "Télécharger le CSV",
    "closing.export_xlsx": "Télécharger le classeur XLSX",
    "closing.export_blocked": "L'export sera possible quand chaque copie sera corrigée ou déclarée manquante.",
    "closing.declare": "Déclarer une copie manquante",
    "closing.declare_go": "Déclarer manquante",
    "closing.reason": "Motif",
    "closing.jury": "Note modifiée par le jury",
    "closing.jury_help": "La note du correcteur est conservée ; la note du jury est enregistrée à côté, avec qui et pourquoi.",
    "closing.mark": "Note sur 20",
    "closing.by": "Décidé par",
    "closing.jury_go": "Enregistrer la décision du jury",
    "closing.publish": "Publication des résultats",
    "closing.published": "Résultats publiés le {date} : consultation des copies jusqu'au {until}.",
    "closing.publish_date": "Date de publication",
    "closing.publish_go": "Enregistrer la publication",
    "closing.consult": "Consultation d'une copie par le candidat",
    "closing.consult_go": "Produire le PDF",
    "closing.holds": "Blocages (procédure de fraude)",
    "closing.holds_help": (
        "Les résultats et l'accès à la copie du candidat sont retenus pendant la procédure. "
        "Le correcteur n'en sait rien et corrige normalement."
    ),
    "closing.hold_go": "Bloquer",
    "closing.release_go": "Lever le blocage",
    "closing.no_holds": "Aucun blocage en cours.",
    "closing.payment": "Paiement des correcteurs",
    "closing.payment_csv": "Télécharger le CSV (copies corrigées par correcteur et épreuve)",
    "closing.copies_marked": "Copies corrigées",
    "closing.second_readings": "Doubles corrections",
    "closing.done": "Enregistré.",
    "home.office.closing": "Clôture : rapprochement, export jury, blocages, paiement",
    # Refusals (closing.err.*): the office asked for something the rules do not allow.
    "closing.err.reason_missing": "Indiquez le motif (pourquoi la copie manque) : il est conservé avec la décision.",
    "closing.err.reason_jury": "Indiquez le motif (la raison du jury) : il est conservé avec la décision.",
    "closing.err.reason_hold": "Indiquez le motif (la procédure) : il est conservé avec la décision.",
    "closing.err.reason_release": "Indiquez le motif (l'issue de la procédure) : il est conservé avec la décision.",
    "closing.err.no_candidate": "Aucun candidat n'a le numéro d'inscription « {registration} ».",
    "closing.err.no_paper": "L'épreuve n° {paper_id} n'existe pas.",
    "closing.err.export_blocked": (
        "Les notes de {code} ne peuvent pas encore aller au jury : {n} ligne(s) ne sont ni corrigées "
        "ni déclarées manquantes ({first}{more}). Voir la page de rapprochement ou `massicot office reconcile`."
    ),
    "closing.err.blocker": "{who} : {problem}",
    "closing.err.export_format": "Le format d'export « {kind} » n'est pas connu : choisissez csv ou xlsx.",
    "closing.err.no_copy": "Le candidat {registration} n'a pas de copie pour cette épreuve.",
    "closing.err.several_copies": (
        "Le candidat {registration} a {n} copies pour cette épreuve : réglez cela d'abord (voir le rapprochement)."
    ),
    "closing.err.jury_unmarked": "La copie {copy} n'est pas encore corrigée : le jury se prononce sur des copies corrigées.",
    "closing.err.jury_absent": (
        "La copie {copy} est {special} (candidat absent) : c'est un fait constaté au centre, "
        "pas une note que le jury peut modifier."
    ),
    "closing.err.jury_blank": (
        "La copie {copy} est {special} (copie blanche) : c'est un fait constaté au centre, "
        "pas une note que le jury peut modifier."
    ),
    "closing.err.jury_who": "Indiquez qui a décidé (le président du jury ou le membre du service qui saisit la décision).",
    "closing.err.already_held": "Les résultats de {registration} sont déjà bloqués.",
    "closing.err.not_held": "Les résultats de {registration} ne sont pas bloqués.",
    "closing.err.not_registered": "Le candidat {registration} n'est pas inscrit à cette épreuve.",
    "closing.err.missing_marked": "La copie du candidat {registration} est corrigée : elle ne manque pas.",
    "closing.err.already_missing": "La copie du candidat {registration} est déjà déclarée manquante.",
    "closing.err.publish_zone": "Donnez l'heure de publication avec son fuseau horaire.",
    "closing.err.publish_date": "Donnez la date de publication au format AAAA-MM-JJ.",
    "closing.err.already_published": (
        "Les résultats de cette épreuve ont déjà été publiés le {published:%d/%m/%Y} ; cette date est conservée."
    ),
    "closing.err.not_published": (
        "Les résultats de cette épreuve ne sont pas encore publiés : les copies se consultent après."
    ),
    "closing.err.consultation_over": (
        "L'année de consultation a pris fin le {closes:%d/%m/%Y} (résultats publiés le {published:%d/%m/%Y}) : "
        "la copie ne peut plus être consultée."
    ),
    "closing.err.consultation_held": (
        "Les résultats et la copie de ce candidat sont bloqués pendant une procédure en cours : "
        "pas de consultation avant la levée du blocage."
    ),
    "closing.err.purged": "Les pages de la copie {copy} ont été supprimées après l'année légale de conservation.",
    "closing.err.consult_unmarked": "La copie {copy} n'est pas corrigée : il n'y a encore rien à consulter.",
    # Differences of the reconciliation (closing.diff.*).
    "closing.diff.no_candidate": (
        "Copie sans candidat : son étiquette n'a été rapprochée d'aucun inscrit. À résoudre au lot de numérisation."
    ),
    "closing.diff.absent_no_copy": (
        "noté absent, mais aucune copie ABSENT n'a été numérisée. "
        "Retrouvez la copie, ou déclarez-la manquante avec le motif."
    ),
    "closing.diff.absent_no_copy_declared": (
        "noté absent, mais aucune copie ABSENT n'a été numérisée ; déclarée manquante : {reason}"
    ),
    "closing.diff.no_copy": (
        "inscrit, mais aucune copie n'a été reçue. Retrouvez la copie, ou déclarez-la manquante avec le motif."
    ),
    "closing.diff.no_copy_declared": "inscrit, mais aucune copie n'a été reçue ; déclarée manquante : {reason}",
    "closing.diff.several_copies": (
        "{n} copies pour un seul candidat : gardez-en une, les autres ont été rattachées à tort."
    ),
    "closing.diff.not_on_roll": "Copie d'un candidat qui n'est pas sur la liste des inscrits de cette épreuve.",
    "closing.diff.absent_but_written": (
        "Noté absent sur la liste d'émargement, mais la copie a été numérisée comme copie rédigée."
    ),
    "closing.diff.present_but_absent": "A émargé comme présent, mais la copie a été numérisée comme ABSENT.",
    "closing.diff.other_centre": "Copie numérisée au centre {copy_centre}, candidat inscrit au centre {centre}.",
    "closing.diff.draft": "Copie en cours de correction.",
    "closing.diff.unmarked": "Copie pas encore corrigée.",
    "closing.diff.draft_declared": "Copie en cours de correction ; déclarée manquante : {reason}",
    "closing.diff.unmarked_declared": "Copie pas encore corrigée ; déclarée manquante : {reason}",
    "closing.diff.held": "Résultats bloqués (procédure en cours).",
    # The retention purge's report (closing.purge.*).
    "closing.purge.deleted": (
        "Pages de {copies} copies supprimées ({pages} pages, {images} fichiers image, {mb:.1f} Mo) pour {papers}. "
        "Les notes, appréciations, identités et le journal d'audit sont conservés."
    ),
    "closing.purge.no_paper": "aucune épreuve",
    "closing.purge.kept_within_year": (
        "{paper} conservée (résultats du {published:%d/%m/%Y}, conservée jusqu'au {until:%d/%m/%Y}) : "
        "l'année de consultation n'est pas terminée."
    ),
    "closing.purge.kept_held": "{n} copies de candidats sous blocage conservées : {copies}.",
    "closing.purge.not_published": (
        "{paper} conservée : ses résultats ne sont pas publiés, son année légale n'a donc pas commencé."
    ),
    "closing.purge.problem": "Impossible de supprimer l'image {sha}… : {error}. Supprimez-la à la main.",
    # The consultation PDF (closing.pdf.*).
    "closing.pdf.title": "{paper} – copie {copy}",
    "closing.pdf.footer": "{paper} · copie {copy} · page {n}/{pages}",
    "closing.pdf.candidate": "Candidat : {registration} {name}",
    "closing.pdf.copy": "Copie : {copy}",
    "closing.pdf.per_question": "Notes par question",
    "closing.pdf.question": "{label} : {points} / {max}",
    "closing.pdf.special": "Note : {mark}",
    "closing.pdf.total": "Total : {total} / {max}",
    "closing.pdf.corrector_mark": "Note du correcteur : {mark} / 20",
    "closing.pdf.jury_mark": "Note retenue par le jury : {mark} / 20",
    "closing.pdf.appreciation": "Appréciation",
}

EN: dict[str, str] = {
    "closing.title": "Closing papers",
    "closing.intro": "Reconciliation, export for the jury, jury decisions, holds, consultation, payment.",
    "closing.open": "Closing of {paper}",
    "closing.ready": "Ready for the jury",
    "closing.blocked": "{n} blocking difference(s)",
    "closing.recon": "Reconciliation per centre",
    "closing.registered": "Registered",
    "closing.present": "Present",
    "closing.absent": "Absent",
    "closing.scanned": "Copies scanned",
    "closing.blank": "Blank",
    "closing.absent_copies": "ABSENT copies",
    "closing.marked": "Marked",
    "closing.missing": "Missing",
    "closing.total": "Total",
    "closing.differences": "Differences ({n})",
    "closing.no_difference": "No difference: every registered candidate has a marked copy.",
    "closing.registration": "Registration no.",
    "closing.name": "Name",
    "closing.problem": "Difference",
    "closing.blocking": "Stops the export",
    "closing.yes": "yes",
    "closing.no": "no",
    "closing.export": "Export for the jury",
    "closing.export_csv": "Download the CSV",
    "closing.export_xlsx": "Download the XLSX workbook",
    "closing.export_blocked": "The export becomes possible once every copy is marked or declared missing.",
    "closing.declare": "Declare a copy missing",
    "closing.declare_go": "Declare missing",
    "closing.reason": "Reason",
    "closing.jury": "Mark changed by the jury",
    "closing.jury_help": "The corrector's mark is kept; the jury's mark is recorded beside it, with who and why.",
    "closing.mark": "Mark out of 20",
    "closing.by": "Decided by",
    "closing.jury_go": "Record the jury's decision",
    "closing.publish": "Results publication",
    "closing.published": "Results published on {date}: copies may be consulted until {until}.",
    "closing.publish_date": "Publication date",
    "closing.publish_go": "Record the publication",
    "closing.consult": "A candidate consults his copy",
    "closing.consult_go": "Produce the PDF",
    "closing.holds": "Holds (fraud procedure)",
    "closing.holds_help": (
        "The candidate's results and copy access are held during the procedure. "
        "The corrector knows nothing of it and marks normally."
    ),
    "closing.hold_go": "Hold",
    "closing.release_go": "Release the hold",
    "closing.no_holds": "No hold under way.",
    "closing.payment": "Correctors' payment",
    "closing.payment_csv": "Download the CSV (copies marked per corrector and paper)",
    "closing.copies_marked": "Copies marked",
    "closing.second_readings": "Second readings",
    "closing.done": "Saved.",
    "home.office.closing": "Closing: reconciliation, jury export, holds, payment",
    "closing.err.reason_missing": "Say why (why the copy is missing): the reason is kept with the decision.",
    "closing.err.reason_jury": "Say why (the jury's reason): the reason is kept with the decision.",
    "closing.err.reason_hold": "Say why (the procedure): the reason is kept with the decision.",
    "closing.err.reason_release": "Say why (the end of the procedure): the reason is kept with the decision.",
    "closing.err.no_candidate": "No candidate has the registration number {registration!r}.",
    "closing.err.no_paper": "There is no paper #{paper_id}.",
    "closing.err.export_blocked": (
        "The marks of {code} cannot go to the jury yet: {n} line(s) are neither marked nor declared "
        "missing ({first}{more}). See the reconciliation page or `massicot office reconcile`."
    ),
    "closing.err.blocker": "{who}: {problem}",
    "closing.err.export_format": "Export format {kind!r} is not known: choose csv or xlsx.",
    "closing.err.no_copy": "Candidate {registration} has no copy for this paper.",
    "closing.err.several_copies": (
        "Candidate {registration} has {n} copies for this paper: resolve that first (see the reconciliation)."
    ),
    "closing.err.jury_unmarked": "Copy {copy} is not marked yet: the jury decides on marked copies.",
    "closing.err.jury_absent": (
        "Copy {copy} is {special} (absent): that is a fact recorded at the centre, not a mark the jury can change."
    ),
    "closing.err.jury_blank": (
        "Copy {copy} is {special} (blank): that is a fact recorded at the centre, not a mark the jury can change."
    ),
    "closing.err.jury_who": "Say who decided (the jury's president or the office member entering it).",
    "closing.err.already_held": "The results of {registration} are already held.",
    "closing.err.not_held": "The results of {registration} are not held.",
    "closing.err.not_registered": "Candidate {registration} is not registered for this paper.",
    "closing.err.missing_marked": "Candidate {registration}'s copy is marked: it is not missing.",
    "closing.err.already_missing": "Candidate {registration}'s copy is already declared missing.",
    "closing.err.publish_zone": "Give the publication time with its time zone.",
    "closing.err.publish_date": "Give the publication date as YYYY-MM-DD.",
    "closing.err.already_published": (
        "Results of this paper were already published on {published:%Y-%m-%d}; that date stays."
    ),
    "closing.err.not_published": "Results of this paper are not published yet: copies are consulted afterwards.",
    "closing.err.consultation_over": (
        "The consultation year ended on {closes:%Y-%m-%d} (results published on {published:%Y-%m-%d}): "
        "the copy can no longer be consulted."
    ),
    "closing.err.consultation_held": (
        "This candidate's results and copy are held while a procedure is under way: "
        "no consultation until the hold is released."
    ),
    "closing.err.purged": "The pages of copy {copy} were deleted after the legal year.",
    "closing.err.consult_unmarked": "Copy {copy} is not marked: there is nothing to consult yet.",
    "closing.diff.no_candidate": (
        "Copy with no candidate: its label was not matched to anyone. Resolve it at the scan lot."
    ),
    "closing.diff.absent_no_copy": (
        "recorded absent, but no ABSENT copy was scanned. Find the copy, or declare it missing with the reason."
    ),
    "closing.diff.absent_no_copy_declared": (
        "recorded absent, but no ABSENT copy was scanned; declared missing: {reason}"
    ),
    "closing.diff.no_copy": (
        "registered, but no copy was received. Find the copy, or declare it missing with the reason."
    ),
    "closing.diff.no_copy_declared": "registered, but no copy was received; declared missing: {reason}",
    "closing.diff.several_copies": "{n} copies for one candidate: keep one, the others were wrongly linked.",
    "closing.diff.not_on_roll": "Copy of a candidate who is not on this paper's roll.",
    "closing.diff.absent_but_written": "Recorded absent on the roll, but the copy was scanned as a written copy.",
    "closing.diff.present_but_absent": "Signed the roll as present, but the copy was scanned as ABSENT.",
    "closing.diff.other_centre": "Copy scanned in centre {copy_centre}, candidate registered in {centre}.",
    "closing.diff.draft": "Copy being marked.",
    "closing.diff.unmarked": "Copy not marked yet.",
    "closing.diff.draft_declared": "Copy being marked; declared missing: {reason}",
    "closing.diff.unmarked_declared": "Copy not marked yet; declared missing: {reason}",
    "closing.diff.held": "Results held (procedure under way).",
    "closing.purge.deleted": (
        "Deleted the pages of {copies} copies ({pages} pages, {images} image files, {mb:.1f} MB) of {papers}. "
        "Marks, appreciations, identities and the audit log are kept."
    ),
    "closing.purge.no_paper": "no paper",
    "closing.purge.kept_within_year": (
        "Kept {paper} (results {published:%Y-%m-%d}, kept until {until:%Y-%m-%d}): "
        "the consultation year is not over."
    ),
    "closing.purge.kept_held": "Kept {n} copies of candidates under a hold: {copies}.",
    "closing.purge.not_published": (
        "Kept {paper}: its results are not published, so its legal year has not started."
    ),
    "closing.purge.problem": "Could not delete the image {sha}…: {error}. Delete it by hand.",
    "closing.pdf.title": "{paper} – copy {copy}",
    "closing.pdf.footer": "{paper} · copy {copy} · page {n}/{pages}",
    "closing.pdf.candidate": "Candidate: {registration} {name}",
    "closing.pdf.copy": "Copy: {copy}",
    "closing.pdf.per_question": "Marks per question",
    "closing.pdf.question": "{label}: {points} / {max}",
    "closing.pdf.special": "Mark: {mark}",
    "closing.pdf.total": "Total: {total} / {max}",
    "closing.pdf.corrector_mark": "Corrector's mark: {mark} / 20",
    "closing.pdf.jury_mark": "Mark set by the jury: {mark} / 20",
    "closing.pdf.appreciation": "Appreciation",
}
