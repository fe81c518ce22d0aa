"""``db grant``: a PostgreSQL desk role's rights, and no way for it to rewrite the record.

A desk role may read every table and add rows to every table but the accounts'. It
may change rows only where mediacheck itself changes them: a case's fields, status
and history head (``cases``); and delete only the findings a new analysis replaces,
and procrastinate's queue rows. It reads the accounts without their password hashes
and the API tokens, and changes neither: else it could give itself a role, or a
colleague's web identity a password or token it knows. A role granted
``--accounts`` (the web server's, which counts failed logins and uses tokens, and an
admin's own) may also add and change accounts and tokens. The history (``events``), the
notes, the verdicts and their decisions (``verdict_decisions``) get no UPDATE and
no DELETE: not even a SQL client logged in as the role can rewrite them. The
schema's version table is read only. Rights given before are revoked first, so
running it again sets exactly these. A trigger refuses, from any role and client,
a decision that approves a verdict its proposer decides.

A *personal* role (``--personal``) is one person's login: the database then also
refuses any history event, note, verdict or decision it writes under another name
than its own (a trigger checks it against ``current_user``), so not even a SQL
client can forge a colleague's approval. A role shared by several people (the web
server's) cannot be personal: it records the names its users proved to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from mediacheck.errors import InvalidValue, StoreError

# Tables whose rows are never changed or removed once written.
APPEND_ONLY = ("events", "notes", "verdicts", "verdict_decisions")
# The rows mediacheck changes (see the module docstring); FOR UPDATE locks need UPDATE too.
UPDATED = ("cases",)
# The identities: read (without password hashes) by every desk role, changed by --accounts ones.
ACCOUNT_TABLES = ("accounts", "api_tokens")
SECRET_COLUMNS = {"accounts": ("password_hash",)}
DELETED = ("findings",)
READ_ONLY = ("alembic_version",)
# procrastinate's tables and mediacheck's job errors: the queue's own bookkeeping.
QUEUE_PREFIXES = ("procrastinate_", "mediacheck_job_")
# The group of personal roles (a cluster-wide role), and the name each table records.
PERSONAL_GROUP = "mediacheck_personal"
OWN_NAME_COLUMNS = {
    "events": "user",
    "notes": "author",
    "verdicts": "proposed_by",
    "verdict_decisions": "decided_by",
}
# Direct membership only: a superuser counts as a member of every role for pg_has_role.
OWN_NAME_FUNCTION = f"""
CREATE OR REPLACE FUNCTION mediacheck_own_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM pg_auth_members m
        JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE g.rolname = '{PERSONAL_GROUP}' AND u.rolname = current_user
    ) AND (to_jsonb(NEW) ->> TG_ARGV[0]) IS DISTINCT FROM current_user::text THEN
        RAISE EXCEPTION 'the personal role % may record only its own name in %.%',
            current_user, TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""
# Four eyes in the database: nobody, whatever role or client, approves their own proposal.
FOUR_EYES_FUNCTION = """
CREATE OR REPLACE FUNCTION mediacheck_four_eyes() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.state = 'approved' AND EXISTS (
        SELECT 1 FROM verdicts v WHERE v.id = NEW.verdict_id AND v.proposed_by = NEW.decided_by
    ) THEN
        RAISE EXCEPTION '% proposed verdict % and cannot approve it (four eyes)',
            NEW.decided_by, NEW.verdict_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""


@dataclass(frozen=True)
class Grants:
    role: str
    schema: str
    tables: dict[str, list[str]]  # table: privileges, in the order SQL names them
    personal: bool
    accounts: bool


def privileges_of(table: str, columns: list[str], accounts: bool = False) -> list[str]:
    """What a desk role may do to ``table`` (of these ``columns``), as SQL privileges."""
    if table in ACCOUNT_TABLES:
        if accounts:
            return ["SELECT", "INSERT", "UPDATE"]
        hidden = SECRET_COLUMNS.get(table, ())
        if not hidden:
            return ["SELECT"]
        return [f"SELECT ({', '.join(c for c in columns if c not in hidden)})"]
    if table in READ_ONLY:
        return ["SELECT"]
    if table.startswith(QUEUE_PREFIXES):
        return ["SELECT", "INSERT", "UPDATE", "DELETE"]
    granted = ["SELECT", "INSERT"]
    if table in UPDATED:
        granted.append("UPDATE")
    if table in DELETED:
        granted.append("DELETE")
    return granted


def grant(conn: Connection, role: str, personal: bool = False, accounts: bool = False) -> Grants:
    """Give the PostgreSQL role ``role`` a desk's rights on this schema's tables.

    ``personal``: the role may record only its own name; ``accounts``: it may add and
    change accounts and tokens (see the module docstring).
    """
    if conn.dialect.name != "postgresql":
        raise StoreError(
            "db grant needs a PostgreSQL database: SQLite has no database roles (on one "
            "machine the store folder's file permissions decide who may change it)"
        )
    _check_role(conn, role)
    quoted = conn.dialect.identifier_preparer.quote
    schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    database = str(conn.execute(text("SELECT current_database()")).scalar_one())
    tables = sorted(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
        ).scalars()
    )
    who, where = quoted(role), quoted(schema)
    conn.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}"))
    conn.execute(text(f"GRANT CONNECT ON DATABASE {quoted(database)} TO {who}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {where} TO {who}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}"))
    conn.execute(text(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {where} TO {who}"))
    granted = {}
    for table in tables:
        granted[table] = privileges_of(table, _columns(conn, schema, table), accounts)
        rights = ", ".join(granted[table])
        conn.execute(text(f"GRANT {rights} ON TABLE {where}.{quoted(table)} TO {who}"))
    _install_trigger(conn, FOUR_EYES_FUNCTION, "verdict_decisions", "four_eyes", "")
    if personal:
        _check_own_names(conn, [t for t in OWN_NAME_COLUMNS if t in tables])
        conn.execute(text(f"GRANT {quoted(PERSONAL_GROUP)} TO {who}"))
    elif _group_exists(conn):
        conn.execute(text(f"REVOKE {quoted(PERSONAL_GROUP)} FROM {who}"))
    return Grants(role=role, schema=schema, tables=granted, personal=personal, accounts=accounts)


def _columns(conn: Connection, schema: str, table: str) -> list[str]:
    query = text(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"
    )
    return list(conn.execute(query, {"schema": schema, "table": table}).scalars())


def _group_exists(conn: Connection) -> bool:
    query = text("SELECT 1 FROM pg_roles WHERE rolname = :group")
    return conn.execute(query, {"group": PERSONAL_GROUP}).first() is not None


def _check_own_names(conn: Connection, tables: list[str]) -> None:
    """The group of personal roles and the trigger that holds them to their own names."""
    quoted = conn.dialect.identifier_preparer.quote
    if not _group_exists(conn):
        conn.execute(text(f"CREATE ROLE {quoted(PERSONAL_GROUP)} NOLOGIN"))
    for table in tables:
        column = OWN_NAME_COLUMNS[table].replace("'", "''")
        _install_trigger(conn, OWN_NAME_FUNCTION, table, "own_name", f"'{column}'")


def _install_trigger(
    conn: Connection, function: str, table: str, purpose: str, arguments: str
) -> None:
    """(Re)create the function ``mediacheck_<purpose>`` and its BEFORE INSERT trigger."""
    quoted = conn.dialect.identifier_preparer.quote
    conn.execute(text(function))
    trigger, on = quoted(f"{table}_{purpose}"), quoted(table)
    conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {on}"))
    conn.execute(
        text(
            f"CREATE TRIGGER {trigger} BEFORE INSERT ON {on} FOR EACH ROW "
            f"EXECUTE FUNCTION mediacheck_{purpose}({arguments})"
        )
    )


def _check_role(conn: Connection, role: str) -> None:
    found = conn.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise InvalidValue(
            f"no PostgreSQL role {role!r}: create it first (CREATE ROLE ... LOGIN PASSWORD ...)"
        )
    if found[0]:
        raise InvalidValue(f"{role!r} is a superuser: PostgreSQL checks no rights of a superuser")
    owned = conn.execute(
        text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
            "AND tableowner = :role"
        ),
        {"role": role},
    ).scalar_one()
    if owned:
        raise InvalidValue(
            f"{role!r} owns the tables: an owner keeps every right, grant a desk role of its own"
        )
