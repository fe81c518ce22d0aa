"""Every error mediacheck raises on purpose.

The CLI turns a ``MediacheckError`` into one line on stderr and exit code 1;
anything else is a bug and keeps its traceback.
"""


class MediacheckError(Exception):
    """Base class: the message is shown to the user as it is."""


class StoreError(MediacheckError):
    """The case store or its database cannot be used."""


class StoreMissing(StoreError):
    """No case store where the settings point: only intake and import create one."""

    def __init__(self, where: str):
        super().__init__(f"no case store at {where} (set MEDIACHECK_HOME or --store)")
        self.where = where


class CaseNotFound(MediacheckError):
    def __init__(self, case_id: str):
        super().__init__(f"no case {case_id!r} in this store")
        self.case_id = case_id


class CaseExists(MediacheckError):
    def __init__(self, case_id: str):
        super().__init__(
            f"case {case_id!r} already exists in this store: import refused, nothing was added "
            "(a case keeps its id for good: desks that exchange bundles each number with a "
            "desk prefix of their own, set with MEDIACHECK_DESK or --desk)"
        )
        self.case_id = case_id


class BundleError(MediacheckError):
    """A bundle cannot be imported: malformed, tampered, oversized or unsafe."""


class MediaNotFound(MediacheckError):
    def __init__(self, media_id: str, detail: str = ""):
        super().__init__(f"no media {media_id!r}{detail}")
        self.media_id = media_id


class UnsupportedMedia(MediacheckError):
    """A file's content cannot be decoded as the kind of media it claims to be."""

    def __init__(self, path: object, cause: str):
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


class InputFileError(MediacheckError):
    """A file given on the command line cannot be read at all."""

    def __init__(self, path: object, cause: str):
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


class IntegrityError(MediacheckError):
    """Stored evidence or history does not match what was recorded."""


class InvalidValue(MediacheckError):
    """A value given by the user (a date, a location, a rating, ...) is malformed."""


class ReviewError(MediacheckError):
    """A review step is not allowed (self-approval, nothing to approve, ...)."""


class MediaChoiceNeeded(MediacheckError):
    """A command needs --media: the case holds several items it could mean (a usage error)."""

    def __init__(self, message: str, choices: list[str]):
        super().__init__(f"{message}: {', '.join(choices)}" if choices else message)
        self.choices = choices


class AmbiguousMedia(MediacheckError):
    def __init__(self, key: str, where: str, choices: list[str]):
        super().__init__(
            f"media {key!r} is ambiguous{where}: it starts {len(choices)} ids "
            f"({', '.join(choices)}); give more of it"
        )
        self.key = key
        self.choices = choices


class ConcurrentUpdate(MediacheckError):
    """Another desk changed the same thing at the same moment and won."""


class WorkerError(MediacheckError):
    """No worker process can be started to analyse files (the machine is out of processes)."""


class OutputError(MediacheckError):
    """A file or folder mediacheck was asked to write cannot be written."""

    def __init__(self, path: object, cause: str):
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


ONE_LINE_CHARS = 500


def one_line(exc: BaseException) -> str:
    """An unexpected exception told in one line: its type and the first line of its message."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text[:ONE_LINE_CHARS]


# Accounts (issue 16): who is acting, proven by a password, a token or the database session.


class AccountNotFound(MediacheckError):
    def __init__(self, name: str):
        super().__init__(f"no account {name!r}")
        self.name = name


class AccountExists(MediacheckError):
    def __init__(self, name: str):
        super().__init__(f"account {name!r} already exists")
        self.name = name


class AuthenticationFailed(MediacheckError):
    """A login or a token that proves no enabled account: one message, whatever the cause."""

    def __init__(self, message: str = "wrong account name or password"):
        super().__init__(message)


class LoginThrottled(AuthenticationFailed):
    """Too many failed logins in a row: the account refuses every login for a while."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins for this account: try again in {retry_after} s")
        self.retry_after = retry_after


class NotPermitted(MediacheckError):
    """The acting account's role does not allow the action."""


class TokenNotFound(MediacheckError):
    def __init__(self, token_id: int):
        super().__init__(f"no API token {token_id}")
        self.token_id = token_id


class IdentityUnavailable(MediacheckError):
    """MEDIACHECK_IDENTITY=database where the database proves no identity (SQLite)."""


class IdentityMismatch(MediacheckError):
    """--user names someone other than the database session proves (a usage error)."""


class VerdictNotFound(MediacheckError):
    """A verdict id the request names that no verdict of the case has (the web desk)."""
