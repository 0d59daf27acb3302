"""The language of a patient page: `?lang=` (then remembered in a cookie), the cookie, the
patient's own language once the page knows the patient (when it is not English), the browser's
Accept-Language, English.

English is also what a prescription carries when the prescriber did not say, so an English patient
language cannot tell "reads English" from "nobody asked": the browser's wish outranks it. A Spanish
patient reads Spanish even on a phone set to English, which is what the prescriber asked for.

Staff, prescriber, admin and API pages stay English whatever the browser asks: the pharmacy
works in English, and a pharmacist must read the same words a colleague reads. The one exception is
the words a patient's own JSON answer carries (the status lookup's texts): see answer_language().
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

ENGLISH = "en"
LANGUAGE_PARAMETER = "lang"
PATIENT_NAMESPACE = "patient"
# A year: a patient who chose Spanish once reads Spanish at every later link.
COOKIE_MAX_AGE = 365 * 24 * 60 * 60

# How the page's language was chosen; a chosen one (the query or the cookie) outranks the patient's.
CHOSEN = frozenset({"query", "cookie"})


def supported(code: str | None) -> str | None:
    """'es' for 'es', 'es-MX' or 'ES'; None for a language the pharmacy does not write."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return base if base in dict(settings.LANGUAGES) else None


def browser_language(accept_language: str) -> str | None:
    """The first supported language of an Accept-Language header, by its q weights."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if quality > 0 and (language := supported(code)):
            weighted.append((-quality, position, language))
    return min(weighted)[2] if weighted else None


def _choose(request: HttpRequest) -> tuple[str, str]:
    asked = supported(request.GET.get(LANGUAGE_PARAMETER))
    if asked:
        return asked, "query"
    remembered = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if remembered:
        return remembered, "cookie"
    browser = browser_language(request.headers.get("Accept-Language", ""))
    if browser:
        return browser, "browser"
    return ENGLISH, "default"


def _use(request: HttpRequest, language: str, source: str) -> None:
    translation.activate(language)
    request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
    request.language_source = source  # type: ignore[attr-defined]


def _said(language: str | None) -> str | None:
    """The patient's language when it says more than the default."""
    code = supported(language)
    return code if code != ENGLISH else None


def use_patient_language(request: HttpRequest, language: str) -> None:
    """The page found its patient: their language, unless the visitor chose one with the switch
    (or the patient's is the default English and the browser asks for another)."""
    if getattr(request, "language_source", None) in CHOSEN or not _said(language):
        return
    _use(request, language, "patient")


def answer_language(request: HttpRequest, patient_language: str) -> str:
    """The language of the words in a JSON answer to the patient, chosen as a page's is: `?lang=`,
    the patient's own (when not English), the Accept-Language header, English."""
    return (
        supported(request.GET.get(LANGUAGE_PARAMETER))
        or _said(patient_language)
        or browser_language(request.headers.get("Accept-Language", ""))
        or ENGLISH
    )


class PatientLanguageMiddleware:
    """Activates the language for the patient pages' views (they are known by their URL namespace),
    and names it in the answer: Content-Language, and Vary for caches."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
            if getattr(request, "language_source", None) is None:
                return response
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)  # type: ignore[attr-defined]
            if request.language_source == "query":  # type: ignore[attr-defined]
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    request.LANGUAGE_CODE,  # type: ignore[attr-defined]
                    max_age=COOKIE_MAX_AGE,
                    samesite="Lax",
                    secure=request.is_secure(),
                    httponly=True,
                )
            return response
        finally:
            # The next request on this thread starts in English again.
            translation.activate(settings.LANGUAGE_CODE)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> None:
        match = request.resolver_match
        if match is not None and PATIENT_NAMESPACE in match.namespaces:
            _use(request, *_choose(request))
