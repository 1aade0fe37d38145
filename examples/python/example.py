"""Shows the API without a network: what a reference resolves to, a login
flow driven by hand with canned answers (the requests it asks for, the
credential it yields), and what a call and a whole login cost through the
component.

    python example.py [REFERENCE]

with the package installed, or from the source tree with
`ACR_AUTH_COMPONENT=../../target/components/acr_auth.wasm`.
"""

import base64
import json
import sys
import time

import acr_auth

#: Calls made before timing, so that compilation and caches are out of the way.
WARM_UP_CALLS = 200
#: Calls timed.
TIMED_CALLS = 2000


def base64url(data: dict[str, object] | str) -> str:
    """A JWT segment: base64url without padding of JSON (or of plain text)."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def unsigned_jwt(claims: dict[str, object]) -> str:
    """A JWT with these claims and a fake signature: enough for a client,
    which reads the claims without verifying the issuer's signature."""
    return ".".join([base64url({"alg": "RS256", "typ": "JWT"}), base64url(claims), base64url("not a real signature")])


def answer(status: int, body: dict[str, object]) -> acr_auth.Responded:
    """A canned JSON response, as the flow's event."""
    return acr_auth.Responded(acr_auth.Response(status, [], json.dumps(body).encode()))


def scripted_login(reference: str, now_ms: int, show: bool = False) -> acr_auth.LoginResult:
    """A login with the host's managed identity, the metadata service and the
    registry played by canned answers: each step the flow asks for, and what
    is fed back."""
    now = now_ms // 1000
    entra = answer(200, {"access_token": unsigned_jwt({"exp": now + 3600}), "expires_in": "3599"})
    registry = answer(200, {"refresh_token": unsigned_jwt({"exp": now + 10800, "aud": reference.lower()})})
    answers = iter([entra, registry])
    with acr_auth.LoginFlow(reference, acr_auth.ManagedIdentity()) as flow:
        event: acr_auth.Event = acr_auth.Start()
        while True:
            match flow.step(now_ms, event):
                case acr_auth.Send(outgoing):
                    if show:
                        print(f"send:           {outgoing.request.method} {outgoing.request.url}")
                    event = next(answers)
                case acr_auth.Done(result):
                    return result
                case other:
                    raise AssertionError(f"the canned answers did not expect {other}")


def per_call(function: object) -> float:
    """Microseconds per call of `function()`, after a warm-up."""
    assert callable(function)
    for _ in range(WARM_UP_CALLS):
        function()
    start = time.perf_counter()
    for _ in range(TIMED_CALLS):
        function()
    return (time.perf_counter() - start) / TIMED_CALLS * 1e6


def main(reference: str) -> None:
    """Prints what `reference` resolves to, a scripted login, and the latencies."""
    scope = acr_auth.resolve_scope(reference)
    print(f"login server:   {scope.login_server}")
    print(f"cloud:          {scope.cloud.value}")
    print(f"Entra scope:    {scope.scope} ({scope.audience.value} audience)")
    print(f"authority host: {scope.authority_host}")

    now_ms = time.time_ns() // 1_000_000
    result = scripted_login(scope.login_server, now_ms, show=True)
    print(f"credential:     {result.credential}")
    print(f"expires in:     {result.credential.expires_at - now_ms // 1000} s")

    print(f"resolve_scope:  {per_call(lambda: acr_auth.resolve_scope(reference)):.0f} µs per call (fresh store each)")
    login_us = per_call(lambda: scripted_login(scope.login_server, now_ms))
    print(f"scripted login: {login_us:.0f} µs per login (a flow, its store and 3 steps)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "MyRegistry.azurecr.io/team/app:1.2")
