"""OpenAPI schema fixes: the error answers every operation can give.

drf-spectacular documents only the success answer of each operation; schemathesis
(make reliability) rightly flags every other status it meets as undocumented.
The hook below adds the error answers this API really gives, with one shape:
{"detail": "..."} or, for a 400, one list of messages per field.
"""

ERROR = {
    "type": "object",
    "description": '{"detail": "..."}, or for a 400 a list of messages per field',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "Invalid input: messages per field (or a JSON parse error in `detail`).",
    "401": "No valid token or session.",
    "403": "Authenticated, but not allowed (a clinician-only or patient-only operation, two-factor required).",
    "404": "Not found, or not yours (another person's row is a 404 that reveals nothing).",
    "409": "A row with this client id exists with different content.",
    "413": "The request body is larger than allowed.",
    "415": "Unsupported content type: send application/json.",
    "429": "Too many attempts; try again later (see Retry-After).",
    "503": "The database is unavailable; try again shortly (see Retry-After).",
}
WRITES = {"post", "put", "patch"}
# Creates keyed by the client's uuid answer 200 with the stored row when retried; check-ins upsert.
IDEMPOTENT_CREATES = {"/api/v1/episodes/", "/api/v1/medications/", "/api/v1/dose-changes/", "/api/v1/checkins/"}
# drf-spectacular leaves out DELETE bodies; deleting your account needs your password.
DELETE_BODIES = {
    "/api/v1/me/": {"type": "object", "properties": {"password": {"type": "string"}}, "required": ["password"]}
}
# JSON Schema's "time" is RFC 3339's, with a zone offset; ours are local wall-clock times.
LOCAL_TIME = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"}


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    local_times(result)
    decimal_strings(result)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if method == "delete" and path in DELETE_BODIES:
                body = {"application/json": {"schema": DELETE_BODIES[path]}}
                operation["requestBody"] = {"content": body, "required": True}
            if method == "post" and path in IDEMPOTENT_CREATES and "201" in operation.get("responses", {}):
                created = operation["responses"]["201"]
                operation["responses"].setdefault(
                    "200", {**created, "description": "Already stored: the row as it is."}
                )
            params = operation.get("parameters", [])
            codes = ["401", "403", "429", "503"]
            if "requestBody" in operation or any(p.get("in") == "query" for p in params) or method in WRITES:
                codes.append("400")
            if "{" in path or any(p.get("name") == "page" for p in params):
                codes.append("404")  # a row that is not yours, or a page past the end
            if method in WRITES:
                codes += ["409", "413", "415"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result


def local_times(node) -> None:
    """Replace every `format: time` schema in place (see LOCAL_TIME)."""
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            node.pop("format")
            node.update(LOCAL_TIME)
        for value in node.values():
            local_times(value)
    elif isinstance(node, list):
        for value in node:
            local_times(value)


DECIMAL_STRING = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}  # = json_types.DECIMAL_TEXT


def decimal_strings(result) -> None:
    """Request bodies may send a decimal as a number or as a string of digits (cramptrack.json_types)."""
    for name, component in result["components"]["schemas"].items():
        if not name.endswith("Request"):
            continue
        for prop, schema in component.get("properties", {}).items():
            if schema.get("type") == "number":
                nullable = schema.pop("nullable", False)
                component["properties"][prop] = {"anyOf": [schema, DECIMAL_STRING], "nullable": nullable}
