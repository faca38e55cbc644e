"""Stripe's error answers and request parameters, as the ``stripe`` library encodes them."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse

from harness.stack.stripe_front.objects import SYMBOLS, ZERO_DECIMAL


class ApiError(Exception):
    """An answer in Stripe's error shape: ``{"error": {"type", "message", "param", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def response(self) -> JSONResponse:
        error: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
        return JSONResponse({"error": error}, status_code=self.status)


def _missing(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def _unknown(param: str) -> ApiError:
    return ApiError(400, f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def _no_such(kind: str, value: str, param: str, status: int = 400) -> ApiError:
    return ApiError(status, f"No such {kind}: '{value}'", param=param, code="resource_missing")


# -- parameters, as the stripe library encodes them -------------------------------------------------

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form pairs to a tree: ``line_items[0][price_data][unit_amount]=5`` nests; ``a[]``, ``a[0]`` list."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.fullmatch(key)
        if match is None:
            raise ApiError(400, f"Invalid parameter name: {key}", param=key)
        parts = [match[1], *_PART.findall(match[2])]
        node = root
        for depth, part in enumerate(parts):
            name = part or str(len(node))
            if depth == len(parts) - 1:
                node[name] = value
                continue
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise ApiError(400, f"Invalid parameter: {key} is both a value and an object", param=key)
            node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _object(value: Any, param: str) -> dict[str, Any]:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, f"Invalid object: {param} must be a hash", param=param)
    return value


def _string(value: Any, param: str, *, max_length: int = 5000) -> str:
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid string: {param} must be a string", param=param)
    if len(value) > max_length:
        raise ApiError(
            400, f"Invalid string: {value[:40]}...; must be at most {max_length} characters", param=param
        )
    return value


def _integer(value: Any, param: str, *, minimum: int, maximum: int | None = None) -> int:
    text = _string(value, param)
    if not re.fullmatch(r"-?\d+", text):
        raise ApiError(400, f"Invalid integer: {text}", param=param)
    number = int(text)
    if number < minimum:
        raise ApiError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    if maximum is not None and number > maximum:
        raise ApiError(400, f"This value must be less than or equal to {maximum}.", param=param)
    return number


def _url(value: Any, param: str) -> str:
    text = _string(value, param, max_length=5000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ApiError(400, "Not a valid URL", param=param, code="url_invalid")
    return text


def _metadata(value: Any, param: str) -> dict[str, str]:
    metadata = _object(value, param)
    if len(metadata) > 50:
        raise ApiError(400, "Metadata can have up to 50 keys.", param=param)
    out: dict[str, str] = {}
    for key, item in metadata.items():
        if len(key) > 40:
            raise ApiError(
                400, f"Metadata keys can be up to 40 characters long: {key}", param=f"{param}[{key}]"
            )
        text = _string(item, f"{param}[{key}]", max_length=500)
        if text:  # an empty value unsets the key, as in Stripe
            out[key] = text
    return out


def _expand(params: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    value = params.pop("expand", [])
    paths = value if isinstance(value, list) else [value]
    for path in paths:
        if path not in allowed:
            raise ApiError(400, f"This property cannot be expanded ({path}).", param="expand")
    return [str(p) for p in paths]


def _random(prefix: str, length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _money(amount: int, currency: str) -> str:
    value = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"
