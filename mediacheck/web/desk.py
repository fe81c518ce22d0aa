"""What every route shares: the settings, the open store, the session signer, the templates."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from fastapi import Request
from fastapi.templating import Jinja2Templates

from mediacheck import __version__, config
from mediacheck.store.database import Store
from mediacheck.web import auth


@dataclass
class Desk:
    """What every route shares: the settings, the store, the session signer, the templates."""

    settings: config.Settings
    store: Store
    sessions: auth.Sessions
    templates: Jinja2Templates


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def templates() -> Jinja2Templates:
    folder = resources.files("mediacheck.web") / "templates"
    templates = Jinja2Templates(directory=str(folder))  # autoescapes .html templates
    templates.env.globals["csrf_field"] = auth.CSRF_FIELD
    templates.env.globals["version"] = __version__
    return templates
