"""JSON bodies that cannot crash a handler: bounded depth, bounded numbers, valid Unicode.

Python's `json` recurses on nesting (RecursionError at ~1,000 levels), turns a
5,000-digit number into a ValueError deep inside `int()`, and accepts lone
surrogates ("\\ud800") that later fail to encode for the database. Each of
those would be a 500. Here they are a `json.JSONDecodeError` with a reason, so
the edge answers 400 like any other malformed body.
"""

from __future__ import annotations

import json
import typing

import flask
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

MAX_DEPTH = 32
MAX_INT_DIGITS = 30  # far beyond any id, count or offset the API takes


class UnsafeJson(json.JSONDecodeError):
    def __init__(self, reason: str, doc: str = "?"):
        super().__init__(reason, doc or "?", 0)
        self.reason = reason


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise UnsafeJson(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constants(name: str) -> typing.NoReturn:
    raise UnsafeJson(f"{name} is not valid JSON")


def _nesting_depth(raw: str) -> int:
    """The deepest bracket nesting outside strings, found without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _check_unicode(value: typing.Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise UnsafeJson("a text contains an invalid character (a lone surrogate)") from None
            if "\x00" in item:  # PostgreSQL refuses it in any text value
                raise UnsafeJson("a text contains a NUL character (U+0000), which no field takes")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def safe_loads(data: str | bytes) -> typing.Any:
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    # Fewer opening brackets than the limit cannot nest past it: counted in C, where the scan runs in Python
    # (34 µs of a 1.3 KB submission's 48)
    if text.count("[") + text.count("{") > MAX_DEPTH and _nesting_depth(text) > MAX_DEPTH:
        raise UnsafeJson(f"the JSON body is nested more than {MAX_DEPTH} levels deep", text)
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constants)
    except UnsafeJson as exc:
        raise UnsafeJson(exc.reason, text) from None
    _check_unicode(value)
    return value


class SafeJSONProvider(DefaultJSONProvider):
    """`request.get_json()` in views goes through the same guard."""

    def loads(self, s: str | bytes, **kwargs: typing.Any) -> typing.Any:
        return safe_loads(s)


class SafeArgumentsParser(FlaskParser):
    """webargs parses bodies with `json.loads` itself; give it the guard and a message that says why."""

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        if not is_json_request(req):
            return core.missing
        raw = req.get_data(cache=True)
        if not raw:
            return core.parse_json(raw)
        return safe_loads(raw)

    def _handle_invalid_json_error(self, error: json.JSONDecodeError | UnicodeDecodeError, req: flask.Request,
                                   *args: typing.Any, **kwargs: typing.Any) -> typing.NoReturn:
        reason = error.reason if isinstance(error, UnsafeJson) else "Invalid JSON body."
        abort(400, exc=error, messages={"json": [reason]})
