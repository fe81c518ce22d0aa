"""Options and parameter types shared by several commands."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from mediacheck import config

if TYPE_CHECKING:
    from mediacheck.store.database import Store

# The case statuses of review.service, restated so that --help does not import the
# review service and the database layer under it (tests/test_startup.py compares them).
CASE_STATUSES = ("open", "in-review", "closed")


def _desk(ctx, param, value):
    if value is None:
        return None
    try:
        return config.desk_prefix(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


def store_options(func):
    """--store, --db, --user, --desk and --blobs, set once per desk through the environment.

    A command's CASE argument (or ``--case``), passed as ``case_id``, is taken in any
    letter case: case ids are capitals (MC-2026-0001), so ``mc-2026-0001`` names it too.
    """

    @click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="MEDIACHECK_HOME",
        help="Case store folder [env MEDIACHECK_HOME; default ./cases].",
    )
    @click.option(
        "--db",
        "db_url",
        envvar="MEDIACHECK_DATABASE_URL",
        help="SQLAlchemy database URL [env MEDIACHECK_DATABASE_URL; default SQLite in the store].",
    )
    @click.option(
        "--user",
        envvar="MEDIACHECK_USER",
        help="Who is acting [env MEDIACHECK_USER; default the OS login].",
    )
    @click.option(
        "--desk",
        metavar="PREFIX",
        envvar="MEDIACHECK_DESK",
        callback=_desk,
        help="Prefix of the case ids this desk numbers, 1 to 8 letters or digits "
        f"[env MEDIACHECK_DESK; default {config.DEFAULT_DESK}].",
    )
    @click.option(
        "--blobs",
        envvar="MEDIACHECK_BLOBS",
        help="Where originals and pictures are kept: s3://bucket/prefix, endpoint and keys "
        "from the AWS variables [env MEDIACHECK_BLOBS; default the store folder].",
    )
    @functools.wraps(func)
    def wrapper(*args, store, db_url, user, desk, blobs, **kwargs):
        try:
            settings = config.resolve(store=store, db_url=db_url, user=user, desk=desk, blobs=blobs)
        except ValueError as exc:  # MEDIACHECK_IDENTITY
            raise click.UsageError(str(exc)) from exc
        if settings.identity == "database":
            from mediacheck.cli.permissions import database_identity

            settings = database_identity(settings, user, kwargs)
        if isinstance(kwargs.get("case_id"), str):
            kwargs["case_id"] = kwargs["case_id"].strip().upper()
        return func(*args, settings=settings, **kwargs)

    return wrapper


def open_store(settings: config.Settings, check_schema: bool = True, create: bool = False) -> Store:
    """The command's store; its database connections are closed when the command ends.

    Only the commands that bring media in (intake, import) pass ``create``: any other on
    a mistyped ``--store`` fails instead of showing an empty archive.
    """
    # Imported here: SQLAlchemy costs start-up time that --help and bad options need not pay.
    from mediacheck.store.database import Store

    store = Store.open(settings, check_schema=check_schema, create=create)
    click.get_current_context().call_on_close(store.engine.dispose)
    return store


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


class DateTimeType(click.ParamType):
    """An ISO 8601 time; without an offset it is taken as UTC."""

    name = "ISO-8601"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time such as 2026-01-03T06:10:00Z", param, ctx)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.isoformat()


class LocationType(click.ParamType):
    """LAT,LON in signed decimal degrees."""

    name = "LAT,LON"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = str(value).split(",")
        try:
            lat, lon = (float(p) for p in parts)
        except ValueError:
            self.fail(f"{value!r} is not LAT,LON in decimal degrees, e.g. 48.85,2.35", param, ctx)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.fail(f"{value!r} is outside -90..90 latitude or -180..180 longitude", param, ctx)
        return (lat, lon)


class UrlType(click.ParamType):
    """An http(s) URL with a host."""

    name = "URL"

    def convert(self, value, param, ctx):
        text = str(value).strip()
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in text:
            self.fail(f"{value!r} is not an http(s) URL", param, ctx)
        return text


DATETIME = DateTimeType()
LOCATION = LocationType()
URL = UrlType()
