"""OpenAPI schema fixes: our token class, and the error answers every operation can give.

drf-spectacular documents only the success answer of each operation; schemathesis
(make reliability) rightly flags every other status it meets as undocumented.
The hook below adds the error answers this API really gives, with one shape:
{"detail": "..."} or, for a 400, one list of messages per field.
"""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class TokenScheme(KnoxTokenScheme):
    """cramptrack.auth.TokenAuthentication is knox's, with one query: the same header."""

    target_class = "cramptrack.auth.TokenAuthentication"


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


def document_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
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
