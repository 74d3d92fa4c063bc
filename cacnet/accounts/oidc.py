"""Signing in with an OpenID Connect provider, and every change to a user's linked identities.

The admin lists the providers in ``OIDC_PROVIDERS`` (see ``parse_providers``). The flow is the
authorization code flow with PKCE (S256), ``state`` and ``nonce``, through Authlib's Flask client;
the ID token is verified against the keys the issuer publishes (discovery document, JWKS) and its
``iss``, ``aud``, ``exp``, ``iat`` and ``nonce`` are checked here, not left to defaults.

After a verified answer (``complete_sign_in``):
  (a) an identity already linked signs its user in;
  (b) an unknown identity whose e-mail belongs to an account is linked at once, but only when the
      admin trusts the provider's e-mail and the provider says the address is verified;
  (c) otherwise the identity waits in the session (``PENDING_KEY``, ten minutes at most) and is
      linked to whoever starts a session next in this browser: by password, after an invitation,
      or by the account a membership application creates (``link_pending_identity``).

Service functions audit and leave the commit to the caller, like the rest of ``accounts``.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.base_client.registry import OAUTH_CLIENT_PARAMS
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, flash, g, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from cacnet.accounts.models import OidcIdentity, User
from cacnet.accounts.services import get_user_by_email, normalise_email
from cacnet.core import audit
from cacnet.core.db import db, utcnow
from cacnet.core.errors import StateConflict

log = logging.getLogger(__name__)

PENDING_KEY = "oidc_pending"  # the lead's begin_sign_in keeps this key across the second factor
PENDING_SECONDS = 600
NEXT_KEY = "oidc_next"
DEFAULT_SCOPES = "openid email profile"
HTTP_TIMEOUT = 10  # seconds, for every request to a provider
CLOCK_LEEWAY = 60  # seconds of clock skew tolerated on exp and iat
METADATA_MAX_AGE = 24 * 3600  # re-read the discovery document (and keys) once a day

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_REQUIRED_KEYS = ("name", "title", "issuer", "client_id", "client_secret")
_OPTIONAL_KEYS = ("scopes", "trust_email", "metadata_url")
_RESERVED_NAMES = {"continue"}  # /auth/oidc/continue is a page of its own
_EXTENSION = "cacnet.oidc"


# --- the configured providers ----------------------------------------------------------------


@dataclass(frozen=True)
class OidcProvider:
    name: str  # the slug in URLs and in oidc_identities.provider
    title: str  # the button label
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    trust_email: bool
    metadata_url: str


def parse_providers(raw: Any) -> list[OidcProvider]:
    """The providers in ``OIDC_PROVIDERS``, checked; a RuntimeError names the first problem."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise RuntimeError("OIDC_PROVIDERS must be a list of dicts, one per OpenID provider.")
    providers: list[OidcProvider] = []
    for index, entry in enumerate(raw):
        where = f"OIDC_PROVIDERS[{index}]"
        if not isinstance(entry, dict):
            raise RuntimeError(f"{where} must be a dict.")
        unknown = set(entry) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS)
        if unknown:
            raise RuntimeError(f"{where} has unknown keys: {', '.join(sorted(unknown))}.")
        for key in _REQUIRED_KEYS:
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise RuntimeError(f"{where} needs {key!r} (a non-empty string).")
        name = entry["name"]
        where = f"OIDC_PROVIDERS[{index}] ({name!r})"
        if not _NAME_RE.match(name):
            raise RuntimeError(
                f"{where}: 'name' must be 1-64 lowercase letters, digits, '-' or '_' "
                "(it appears in URLs)."
            )
        if name in _RESERVED_NAMES:
            raise RuntimeError(f"{where}: {name!r} is a reserved word; choose another name.")
        if any(p.name == name for p in providers):
            raise RuntimeError(f"{where}: two providers are named {name!r}.")
        issuer = entry["issuer"].strip()
        _check_url(where, "issuer", issuer)
        metadata_url = entry.get("metadata_url") or (
            issuer.rstrip("/") + "/.well-known/openid-configuration"
        )
        _check_url(where, "metadata_url", metadata_url)
        scopes = entry.get("scopes", DEFAULT_SCOPES)
        if isinstance(scopes, (list, tuple)):
            scopes = " ".join(scopes)
        if not isinstance(scopes, str) or "openid" not in scopes.split():
            raise RuntimeError(f"{where}: 'scopes' must include 'openid'.")
        trust_email = entry.get("trust_email", False)
        if not isinstance(trust_email, bool):
            raise RuntimeError(f"{where}: 'trust_email' must be True or False.")
        providers.append(
            OidcProvider(
                name=name,
                title=entry["title"].strip(),
                issuer=issuer,
                client_id=entry["client_id"],
                client_secret=entry["client_secret"],
                scopes=" ".join(scopes.split()),
                trust_email=trust_email,
                metadata_url=metadata_url,
            )
        )
    return providers


def _check_url(where: str, key: str, url: str) -> None:
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise RuntimeError(
            f"{where}: {key!r} must be an https:// URL (http:// only on localhost), not {url!r}."
        )


@dataclass
class _State:
    providers: dict[str, OidcProvider]
    registry: OAuth


def init_app(app: Flask) -> None:
    """Check ``OIDC_PROVIDERS`` and register an Authlib client per provider (again after a change)."""
    providers = parse_providers(app.config.get("OIDC_PROVIDERS"))
    registry = OAuth(app)
    for provider in providers:
        # Every client parameter is given, so that none comes from app.config["<NAME>_..."].
        params: dict[str, Any] = dict.fromkeys(OAUTH_CLIENT_PARAMS)
        params.update(
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.metadata_url,
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT,
            },
        )
        registry.register(provider.name, overwrite=False, **params)
    app.extensions[_EXTENSION] = _State({p.name: p for p in providers}, registry)


def _state() -> _State:
    return current_app.extensions[_EXTENSION]


def providers() -> list[OidcProvider]:
    return list(_state().providers.values())


def get_provider(name: str) -> OidcProvider | None:
    return _state().providers.get(name)


def provider_title(name: str) -> str:
    """The button label of a configured provider, or its name if the admin has removed it."""
    provider = get_provider(name)
    return provider.title if provider is not None else name


def _client(provider: OidcProvider):
    client = _state().registry.create_client(provider.name)
    loaded_at = client.server_metadata.get("_loaded_at")
    if loaded_at is not None and time.time() - loaded_at > METADATA_MAX_AGE:
        client.server_metadata = {}  # the keys or endpoints may have changed
    return client


# --- refusals ----------------------------------------------------------------------------------


class SignInRefused(Exception):
    """The provider's answer cannot be trusted, or the account may not sign in."""

    def __init__(self, reason: str, message: str, user: User | None = None, **details: Any):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.user = user
        self.details = details


def record_refusal(provider: OidcProvider, refusal: SignInRefused) -> None:
    """Audit a refused sign-in (the caller has rolled back anything else and commits this)."""
    audit.record(
        "oidc_sign_in_refused",
        refusal.user,
        object_type=None if refusal.user is not None else OidcIdentity.__tablename__,
        details={"provider": provider.name, "reason": refusal.reason, **refusal.details},
    )


def _unverifiable(provider: OidcProvider, reason: str, **details: Any) -> SignInRefused:
    return SignInRefused(
        reason,
        _(
            "The answer from %(provider)s could not be verified, so you are not signed in. "
            "Please try again.",
            provider=provider.title,
        ),
        **details,
    )


# --- the flow ------------------------------------------------------------------------------------


def authorize_redirect(provider: OidcProvider, redirect_uri: str, next_url: str | None):
    """The redirect to the provider's authorization endpoint; state, nonce and the PKCE verifier
    are kept in the session (by Authlib) for the callback."""
    client = _client(provider)
    try:
        _check_issuer(provider, client.load_server_metadata())
        response = client.authorize_redirect(redirect_uri, nonce=secrets.token_urlsafe(24))
    except requests.RequestException as error:
        raise _unreachable(provider, error) from error
    except (RuntimeError, KeyError, TypeError, ValueError) as error:  # an unusable document
        log.exception("OpenID provider %s: unusable discovery document", provider.name)
        raise _misconfigured(provider, error=type(error).__name__) from error
    session[NEXT_KEY] = next_url
    return response


def _unreachable(provider: OidcProvider, error: Exception) -> SignInRefused:
    log.warning("OpenID provider %s could not be reached: %r", provider.name, error)
    return SignInRefused(
        "provider_unreachable",
        _(
            "We could not reach %(provider)s. Please try again later, or sign in with your "
            "password.",
            provider=provider.title,
        ),
        error=type(error).__name__,
    )


def _misconfigured(provider: OidcProvider, **details: Any) -> SignInRefused:
    return SignInRefused(
        "provider_misconfigured",
        _(
            "Signing in with %(provider)s is not set up correctly; please tell the secretariat. "
            "You can sign in with your password meanwhile.",
            provider=provider.title,
        ),
        **details,
    )


def _check_issuer(provider: OidcProvider, metadata: dict) -> None:
    # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer we configured.
    if metadata.get("issuer") != provider.issuer:
        raise _misconfigured(provider, metadata_issuer=str(metadata.get("issuer"))[:200])


def take_next_url() -> str | None:
    return session.pop(NEXT_KEY, None)


def fetch_verified_claims(provider: OidcProvider) -> dict[str, Any]:
    """Exchange the code of the current callback request and return the ID token's claims (with
    the e-mail from the userinfo endpoint when the token has none). Raises SignInRefused."""
    client = _client(provider)
    answered_by = request.args.get("iss")  # RFC 9207, when the provider sends it
    if answered_by is not None and answered_by != provider.issuer:
        raise _unverifiable(provider, "wrong_issuer", iss=answered_by[:200])
    claims_options = {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    try:
        _check_issuer(provider, client.load_server_metadata())
        token = client.authorize_access_token(claims_options=claims_options, leeway=CLOCK_LEEWAY)
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise _unverifiable(provider, "no_id_token")
        if not isinstance(claims["sub"], str) or len(claims["sub"]) > 255:  # Core 1.0, 2
            raise _unverifiable(provider, "invalid_claim", claim="sub")
        if not claims.get("email") and client.server_metadata.get("userinfo_endpoint"):
            _add_userinfo(provider, client, claims)
    except SignInRefused:
        raise
    except MismatchingStateError:
        raise SignInRefused(
            "state_mismatch",
            _(
                "This answer from %(provider)s does not belong to a sign-in started in this "
                "browser, or it has been used already. Please start again.",
                provider=provider.title,
            ),
        )
    except OAuthError as error:
        if error.error == "invalid_grant":
            raise SignInRefused(
                "invalid_grant",
                _(
                    "%(provider)s did not accept the sign-in: the code has expired or has been "
                    "used already. Please start again.",
                    provider=provider.title,
                ),
            )
        raise SignInRefused(
            "provider_error",
            _("%(provider)s did not sign you in. Please try again.", provider=provider.title),
            error=str(error.error)[:100],
        )
    except ExpiredTokenError:
        raise SignInRefused(
            "expired_token",
            _(
                "The answer from %(provider)s has expired. Check your device's clock and try "
                "again.",
                provider=provider.title,
            ),
        )
    except ClaimError as error:
        reason = {
            "aud": "wrong_audience",
            "azp": "wrong_audience",
            "iss": "wrong_issuer",
            "nonce": "nonce_mismatch",
        }.get(error.claim, "invalid_claim")
        raise _unverifiable(provider, reason, claim=error.claim)
    except (BadSignatureError, InvalidKeyIdError):
        raise _unverifiable(provider, "bad_signature")
    except JoseError as error:
        raise _unverifiable(provider, "invalid_token", error=type(error).__name__)
    except requests.RequestException as error:
        raise _unreachable(provider, error) from error
    except Exception:  # never a 500 for whatever a provider sends; the log keeps the trace
        log.exception("Unexpected answer from OpenID provider %s", provider.name)
        raise _unverifiable(provider, "unexpected_answer")
    return claims


def _add_userinfo(provider: OidcProvider, client, claims: dict[str, Any]) -> None:
    info = client.userinfo()
    if info.get("sub") != claims["sub"]:  # OpenID Connect Core 1.0, 5.3.2
        raise _unverifiable(provider, "userinfo_subject_mismatch")
    for key in ("email", "email_verified", "name"):
        if key in info and key not in claims:
            claims[key] = info[key]


def email_is_verified(claims: dict[str, Any]) -> bool:
    # A few providers send the string "true"; anything else is not a verification.
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


# --- identities ------------------------------------------------------------------------------------


def find_identity(provider_name: str, subject: str) -> OidcIdentity | None:
    return db.session.scalar(
        select(OidcIdentity).where(
            OidcIdentity.provider == provider_name, OidcIdentity.subject == subject
        )
    )


def identities_of(user: User) -> list[OidcIdentity]:
    return list(
        db.session.scalars(
            select(OidcIdentity)
            .where(OidcIdentity.user_id == user.id)
            .order_by(OidcIdentity.provider, OidcIdentity.created_at)
        )
    )


def link_identity(
    user: User, provider_name: str, subject: str, email: str, *, via: str
) -> OidcIdentity:
    """Link the provider's account ``subject`` to ``user``; refuses one linked already."""
    if find_identity(provider_name, subject) is not None:
        raise StateConflict(_l("This account at the provider is already linked."))
    identity = OidcIdentity(
        user_id=user.id,
        provider=provider_name,
        subject=subject,
        email=normalise_email(email or "")[:254],
        last_used_at=utcnow() if via != "application" else None,
    )
    try:
        with db.session.begin_nested():  # the same identity linked a moment ago elsewhere
            db.session.add(identity)
    except IntegrityError:
        raise StateConflict(_l("This account at the provider is already linked."))
    audit.record(
        "oidc_identity_linked",
        identity,
        actor=user,
        details={
            "provider": provider_name,
            "subject": subject,
            "email": identity.email,
            "via": via,
        },
    )
    return identity


def unlink_identity(user: User, identity: OidcIdentity) -> None:
    """Remove one of the user's identities, keeping at least one way in: the last identity of an
    account without a password stays."""
    if identity.user_id != user.id:
        raise StateConflict(_l("This identity belongs to another account."))
    # Lock the user row, so two unlinks at once cannot both take the last-but-one identity.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    count = db.session.scalar(
        select(func.count()).select_from(OidcIdentity).where(OidcIdentity.user_id == user.id)
    )
    if user.password_hash is None and count <= 1:
        raise StateConflict(
            _l(
                "This is your only way to sign in. Set a password first (use “Forgot your "
                "password?” on the sign-in page), then unlink it."
            )
        )
    audit.record(
        "oidc_identity_unlinked",
        identity,
        actor=user,
        details={"provider": identity.provider, "subject": identity.subject},
    )
    db.session.delete(identity)


# --- after a verified answer ------------------------------------------------------------------------


@dataclass
class SignInOutcome:
    user: User | None = None  # sign this user in (begin_sign_in)
    linked: bool = False  # the identity was linked just now, by its trusted e-mail
    account_exists: bool = False  # pending: an account has the provider's e-mail
    unverified_email: bool = False  # pending: a trusted provider has not verified the e-mail


def complete_sign_in(provider: OidcProvider, claims: dict[str, Any]) -> SignInOutcome:
    """Decide what a verified answer means for someone who is not signed in (see the module
    docstring). Raises SignInRefused for a disabled account."""
    discard_pending_identity()
    subject = claims["sub"]
    email = normalise_email(str(claims.get("email") or ""))
    identity = find_identity(provider.name, subject)
    if identity is not None:
        _refuse_disabled(provider, identity.user)
        identity.last_used_at = utcnow()
        if email:
            identity.email = email[:254]
        return SignInOutcome(user=identity.user)
    user = get_user_by_email(email) if email else None
    if user is not None and provider.trust_email and email_is_verified(claims):
        _refuse_disabled(provider, user)
        link_identity(user, provider.name, subject, email, via="verified_email")
        return SignInOutcome(user=user, linked=True)
    unverified = user is not None and provider.trust_email
    if unverified:
        audit.record(
            "oidc_sign_in_refused",
            user,
            details={"provider": provider.name, "reason": "email_not_verified"},
        )
    session[PENDING_KEY] = {
        "provider": provider.name,
        "subject": subject,
        "email": email,
        "name": str(claims.get("name") or "")[:200],
        "at": int(time.time()),
    }
    return SignInOutcome(account_exists=user is not None, unverified_email=unverified)


def _refuse_disabled(provider: OidcProvider, user: User) -> None:
    if not user.is_active:
        raise SignInRefused(
            "account_disabled",
            _("This account is disabled. Please contact the secretariat."),
            user=user,
        )


def link_to_signed_in_user(
    provider: OidcProvider, user: User, claims: dict[str, Any]
) -> OidcIdentity | None:
    """A signed-in user links one more identity; None if it is theirs already.
    Raises SignInRefused when another account has it."""
    identity = find_identity(provider.name, claims["sub"])
    if identity is not None:
        if identity.user_id != user.id:
            raise SignInRefused(
                "identity_taken",
                _(
                    "This %(provider)s account is already linked to another cacnet account.",
                    provider=provider.title,
                ),
                user=user,
            )
        identity.last_used_at = utcnow()
        return None
    return link_identity(
        user, provider.name, claims["sub"], str(claims.get("email") or ""), via="signed_in"
    )


# --- the identity waiting in the session ---------------------------------------------------------


@dataclass(frozen=True)
class PendingIdentity:
    provider: OidcProvider
    subject: str
    email: str
    name: str


def pending_identity() -> PendingIdentity | None:
    """The verified identity waiting in this session to be linked, if it is not too old."""
    return _pending_from(session.get(PENDING_KEY))


def _pending_from(data: Any) -> PendingIdentity | None:
    if not isinstance(data, dict):
        return None
    if int(time.time()) - int(data.get("at", 0)) > PENDING_SECONDS:
        return None
    provider = get_provider(str(data.get("provider", "")))
    if provider is None or not data.get("subject"):
        return None
    return PendingIdentity(provider, data["subject"], data.get("email", ""), data.get("name", ""))


def discard_pending_identity() -> None:
    session.pop(PENDING_KEY, None)
    g.oidc_pending_done = True


def link_pending_identity(user: User, *, via: str = "sign_in") -> OidcIdentity | None:
    """Link the identity waiting in the session to ``user``, who has just proved who they are
    (password and second factor, an accepted invitation, a new application's account).

    Called from ``_start_session``, which carries the pending identity over into the renewed
    session. Once per request at most.
    """
    if g.get("oidc_pending_done"):
        return None
    data = session.get(PENDING_KEY)
    discard_pending_identity()
    pending = _pending_from(data)
    if pending is None:
        return None
    existing = find_identity(pending.provider.name, pending.subject)
    if existing is not None:
        if existing.user_id != user.id:
            flash(
                _(
                    "Your %(provider)s account is linked to another cacnet account, so it was "
                    "not linked to this one.",
                    provider=pending.provider.title,
                ),
                "warning",
            )
        return None
    try:
        identity = link_identity(
            user, pending.provider.name, pending.subject, pending.email, via=via
        )
    except StateConflict:
        return None  # linked by a request a moment ago; the sign-in goes on regardless
    flash(
        _(
            "Your %(provider)s account is now linked: next time you can sign in with it.",
            provider=pending.provider.title,
        ),
        "success",
    )
    return identity
