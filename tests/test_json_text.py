"""The fast indented JSON writer gives exactly what json.dumps(indent=2) gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccpwaterfall.domain import Money, currency
from ccpwaterfall.io import json_text
from ccpwaterfall.io.json_text import JsonPairs, PlainText, dumps_indented, write_indented

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


def _streamed(value: object) -> object:
    """``value`` with every dict turned into pairs made as they are written."""
    if isinstance(value, dict):
        items = [(key, _streamed(item)) for key, item in value.items()]
        return JsonPairs(lambda: iter(items))
    if isinstance(value, list):
        return [_streamed(item) for item in value]
    return value


@given(VALUES)
def test_pairs_made_while_writing_give_the_text_of_the_dict(value: object) -> None:
    assert dumps_indented(_streamed(value)) == json.dumps(value, indent=2, ensure_ascii=False)


@given(VALUES)
def test_text_handed_on_in_chunks_joins_to_the_whole(value: object) -> None:
    chunks: list[str] = []
    write_indented(_streamed({"outer": [value, value]}), chunks.append)
    assert "".join(chunks) == dumps_indented({"outer": [value, value]})


def test_a_large_object_is_handed_on_before_it_is_all_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_text, "_CHUNK_PARTS", 8)
    chunks: list[str] = []
    made: list[int] = []

    def pairs() -> Iterator[tuple[str, object]]:
        for index in range(100):
            made.append(len(chunks))
            yield f"M{index:03}", {"total": str(index)}

    write_indented(JsonPairs(pairs), chunks.append)
    assert len(chunks) > 10
    # The later pairs were made after earlier text had already been handed on.
    assert made[-1] > 0
    assert json.loads("".join(chunks)) == {f"M{i:03}": {"total": str(i)} for i in range(100)}


@given(st.dictionaries(KEYS, st.dictionaries(KEYS, st.text(max_size=8), max_size=4), max_size=4))
def test_pairs_of_flat_string_objects_give_the_text_of_the_dict(
    value: dict[str, dict[str, str]],
) -> None:
    streamed = JsonPairs(lambda: iter(value.items()))
    assert dumps_indented([streamed]) == json.dumps([value], indent=2, ensure_ascii=False)


PLAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789.-", max_size=8)


@given(st.dictionaries(PLAIN, st.dictionaries(PLAIN, PLAIN, max_size=4), max_size=4))
def test_plain_text_objects_give_the_text_of_the_dict(
    value: dict[str, dict[str, str]],
) -> None:
    plain = {key: PlainText(item) for key, item in value.items()}
    streamed = JsonPairs(lambda: iter(plain.items()))
    expected = json.dumps([value], indent=2, ensure_ascii=False)
    assert dumps_indented([streamed]) == expected
    assert json.dumps([plain], indent=2, ensure_ascii=False) == expected
