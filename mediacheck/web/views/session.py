"""/login and /logout: starting and ending a browser session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from mediacheck.errors import AuthenticationFailed, LoginThrottled
from mediacheck.web import auth
from mediacheck.web.depends import form_user, page_user, render
from mediacheck.web.desk import desk_of

router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this server only, never another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/cases"
    return value


@router.get("/")
def home() -> RedirectResponse:
    """Anyone: to the cases (which sends a visitor without a session to /login)."""
    return RedirectResponse("/cases", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    """Anyone: the login form."""
    return render(request, "login.html", next=safe_next(next), error=None, username="")


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/cases",
):
    """Anyone with the login form's CSRF token: a name and password start a session."""
    auth.check_csrf(request, csrf_token)
    store = desk_of(request).store
    try:
        await run_in_threadpool(auth.log_in, store, request, username.strip(), password)
    except LoginThrottled as exc:
        response = render(
            request, "login.html", 429, next=safe_next(next), error=str(exc), username=username
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthenticationFailed as exc:
        return render(
            request, "login.html", 401, next=safe_next(next), error=str(exc), username=username
        )
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/logout")
def logout_page(request: Request, user: Annotated[auth.Identity, Depends(page_user)]):
    """A logged-in account: the button that ends the session."""
    return render(request, "logout.html")


@router.post("/logout")
def logout(request: Request, user: Annotated[auth.Identity, Depends(form_user)]):
    """A logged-in account: end the session."""
    auth.log_out(request)
    return RedirectResponse("/login", status_code=303)
