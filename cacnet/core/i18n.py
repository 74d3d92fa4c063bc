"""Language choice and localised reference data (country names)."""

from __future__ import annotations

import gettext
from functools import cache

import pycountry
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}


def select_locale() -> str:
    """The visitor's explicit choice, then their account's language, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line, background work
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/") and request.endpoint != "api.docs":
        # The JSON API knows no session or account (it ignores cookies): the header alone.
        return (
            request.accept_languages.best_match(languages)
            or current_app.config["BABEL_DEFAULT_LOCALE"]
        )
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_language() -> str:
    return str(get_locale() or "en")


def bilingual(en: str | None, ko: str | None, locale: str | None = None) -> tuple[str, str]:
    """Text kept in English and Korean, shown in ``locale`` (default: the page's language)
    when there is one, else in the other: (text, the language of that text)."""
    mine = "ko" if (locale or current_language()) == "ko" else "en"
    first, second = (ko, en) if mine == "ko" else (en, ko)
    if first:
        return first, mine
    return second or "", "en" if mine == "ko" else "ko"


def lang_attribute(language: str, locale: str | None = None) -> str | None:
    """The ``lang`` attribute text in ``language`` needs on a page in ``locale``, or None."""
    mine = "ko" if (locale or current_language()) == "ko" else "en"
    return None if language == mine else language


@cache
def _country_translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(code: str | None, language: str | None = None) -> str:
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return _country_translation(language or current_language()).gettext(name)


@cache
def _country_codes() -> tuple[str, ...]:
    return tuple(sorted(c.alpha_2 for c in pycountry.countries))


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """ISO 3166-1 countries as (alpha-2, localised name), sorted by name in that language."""
    return list(_sorted_countries(language or current_language()))


@cache
def _sorted_countries(language: str) -> tuple[tuple[str, str], ...]:
    named = ((code, country_name(code, language)) for code in _country_codes())
    return tuple(sorted(named, key=lambda c: c[1]))


def is_country_code(code: str) -> bool:
    return code in _country_codes()


@cache
def _language_translation(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso639-3", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def language_name(code: str, language: str | None = None) -> str:
    """The name of an ISO 639-1 language in the viewer's language (e.g. ko -> 한국어 / Korean)."""
    entry = pycountry.languages.get(alpha_2=code)
    if entry is None:
        return code
    return _language_translation(language or current_language()).gettext(entry.name)
