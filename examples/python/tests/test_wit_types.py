"""The Python types mirror the WIT types the component exports: a WIT change
that the wrapper does not follow fails here, not in a user's program."""

import dataclasses
import enum

from wasmtime import Engine
from wasmtime.component import Component, ComponentInstanceType, EnumType, RecordType, ValType, VariantType

import acr_auth

#: WIT records without a dataclass of their own, and where they went.
FOLDED = {
    "input-error": "RequestError.reason and .message",
    "refusal": "ResponseError (kind REFUSED) .status, .errors and .message",
    "malformed": "ResponseError (kind MALFORMED) .reason and .message",
    "login-options": "the keyword arguments of login()",
}


def wit_types(engine: Engine, component: Component) -> dict[str, ValType]:
    """Every named type the component's interfaces export, by WIT name."""
    interfaces = [export.ty for export in component.type.exports(engine).values()]
    return {
        name: item.ty
        for interface in interfaces
        if isinstance(interface, ComponentInstanceType)
        for name, item in interface.exports(engine).items()
        if isinstance(item.ty, ValType)
    }


def python_name(wit_name: str) -> str:
    """The Python class of a WIT type: `cloud-environment-error` is `CloudEnvironmentError`."""
    return "".join(part.capitalize() for part in wit_name.split("-"))


def mismatch(wit_name: str, ty: ValType) -> str | None:
    """How the Python class of one WIT type differs from it, if it does.

    Enums must be `enum.Enum`s with the WIT case names as values, records
    dataclasses with the WIT fields in snake_case and in order; a variant `x`
    has an `enum.Enum` `XKind` of its case names.
    """
    name = python_name(wit_name) + ("Kind" if isinstance(ty, VariantType) else "")
    cls = getattr(acr_auth, name, None)
    if isinstance(ty, (EnumType, VariantType)) and isinstance(cls, type) and issubclass(cls, enum.Enum):
        wit = ty.names if isinstance(ty, EnumType) else [case for case, _ in ty.cases]
        python = [member.value for member in cls]
    elif isinstance(ty, RecordType) and dataclasses.is_dataclass(cls):
        wit = [field.replace("-", "_") for field, _ in ty.fields]
        python = [field.name for field in dataclasses.fields(cls)]
    else:
        return f"{wit_name}: acr_auth.{name} is missing or of the wrong kind"
    return None if wit == python else f"{wit_name}: WIT has {wit}, acr_auth.{name} has {python}"


def test_every_wit_type_has_a_matching_python_type(client_component: tuple[Engine, Component]) -> None:
    types = wit_types(*client_component)
    assert set(FOLDED) <= set(types), "a folded record left the WIT"
    checked = {name: ty for name, ty in types.items() if name not in FOLDED}
    assert len(checked) >= 33, "the component's type exports were not found"
    assert [m for m in (mismatch(name, ty) for name, ty in checked.items()) if m] == []
