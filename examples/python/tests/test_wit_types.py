"""The Python types and functions mirror what the component exports: a WIT
change that the wrapper does not follow fails here, not in a user's program."""

import dataclasses
import enum
import types
import typing
from typing import Any

from wasmtime import Engine
from wasmtime.component import (
    Component,
    ComponentInstanceType,
    EnumType,
    FuncType,
    RecordType,
    ResourceType,
    VariantType,
)

import acr_auth

#: WIT records without a dataclass of their own, and where they went.
FOLDED = {
    "input-error": "RequestError.reason and .message",
    "refusal": "ResponseError (kind REFUSED) .status, .errors and .message",
    "malformed": "ResponseError or EntraResponseError (kind MALFORMED) .reason and .message",
}

#: WIT types whose Python name is not the WIT name in PascalCase: those
#: names are Python's own exceptions (`ReferenceError`, and
#: `EnvironmentError`, an alias of `OSError`).
RENAMED = {"reference-error": "RegistryReferenceError", "environment-error": "IdentityEnvironmentError"}

#: The WIT variant whose Python form is a union with a built-in type, so that
#: its classes cannot name their case: `credentials` is a `str` (an Entra
#: token) or an `Identity`. Its cases are pinned here, and a new one fails.
CREDENTIALS_CASES = ["entra-token", "identity"]


def exports(engine: Engine, component: Component) -> dict[str, Any]:
    """Every item the component's interfaces export (types, resources and
    functions), by WIT name."""
    interfaces = [export.ty for export in component.type.exports(engine).values()]
    return {
        name: item.ty
        for interface in interfaces
        if isinstance(interface, ComponentInstanceType)
        for name, item in interface.exports(engine).items()
    }


def python_name(wit_name: str) -> str:
    """The Python class of a WIT type: `cloud-environment-error` is `CloudEnvironmentError`."""
    return RENAMED.get(wit_name) or "".join(part.capitalize() for part in wit_name.split("-"))


def variant_mismatch(wit_name: str, ty: VariantType) -> str | None:
    """How the Python form of a WIT variant `x` differs from it, if it does:
    `XKind` is an `enum.Enum` of its case names, and where `X` is a union
    (not one exception class with a `kind`), it holds one class per case,
    each naming its case in `kind`, in WIT order."""
    cases = [case for case, _ in ty.cases]
    if wit_name == "credentials":
        python_form = typing.get_args(acr_auth.Credentials) == (str, *typing.get_args(acr_auth.Identity))
        return None if cases == CREDENTIALS_CASES and python_form else f"credentials: WIT has {cases}"
    kinds = getattr(acr_auth, python_name(wit_name) + "Kind", None)
    if not (isinstance(kinds, type) and issubclass(kinds, enum.Enum)):
        return f"{wit_name}: acr_auth.{python_name(wit_name)}Kind is missing"
    if [member.value for member in kinds] != cases:
        return f"{wit_name}: WIT has {cases}, acr_auth.{python_name(wit_name)}Kind has {[m.value for m in kinds]}"
    union = getattr(acr_auth, python_name(wit_name), None)
    if isinstance(union, types.UnionType):
        named = [getattr(member, "kind", None) for member in typing.get_args(union)]
        if named != list(kinds):
            return f"{wit_name}: the classes of acr_auth.{python_name(wit_name)} name {named}, not each case once"
    return None


def mismatch(wit_name: str, ty: Any) -> str | None:
    """How the Python form of one WIT export differs from it, if it does.

    Enums must be `enum.Enum`s with the WIT case names as values, records
    dataclasses with the WIT fields in snake_case and in order, variants as
    `variant_mismatch` says, resources classes with each method, functions
    functions of the same name in snake_case.
    """
    if isinstance(ty, VariantType):
        return variant_mismatch(wit_name, ty)
    if isinstance(ty, FuncType):
        resource, _, method = wit_name.partition("]")
        if resource == "[constructor":
            return None if isinstance(getattr(acr_auth, python_name(method), None), type) else f"{wit_name}: no class"
        if resource == "[method":
            owner, _, name = method.partition(".")
            found = getattr(getattr(acr_auth, python_name(owner), None), name.replace("-", "_"), None)
        else:
            found = getattr(acr_auth, wit_name.replace("-", "_"), None)
        return None if callable(found) else f"{wit_name}: acr_auth has no such function"
    cls = getattr(acr_auth, python_name(wit_name), None)
    if isinstance(ty, ResourceType):
        return None if isinstance(cls, type) else f"{wit_name}: acr_auth.{python_name(wit_name)} is missing"
    if isinstance(ty, EnumType) and isinstance(cls, type) and issubclass(cls, enum.Enum):
        wit, python = ty.names, [member.value for member in cls]
    elif isinstance(ty, RecordType) and dataclasses.is_dataclass(cls):
        wit = [field.replace("-", "_") for field, _ in ty.fields]
        python = [field.name for field in dataclasses.fields(cls)]
    else:
        return f"{wit_name}: acr_auth.{python_name(wit_name)} is missing or of the wrong kind"
    return None if wit == python else f"{wit_name}: WIT has {wit}, acr_auth.{python_name(wit_name)} has {python}"


def test_every_wit_export_has_a_matching_python_form(pure_component: tuple[Engine, Component]) -> None:
    found = exports(*pure_component)
    assert set(FOLDED) <= set(found), "a folded record left the WIT"
    checked = {name: ty for name, ty in found.items() if name not in FOLDED}
    assert len(checked) >= 55, "the component's exports were not found"
    assert [m for m in (mismatch(name, ty) for name, ty in checked.items()) if m] == []


def test_a_missing_case_field_or_method_fails_the_check(pure_component: tuple[Engine, Component], monkeypatch) -> None:
    """The check itself: a Python enum, union, record or class that lost a WIT
    case, field or method is reported."""
    found = exports(*pure_component)
    without_abac = dataclasses.make_dataclass(
        "Credential", [f.name for f in dataclasses.fields(acr_auth.Credential) if f.name != "abac"]
    )
    without_message = dataclasses.make_dataclass("IdentityEnvironmentError", ["kind"], bases=(acr_auth.AcrAuthError,))
    shrunk = {
        "step": ("StepKind", enum.Enum("StepKind", {"SEND": "send", "WAIT": "wait"})),
        "event": ("Event", acr_auth.Start | acr_auth.Responded),
        "managed-identity-source": ("ManagedIdentitySource", acr_auth.Imds | acr_auth.AzureArc),
        "credentials": ("Credentials", acr_auth.Identity),
        "login-error-kind": ("LoginErrorKind", enum.Enum("LoginErrorKind", {"MISUSE": "misuse"})),
        "credential": ("Credential", without_abac),
        "environment-identity": ("EnvironmentIdentity", acr_auth.Ready | acr_auth.FederatedTokenFile),
        "environment-error": ("IdentityEnvironmentError", without_message),
        "login-flow": ("LoginFlow", acr_auth.LoginFlow.step),
        "[method]login-flow.step": ("LoginFlow", type("LoginFlow", (), {"close": acr_auth.LoginFlow.close})),
        "identity-from-environment": ("identity_from_environment", None),
    }
    for wit_name, (python, replacement) in shrunk.items():
        assert mismatch(wit_name, found[wit_name]) is None, wit_name
        with monkeypatch.context() as patch:
            patch.setattr(acr_auth, python, replacement)
            assert mismatch(wit_name, found[wit_name]) is not None, wit_name
