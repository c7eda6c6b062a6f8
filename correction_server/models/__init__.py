"""The data model. Importing this package registers every table on Base.metadata."""

from correction_server.db import Base
from correction_server.models.accounts import CorrectorPaper, Role, User
from correction_server.models.audit import AuditEntry
from correction_server.models.candidate_space import (
    ActivationCode,
    CandidateAccount,
    RequestStatus,
    ReviewRequest,
)
from correction_server.models.closing import (
    Hold,
    JuryDecision,
    MissingDeclaration,
    PurgeRecord,
    ReadingChoice,
    ReadingStatus,
    Reassignment,
    ResultsPublication,
    SecondReading,
)
from correction_server.models.conflicts import CorrectorEstablishment, Incompatibility
from correction_server.models.dispatch import AssignmentState, CorrectionLot, LotCopy
from correction_server.models.documents import DocumentKind, PaperDocument
from correction_server.models.exam import (
    Attendance,
    Candidate,
    Centre,
    Establishment,
    ExamSession,
    Paper,
    Question,
    RollEntry,
)
from correction_server.models.flags import (
    CopyFlag,
    FlagDecision,
    FlagKind,
    FlagState,
    PageVersion,
    RescanRequest,
    RescanState,
    ScanLotRepush,
)
from correction_server.models.jury import (
    AbsenceJustification,
    FraudReport,
    HarmonisationMeeting,
    HarmonisationRule,
    HarmonisedMark,
    JuryMeeting,
    PaperPayLevel,
    PaperVoid,
    SessionPayRates,
    WorkConfirmation,
)
from correction_server.models.logins import LoginFailure, LoginSession
from correction_server.models.marking import (
    AnnotationLayer,
    Comment,
    CommentUse,
    Marking,
    MarkingStatus,
    QuestionMark,
    SpecialMark,
)
from correction_server.models.office import ActionState, OfficeAction, OfficeSetting
from correction_server.models.pushes import PushUpload
from correction_server.models.room_reports import RoomReportRecord
from correction_server.models.scans import Copy, CopyStatus, IdentityLink, Page, ScanLot

__all__ = [
    "ActivationCode",
    "CandidateAccount",
    "RequestStatus",
    "ReviewRequest",
    "AbsenceJustification",
    "FraudReport",
    "HarmonisationMeeting",
    "HarmonisationRule",
    "HarmonisedMark",
    "JuryMeeting",
    "PaperPayLevel",
    "PaperVoid",
    "SessionPayRates",
    "WorkConfirmation",
    "RoomReportRecord",
    "Hold",
    "JuryDecision",
    "MissingDeclaration",
    "PurgeRecord",
    "ReadingChoice",
    "ReadingStatus",
    "Reassignment",
    "ResultsPublication",
    "SecondReading",
    "AuditEntry",
    "AssignmentState",
    "CorrectionLot",
    "LotCopy",
    "LoginFailure",
    "LoginSession",
    "AnnotationLayer",
    "Comment",
    "CommentUse",
    "Marking",
    "MarkingStatus",
    "QuestionMark",
    "SpecialMark",
    "Attendance",
    "Base",
    "Candidate",
    "Centre",
    "Copy",
    "CopyStatus",
    "CorrectorPaper",
    "Establishment",
    "ExamSession",
    "IdentityLink",
    "Page",
    "PushUpload",
    "ActionState",
    "OfficeAction",
    "OfficeSetting",
    "Paper",
    "Question",
    "Role",
    "RollEntry",
    "ScanLot",
    "User",
    "CorrectorEstablishment",
    "Incompatibility",
    "DocumentKind",
    "PaperDocument",
    "CopyFlag",
    "FlagDecision",
    "FlagKind",
    "FlagState",
    "PageVersion",
    "RescanRequest",
    "RescanState",
    "ScanLotRepush",
]
