"""Resolves a registry reference, reads a refresh token, and measures how long
one `resolve_scope` call through the component takes.

    python example.py [REFERENCE]
"""

import base64
import json
import sys
import time

import acr_auth

#: Calls made before timing, so that compilation and caches are out of the way.
WARM_UP_CALLS = 200
#: Calls timed.
TIMED_CALLS = 5000


def base64url(data: dict[str, object] | str) -> str:
    """A JWT segment: base64url without padding of JSON (or of plain text)."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def unsigned_jwt(claims: dict[str, object]) -> str:
    """A JWT with these claims and a fake signature: enough for a client,
    which reads the claims without verifying the registry's signature."""
    return ".".join([base64url({"alg": "RS256", "typ": "JWT"}), base64url(claims), base64url("not a real signature")])


def main(reference: str) -> None:
    """Prints what `reference` resolves to, a parsed token, and the latency."""
    scope = acr_auth.resolve_scope(reference)
    print(f"login server:   {scope.login_server}")
    print(f"cloud:          {scope.cloud.value}")
    print(f"Entra scope:    {scope.scope} ({scope.audience.value} audience)")
    print(f"authority host: {scope.authority_host}")

    now = int(time.time())
    claims = {
        "exp": now + 3 * 60 * 60,
        "iat": now,
        "aud": scope.login_server,
        "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    }
    body = json.dumps({"refresh_token": unsigned_jwt(claims)}).encode()
    credential = acr_auth.parse_refresh_token(200, body)
    print(f"credential:     {credential}")
    print(f"expires in:     {credential.expires_at - now} s")

    for _ in range(WARM_UP_CALLS):
        acr_auth.resolve_scope(reference)
    start = time.perf_counter()
    for _ in range(TIMED_CALLS):
        acr_auth.resolve_scope(reference)
    elapsed = time.perf_counter() - start
    print(f"resolve_scope:  {elapsed / TIMED_CALLS * 1e6:.1f} µs per call ({TIMED_CALLS} calls, fresh store each)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "MyRegistry.azurecr.io/team/app:1.2")
