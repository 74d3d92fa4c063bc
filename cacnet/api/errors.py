"""The API's one error shape, {"error": {"code", "message", "fields"}}, and how refusals of the
service functions become it (the same translated message the pages show)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import force_locale

from cacnet.core.errors import PermissionDenied, ServiceError, StateConflict


class ApiError(Exception):
    """Raised by the API's helpers (bad body, bad cursor, not found); the blueprint answers it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: Any,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: Any,
    fields: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
):
    body = {
        "code": code,
        "message": str(message),
        "fields": {name: [str(m) for m in messages] for name, messages in (fields or {}).items()},
    }
    response = jsonify(error=body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def service_error_status(error: ServiceError) -> tuple[int, str]:
    if isinstance(error, PermissionDenied):
        return 403, "forbidden"
    if isinstance(error, StateConflict):
        return 409, "conflict"
    return 400, "invalid"


def in_english(message: Any) -> str:
    """A (lazy) translated message as English, for the audit log."""
    with force_locale("en"):
        return str(message)
