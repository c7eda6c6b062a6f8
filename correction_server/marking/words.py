# ruff: noqa: E501  (sentences read better unbroken)
"""The words of the marking pages, French first, English beside."""

from __future__ import annotations

FR = {
    "marking.home.title": "Mes copies à corriger",
    "marking.home.none": "Aucun lot ne vous est attribué pour l'instant.",
    "marking.home.lot": "{paper} – lot {number}",
    "marking.home.progress": "{marked} copie(s) corrigée(s) sur {total}",
    "marking.home.deadline": "Fin de la correction : {when}",
    "marking.home.continue": "Continuer la correction",
    "marking.home.copy": "Copie",
    "marking.home.state": "État",
    "marking.home.mark": "Note /20",
    "marking.state.todo": "à corriger",
    "marking.state.new": "à corriger",
    "marking.state.draft": "en cours",
    "marking.state.marked": "corrigée",
    "marking.copy.title": "Copie {copy}",
    "marking.copy.position": "Copie {position} sur {count}",
    "marking.copy.prev": "Copie précédente",
    "marking.copy.next": "Copie suivante",
    "marking.copy.home": "Mes lots",
    "marking.copy.pages": "Pages de la copie",
    "marking.copy.page": "Page {n}",
    "marking.copy.zoom_in": "Agrandir",
    "marking.copy.zoom_out": "Réduire",
    "marking.copy.rotate": "Tourner",
    "marking.copy.scheme": "Barème",
    "marking.copy.out_of": "/ {max}",
    "marking.copy.total": "Total",
    "marking.copy.on20": "Note sur 20",
    "marking.copy.appreciation": "Appréciation d'ensemble (obligatoire)",
    "marking.copy.comments": "Commentaires de la banque sur cette copie",
    "marking.copy.appreciation_short": "appréciation",
    "marking.copy.remove": "Retirer",
    "marking.copy.missing": "Reste à faire : {what}",
    "marking.copy.readonly": "Lecture seule.",
    "marking.copy.absent": "Cette copie a été enregistrée ABSENT au centre d'épreuve.",
    "marking.copy.blank": "Cette copie a été enregistrée COPIE BLANCHE au centre d'épreuve.",
    "marking.copy.page_left_blank": "page laissée blanche",
    "marking.copy.confirm_ab": "Confirmer la note AB (absent)",
    "marking.copy.confirm_00": "Confirmer la note 00 (copie blanche)",
    "marking.copy.confirm_question": (
        "Confirmer {mark} pour la copie {copy} ? Cette note est définitive pour le jury."
    ),
    "marking.copy.withdraw": "Annuler {mark}",
    "marking.tools": "Annotations",
    "marking.tool.none": "Aucun outil",
    "marking.tool.select": "Sélectionner, déplacer",
    "marking.tool.tick": "Juste ✓",
    "marking.tool.cross": "Faux ✗",
    "marking.tool.pen": "Stylo",
    "marking.tool.text": "Texte",
    "marking.tool.highlight": "Surligner",
    "marking.tool.comment": "Placer un commentaire",
    "marking.tool.erase": "Gomme",
    "marking.tool.undo": "Annuler",
    "marking.tool.redo": "Rétablir",
    "marking.bank": "Banque de commentaires",
    "marking.bank.filter": "Chercher un commentaire",
    "marking.bank.add": "Nouveau commentaire",
    "marking.bank.add_button": "Ajouter à ma banque",
    "marking.bank.insert": "Insérer",
    "marking.bank.place": "Placer sur la page",
    "marking.bank.edit": "Modifier",
    "marking.bank.shared": "partagé",
    "marking.bank.empty": "Votre banque est vide : ajoutez vos commentaires fréquents.",
    "marking.save.saved": "Enregistré",
    "marking.save.saving": "Enregistrement…",
    "marking.save.pending": "Modifications non enregistrées",
    "marking.save.offline": (
        "Pas de connexion : vos modifications sont gardées ici et renvoyées dès que possible."
    ),
    "marking.conflict.title": "Cette copie a été modifiée ailleurs",
    "marking.conflict.field": "Élément",
    "marking.conflict.mine": "Votre version",
    "marking.conflict.saved": "Version enregistrée",
    "marking.conflict.keep_mine": "Garder ma version",
    "marking.conflict.layer_changed": "{n}, déplacées ou modifiées",
    "marking.conflict.take_saved": "Prendre la version enregistrée",
    "marking.shortcuts": "Raccourcis clavier",
    "marking.key.next": "copie suivante (enregistre d'abord)",
    "marking.key.prev": "copie précédente",
    "marking.key.field": "aller à la question 1 à 9",
    "marking.key.enter": "dans une note : champ suivant",
    "marking.key.appreciation": "aller à l'appréciation",
    "marking.key.bank": "chercher dans la banque de commentaires, Entrée pour insérer",
    "marking.key.tools": "outils : ✓, ✗, stylo, texte, surligner, gomme (hors d'un champ)",
    "marking.key.undo": "annuler / rétablir une annotation (ajout, déplacement, texte, effacement)",
    "marking.key.zoom": "agrandir / réduire, tourner l'affichage",
    "marking.key.escape": "désélectionner l'annotation, quitter l'outil ou le champ",
    "marking.key.select": (
        "sélectionner une annotation (puis glisser à la souris) ; S de nouveau : la suivante, "
        "Maj+S : la précédente"
    ),
    "marking.key.arrow": "flèche",
    "marking.key.move": "déplacer l'annotation sélectionnée (avec Maj : dix fois plus loin)",
    "marking.key.double_click": "double-clic",
    "marking.key.edit_text": "modifier le texte de la zone de texte sélectionnée",
    "marking.key.delete": "effacer l'annotation sélectionnée",
    "marking.kbd.enter": "Entrée",
    "marking.kbd.escape": "Échap",
    "marking.kbd.shift": "Maj",
    "marking.kbd.delete": "Suppr",
    "marking.kind.comment": "Commentaire",
    "marking.copy.selected": "Sélection : {what}, page {n}. Flèches pour déplacer.",
    "marking.copy.text_entry": "Texte de l'annotation",
    "marking.err.comment_no_bank": "Vous ne corrigez ni ne coordonnez cette épreuve : vous n'y avez pas de banque de commentaires.",
    "marking.err.comment_share_forbidden": "Seul le coordonnateur de l'épreuve (ou le service des examens) partage des commentaires avec tous les correcteurs.",
    "marking.err.comment_no_shared": "Il n'y a pas de commentaire partagé numéro {number} pour cette épreuve.",
    "marking.err.comment_empty": "Un commentaire doit avoir un texte.",
    "marking.err.comment_too_long": "Un commentaire a au plus {maximum} caractères ; celui-ci en a {length}.",
    "marking.err.comment_not_author": "Seul l'auteur d'un commentaire peut le modifier ; ajoutez plutôt votre propre formulation à votre banque.",
    "marking.err.scheme_no_paper": "l'épreuve {paper} n'existe pas",
    "marking.err.scheme_locked": "le barème de {paper} est déjà verrouillé depuis le {since}",
    "marking.err.no_scheme": "l'épreuve {paper} n'a pas encore de barème : importez-le avec `massicot office import paper`",
    "marking.err.not_a_mark": "« {typed} » n'est pas une note : tapez un nombre comme 3 ou 2,5.",
    "marking.err.out_of_range": "{question} : {value} est hors de 0 à {maximum} (le maximum du barème).",
    "marking.err.step_half": "{question} : {value} n'est pas permis ; les notes vont par demi-points.",
    "marking.err.step_whole": "{question} : {value} n'est pas permis ; les notes vont par points entiers.",
    "marking.err.not_locked": (
        "La saisie des notes de {paper} n'est pas encore ouverte : le coordonnateur verrouille le barème "
        "après la réunion d'entente. Vous pouvez déjà lire les copies."
    ),
    "marking.err.no_window": (
        "Le service des examens n'a pas encore fixé la période de correction de {paper} ; "
        "la saisie ouvrira ensuite."
    ),
    "marking.err.not_yet": "La période de correction de {paper} ouvre le {when}.",
    "marking.err.frozen": (
        "Le jury a délibéré sur {paper} : les notes sont arrêtées. Une modification demande que le jury "
        "se réunisse à nouveau (le service des examens l'enregistre)."
    ),
    "marking.err.window_closed": (
        "La période de correction de {paper} est close depuis le {when}. Les notes ne peuvent plus être "
        "modifiées ; contactez le service des examens en cas d'erreur."
    ),
    "marking.err.not_yours": "La copie {copy} n'est pas dans vos lots.",
    "marking.err.conflict": (
        "Cette copie a été modifiée ailleurs (un autre onglet ou une autre fenêtre) depuis l'ouverture de "
        "cette page. Rien n'a été écrasé : comparez, puis gardez votre version ou celle enregistrée."
    ),
    "marking.err.special_only_AB": (
        "La copie {copy} a été enregistrée absente au centre : sa seule note est AB. "
        "Si le scan montre des réponses, prévenez le service des examens."
    ),
    "marking.err.special_only_00": (
        "La copie {copy} a été enregistrée blanche au centre : sa seule note est 00. "
        "Si le scan montre des réponses, prévenez le service des examens."
    ),
    "marking.err.ab_not_absent": (
        "AB est réservé aux copies enregistrées absentes au centre ; la copie {copy} ne l'est pas. "
        "Notez ses questions."
    ),
    "marking.err.blank_not_blank": (
        "00 est réservé aux copies enregistrées blanches au centre ; la copie {copy} ne l'est pas. "
        "Notez ses questions (0 est une note valable)."
    ),
    "marking.err.not_in_scheme": "La question {question} n'est pas dans le barème de l'épreuve {paper}.",
    "marking.err.no_paper": "L'épreuve {paper} n'existe pas.",
    "marking.err.not_a_page": "La page {page} n'est pas une page de la copie {copy}.",
    "marking.err.not_in_bank": (
        "Le commentaire {comment} n'est pas dans votre banque de commentaires pour cette épreuve ; "
        "rechargez la page."
    ),
}

EN = {
    "marking.home.title": "My copies to mark",
    "marking.home.none": "No lot has been given to you yet.",
    "marking.home.lot": "{paper} – lot {number}",
    "marking.home.progress": "{marked} of {total} copies marked",
    "marking.home.deadline": "Marking closes: {when}",
    "marking.home.continue": "Continue marking",
    "marking.home.copy": "Copy",
    "marking.home.state": "State",
    "marking.home.mark": "Mark /20",
    "marking.state.todo": "to mark",
    "marking.state.new": "to mark",
    "marking.state.draft": "in progress",
    "marking.state.marked": "marked",
    "marking.copy.title": "Copy {copy}",
    "marking.copy.position": "Copy {position} of {count}",
    "marking.copy.prev": "Previous copy",
    "marking.copy.next": "Next copy",
    "marking.copy.home": "My lots",
    "marking.copy.pages": "Pages of the copy",
    "marking.copy.page": "Page {n}",
    "marking.copy.zoom_in": "Zoom in",
    "marking.copy.zoom_out": "Zoom out",
    "marking.copy.rotate": "Rotate",
    "marking.copy.scheme": "Marking scheme",
    "marking.copy.out_of": "/ {max}",
    "marking.copy.total": "Total",
    "marking.copy.on20": "Mark out of 20",
    "marking.copy.appreciation": "Overall appreciation (required)",
    "marking.copy.comments": "Bank comments on this copy",
    "marking.copy.appreciation_short": "appreciation",
    "marking.copy.remove": "Remove",
    "marking.copy.missing": "Still to do: {what}",
    "marking.copy.readonly": "Read only.",
    "marking.copy.absent": "This copy was recorded ABSENT at the exam centre.",
    "marking.copy.blank": "This copy was recorded BLANK at the exam centre.",
    "marking.copy.page_left_blank": "page left blank",
    "marking.copy.confirm_ab": "Confirm the mark AB (absent)",
    "marking.copy.confirm_00": "Confirm the mark 00 (blank copy)",
    "marking.copy.confirm_question": "Confirm {mark} for copy {copy}? The jury will see this mark.",
    "marking.copy.withdraw": "Withdraw {mark}",
    "marking.tools": "Annotations",
    "marking.tool.none": "No tool",
    "marking.tool.select": "Select, move",
    "marking.tool.tick": "Right ✓",
    "marking.tool.cross": "Wrong ✗",
    "marking.tool.pen": "Pen",
    "marking.tool.text": "Text",
    "marking.tool.highlight": "Highlight",
    "marking.tool.comment": "Place a comment",
    "marking.tool.erase": "Eraser",
    "marking.tool.undo": "Undo",
    "marking.tool.redo": "Redo",
    "marking.bank": "Comment bank",
    "marking.bank.filter": "Find a comment",
    "marking.bank.add": "New comment",
    "marking.bank.add_button": "Add to my bank",
    "marking.bank.insert": "Insert",
    "marking.bank.place": "Place on the page",
    "marking.bank.edit": "Edit",
    "marking.bank.shared": "shared",
    "marking.bank.empty": "Your bank is empty: add the comments you write often.",
    "marking.save.saved": "Saved",
    "marking.save.saving": "Saving…",
    "marking.save.pending": "Unsaved changes",
    "marking.save.offline": "No connection: your changes are kept here and sent again as soon as possible.",
    "marking.conflict.title": "This copy was changed elsewhere",
    "marking.conflict.field": "Item",
    "marking.conflict.mine": "Your version",
    "marking.conflict.saved": "Saved version",
    "marking.conflict.keep_mine": "Keep my version",
    "marking.conflict.layer_changed": "{n}, moved or changed",
    "marking.conflict.take_saved": "Take the saved version",
    "marking.shortcuts": "Keyboard shortcuts",
    "marking.key.next": "next copy (saves first)",
    "marking.key.prev": "previous copy",
    "marking.key.field": "go to question 1 to 9",
    "marking.key.enter": "in a mark: next field",
    "marking.key.appreciation": "go to the appreciation",
    "marking.key.bank": "search the comment bank, Enter to insert",
    "marking.key.tools": "tools: ✓, ✗, pen, text, highlight, eraser (outside a field)",
    "marking.key.undo": "undo / redo an annotation (added, moved, text, erased)",
    "marking.key.zoom": "zoom in / out, rotate the view",
    "marking.key.escape": "deselect the annotation, leave the tool or the field",
    "marking.key.select": (
        "select an annotation (then drag it with the mouse); S again: the next one, Shift+S: the previous one"
    ),
    "marking.key.arrow": "arrow",
    "marking.key.move": "move the selected annotation (with Shift: ten times further)",
    "marking.key.double_click": "double click",
    "marking.key.edit_text": "edit the text of the selected text box",
    "marking.key.delete": "erase the selected annotation",
    "marking.kbd.enter": "Enter",
    "marking.kbd.escape": "Esc",
    "marking.kbd.shift": "Shift",
    "marking.kbd.delete": "Delete",
    "marking.kind.comment": "Comment",
    "marking.copy.selected": "Selected: {what}, page {n}. Arrow keys move it.",
    "marking.copy.text_entry": "Annotation text",
    "marking.err.comment_no_bank": "You do not mark or coordinate this paper, so it has no comment bank for you.",
    "marking.err.comment_share_forbidden": "Only the coordinator of the paper (or the exam office) shares comments with every corrector.",
    "marking.err.comment_no_shared": "There is no shared comment number {number} for this paper.",
    "marking.err.comment_empty": "A comment needs some text.",
    "marking.err.comment_too_long": "A comment is at most {maximum} characters; this one has {length}.",
    "marking.err.comment_not_author": "Only the author of a comment can change it; add your own wording to your bank instead.",
    "marking.err.scheme_no_paper": "paper {paper} does not exist",
    "marking.err.scheme_locked": "the barème of {paper} is already locked since {since}",
    "marking.err.no_scheme": "paper {paper} has no barème yet: import it with `massicot office import paper`",
    "marking.err.not_a_mark": "“{typed}” is not a mark: type a number such as 3 or 2.5.",
    "marking.err.out_of_range": "{question}: {value} is outside 0 to {maximum} (the barème's maximum).",
    "marking.err.step_half": "{question}: {value} is not allowed; marks go in half points.",
    "marking.err.step_whole": "{question}: {value} is not allowed; marks go in whole points.",
    "marking.err.not_locked": (
        "Marks for {paper} are not open yet: the coordinator locks the barème after the standardisation "
        "meeting. You can already read the copies."
    ),
    "marking.err.no_window": (
        "The exam office has not set the marking window of {paper} yet; marks open then."
    ),
    "marking.err.not_yet": "The marking window of {paper} opens on {when}.",
    "marking.err.frozen": (
        "The jury has deliberated on {paper}: its marks are final. A change needs the jury to meet "
        "again (the exam office records that meeting)."
    ),
    "marking.err.window_closed": (
        "The marking window of {paper} closed on {when}. Marks can no longer be changed; contact the "
        "exam office if a mark is wrong."
    ),
    "marking.err.not_yours": "Copy {copy} is not in your lots.",
    "marking.err.conflict": (
        "This copy was changed elsewhere (another tab or window) since this page loaded. Nothing was "
        "overwritten: compare, then keep your version or the saved one."
    ),
    "marking.err.special_only_AB": (
        "Copy {copy} was recorded absent at the centre: its only mark is AB. If the scan shows answers, "
        "tell the exam office."
    ),
    "marking.err.special_only_00": (
        "Copy {copy} was recorded blank at the centre: its only mark is 00. If the scan shows answers, "
        "tell the exam office."
    ),
    "marking.err.ab_not_absent": (
        "AB is only for a copy recorded absent at the centre; copy {copy} was not. Mark its questions."
    ),
    "marking.err.blank_not_blank": (
        "00 is only for a copy recorded blank at the centre; copy {copy} was not. Mark its questions "
        "(0 is a valid mark)."
    ),
    "marking.err.not_in_scheme": "Question {question} is not in the barème of paper {paper}.",
    "marking.err.no_paper": "Paper {paper} does not exist.",
    "marking.err.not_a_page": "Page {page} is not a page of copy {copy}.",
    "marking.err.not_in_bank": (
        "Comment {comment} is not in your comment bank for this paper; reload the page."
    ),
}
