"""The Python types follow the WIT package: a WIT type, case, field or
function that the wrapper does not follow fails here, not in a user's program.

The WIT's shape comes from `acr_auth_wit.json`, which `cargo xtask build`
writes beside the components from `wit/` (with wit-parser): every interface,
walked whole, so that a new interface, type, case or field is checked without
editing this file. Enums are `enum.Enum`s whose values are the WIT case names;
a variant `x` has an `enum.Enum` `XKind` of its case names; records are
dataclasses with the WIT fields in snake_case and in order, unless the wrapper
folds them into another type (`FOLDED`).
"""

import copy
import dataclasses
import enum
import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest

import acr_auth
from acr_auth._component import COMPONENTS_DIR

#: WIT records without a dataclass of their own: each field's Python name in
#: the classes (or the function's keyword arguments) they fold into.
FOLDED: dict[str, list[tuple[Any, dict[str, str]]]] = {
    "input-error": [(acr_auth.RequestError, {"kind": "reason", "message": "message"})],
    "refusal": [(acr_auth.ResponseError, {"status": "status", "errors": "errors", "message": "message"})],
    "malformed": [
        (acr_auth.ResponseError, {"kind": "reason", "message": "message"}),
        (acr_auth.EntraResponseError, {"kind": "reason", "message": "message"}),
    ],
    # `login` sends with Python's standard library, whose timeouts are a
    # connect timeout and a read timeout (for the first byte and between bytes).
    "login-options": [
        (
            acr_auth.login,
            {
                "tenant": "tenant",
                "scopes": "scopes",
                "discover": "discover",
                "custom-cloud": "custom_cloud",
                "connect-timeout-ms": "connect_timeout",
                "first-byte-timeout-ms": "read_timeout",
                "between-bytes-timeout-ms": "read_timeout",
            },
        )
    ],
}

#: WIT functions the wrapper does not offer, and why.
NOT_WRAPPED = {
    "login-with-identity": "not offered yet: callers get the Entra token with `build_entra_token_request` "
    "and `parse_entra_token_response`, then call `login`",
}


@pytest.fixture(scope="module")
def wit() -> dict[str, Any]:
    """The WIT package's description that `cargo xtask build` writes."""
    path = COMPONENTS_DIR / "acr_auth_wit.json"
    description: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return description


def python_name(wit_name: str) -> str:
    """The Python class of a WIT type: `cloud-environment-error` is `CloudEnvironmentError`."""
    return "".join(part.capitalize() for part in wit_name.split("-"))


def snake(wit_name: str) -> str:
    """A WIT field or function name in Python: `login-server` is `login_server`."""
    return wit_name.replace("-", "_")


def names_of(target: Any) -> list[str]:
    """The fields of a dataclass, or the parameters of a function."""
    if dataclasses.is_dataclass(target):
        return [field.name for field in dataclasses.fields(target)]
    return list(inspect.signature(target).parameters)


def folded_mismatches(wit_name: str, fields: list[str]) -> list[str]:
    """How a folded record's fields differ from where `FOLDED` says they went."""
    found = []
    for target, renames in FOLDED[wit_name]:
        if list(renames) != fields:
            found.append(f"{wit_name}: WIT has fields {fields}, FOLDED maps {list(renames)} into {target.__name__}")
        missing = [name for name in renames.values() if name not in names_of(target)]
        if missing:
            found.append(f"{wit_name}: {target.__name__} lacks {missing}")
    return found


def type_mismatches(wit_name: str, ty: dict[str, Any]) -> list[str]:
    """How the Python side of one WIT type differs from it."""
    kind = ty["kind"]
    if kind == "alias":
        return []
    if kind == "record" and wit_name in FOLDED:
        return folded_mismatches(wit_name, ty["fields"])
    name = python_name(wit_name) + ("Kind" if kind == "variant" else "")
    cls = getattr(acr_auth, name, None)
    if kind in ("enum", "variant"):
        if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
            return [f"{wit_name}: acr_auth.{name} is missing or not an enum.Enum"]
        python = [member.value for member in cls]
        wit_cases = ty["cases"]
    elif kind == "record":
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            return [f"{wit_name}: acr_auth.{name} is missing or not a dataclass"]
        python = names_of(cls)
        wit_cases = [snake(field) for field in ty["fields"]]
    else:
        return [f"{wit_name}: a WIT {kind}, which this test does not check yet: teach it"]
    return [] if python == wit_cases else [f"{wit_name}: WIT has {wit_cases}, acr_auth.{name} has {python}"]


def mismatches(wit: dict[str, Any]) -> list[str]:
    """Every way the wrapper's types and functions differ from the WIT."""
    found = []
    types = [ty for interface in wit["interfaces"] for ty in interface["types"]]
    for ty in types:
        found.extend(type_mismatches(ty["name"], ty))
    for interface in wit["interfaces"]:
        for function in interface["functions"]:
            if function not in NOT_WRAPPED and not callable(getattr(acr_auth, snake(function), None)):
                found.append(f"{interface['name']}.{function}: acr_auth.{snake(function)} is missing")
    defined = {ty["name"] for ty in types}
    found.extend(f"{name}: FOLDED names a type the WIT no longer has" for name in set(FOLDED) - defined)
    return found


def test_the_description_covers_every_interface(wit: dict[str, Any]) -> None:
    assert wit["package"] == "acr:auth@0.1.0"
    names = [interface["name"] for interface in wit["interfaces"]]
    assert {"scope", "exchange", "token", "challenge", "http", "entra", "login"} <= set(names)
    assert sum(len(interface["types"]) for interface in wit["interfaces"]) >= 37


def test_every_wit_type_and_function_has_its_python_counterpart(wit: dict[str, Any]) -> None:
    assert mismatches(wit) == []


def edited(wit: dict[str, Any], kind: str, edit: Callable[[dict[str, Any]], None]) -> tuple[dict[str, Any], str]:
    """A copy of `wit` whose first type of `kind` (not folded) is changed by `edit`; and that type's name."""
    changed = copy.deepcopy(wit)
    ty = next(
        ty
        for interface in changed["interfaces"]
        for ty in interface["types"]
        if ty["kind"] == kind and ty["name"] not in FOLDED
    )
    edit(ty)
    return changed, ty["name"]


@pytest.mark.parametrize(
    ("kind", "edit"),
    [
        ("enum", lambda ty: ty["cases"].append("unheard")),
        ("variant", lambda ty: ty["cases"].append("unheard")),
        ("record", lambda ty: ty["fields"].append("unheard")),
    ],
    ids=["enum case", "variant case", "record field"],
)
def test_a_case_or_field_python_lacks_is_found(
    wit: dict[str, Any], kind: str, edit: Callable[[dict[str, Any]], None]
) -> None:
    changed, name = edited(wit, kind, edit)
    found = mismatches(changed)
    assert len(found) == 1 and found[0].startswith(f"{name}:") and "unheard" in found[0], found


def test_a_field_of_a_folded_record_python_lacks_is_found(wit: dict[str, Any]) -> None:
    changed = copy.deepcopy(wit)
    refusal = next(ty for interface in changed["interfaces"] for ty in interface["types"] if ty["name"] == "refusal")
    refusal["fields"].append("retry-after")
    found = mismatches(changed)
    assert len(found) == 1 and found[0].startswith("refusal:") and "retry-after" in found[0], found


def test_a_new_type_or_function_python_lacks_is_found(wit: dict[str, Any]) -> None:
    changed = copy.deepcopy(wit)
    changed["interfaces"].append(
        {
            "name": "state",
            "types": [{"name": "login-state", "kind": "resource", "functions": ["constructor", "poll"]}],
            "functions": ["start-login"],
        }
    )
    found = mismatches(changed)
    assert [line.split(":")[0] for line in found] == ["login-state", "state.start-login"], found
