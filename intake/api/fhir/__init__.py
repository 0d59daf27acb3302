"""FHIR R4 for EHRs, mounted at /fhir/R4/: the JSON API's rules and accounts in FHIR's shapes.

Resources are built and checked with the `fhir.resources` R4B models, so every answer is valid
FHIR. A transaction Bundle is mapped onto the JSON API's own submission (same validation, same
screening, same idempotency); reads go through the same selectors and the same audit.
"""
