"""Validate reports as their consumers would: JUnit XML against junit-10.xsd (Jenkins' xUnit
plugin, pytest), the JSON report against the JSON Schema the package ships.

Every test that produces a JUnit or JSON report passes it through `check_junit` / `check_json`.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import xmlschema

from grader.reports import report_schema

JUNIT_XSD = Path(__file__).parent / "data" / "junit-10.xsd"


@functools.lru_cache(maxsize=None)
def _junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD))


@functools.lru_cache(maxsize=None)
def _json_validator() -> jsonschema.Draft202012Validator:
    schema = report_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check_junit(text: str) -> str:
    """Raise (xmlschema.XMLSchemaValidationError) unless `text` is valid junit-10.xsd XML."""
    _junit_schema().validate(text)
    return text


def check_json(text_or_data) -> dict:
    """Raise (jsonschema.ValidationError) unless the JSON report matches report.schema.json."""
    data = json.loads(text_or_data) if isinstance(text_or_data, str) else text_or_data
    _json_validator().validate(data)
    return data
