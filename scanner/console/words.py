"""The console's words, French first, English too (massicot_core.words catalogue)."""

from __future__ import annotations

from massicot_core.words import add_messages, translate

FR = {
    "console.title": "Poste de numérisation",
    "console.lang_other": "English",
    "console.step.start": "Démarrer",
    "console.step.scan": "Numériser",
    "console.step.check": "Vérifier",
    "console.step.room": "Procès-verbal",
    "console.step.seal": "Sceller",
    "console.step.send": "Envoyer",
    "console.start.resume_title": "Reprendre un lot non terminé",
    "console.start.resume_help": (
        "Ce lot n'a pas encore été envoyé. Rien de ce qui a été numérisé n'est perdu."
    ),
    "console.start.resume": "Reprendre ce lot",
    "console.start.new_title": "Nouveau lot",
    "console.start.paper": "Code de l'épreuve (imprimé sur les copies)",
    "console.start.centre": "Code UAI du centre",
    "console.start.roll_file": "Liste d'appel reçue du service des examens (fichier CSV)",
    "console.start.roll_known": "ou une liste d'appel déjà sur ce poste",
    "console.start.roll_none": "— aucune —",
    "console.start.create": "Créer le lot",
    "console.start.no_roll": (
        "Choisissez la liste d'appel : le fichier du service des examens ou une liste déjà sur ce poste."
    ),
    "console.lot.state.scanning": "en cours",
    "console.lot.state.sealed": "scellé, à envoyer",
    "console.lot.state.queued": "en attente d'envoi",
    "console.lot.state.sent": "envoyé",
    "console.scan.source_title": "D'où viennent les pages ?",
    "console.scan.sane": "Le scanner branché sur ce poste",
    "console.scan.no_device": (
        "Aucun scanner trouvé : vérifiez qu'il est allumé et branché, puis rechargez la page."
    ),
    "console.scan.profile": "réglages",
    "console.scan.start_sane": "Lancer la numérisation",
    "console.scan.watch": "Le dossier où le logiciel du scanner enregistre ses fichiers",
    "console.scan.watch_folder": "Dossier surveillé",
    "console.scan.start_watch": "Surveiller ce dossier",
    "console.scan.no_folder": (
        "Ce dossier n'existe pas sur ce poste : choisissez le dossier où le scanner enregistre."
    ),
    "console.scan.files": "Ajouter des fichiers (PDF, TIFF, JPEG)",
    "console.scan.add_files": "Ajouter ces fichiers",
    "console.scan.running": "Numérisation en cours…",
    "console.scan.idle": "Aucune numérisation en cours.",
    "console.scan.pages": "pages",
    "console.scan.copies": "copies trouvées",
    "console.scan.rate": "pages/s",
    "console.scan.anomalies": "anomalies",
    "console.scan.last_pages": "Dernières pages",
    "console.scan.continue": "Continuer",
    "console.scan.finish": "La pile est terminée",
    "console.scan.to_check": "Passer à la vérification",
    "console.scan.done": "Numérisation terminée : {pages} pages reçues.",
    "console.scan.busy": "Une numérisation est déjà en cours sur ce lot : attendez qu'elle se termine.",
    "console.feed.empty": (
        "Le chargeur est vide. Posez les feuilles suivantes puis cliquez sur « Continuer » ; quand "
        "toute la pile est passée, cliquez sur « La pile est terminée »."
    ),
    "console.feed.jammed": (
        "Bourrage papier. Ouvrez le scanner, retirez la feuille coincée, reposez-la sur le dessus "
        "de la pile, refermez le scanner puis cliquez sur « Continuer »."
    ),
    "console.feed.cover_open": (
        "Le capot du scanner est ouvert. Refermez-le, vérifiez que la pile est dans le chargeur "
        "puis cliquez sur « Continuer »."
    ),
    "console.feed.double_feed": (
        "Deux feuilles sont passées ensemble. Reprenez-les, reposez-les sur le dessus de la pile "
        "puis cliquez sur « Continuer »."
    ),
    "console.feed.hung": (
        "Le scanner ne répond plus : le poste l'a arrêté. Toutes les pages reçues sont gardées. "
        "Éteignez puis rallumez le scanner, remettez dans le chargeur les feuilles pas encore "
        "passées, puis cliquez sur « Continuer »."
    ),
    "console.feed.io_error": (
        "Le scanner ne communique plus avec l'ordinateur. Vérifiez le câble et l'alimentation, "
        "éteignez puis rallumez le scanner, puis cliquez sur « Continuer ». Les pages reçues sont "
        "gardées."
    ),
    "console.feed.busy": (
        "Le scanner est utilisé par un autre programme. Fermez l'autre logiciel de numérisation "
        "puis cliquez sur « Continuer »."
    ),
    "console.feed.other": (
        "Le scanner a signalé un problème : {detail}. Les pages reçues sont gardées ; corrigez puis "
        "cliquez sur « Continuer »."
    ),
    "console.check.operator_title": "Qui prend les décisions ce soir ?",
    "console.check.operator_help": (
        "Votre nom est enregistré avec chaque décision, comme avec la commande en ligne."
    ),
    "console.check.operator": "Votre nom",
    "console.check.operator_save": "Enregistrer",
    "console.check.decided_by": "Décisions enregistrées au nom de {name}.",
    "console.check.nothing": "Plus rien à résoudre : le lot peut être scellé.",
    "console.check.copies": "Les copies",
    "console.check.copy": "Copie",
    "console.check.candidate": "Candidat",
    "console.check.status": "État",
    "console.check.pages": "Pages",
    "console.check.envelope": "À reporter sur l'enveloppe",
    "console.check.envelope_line": (
        "{copies} copies, dont {blank} blanches ; {absent} absents ; inscrits {registered}, "
        "présents {present}."
    ),
    "console.check.decide": "Décider",
    "console.action.assign": "Mettre dans cette copie",
    "console.action.discard": "Mettre cette feuille de côté",
    "console.action.confirm-annex": "Oui, c'est une annexe de cette copie",
    "console.action.label": "Enregistrer à qui est la copie",
    "console.action.mark-absent": "Enregistrer ABSENT",
    "console.action.mark-blank": "Enregistrer une copie blanche",
    "console.action.mark-present": "Enregistrer présent",
    "console.action.rescan": "Renumériser toute la copie",
    "console.action.accept-incomplete": "L'accepter telle quelle",
    "console.action.admit": "Il a composé ici",
    "console.field.copy": "Copie",
    "console.field.page": "Page (vide : une annexe)",
    "console.field.reason": "Pourquoi",
    "console.field.candidate": "Numéro d'inscription sur l'étiquette",
    "console.room.title": "Procès-verbal de salle",
    "console.room.help": (
        "Saisissez le procès-verbal, ou numérisez-le ; joignez la liste d'émargement signée. Les "
        "deux sont scellés dans le lot et envoyés avec lui, visibles du seul service des examens."
    ),
    "console.room.room": "Salle",
    "console.room.registered": "Inscrits",
    "console.room.present": "Présents",
    "console.room.absent": "Absents (un nom par ligne)",
    "console.room.late": "Retardataires admis (un par ligne)",
    "console.room.left": "Candidats sortis définitivement (un par ligne, avec l'heure)",
    "console.room.incidents": "Incidents",
    "console.room.pv_file": "Procès-verbal numérisé (PDF ou image), si vous ne le saisissez pas",
    "console.room.sheet_file": "Liste d'émargement signée, numérisée (PDF ou image)",
    "console.room.save": "Enregistrer le procès-verbal",
    "console.room.not_number": "Inscrits et présents s'écrivent en chiffres.",
    "console.room.saved": "Procès-verbal enregistré dans le lot.",
    "console.room.none": "Pas encore de procès-verbal dans ce lot.",
    "console.seal.title": "Sceller le lot",
    "console.seal.help": "Une fois scellé, le lot ne change plus ; il peut alors être envoyé.",
    "console.seal.open": "Le lot ne peut pas encore être scellé : {count} point(s) à régler d'abord.",
    "console.seal.button": "Sceller le lot",
    "console.seal.done": "Lot scellé.",
    "console.seal.no_room": (
        "Le procès-verbal de salle n'est pas encore dans le lot : saisissez-le avant de sceller."
    ),
    "console.send.title": "Envoyer le lot",
    "console.send.button": "Envoyer au serveur de correction",
    "console.send.not_sealed": "Scellez le lot avant de l'envoyer.",
    "console.send.no_server": (
        "Ce poste ne connaît pas l'adresse du serveur : relancez `massicot station --server ADRESSE`."
    ),
    "console.send.queued": "Lot en attente d'envoi.",
    "console.send.sending": "Envoi en cours : {done} sur {total} images.",
    "console.send.waiting": (
        "Le serveur ne répond pas ({reason}). Le lot reste en attente sur ce poste et partira tout "
        "seul dès que le serveur répondra ; prochain essai dans {seconds} s. Vous pouvez fermer "
        "cette page, pas le poste."
    ),
    "console.send.sent": "Le serveur a bien reçu le lot : {copies} copies, {pages} pages.",
    "console.send.refused": "Le serveur refuse le lot : {reason}",
    "console.error.form": "Ce formulaire est périmé : rechargez la page.",
    "console.error.no_lot": "Ce lot n'existe pas sur ce poste.",
    "console.error.local_only": "Cette page n'est servie que pour cet ordinateur.",
}

EN = {
    "console.title": "Scan station",
    "console.lang_other": "Français",
    "console.step.start": "Start",
    "console.step.scan": "Scan",
    "console.step.check": "Check",
    "console.step.room": "Room report",
    "console.step.seal": "Seal",
    "console.step.send": "Send",
    "console.start.resume_title": "Resume an unfinished lot",
    "console.start.resume_help": "This lot has not been sent yet. Nothing scanned is lost.",
    "console.start.resume": "Resume this lot",
    "console.start.new_title": "New lot",
    "console.start.paper": "Paper code (printed on the booklets)",
    "console.start.centre": "The centre's UAI code",
    "console.start.roll_file": "Roll from the exam office (CSV file)",
    "console.start.roll_known": "or a roll already on this station",
    "console.start.roll_none": "— none —",
    "console.start.create": "Create the lot",
    "console.start.no_roll": "Choose the roll: the exam office's file or a roll already on this station.",
    "console.lot.state.scanning": "in progress",
    "console.lot.state.sealed": "sealed, to send",
    "console.lot.state.queued": "waiting to be sent",
    "console.lot.state.sent": "sent",
    "console.scan.source_title": "Where do the pages come from?",
    "console.scan.sane": "The scanner plugged into this station",
    "console.scan.no_device": "No scanner found: check it is on and plugged in, then reload the page.",
    "console.scan.profile": "settings",
    "console.scan.start_sane": "Start scanning",
    "console.scan.watch": "The folder the scanner's software saves its files to",
    "console.scan.watch_folder": "Watched folder",
    "console.scan.start_watch": "Watch this folder",
    "console.scan.no_folder": (
        "There is no such folder on this station: choose the folder the scanner saves to."
    ),
    "console.scan.files": "Add files (PDF, TIFF, JPEG)",
    "console.scan.add_files": "Add these files",
    "console.scan.running": "Scanning…",
    "console.scan.idle": "No scan running.",
    "console.scan.pages": "pages",
    "console.scan.copies": "copies found",
    "console.scan.rate": "pages/s",
    "console.scan.anomalies": "anomalies",
    "console.scan.last_pages": "Last pages",
    "console.scan.continue": "Continue",
    "console.scan.finish": "The pile is finished",
    "console.scan.to_check": "Go to the check",
    "console.scan.done": "Scanning finished: {pages} pages received.",
    "console.scan.busy": "A scan is already running on this lot: wait for it to finish.",
    "console.feed.empty": (
        "The feeder is empty. Load the next sheets and click “Continue”; when the whole pile is "
        "through, click “The pile is finished”."
    ),
    "console.feed.jammed": (
        "Paper jam. Open the scanner, remove the jammed sheet, put it back on top of the pile, "
        "close the scanner and click “Continue”."
    ),
    "console.feed.cover_open": (
        "The scanner's cover is open. Close it, check the pile is in the feeder and click “Continue”."
    ),
    "console.feed.double_feed": (
        "Two sheets went through together. Take them out, put them back on top of the pile and "
        "click “Continue”."
    ),
    "console.feed.hung": (
        "The scanner stopped answering: the station stopped it. Every page received is kept. Switch "
        "the scanner off and on, put the sheets not yet scanned back in the feeder, then click "
        "“Continue”."
    ),
    "console.feed.io_error": (
        "The scanner stopped talking to the computer. Check the cable and the power, switch the "
        "scanner off and on, then click “Continue”. The pages received are kept."
    ),
    "console.feed.busy": (
        "The scanner is being used by another program. Close the other scanning program, then click "
        "“Continue”."
    ),
    "console.feed.other": (
        "The scanner reported a problem: {detail}. The pages received are kept; fix it, then click "
        "“Continue”."
    ),
    "console.check.operator_title": "Who takes the decisions tonight?",
    "console.check.operator_help": "Your name is recorded with each decision, as with the command line.",
    "console.check.operator": "Your name",
    "console.check.operator_save": "Save",
    "console.check.decided_by": "Decisions are recorded as {name}.",
    "console.check.nothing": "Nothing left to resolve: the lot can be sealed.",
    "console.check.copies": "The copies",
    "console.check.copy": "Copy",
    "console.check.candidate": "Candidate",
    "console.check.status": "State",
    "console.check.pages": "Pages",
    "console.check.envelope": "To write on the envelope",
    "console.check.envelope_line": (
        "{copies} copies, of which {blank} blank; {absent} absent; registered {registered}, present "
        "{present}."
    ),
    "console.check.decide": "Decide",
    "console.action.assign": "Put in this copy",
    "console.action.discard": "Set this sheet aside",
    "console.action.confirm-annex": "Yes, it is an annex of this copy",
    "console.action.label": "Record whose copy it is",
    "console.action.mark-absent": "Record ABSENT",
    "console.action.mark-blank": "Record a blank copy",
    "console.action.mark-present": "Record as present",
    "console.action.rescan": "Rescan the whole copy",
    "console.action.accept-incomplete": "Accept it as it is",
    "console.action.admit": "He sat the paper here",
    "console.field.copy": "Copy",
    "console.field.page": "Page (empty: an annex)",
    "console.field.reason": "Why",
    "console.field.candidate": "Registration number on the label",
    "console.room.title": "Room report",
    "console.room.help": (
        "Type the room report in, or scan it; add the signed signing sheet. Both are sealed into "
        "the lot and sent with it, seen by the exam office only."
    ),
    "console.room.room": "Room",
    "console.room.registered": "Registered",
    "console.room.present": "Present",
    "console.room.absent": "Absent (one name a line)",
    "console.room.late": "Late arrivals admitted (one a line)",
    "console.room.left": "Candidates who left for good (one a line, with the time)",
    "console.room.incidents": "Incidents",
    "console.room.pv_file": "Scanned room report (PDF or image), if you do not type it",
    "console.room.sheet_file": "Signed signing sheet, scanned (PDF or image)",
    "console.room.save": "Save the room report",
    "console.room.not_number": "Registered and present are written in figures.",
    "console.room.saved": "Room report saved in the lot.",
    "console.room.none": "No room report in this lot yet.",
    "console.seal.title": "Seal the lot",
    "console.seal.help": "Once sealed the lot no longer changes; it can then be sent.",
    "console.seal.open": "The lot cannot be sealed yet: {count} thing(s) to settle first.",
    "console.seal.button": "Seal the lot",
    "console.seal.done": "Lot sealed.",
    "console.seal.no_room": "The room report is not in the lot yet: enter it before sealing.",
    "console.send.title": "Send the lot",
    "console.send.button": "Send to the correction server",
    "console.send.not_sealed": "Seal the lot before sending it.",
    "console.send.no_server": (
        "This station does not know the server's address: start it again with `massicot station "
        "--server URL`."
    ),
    "console.send.queued": "Lot waiting to be sent.",
    "console.send.sending": "Sending: {done} of {total} images.",
    "console.send.waiting": (
        "The server does not answer ({reason}). The lot stays queued on this station and will leave "
        "by itself as soon as the server answers; next try in {seconds} s. You may close this page, "
        "not the station."
    ),
    "console.send.sent": "The server has received the lot: {copies} copies, {pages} pages.",
    "console.send.refused": "The server refuses the lot: {reason}",
    "console.error.form": "This form is out of date: reload the page.",
    "console.error.no_lot": "There is no such lot on this station.",
    "console.error.local_only": "This page is served for this computer only.",
}

add_messages(fr=FR, en=EN)


def words_for(lang: str):
    """`t(key, **values)` for templates and routes, in `lang`."""

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return t
