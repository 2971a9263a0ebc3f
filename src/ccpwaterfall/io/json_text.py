"""Indented JSON text, as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it, faster.

With ``indent`` the standard library falls back from its C encoder to its
pure-Python one; a result of 100,000 members per event then costs more to
write than to compute. This writer produces the same text (strings through
the C string encoder) for the values JSON documents here hold: dicts with
string keys, lists and tuples, strings, booleans, ``None``, integers, and
finite floats. A float that is not finite raises ValueError (never NaN in a
document), as does any other type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring

_STEP = "  "
# Parts held before they are handed on by ``write_indented``: a few hundred kB of text.
_CHUNK_PARTS = 16_384


class JsonPairs:
    """A JSON object whose (key, value) pairs are made as it is written.

    For the large objects of a document (one entry per member per event): the
    writer takes them one by one, so the object is never held whole, neither as
    a dict nor as text. ``pairs`` is called once per writing.
    """

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Callable[[], Iterable[tuple[str, object]]]) -> None:
        self._pairs = pairs

    def pairs(self) -> Iterable[tuple[str, object]]:
        return self._pairs()


class _Parts(list[str]):
    """The text written so far, handed to ``sink`` in chunks when there is one."""

    __slots__ = ("sink",)

    def __init__(self, sink: Callable[[str], object] | None) -> None:
        super().__init__()
        self.sink = sink

    def spill(self) -> None:
        if self.sink is not None and len(self) >= _CHUNK_PARTS:
            self.sink("".join(self))
            self.clear()


class PlainText(dict[str, str]):
    """An object whose keys and values JSON writes unchanged between quotes.

    For amounts in fixed-point text under fixed ASCII names: the writer skips
    escaping them. Whoever builds one promises that no key or value holds a
    quote, a backslash, a control or a non-ASCII character; ``json.dumps``
    writes it as the plain ``dict`` it is.
    """

    __slots__ = ()


_KEYS: dict[str, str] = {}


def _key_text(key: str) -> str:
    """``"key": ``, encoded once per key: the same few keys recur in every entry."""
    text = _KEYS.get(key)
    if text is None:
        text = encode_basestring(key) + ": "
        if len(_KEYS) < 1024:
            _KEYS[key] = text
    return text


def dumps_indented(value: object) -> str:
    """``value`` as JSON indented by two spaces, exactly as ``json.dumps`` writes it."""
    parts = _Parts(None)
    _write(value, "", parts)
    return "".join(parts)


def write_indented(value: object, sink: Callable[[str], object]) -> None:
    """The text of ``dumps_indented(value)`` handed to ``sink`` in chunks as it is made.

    Memory stays bounded by the chunk size and the largest value that is not a
    ``JsonPairs``, whatever the size of the document.
    """
    parts = _Parts(sink)
    _write(value, "", parts)
    if parts:
        sink("".join(parts))


def _write(value: object, indent: str, parts: _Parts) -> None:
    if isinstance(value, str):
        parts.append(encode_basestring(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"JSON holds no {value!r}")
        parts.append(float.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner = indent + _STEP
        parts.append("{\n" + inner)
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"JSON object keys are strings, got {key!r}")
            if not first:
                parts.append(",\n" + inner)
            first = False
            parts.append(encode_basestring(key) + ": ")
            _write(item, inner, parts)
        parts.append("\n" + indent + "}")
    elif isinstance(value, JsonPairs):
        inner = indent + _STEP
        first = True
        for key, item in value.pairs():
            if not isinstance(key, str):
                raise ValueError(f"JSON object keys are strings, got {key!r}")
            head = ("{\n" if first else ",\n") + inner + encode_basestring(key) + ": "
            first = False
            if type(item) is str:
                parts.append(head + encode_basestring(item))
            elif type(item) is PlainText and item:
                # Keys and values that JSON writes as they are, between quotes.
                deeper = '",\n' + inner + _STEP + '"'
                pairs = deeper.join([f'{k}": "{v}' for k, v in item.items()])
                parts.append(f'{head}{{\n{inner}{_STEP}"{pairs}"\n{inner}}}')
            elif (
                type(item) is dict
                and item
                and all(type(k) is str and type(v) is str for k, v in item.items())
            ):
                # The usual entry (a member's amounts): one piece of text, no recursion.
                deeper = ",\n" + inner + _STEP
                pairs = deeper.join([_key_text(k) + encode_basestring(v) for k, v in item.items()])
                parts.append(f"{head}{{\n{inner}{_STEP}{pairs}\n{inner}}}")
            else:
                parts.append(head)
                _write(item, inner, parts)
            parts.spill()
        parts.append("{}" if first else "\n" + indent + "}")
    elif isinstance(value, list | tuple):
        if not value:
            parts.append("[]")
            return
        inner = indent + _STEP
        parts.append("[\n" + inner)
        for index, item in enumerate(value):
            if index:
                parts.append(",\n" + inner)
            _write(item, inner, parts)
            parts.spill()
        parts.append("\n" + indent + "]")
    else:
        raise ValueError(f"not a JSON value: {value!r}")
