"""Files in and out: case files and risk cases (TOML), their JSON Schemas, and JSON results.

The only layer that reads or writes files. Loaders report every problem in a
file at once, as ``Issue`` values carried by ``InputError``. Risk cases and their
schema (``io.risk_case``, ``io.risk_schema``) are imported from their modules, so
that reading a plain case loads no array library.
"""

from ccpwaterfall.io.case_file import (
    CASE_FORMAT,
    load_case,
    read_toml,
    validate_case,
    validate_rulebook,
)
from ccpwaterfall.io.case_writer import case_to_toml, write_case
from ccpwaterfall.io.checker import RISK_CASE_FORMAT
from ccpwaterfall.io.files import check_target, write_text
from ccpwaterfall.io.issues import InputError, Issue, field_path
from ccpwaterfall.io.result_json import RESULT_FORMAT, dumps_result, result_to_json
from ccpwaterfall.io.schema import case_schema
from ccpwaterfall.io.values import parse_amount, parse_decimal

__all__ = [
    "CASE_FORMAT",
    "RESULT_FORMAT",
    "RISK_CASE_FORMAT",
    "InputError",
    "Issue",
    "case_schema",
    "case_to_toml",
    "check_target",
    "dumps_result",
    "field_path",
    "load_case",
    "parse_amount",
    "parse_decimal",
    "read_toml",
    "result_to_json",
    "validate_case",
    "validate_rulebook",
    "write_case",
    "write_text",
]
