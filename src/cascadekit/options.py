"""Options dataclasses from user input (``--set key=value``, presets, run.json).

One place turns loose key/value pairs into a typed dataclass: unknown keys are an error that lists
every known option with its default, values are coerced to the field's annotated type ("false" is
False, never truthy; "3" is 3 for an int field, an int is never silently truncated from 1.5), and
non-finite numbers are refused unless the field is documented to take them.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from cascadekit.errors import CascadeKitError

T = TypeVar("T")


def describe(cls: type) -> list[tuple[str, str, Any]]:
    """(name, type, default) of every field of the options dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        out.append((f.name, _type_name(hints[f.name]), default))
    return out


def known_list(cls: type) -> str:
    return ", ".join(f"{name}={default!r}" for name, _, default in describe(cls))


def check_known(options: dict[str, Any], cls: type, what: str) -> None:
    """Raise a CascadeKitError naming unknown keys of ``options`` and listing the known ones."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise CascadeKitError(
            f"unknown {what} option(s) {', '.join(unknown)}; known: {known_list(cls)}"
        )


def build(cls: type[T], options: dict[str, Any], what: str) -> T:
    """``cls(**options)`` with keys checked and values coerced to the annotated types; a value the
    dataclass's own checks refuse becomes a CascadeKitError naming ``what``."""
    check_known(options, cls, what)
    hints = typing.get_type_hints(cls)
    values = {k: coerce(v, hints[k], f"{what} option {k}") for k, v in options.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise CascadeKitError(f"invalid {what} options: {exc}") from None


def checked_kwargs(
    func: Callable[..., Any], values: dict[str, Any], what: str, *, skip: int = 0
) -> dict[str, Any]:
    """``values`` as keyword arguments of ``func`` (its first ``skip`` parameters are not
    options): an unknown name is an error listing the known options with their defaults, and
    each value is coerced to the parameter's annotated type (`coerce`)."""
    params = list(inspect.signature(func).parameters.values())[skip:]
    open_ended = any(p.kind is p.VAR_KEYWORD for p in params)  # takes any name
    unknown = [] if open_ended else sorted(set(values) - {p.name for p in params})
    if unknown:
        listed = ", ".join(f"{p.name}={p.default!r}" for p in params)
        raise CascadeKitError(
            f"unknown {what} option(s) {', '.join(unknown)}; known: {listed or 'none'}"
        )
    hints = typing.get_type_hints(func)
    return {k: coerce(v, hints.get(k, Any), f"{what} option {k}") for k, v in values.items()}


def coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` as the annotated type ``hint`` (Optional, unions, tuples, lists, dicts)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(value, arg, where)
            except CascadeKitError:
                continue
        raise CascadeKitError(f"{where}: cannot read {value!r} as {_type_name(hint)}")
    if hint is Any:
        return value
    if origin is typing.Literal:
        for allowed in typing.get_args(hint):
            # a value from the command line is text: "auto" names the literal "auto"
            if value == allowed or (isinstance(value, str) and value == str(allowed)):
                return allowed
        choices = ", ".join(repr(a) for a in typing.get_args(hint))
        raise CascadeKitError(f"{where}: expected one of {choices}, got {value!r}")
    if hint is bool:
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        scalar = value.item() if getattr(value, "ndim", None) == 0 else value  # numpy scalars
        if isinstance(scalar, bool | int | float) and scalar in (0, 1):
            return bool(scalar)
        raise CascadeKitError(f"{where}: expected true or false (or 1 / 0), got {value!r}")
    if hint is int:
        if isinstance(value, bool):
            raise CascadeKitError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise CascadeKitError(f"{where}: expected an integer, got {value!r}")
    if hint is float:
        if isinstance(value, bool):
            raise CascadeKitError(f"{where}: expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise CascadeKitError(f"{where}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise CascadeKitError(f"{where}: expected a finite number, got {value!r}")
        return number
    if hint is str:
        if isinstance(value, str):
            return value
        raise CascadeKitError(f"{where}: expected a string, got {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise CascadeKitError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        items = [coerce(v, item, where) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise CascadeKitError(f"{where}: expected a JSON object, got {value!r}")
        return value
    return value


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(hint))
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "None"
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")
