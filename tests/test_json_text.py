"""The fast indented JSON writer gives exactly what json.dumps(indent=2) gives."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccpwaterfall.domain import Money, currency
from ccpwaterfall.io.json_text import dumps_indented

KEYS = st.text(max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=30,
)


@given(VALUES)
def test_the_same_text_as_json_dumps(value: object) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_strings_with_controls_and_unicode_are_escaped_as_json_does() -> None:
    value = {"a\x1b[31m": ["\u202e", 'quote " back\\slash', "é\U0001f4b6", "\n\t"]}
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1: "a"}, object()])
def test_what_is_not_json_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="JSON"):
        dumps_indented([bad])


@given(st.integers(-(10**30), 10**30), st.sampled_from(["EUR", "JPY", "KWD", "KRW"]))
def test_money_fixed_is_the_decimal_in_fixed_point(units: int, code: str) -> None:
    money = Money.from_minor_units(units, currency(code))
    assert money.fixed() == format(money.amount, "f")
    assert Decimal(money.fixed()) == money.amount
