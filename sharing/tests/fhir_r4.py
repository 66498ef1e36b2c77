"""FHIR R4 validation of the export, for the tests: the server builds plain JSON and never
imports these models. fhir.resources 6.4 holds pydantic models generated from the FHIR 4.0.1
(R4) definitions; they check structure, cardinality, datatypes, choice types and unknown
elements, but not value-set bindings, so the required bindings of the coded elements the
exporter writes are checked here too, and that every reference resolves inside the bundle."""

from fhir.resources import construct_fhir_element

# R4's required bindings for the coded elements sharing.fhir writes.
REQUIRED_BINDINGS = {
    ("Bundle", "type"): {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    },
    ("Observation", "status"): {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    ("MedicationStatement", "status"): {
        "active",
        "completed",
        "entered-in-error",
        "intended",
        "stopped",
        "on-hold",
        "unknown",
        "not-taken",
    },
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("CodeSystem", "status"): {"draft", "active", "retired", "unknown"},
    ("CodeSystem", "content"): {"not-present", "example", "fragment", "complete", "supplement"},
}


class InvalidFhir(ValueError):
    pass


def validate(document: dict):
    """The document (a Bundle, or any resource) as R4 models, or pydantic.ValidationError
    (structure) or InvalidFhir (a code outside its required value set)."""
    parsed = construct_fhir_element(document["resourceType"], document)
    resources = [document, *(entry.get("resource", {}) for entry in document.get("entry", []))]
    for resource in resources:
        for (kind, element), allowed in REQUIRED_BINDINGS.items():
            if resource.get("resourceType") == kind and element in resource and resource[element] not in allowed:
                raise InvalidFhir(f"{kind}.{element} {resource[element]!r} is not in its required R4 value set")
    full_urls = [entry["fullUrl"] for entry in document.get("entry", [])]
    if len(set(full_urls)) != len(full_urls):
        raise InvalidFhir("two entries share a fullUrl")
    for reference in _references(document):
        if document.get("resourceType") == "Bundle" and reference not in full_urls:
            raise InvalidFhir(f"{reference} resolves to no entry of the bundle")
    return parsed


def _references(node):
    """Every Reference.reference in a document."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)
