"""Reads the shared case files and checks observations against them, exactly
as the Rust conformance tests do (`host-tests/src/conformance.rs`,
`tests/login_flow.rs`), so that every host answers the same cases.

An observation is the JSON shape the Rust tests compare: a success is the
value's fields in snake_case (enums as their WIT case names, a request's
headers as `[name, value]` pairs and its body as text); an error is
`{"error": <kind>, "message": ...}`, where request errors are
`reference:<kind>` / `input:<kind>` and response errors `refused` (with
`status` and `errors`, or for Entra `status`, `error_code` (the OAuth error),
`description`, `code`, `trace_id` and `correlation_id`) or `malformed:<kind>`.
"""

import base64
import dataclasses
import decimal
import enum
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import acr_auth

#: Where the case files are, shared with the Rust tests: the repository's
#: `tests/cases/`, or the directory `ACR_AUTH_CASES_DIR` names (the tests of
#: the installed wheel run outside the repository, with a copy of them).
CASE_DIRS = (
    Path(os.environ.get("ACR_AUTH_CASES_DIR") or Path(__file__).resolve().parents[3] / "tests" / "cases"),
)


def case_file(name: str) -> Any:
    """The parsed case file `<name>.json`: every test reads its cases here."""
    [path] = [directory / f"{name}.json" for directory in CASE_DIRS if (directory / f"{name}.json").is_file()]
    return json.loads(path.read_text(encoding="utf-8"))


def case_file_names() -> list[str]:
    """The names of every case file."""
    return sorted(path.stem for directory in CASE_DIRS for path in directory.glob("*.json"))


def cases(name: str) -> list[dict[str, Any]]:
    """The cases of a case file: the file itself, or its `cases`."""
    content = case_file(name)
    entries: list[dict[str, Any]] = content["cases"] if isinstance(content, dict) else content
    return entries


def each_case(name: str) -> pytest.MarkDecorator:
    """Parametrizes a test with one `case` per entry of a case file, named after it."""
    entries = cases(name)
    return pytest.mark.parametrize("case", entries, ids=[entry["name"] for entry in entries])


def to_json(value: Any) -> str:
    """Compact JSON, byte for byte as serde_json writes it (with
    `preserve_order`): keys in the given order, non-ASCII characters as UTF-8,
    floats as `float_text` spells them, and integers that fit neither i64 nor
    u64 as floats, since serde_json reads those as f64."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{to_json(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(to_json, value)) + "]"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return float_text(float(value))
    return json.dumps(value, ensure_ascii=False)


def float_text(value: float) -> str:
    """A float as serde_json 1.0.154 (zmij) writes it.

    Python's `repr` and zmij pick the same shortest digits; they differ only
    in the layout: zmij writes decimal exponents -5 to 15 in fixed notation
    (`repr` switches to `e` notation below -4) and never pads the exponent
    (`1e+30`, `1.5e-7`, where `repr` writes `1.5e-07`).
    """
    mantissa, _, exponent = repr(value).partition("e")
    if not exponent:
        return mantissa
    power = int(exponent)
    if power == -5:
        return format(decimal.Decimal(repr(value)), "f")
    return f"{mantissa}e{power:+d}"


def optional_text_input(case: dict[str, Any], key: str) -> str | None:
    """A case's string input `key`: a string, or
    `{"repeat": <text>, "times": N, "prefix"?, "suffix"?}` for inputs too long
    to write out; `None` when absent or null, JSON text for anything else."""
    value = case.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return f"{value.get('prefix', '')}{value['repeat'] * value['times']}{value.get('suffix', '')}"
    return to_json(value)


def text_input(case: dict[str, Any], key: str) -> str:
    """A case's string input `key`, which the case must give."""
    value = optional_text_input(case, key)
    assert value is not None, f"the case gives no {key}"
    return value


def list_input(case: dict[str, Any], key: str) -> list[str]:
    """A case's list input `key`: an array of strings, or
    `{"repeat": <text>, "times": N}` for N copies."""
    value = case.get(key)
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value["repeat"]] * value["times"]
    return []


def custom_cloud(case: dict[str, Any]) -> acr_auth.CloudEnvironment | None:
    """A case's custom cloud, parsed by the component from the case's object."""
    environment = case.get("cloud_environment")
    return None if environment is None else acr_auth.parse_cloud_environment(to_json(environment))


def identity(spec: dict[str, Any]) -> acr_auth.Identity:
    """An Entra identity as the case files write it: one key, the WIT case in
    snake_case. `federated_token` and `client_secret` hold the record's
    fields; `managed_identity` is null (the system-assigned identity of the
    metadata service), or an object naming its `id` and `source`, where the
    Entra case files name the ID (`client_id`, `object_id` or `resource_id`)
    directly and the source is the metadata service."""
    [(kind, fields)] = spec.items()
    if kind == "federated_token":
        return acr_auth.FederatedToken(**fields)
    if kind == "client_secret":
        return acr_auth.ClientSecret(**fields)
    assert kind == "managed_identity", kind
    fields = fields or {}
    return acr_auth.ManagedIdentity(_managed_identity_id(fields.get("id", fields)), _source(fields.get("source")))


#: The class of each case of `managed-identity-id`, by its snake_case name.
_MANAGED_IDENTITY_IDS: dict[str, Callable[[str], acr_auth.ManagedIdentityId]] = {
    "client_id": acr_auth.ClientId,
    "object_id": acr_auth.ObjectId,
    "resource_id": acr_auth.ResourceId,
}


def _managed_identity_id(spec: dict[str, Any] | None) -> acr_auth.ManagedIdentityId | None:
    """A managed identity's ID: `{"client_id": ...}` and the like, or none."""
    named = [cls(spec[key]) for key, cls in _MANAGED_IDENTITY_IDS.items() if spec and key in spec]
    assert len(named) <= 1, spec
    return named[0] if named else None


def _source(spec: dict[str, Any] | None) -> acr_auth.ManagedIdentitySource:
    """A managed identity's source: none for the metadata service, or
    `{"app_service": {"endpoint", "header"}}`, `{"azure_arc": endpoint}` or
    `{"cloud_shell": endpoint}`."""
    if spec is None:
        return acr_auth.Imds()
    [(kind, value)] = spec.items()
    if kind == "app_service":
        return acr_auth.AppService(**value)
    endpoint_sources: dict[str, Callable[[str], acr_auth.ManagedIdentitySource]] = {
        "azure_arc": acr_auth.AzureArc,
        "cloud_shell": acr_auth.CloudShell,
    }
    return endpoint_sources[kind](value)


def _b64(data: str, standard_alphabet: bool, padded: bool) -> str:
    """Base64 of UTF-8 text in the alphabet and padding a JWT case asks for."""
    encoded = (base64.b64encode if standard_alphabet else base64.urlsafe_b64encode)(data.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


def response_body(case: dict[str, Any]) -> tuple[bytes, str | None]:
    """The response body of a token-parsing case and the token it carries.

    A case gives `body` as text, `token_segments` to join with dots, or `jwt`
    (`header`, `payload`, `signature` text) to encode here: base64url without
    padding unless `padded`, the standard alphabet if `standard_alphabet`;
    `require_chars` must then occur in the payload segment. The token goes
    into the field `token_field` (by default `refresh_token`).
    """
    if "token_segments" in case:
        token = ".".join(case["token_segments"])
    elif "jwt" in case:
        jwt = case["jwt"]
        standard, padded = jwt.get("standard_alphabet", False), jwt.get("padded", False)
        payload = _b64(to_json(jwt["payload"]), standard, padded)
        for char in jwt.get("require_chars", ""):
            assert char in payload, f"the payload segment lacks {char!r}"
        if padded:
            assert payload.endswith("="), "the payload segment is not padded"
        token = ".".join(
            [_b64(to_json(jwt["header"]), standard, padded), payload, _b64(jwt["signature"], standard, padded)]
        )
    else:
        return text_input(case, "body").encode(), None
    return to_json({case.get("token_field", "refresh_token"): token}).encode(), token


def _plain(value: Any) -> Any:
    """A value as JSON data: enums as their WIT case names."""
    return value.value if isinstance(value, enum.Enum) else value


def observe(call: Callable[[], Any]) -> dict[str, Any]:
    """Runs `call` and returns its result or its error in the observation shape."""
    try:
        value = call()
    except acr_auth.AcrAuthError as e:
        reason = getattr(e, "reason", None)
        observed = {"error": e.kind.value + (f":{reason.value}" if reason else ""), "message": e.message}
        if isinstance(e, acr_auth.CloudEnvironmentError):
            observed["field"] = e.field
        if isinstance(e, acr_auth.ResponseError) and e.kind is acr_auth.ResponseErrorKind.REFUSED:
            observed["status"] = e.status
            observed["errors"] = [dataclasses.asdict(error) for error in e.errors]
        if isinstance(e, acr_auth.EntraResponseError) and e.refusal is not None:
            refusal = e.refusal
            observed |= {
                "status": refusal.status,
                "error_code": refusal.error,
                "description": refusal.description,
                "code": refusal.code,
                "trace_id": refusal.trace_id,
                "correlation_id": refusal.correlation_id,
            }
        return observed
    if isinstance(value, acr_auth.Request):
        return {
            "method": value.method,
            "url": value.url,
            "headers": [[h.name, h.value] for h in value.headers],
            "body": value.body.decode("utf-8", "replace"),
        }
    return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}


def check(case: dict[str, Any], observed: dict[str, Any]) -> None:
    """Checks an observation against a case: an `error` case compares the kind,
    `message_contains`, `message_lacks` and `field`; a success case requires
    every key of `expect` with the same value."""
    if "error" in case:
        assert observed.get("error") == case["error"], observed
        for needle in case.get("message_contains", []):
            assert needle in observed["message"], f"{observed['message']!r} lacks {needle!r}"
        for secret in case.get("message_lacks", []):
            assert secret not in observed["message"], f"{observed['message']!r} leaks {secret!r}"
        if "field" in case:
            assert observed.get("field") == case["field"], observed
    else:
        assert "error" not in observed, observed
        for key, want in case["expect"].items():
            assert key in observed and observed[key] == want, f"field {key} of {observed}"


def check_response_case(case: dict[str, Any], parse: Callable[[int, bytes, list[str]], Any], token_key: str) -> None:
    """Runs a token-parsing case through `parse` and checks it; a success must
    return the token the body carried (under `token_key`), an error message
    must not contain any of its segments."""
    body, token = response_body(case)
    observed = observe(lambda: parse(case["status"], body, []))
    check(case, observed)
    if "expect_refusal" in case:
        assert observed["status"] == case["expect_refusal"]["status"]
        assert observed["errors"] == case["expect_refusal"]["errors"]
    if token is None:
        return
    if "error" in observed:
        for segment in (s for s in token.split(".") if len(s) >= 4):
            assert segment not in observed["message"], "the message leaks the token"
    else:
        assert observed[token_key] == token
