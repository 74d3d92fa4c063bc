"""Reading and checking what a client sends, against the OpenAPI document's own schemas.

A JSON body: at most API_MAX_JSON_BYTES (413), JSON by its Content-Type (415), well-formed
(400 malformed_json), an object that satisfies the operation's request schema (400 invalid, with
one translated message per problem in ``fields``). Query parameters: each against its parameter
schema. Nothing is stored before both pass.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from cacnet.api.errors import ApiError
from cacnet.api.schemas import openapi

_INTEGER = re.compile(r"^-?\d{1,18}$")


@cache
def _validator(schema_id: str, schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validator_for(schema: dict, schema_id: str) -> Draft202012Validator:
    return _validator(schema_id, json.dumps(schema, sort_keys=True))


def invalid(fields: dict[str, list[str]]) -> ApiError:
    return ApiError(400, "invalid", _("Please correct the marked fields."), fields)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def json_body(schema_name: str) -> dict[str, Any]:
    """The request's JSON body, checked against ``schema_name`` of the OpenAPI document. An
    empty body counts as {} (for actions without fields)."""
    limit = current_app.config["API_MAX_JSON_BYTES"]
    too_large = ApiError(
        413, "too_large", _("The request body is too large: at most %(kb)d KB.", kb=limit // 1024)
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # A body sent without a Content-Length (chunked) is read up to one byte past the limit.
    request.max_content_length = limit + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large
    if len(raw) > limit:
        raise too_large
    if not raw.strip():
        body: Any = {}
    else:
        if not request.is_json:
            raise ApiError(
                415,
                "unsupported_media_type",
                _("Send the request body as JSON, with Content-Type: application/json."),
            )
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ApiError(400, "malformed_json", _("The request body is not valid JSON."))
    if not isinstance(body, dict):
        raise ApiError(400, "invalid", _("The request body must be a JSON object."))
    schema = openapi.request_schema(schema_name)
    fields = problems(validator_for(schema, schema_name), body)
    if fields:
        raise invalid(fields)
    return body


def query_args(operation_id: str) -> dict[str, Any]:
    """The operation's query parameters that were given, each checked against its schema (an
    integer parameter read as an integer). Parameters the operation does not know are ignored."""
    values: dict[str, Any] = {}
    fields: dict[str, list[str]] = {}
    for param in openapi.operation(operation_id).get("parameters", []):
        if param["in"] != "query":
            continue
        name, schema = param["name"], param["schema"]
        given = request.args.getlist(name)
        if not given:
            continue
        if len(given) > 1:
            fields[name] = [_("Give this parameter once.")]
            continue
        value: Any = given[0]
        if schema.get("type") == "integer":
            if not _INTEGER.match(value):
                fields[name] = [_("Wrong type: expected %(types)s.", types="integer")]
                continue
            value = int(value)
        found = problems(validator_for(schema, f"{operation_id}:{name}"), value, name)
        if found:
            fields.update(found)
        else:
            values[name] = value
    if fields:
        raise invalid(fields)
    return values


def problems(validator: Draft202012Validator, instance: Any, root: str = "") -> dict:
    """{field: [message, …]}: one translated message per problem, in a stable order."""
    found: dict[str, list[str]] = {}
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: (list(e.absolute_path), e.validator)
    )
    for error in errors:
        for field, message in _describe(error, root):
            messages = found.setdefault(field, [])
            if message not in messages:
                messages.append(message)
    return found


def _join(root: str, path: list) -> str:
    parts = [root] if root else []
    parts += [str(p) for p in path]
    return ".".join(parts)


TYPE_NAMES = {
    "string": "string",
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "object": "object",
    "array": "array",
    "null": "null",
}


def _describe(error: ValidationError, root: str) -> list[tuple[str, str]]:
    path = list(error.absolute_path)
    field = _join(root, path)
    kind = error.validator
    value = error.validator_value
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        return [
            (_join(root, [*path, name]), _("Unknown field."))
            for name in error.instance
            if name not in known
        ]
    if kind == "required":
        return [
            (_join(root, [*path, name]), _("This field is required."))
            for name in value
            if name not in error.instance
        ]
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        names = " or ".join(TYPE_NAMES.get(t, t) for t in types)
        return [(field, _("Wrong type: expected %(types)s.", types=names))]
    if kind == "enum":
        choices = ", ".join("null" if v is None else str(v) for v in value)
        return [(field, _("Choose one of: %(choices)s.", choices=choices))]
    if kind == "maxLength":
        return [(field, _("Use at most %(max)d characters.", max=value))]
    if kind == "minLength":
        return [(field, _("Use at least %(min)d characters.", min=value))]
    if kind in ("minimum", "exclusiveMinimum"):
        return [(field, _("Give at least %(min)s.", min=value))]
    if kind in ("maximum", "exclusiveMaximum"):
        return [(field, _("Give at most %(max)s.", max=value))]
    if kind == "format" and value == "date":
        return [(field, _("Give a date as YYYY-MM-DD."))]
    if kind == "pattern":
        return [(field, _("This value is not in the expected form."))]
    if kind in ("anyOf", "oneOf"):
        # A nullable reference: report what the non-null alternative found.
        for sub in sorted(error.context or [], key=lambda e: e.validator == "type"):
            return _describe(sub, root)
    return [(field, _("This value is not valid."))]
