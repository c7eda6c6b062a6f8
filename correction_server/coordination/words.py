# ruff: noqa: E501  (sentences of the pages read better unbroken)
"""The words of the coordination pages, of the coordination's refusals and of its flag, in French
and English."""

from __future__ import annotations

FR = {
    "coord.title": "Coordination",
    "coord.intro": "Suivi des épreuves que vous coordonnez : avancement, harmonisation, réattribution, double correction.",
    "coord.none": "Vous ne coordonnez aucune épreuve.",
    "coord.open": "Ouvrir le suivi de {paper}",
    "coord.progress": "Avancement",
    "coord.live": "Mis à jour automatiquement toutes les 20 secondes (dernière mise à jour : {at}).",
    "coord.total": "Ensemble de l'épreuve",
    "coord.by_corrector": "Par correcteur",
    "coord.by_centre": "Par centre d'épreuve",
    "coord.corrector": "Correcteur",
    "coord.centre": "Centre",
    "coord.copies": "Copies",
    "coord.marked": "Corrigées",
    "coord.draft": "En cours",
    "coord.not_started": "Non commencées",
    "coord.undispatched": "Non attribuées",
    "coord.lots": "Lots",
    "coord.harmonisation": "Harmonisation des notes",
    "coord.pool": "Ensemble : {n} copies notées, moyenne {mean}, écart-type {sd}.",
    "coord.flagged_none": "Aucun correcteur ne s'écarte de l'ensemble au-delà de ce que le hasard des lots explique.",
    "coord.flagged_some": "À regarder : {names}.",
    "coord.how_title": "Comment lire ce signal",
    "coord.how_1": (
        "Les copies de tous les centres sont mélangées avant d'être réparties : le lot de chaque correcteur "
        "est donc un échantillon pris au hasard parmi toutes les copies. Si tous notaient de la même façon, "
        "leurs moyennes ne différeraient que par le hasard de la répartition."
    ),
    "coord.how_2": (
        "Pour chaque correcteur, le serveur redistribue au hasard {perm} fois toutes les notes de l'épreuve "
        "en lots de la même taille, et compte combien de fois un lot s'écarte de la moyenne autant que le sien "
        "(test de permutation). Comme {m} correcteurs sont comparés en même temps, les résultats passent par "
        "la correction de Holm : quand tous notent de la même façon, il y a au plus {alpha} % de risque "
        "qu'un correcteur, quel qu'il soit, soit signalé à tort."
    ),
    "coord.how_3": (
        "Un signal invite à relire quelques copies avec le correcteur, jamais à conclure seul : la règle "
        "d'établissement (un correcteur ne reçoit pas ses propres élèves) rend les lots un peu moins "
        "aléatoires, et les correcteurs avec moins de {min} copies notées ne sont pas testés."
    ),
    "coord.mean": "Moyenne",
    "coord.sd": "Écart-type",
    "coord.n": "Copies notées",
    "coord.gap": "Écart",
    "coord.p": "p (Holm)",
    "coord.distribution": "Répartition (trait) / ensemble (gris)",
    "coord.verdict": "Lecture",
    "coord.per_question": "Moyennes par question",
    "coord.question": "Question",
    "coord.pool_short": "Ensemble",
    "coord.reassign": "Réattribuer des copies",
    "coord.reassign_help": (
        "Les copies déjà corrigées restent à leur correcteur. Les copies non commencées ou en cours "
        "partent chez les correcteurs choisis (ce qui a été saisi est conservé), réparties au plus juste, "
        "dans le respect de la règle d'établissement."
    ),
    "coord.lot": "Lot entier",
    "coord.or_copies": "ou copies (numéros séparés par des espaces)",
    "coord.to": "Vers les correcteurs",
    "coord.reason": "Motif",
    "coord.reassign_go": "Réattribuer",
    "coord.reassigned": "{moved} copie(s) réattribuée(s) ; {kept} copie(s) déjà corrigée(s) restent à leur correcteur.",
    "coord.second": "Double correction",
    "coord.second_help": (
        "Le second correcteur corrige la copie sans voir la première note ni les annotations. "
        "L'écart vous est ensuite montré : vous retenez une note."
    ),
    "coord.copy": "Copie",
    "coord.reader": "Second correcteur",
    "coord.ask": "Demander la double correction",
    "coord.reading_asked": "Double correction de la copie {copy} demandée.",
    "coord.first": "1re note",
    "coord.second_mark": "2e note",
    "coord.status": "État",
    "coord.decision": "Décision",
    "coord.keep_first": "Garder la 1re",
    "coord.take_second": "Prendre la 2e",
    "coord.other": "Autre note",
    "coord.decide": "Décider",
    "coord.decided": "Copie {copy} : note retenue {mark}.",
    "coord.large_gap": "écart important",
    "coord.status.requested": "en attente du second correcteur",
    "coord.status.done": "à décider",
    "coord.status.decided": "décidé",
    "coord.no_readings": "Aucune double correction demandée.",
    "reading.title": "Double correction",
    "reading.list_intro": "Copies que le coordonnateur vous demande de corriger une seconde fois.",
    "reading.none": "Aucune double correction ne vous est demandée.",
    "reading.intro": "Corrigez cette copie comme les autres ; la première note ne vous est pas montrée.",
    "reading.appreciation": "Appréciation d'ensemble",
    "reading.save": "Enregistrer la note",
    "reading.saved": "Note enregistrée. Le coordonnateur voit maintenant l'écart.",
    "reading.closed": "Le coordonnateur a décidé : cette double correction est close.",
    "reading.page": "Page {n}",
    "home.coordinator.link": "Suivi et harmonisation des correcteurs",
    "home.corrector.readings": "Doubles corrections demandées",
    "home.office.coordination": "Suivi des corrections",
    # What the coordination's rules refuse (correction_server.coordination.refusals).
    "coordination.err.pick_from_lists": "Choisissez les correcteurs et le lot dans les listes.",
    "coordination.err.which_copies": "Indiquez les copies à déplacer : un lot entier, ou une liste de numéros de copie.",
    "coordination.err.not_a_target": "Un correcteur choisi pour recevoir des copies ne corrige pas cette épreuve (ou son compte est désactivé).",
    "coordination.err.no_target": "Choisissez au moins un correcteur pour recevoir les copies.",
    "coordination.err.not_a_lot": "Le lot n° {lot} n'est pas un lot de cette épreuve.",
    "coordination.err.not_in_lots": "Dans aucun lot de cette épreuve : {copies}. Vérifiez les numéros de copie.",
    "coordination.err.nowhere_to_go": (
        "{impossible} des {movable} copies ne peuvent aller à aucun des correcteurs choisis "
        "(l'un les a déjà, ou les règles de répartition l'interdisent : un correcteur ne corrige jamais "
        "les candidats de l'établissement où il enseigne). Ajoutez un autre correcteur au choix. "
        "Rien n'a été déplacé."
    ),
    "coordination.err.nowhere_to_go_copies": (
        "{impossible} des {movable} copies ne peuvent aller à aucun des correcteurs choisis ({copies}) : "
        "pour chacune, l'un l'a déjà, ou enseigne dans l'établissement du candidat (l'un des établissements "
        "où il enseigne), ou l'office a enregistré une incompatibilité entre lui et ce candidat ou son "
        "établissement. Ajoutez un autre correcteur au choix. Rien n'a été déplacé."
    ),
    "coordination.err.reader_teaches": "{reader} enseigne dans l'établissement du candidat de la copie {copy} (l'un des établissements où il enseigne) : choisissez un autre second correcteur.",
    "coordination.err.reader_incompatible": "L'office a enregistré une incompatibilité entre {reader} et le candidat de la copie {copy} (ou son établissement) : choisissez un autre second correcteur.",
    "coordination.err.no_copy": "Il n'y a pas de copie {copy}.",
    "coordination.err.not_of_paper": "La copie « {typed} » n'est pas une copie de cette épreuve.",
    "coordination.err.recorded_absent": (
        "La copie {copy} a été enregistrée absente au centre : sa note ne dépend d'aucun correcteur, "
        "une double correction n'apporterait rien."
    ),
    "coordination.err.recorded_blank": (
        "La copie {copy} a été enregistrée blanche au centre : sa note ne dépend d'aucun correcteur, "
        "une double correction n'apporterait rien."
    ),
    "coordination.err.reader_not_corrector": "Le second correcteur doit être un correcteur actif de cette épreuve.",
    "coordination.err.reader_marks_it": "{reader} corrige déjà cette copie : une double correction demande un autre correcteur.",
    "coordination.err.reader_forbidden": "Les règles de répartition interdisent de confier cette copie à {reader} ; choisissez un autre correcteur.",
    "coordination.err.under_way": "La copie {copy} a déjà une double correction en cours.",
    "coordination.err.not_found": "Introuvable, ou pas à vous.",
    "coordination.err.reading_closed": "Le coordonnateur a déjà décidé pour cette copie ; la seconde note est close.",
    "coordination.err.mark_missing": "{question} : donnez une note (0 est une note) avant d'enregistrer.",
    "coordination.err.appreciation_missing": "Écrivez une appréciation d'ensemble : elle explique la note.",
    "coordination.err.not_read_yet": "Le second correcteur n'a pas encore saisi sa note.",
    "coordination.err.already_decided": "Cette double correction est déjà décidée.",
    "coordination.err.choose": "Choisissez : garder la première note, prendre la seconde, ou fixer une autre note.",
    "coordination.err.no_first_mark": "Le premier correcteur n'a pas terminé cette copie : il n'y a pas encore de première note.",
    "coordination.err.reason_missing": "Dites pourquoi vous fixez une autre note : le motif est conservé avec elle.",
    "coordination.err.not_a_mark_20": "« {typed} » n'est pas une note : donnez de 0 à 20 en points entiers ou demi-points (par ex. 12,5).",
    # The flag of the harmonisation, one sentence per corrector (correction_server.coordination.harmonisation).
    "coordination.flag.too_few": "Trop peu de copies notées ({n}) pour juger.",
    "coordination.flag.off_below": (
        "Moyenne {mean}, soit {gap} point(s) en dessous de l'ensemble ({pool}) : "
        "un tirage au hasard ne donne un tel écart que {chance}. À regarder."
    ),
    "coordination.flag.off_above": (
        "Moyenne {mean}, soit {gap} point(s) au-dessus de l'ensemble ({pool}) : "
        "un tirage au hasard ne donne un tel écart que {chance}. À regarder."
    ),
    "coordination.flag.within_below": "Moyenne {mean} (en dessous de {gap}) : écart compatible avec le hasard des lots.",
    "coordination.flag.within_above": "Moyenne {mean} (au-dessus de {gap}) : écart compatible avec le hasard des lots.",
    "coordination.flag.chance": "dans environ {p} des cas",
    "coordination.flag.chance_rare": "moins d'une fois sur mille",
    # The chart of the correctors' averages.
    "coordination.chart.title": "Moyenne de chaque correcteur",
    "coordination.chart.desc": (
        "Point : moyenne du correcteur ; bande grise : où tombe par hasard la moyenne d'un lot "
        "de cette taille ; ligne pointillée : moyenne de l'ensemble."
    ),
}

EN = {
    "coord.title": "Coordination",
    "coord.intro": "The papers you coordinate: progress, harmonisation, reassignment, second reading.",
    "coord.none": "You coordinate no paper.",
    "coord.open": "Open the follow-up of {paper}",
    "coord.progress": "Progress",
    "coord.live": "Updated automatically every 20 seconds (last update: {at}).",
    "coord.total": "Whole paper",
    "coord.by_corrector": "Per corrector",
    "coord.by_centre": "Per exam centre",
    "coord.corrector": "Corrector",
    "coord.centre": "Centre",
    "coord.copies": "Copies",
    "coord.marked": "Marked",
    "coord.draft": "In progress",
    "coord.not_started": "Not started",
    "coord.undispatched": "Not dispatched",
    "coord.lots": "Lots",
    "coord.harmonisation": "Harmonisation of marks",
    "coord.pool": "Pool: {n} marked copies, average {mean}, standard deviation {sd}.",
    "coord.flagged_none": "No corrector differs from the pool beyond what the random make-up of lots explains.",
    "coord.flagged_some": "Worth a look: {names}.",
    "coord.how_title": "How to read this flag",
    "coord.how_1": (
        "Copies of every centre are shuffled before they are dealt out, so each corrector's lot is a random "
        "sample of all the copies. If everyone marked alike, their averages would differ only by the luck "
        "of the deal."
    ),
    "coord.how_2": (
        "For each corrector, the server deals all the paper's marks out again at random {perm} times into "
        "lots of the same sizes, and counts how often a lot is as far from the average as his (a permutation "
        "test). As {m} correctors are compared at once, the results go through Holm's correction: when "
        "everyone marks alike, there is at most a {alpha} % chance that anyone at all is flagged by mistake."
    ),
    "coord.how_3": (
        "A flag is a reason to re-read a few copies with the corrector, never a verdict: the établissement "
        "rule (no corrector gets his own students) makes lots slightly less random, and correctors with "
        "fewer than {min} marked copies are not tested."
    ),
    "coord.mean": "Average",
    "coord.sd": "Std dev.",
    "coord.n": "Marked copies",
    "coord.gap": "Gap",
    "coord.p": "p (Holm)",
    "coord.distribution": "Distribution (line) / pool (grey)",
    "coord.verdict": "Reading",
    "coord.per_question": "Averages per question",
    "coord.question": "Question",
    "coord.pool_short": "Pool",
    "coord.reassign": "Reassign copies",
    "coord.reassign_help": (
        "Copies already marked stay with their corrector. Copies not started or in progress go to the "
        "chosen correctors (what was entered is kept), spread evenly, respecting the établissement rule."
    ),
    "coord.lot": "Whole lot",
    "coord.or_copies": "or copies (numbers separated by spaces)",
    "coord.to": "To the correctors",
    "coord.reason": "Reason",
    "coord.reassign_go": "Reassign",
    "coord.reassigned": "{moved} copy(ies) reassigned; {kept} copy(ies) already marked stay with their corrector.",
    "coord.second": "Second reading",
    "coord.second_help": (
        "The second corrector marks the copy without seeing the first mark or the annotations. "
        "You are then shown the gap and choose the mark."
    ),
    "coord.copy": "Copy",
    "coord.reader": "Second corrector",
    "coord.ask": "Ask for a second reading",
    "coord.reading_asked": "Second reading of copy {copy} asked.",
    "coord.first": "1st mark",
    "coord.second_mark": "2nd mark",
    "coord.status": "State",
    "coord.decision": "Decision",
    "coord.keep_first": "Keep the 1st",
    "coord.take_second": "Take the 2nd",
    "coord.other": "Another mark",
    "coord.decide": "Decide",
    "coord.decided": "Copy {copy}: mark kept {mark}.",
    "coord.large_gap": "large gap",
    "coord.status.requested": "waiting for the second corrector",
    "coord.status.done": "to decide",
    "coord.status.decided": "decided",
    "coord.no_readings": "No second reading asked.",
    "reading.title": "Second reading",
    "reading.list_intro": "Copies the coordinator asks you to mark a second time.",
    "reading.none": "No second reading is asked of you.",
    "reading.intro": "Mark this copy like any other; the first mark is not shown to you.",
    "reading.appreciation": "Overall appreciation",
    "reading.save": "Save the mark",
    "reading.saved": "Mark saved. The coordinator now sees the gap.",
    "reading.closed": "The coordinator has decided: this second reading is closed.",
    "reading.page": "Page {n}",
    "home.coordinator.link": "Follow-up and harmonisation of correctors",
    "home.corrector.readings": "Second readings asked of you",
    "home.office.coordination": "Marking follow-up",
    "coordination.err.pick_from_lists": "Choose the correctors and the lot from the lists.",
    "coordination.err.which_copies": "Say which copies to move: a whole lot, or a list of copy ids.",
    "coordination.err.not_a_target": "A corrector chosen to receive copies does not mark this paper (or his account is disabled).",
    "coordination.err.no_target": "Choose at least one corrector to receive the copies.",
    "coordination.err.not_a_lot": "Lot #{lot} is not a lot of this paper.",
    "coordination.err.not_in_lots": "Not in any lot of this paper: {copies}. Check the copy numbers.",
    "coordination.err.nowhere_to_go": (
        "{impossible} of the {movable} copies cannot go to any of the chosen correctors "
        "(one already holds them, or the dispatch rules forbid it: a corrector never marks "
        "candidates of the établissement where he teaches). Add another corrector to the choice. "
        "Nothing was moved."
    ),
    "coordination.err.nowhere_to_go_copies": (
        "{impossible} of the {movable} copies can go to none of the chosen correctors ({copies}): for each, "
        "one already has it, or teaches at the candidate's établissement (one of the établissements where "
        "he teaches), or the office recorded an incompatibility between him and this candidate or his "
        "établissement. Add another corrector to the choice. Nothing was moved."
    ),
    "coordination.err.reader_teaches": "{reader} teaches at the établissement of the candidate of copy {copy} (one of the établissements where he teaches): choose another second corrector.",
    "coordination.err.reader_incompatible": "The office recorded an incompatibility between {reader} and the candidate of copy {copy} (or his établissement): choose another second corrector.",
    "coordination.err.no_copy": "There is no copy {copy}.",
    "coordination.err.not_of_paper": "Copy {typed!r} is not a copy of this paper.",
    "coordination.err.recorded_absent": (
        "Copy {copy} was recorded absent at the centre: its mark does not depend "
        "on a corrector, a second reading would add nothing."
    ),
    "coordination.err.recorded_blank": (
        "Copy {copy} was recorded blank at the centre: its mark does not depend "
        "on a corrector, a second reading would add nothing."
    ),
    "coordination.err.reader_not_corrector": "The second reader must be an active corrector of this paper.",
    "coordination.err.reader_marks_it": "{reader} marks this copy already: a second reading needs another corrector.",
    "coordination.err.reader_forbidden": "The dispatch rules forbid giving this copy to {reader}; choose another corrector.",
    "coordination.err.under_way": "Copy {copy} already has a second reading under way.",
    "coordination.err.not_found": "Not found, or not yours.",
    "coordination.err.reading_closed": "The coordinator has already decided on this copy; the second mark is closed.",
    "coordination.err.mark_missing": "{question}: give a mark (0 is a mark) before saving.",
    "coordination.err.appreciation_missing": "Write an overall appreciation: it explains the mark.",
    "coordination.err.not_read_yet": "The second corrector has not entered his mark yet.",
    "coordination.err.already_decided": "This second reading is already decided.",
    "coordination.err.choose": "Choose: keep the first mark, take the second, or set another mark.",
    "coordination.err.no_first_mark": "The first corrector has not finished this copy: there is no first mark yet.",
    "coordination.err.reason_missing": "Say why you set another mark: the reason is kept with it.",
    "coordination.err.not_a_mark_20": "{typed!r} is not a mark: give 0 to 20 in whole or half points (e.g. 12,5).",
    "coordination.flag.too_few": "Too few marked copies ({n}) to judge.",
    "coordination.flag.off_below": (
        "Average {mean}, {gap} point(s) below the pool ({pool}): a random lot "
        "is this far off {chance}. Worth a look."
    ),
    "coordination.flag.off_above": (
        "Average {mean}, {gap} point(s) above the pool ({pool}): a random lot "
        "is this far off {chance}. Worth a look."
    ),
    "coordination.flag.within_below": "Average {mean} ({gap} below): within what the random make-up of lots explains.",
    "coordination.flag.within_above": "Average {mean} ({gap} above): within what the random make-up of lots explains.",
    "coordination.flag.chance": "about {p} of the time",
    "coordination.flag.chance_rare": "less than once in a thousand deals",
    "coordination.chart.title": "Each corrector's average",
    "coordination.chart.desc": (
        "Dot: the corrector's average; grey band: where a lot of that size averages by chance; "
        "dashed line: the pool's average."
    ),
}
