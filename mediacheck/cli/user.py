"""user add, list, tokens, disable, enable, passwd, token and revoke: the desk's accounts.

Who may run them: anyone who can open the store and its database. On one machine
the store's file permissions are the boundary; with MEDIACHECK_IDENTITY=database
only a database user whose account is an admin (or anyone, to add the first admin
of a desk with no account yet).
"""

from __future__ import annotations

import sys
from dataclasses import asdict

import click

from mediacheck.cli.options import json_option, open_store, store_options
from mediacheck.cli.output import console, note_line, print_json, text

# accounts.roles.ROLES, restated so that --help does not import the accounts core.
ROLES = ("reporter", "verifier", "editor", "admin")


def password_option(func):
    return click.option(
        "--password-stdin",
        is_flag=True,
        help="Read the password from the first line of stdin instead of asking.",
    )(func)


def _password(from_stdin: bool) -> str:
    """The new password: stdin's first line, or asked twice, hidden, on a terminal."""
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to ask for the password on: use --password-stdin")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _print_account(account, as_json: bool, done: str) -> None:
    if as_json:
        print_json(asdict(account))
    else:
        console.print(f"{done} {text(account.name)} ({text(account.role)})")


@click.group()
def user():
    """Manage the desk's accounts: roles, passwords and API tokens.

    Accounts prove who acts on the web desk (and on the CLI with
    MEDIACHECK_IDENTITY=database). Roles: reporter (intake, notes, propose),
    verifier (also approve, reject), editor (also status, assignees, tags),
    admin (also accounts).

    \b
    Example:
        mediacheck user add alice --role verifier
        mediacheck user token bob --name "newsroom bot"
    """


@user.command()
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@password_option
@json_option
@store_options
def add(name, role, password_stdin, as_json, settings):
    """Add an account; asks for its password twice (or reads --password-stdin).

    \b
    Example:
        mediacheck user add alice --role verifier
        printf '%s\\n' "$PASSWORD" | mediacheck user add bot --role reporter --password-stdin
    """
    from mediacheck.accounts import service

    password = _password(password_stdin)
    account = service.add_user(open_store(settings, create=True), name, role, password)
    _print_account(account, as_json, "added")


@user.command(name="list")
@json_option
@store_options
def list_command(as_json, settings):
    """List the accounts, their roles and whether they are disabled.

    \b
    Example:
        mediacheck user list --json
    """
    from mediacheck.accounts import service

    accounts = service.list_users(open_store(settings))
    if as_json:
        print_json([asdict(a) for a in accounts])
        return
    from rich.table import Table

    table = Table("name", "role", "state", "created", header_style="bold")
    for a in accounts:
        state = "disabled" if a.disabled else "enabled"
        table.add_row(text(a.name), text(a.role), state, text(a.created_at))
    console.print(table)


@user.command()
@click.argument("name", required=False)
@json_option
@store_options
def tokens(name, as_json, settings):
    """List the API tokens (of account NAME, or all), never their secrets.

    \b
    Example:
        mediacheck user tokens bob
    """
    from mediacheck.accounts import service

    found = service.list_tokens(open_store(settings), name)
    if as_json:
        print_json([asdict(t) for t in found])
        return
    from rich.table import Table

    table = Table("id", "account", "name", "state", "created", "last used", header_style="bold")
    for t in found:
        state = "revoked" if t.revoked else "active"
        table.add_row(
            str(t.id), text(t.name), text(t.label), state, text(t.created_at), text(t.last_used_at)
        )
    console.print(table)


@user.command()
@click.argument("name")
@json_option
@store_options
def disable(name, as_json, settings):
    """Disable an account: its logins, sessions and API tokens stop working.

    \b
    Example:
        mediacheck user disable alice
    """
    from mediacheck.accounts import service

    _print_account(service.disable_user(open_store(settings), name), as_json, "disabled")


@user.command()
@click.argument("name")
@json_option
@store_options
def enable(name, as_json, settings):
    """Enable a disabled account again (its old sessions stay ended).

    \b
    Example:
        mediacheck user enable alice
    """
    from mediacheck.accounts import service

    _print_account(service.enable_user(open_store(settings), name), as_json, "enabled")


@user.command()
@click.argument("name")
@password_option
@store_options
def passwd(name, password_stdin, settings):
    """Set an account's password; its sessions end.

    \b
    Example:
        mediacheck user passwd alice
    """
    from mediacheck.accounts import service

    store = open_store(settings)
    service.get_account(store, name)  # before asking: a mistyped name fails at once
    service.set_password(store, name, _password(password_stdin))
    console.print(f"password of {text(name)} changed")


@user.command()
@click.argument("name")
@click.option("--name", "label", required=True, help="What uses the token, e.g. 'newsroom bot'.")
@json_option
@store_options
def token(name, label, as_json, settings):
    """Make an API token for account NAME and print its secret, this once only.

    Scripts send it as ``Authorization: Bearer SECRET``; only its hash is kept.

    \b
    Example:
        mediacheck user token bob --name "newsroom bot"
    """
    from mediacheck.accounts import service

    info, secret = service.issue_token(open_store(settings), name, label)
    if as_json:
        print_json(asdict(info) | {"secret": secret})
        return
    click.echo(secret)
    note_line(f"token {info.id} for {info.name} ({info.label}): the secret is shown only now")


@user.command()
@click.argument("token_id", metavar="TOKEN_ID", type=int)
@json_option
@store_options
def revoke(token_id, as_json, settings):
    """Revoke an API token: requests with it fail from now on.

    \b
    Example:
        mediacheck user revoke 3
    """
    from mediacheck.accounts import service

    info = service.revoke_token(open_store(settings), token_id)
    if as_json:
        print_json(asdict(info))
        return
    console.print(f"revoked token {info.id} of {text(info.name)} ({text(info.label)})")


COMMANDS = [user]
