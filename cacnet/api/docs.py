"""The browsable API documentation: the OpenAPI document turned into what templates/api/docs.html
lays out (operations by tag, parameters, bodies, responses, schemas, a curl example each)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from cacnet.api.schemas import openapi


def schema_label(schema: dict | None) -> str:
    """A short human description of a schema: "City", "string (date) or null", "list of Post"."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(schema_label(s) for s in schema.get("anyOf") or schema["oneOf"])
    if "enum" in schema:
        return "one of: " + ", ".join("null" if v is None else str(v) for v in schema["enum"])
    types = schema.get("type", "any")
    types = types if isinstance(types, list) else [types]
    labels = []
    for kind in types:
        if kind == "array":
            labels.append("list of " + schema_label(schema.get("items")))
        elif kind == "string" and schema.get("format"):
            labels.append(f"string ({schema['format']})")
        else:
            labels.append(kind)
    return " or ".join(labels)


def schema_ref_name(schema: dict | None) -> str | None:
    """The component a schema points at (directly, in a list, or nullable), for a link."""
    if not schema:
        return None
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, []):
            found = schema_ref_name(sub)
            if found:
                return found
    if schema.get("type") == "array":
        return schema_ref_name(schema.get("items"))
    return None


def constraints(schema: dict) -> str:
    parts = []
    for key, label in (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("minLength", "at least"),
        ("maxLength", "at most"),
    ):
        if key in schema:
            suffix = " characters" if key.endswith("Length") else ""
            parts.append(f"{label} {schema[key]}{suffix}")
    if "pattern" in schema:
        parts.append(f"pattern {schema['pattern']}")
    if "default" in schema:
        parts.append(f"default {schema['default']}")
    return "; ".join(parts)


def _properties(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        rows.append(
            {
                "name": name,
                "type": schema_label(prop),
                "link": schema_ref_name(prop),
                "required": name in required,
                "description": prop.get("description", ""),
                "constraints": constraints(prop),
            }
        )
    return rows


def _curl(base: str, method: str, route: str, operation: dict) -> str:
    url = base + "/api/v1" + route
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", str(param.get("example", "…")))
    parts = ["curl"]
    if method != "get":
        parts += ["-X", method.upper()]
    if operation.get("security"):
        parts += ["-H", '"Authorization: Bearer $CACNET_TOKEN"']
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        example = json.dumps(content["application/json"].get("example", {}), ensure_ascii=False)
        parts += ["-H", shlex.quote("Content-Type: application/json"), "-d", shlex.quote(example)]
    elif "application/pdf" in content:
        parts += [
            "-H",
            shlex.quote("Content-Type: application/pdf"),
            "--data-binary",
            "@declaration.pdf",
        ]
    parts.append(shlex.quote(url))
    return " ".join(parts)


def _operation(base: str, method: str, route: str, operation: dict) -> dict:
    security = operation.get("security") or []
    scopes = [scope for requirement in security for scope in requirement.get("bearerAuth", [])]
    body = operation.get("requestBody")
    body_view = None
    if body:
        media, content = next(iter(body["content"].items()))
        body_view = {
            "media_types": list(body["content"]),
            "type": schema_label(content["schema"]),
            "link": schema_ref_name(content["schema"]),
            "example": json.dumps(content["example"], indent=2, ensure_ascii=False)
            if "example" in content
            else None,
        }
    responses = []
    for status, response in operation["responses"].items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        responses.append(
            {
                "status": status,
                "description": response["description"],
                "type": schema_label(schema) if schema else "",
                "link": schema_ref_name(schema),
                "headers": list(response.get("headers", {})),
            }
        )
    return {
        "id": operation["operationId"],
        "method": method,
        "path": "/api/v1" + route,
        "summary": operation["summary"],
        "description": operation.get("description", ""),
        "access": scopes[0] if scopes else "public",
        "parameters": [
            {
                "name": p["name"],
                "in": p["in"],
                "type": schema_label(p["schema"]),
                "required": p.get("required", False),
                "description": p.get("description", ""),
                "constraints": constraints(p["schema"]),
            }
            for p in operation.get("parameters", [])
        ],
        "body": body_view,
        "responses": responses,
        "curl": _curl(base, method, route, operation),
    }


def docs_context(base: str) -> dict[str, Any]:
    from cacnet.core.text import render_markdown

    document = openapi.document()
    groups = []
    for tag in document["tags"]:
        operations = [
            _operation(base, method, route, operation)
            for route, methods in document["paths"].items()
            for method, operation in methods.items()
            if tag["name"] in operation["tags"]
        ]
        if operations:
            groups.append(
                {"name": tag["name"], "description": tag["description"], "operations": operations}
            )
    schemas = [
        {
            "name": name,
            "description": schema.get("description", ""),
            "properties": _properties(schema),
            "closed": schema.get("additionalProperties") is False,
        }
        for name, schema in document["components"]["schemas"].items()
    ]
    return {
        "info": document["info"],
        "introduction": render_markdown(document["info"]["description"]),
        "groups": groups,
        "schemas": schemas,
        "openapi_url": base + "/api/v1/openapi.json",
    }
