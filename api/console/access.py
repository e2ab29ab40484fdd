"""Who is signed in to the console: the routes' class that turns an
anonymous visitor into a redirect to the sign-in page (and the register down
into a French 503 page), the session dependency, the CSRF check of every
form, and the sign-in and sign-out routes."""

import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from api.auth import ROLE_PERMISSIONS, Permission
from api.console import pages
from api.console.sessions import COOKIE, ConsoleSession, csrf_matches, current_session, end_session, open_session
from api.problems import REGISTER_RETRY_AFTER, ProblemError
from api.services import Services, services
from complaints import credentials
from complaints.database import REGISTER_ERRORS, register_unavailable

log = logging.getLogger(__name__)

SIGN_IN = "/console/connexion"
_SIGN_IN_COOKIE = "console_sign_in"  # the sign-in form's own CSRF token, before any session


class SignInRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            svc = services(request)
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{SIGN_IN}?suite={quote(target)}", 303)
            except ProblemError as problem:
                if problem.status != 503:
                    raise
                answer = pages.page(
                    svc,
                    "message.html",
                    503,
                    heading="Service momentanément indisponible",
                    message="Le dossier ne répond pas : réessayez dans quelques instants.",
                )
                answer.headers["Retry-After"] = (problem.headers or {}).get("Retry-After", "5")
                return answer
            except Forbidden as refused:
                return pages.page(svc, "message.html", 403, heading="Action non autorisée", message=refused.message)
            except REGISTER_ERRORS as error:
                if not register_unavailable(error):
                    raise
                log.warning("the register is unavailable on %s %s: %s", request.method, request.url.path, error)
                answer = pages.page(
                    svc,
                    "message.html",
                    503,
                    heading="Service momentanément indisponible",
                    message="Le registre ne répond pas : réessayez dans quelques instants. Rien n'a été modifié.",
                )
                answer.headers["Retry-After"] = REGISTER_RETRY_AFTER
                return answer

        return run


async def signed_in(request: Request, svc: Services = Depends(services)) -> ConsoleSession:
    session = await current_session(svc.pool, svc.settings, request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired
    return session


async def checked_form(request: Request, session: ConsoleSession) -> dict[str, str]:
    """The posted form's text fields, once its CSRF token is the session's;
    refused (nothing done) otherwise."""
    form = await request.form()
    if not csrf_matches(session.csrf_token, form.get("csrf")):
        raise Forbidden("Ce formulaire a expiré ou ne vient pas de la console : rechargez la page et recommencez.")
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


PERMISSIONS_FR = {
    Permission.READ: "consulter les réclamations",
    Permission.TAKE_IN: "enregistrer des réclamations",
    Permission.CONFIRM_POSTAL: "confirmer les courriers postaux",
    Permission.HANDLE: "traiter les réclamations",
    Permission.APPROVE: "approuver les compensations",
    Permission.READ_REPORTS: "consulter les indicateurs",
}


def may(session: ConsoleSession, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[session.operator.role]


def require(session: ConsoleSession, permission: Permission) -> None:
    if not may(session, permission):
        raise Forbidden(f"Votre rôle ({session.operator.role.value}) ne permet pas de {PERMISSIONS_FR[permission]}.")


router = APIRouter(prefix="/console", include_in_schema=False, route_class=ConsoleRoute)


def _secure(svc: Services) -> bool:
    return svc.settings.public_base_url.startswith("https://")


def _sign_in_page(svc: Services, target: str, name: str, error: str | None, status: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    answer = pages.page(svc, "sign_in.html", status, target=target, typed_name=name, error=error, csrf=token)
    answer.set_cookie(
        _SIGN_IN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(svc), path=SIGN_IN, max_age=3600
    )
    return answer


def _safe_target(target: str | None) -> str:
    """Only a console page: never another site after signing in."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


@router.get("/connexion", response_class=HTMLResponse)
async def sign_in_form(suite: str | None = None, svc: Services = Depends(services)) -> HTMLResponse:
    return _sign_in_page(svc, _safe_target(suite), "", None)


@router.post("/connexion", response_class=HTMLResponse)
async def sign_in(request: Request, svc: Services = Depends(services)) -> Response:
    form = await request.form()
    name = " ".join(str(form.get("nom") or "").split())[:200]
    password = str(form.get("mot_de_passe") or "")
    target = _safe_target(str(form.get("suite") or ""))
    if not csrf_matches(request.cookies.get(_SIGN_IN_COOKIE) or "", form.get("csrf")):
        return _sign_in_page(svc, target, name, "Le formulaire a expiré : saisissez à nouveau vos identifiants.", 403)
    address = request.client.host if request.client else "unknown"
    window = timedelta(minutes=svc.settings.console_sign_in_window_minutes)
    limit = svc.settings.console_sign_in_attempts
    if max(await credentials.failures(svc.pool, name, address, window)) >= limit:
        minutes = svc.settings.console_sign_in_window_minutes
        answer = _sign_in_page(
            svc, target, name, f"Trop de tentatives échouées : réessayez dans {minutes} minutes.", 429
        )
        answer.headers["Retry-After"] = str(minutes * 60)
        return answer
    operator = await credentials.verify_password(svc.pool, name, password) if name and password else None
    if operator is None:
        await credentials.record_failure(svc.pool, name, address)
        return _sign_in_page(svc, target, name, "Nom ou mot de passe incorrect.", 401)
    token = await open_session(svc.pool, operator)
    signed = RedirectResponse(target, 303)
    signed.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(svc),
        path="/console",
        max_age=svc.settings.console_session_hours * 3600,
    )
    signed.delete_cookie(_SIGN_IN_COOKIE, path=SIGN_IN)
    return signed


@router.post("/deconnexion")
async def sign_out(
    request: Request, session: ConsoleSession = Depends(signed_in), svc: Services = Depends(services)
) -> Response:
    await checked_form(request, session)
    await end_session(svc.pool, session.token_hash)
    answer = RedirectResponse(f"{SIGN_IN}?suite=/console", 303)
    answer.delete_cookie(COOKIE, path="/console")
    return answer


@router.get("/console.css")
async def stylesheet() -> Response:
    return Response(pages.asset("console.css"), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/console.js")
async def script() -> Response:
    return Response(pages.asset("console.js"), media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})
