"""FHIR R4 validation of the export, for the tests: the server builds plain JSON and never
imports these models. fhir.resources 6.4 holds pydantic models generated from the FHIR 4.0.1
(R4) definitions; they check structure, cardinality, datatypes, choice types and unknown
elements, but not value-set bindings, so the required bindings of the coded elements the
exporter writes are checked here too."""

from fhir.resources.bundle import Bundle

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
}


class InvalidFhir(ValueError):
    pass


def validate(document: dict) -> Bundle:
    """The document as R4 models, or pydantic.ValidationError (structure) or InvalidFhir (a code
    outside its required value set)."""
    bundle = Bundle.parse_obj(document)
    resources = [document, *(entry.get("resource", {}) for entry in document.get("entry", []))]
    for resource in resources:
        for (kind, element), allowed in REQUIRED_BINDINGS.items():
            if resource.get("resourceType") == kind and element in resource and resource[element] not in allowed:
                raise InvalidFhir(f"{kind}.{element} {resource[element]!r} is not in its required R4 value set")
    return bundle
