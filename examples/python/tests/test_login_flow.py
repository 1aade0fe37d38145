"""The scripted logins of the login flow's case file, as `tests/login_flow.rs`
runs them natively: step by step through `LoginFlow` on a virtual clock, and
through the drivers `login` and `login_async` over a transport that plays the
script. The file's `about` describes the format."""

import asyncio
import dataclasses
import json
import re
import ssl
import time
import urllib.parse
from base64 import urlsafe_b64encode
from typing import Any

import pytest
from conformance import case_file, identity

import acr_auth

#: The response body cap every request carries: 64 KiB, as the WIT says.
MAX_RESPONSE_LEN = 64 * 1024
#: The shortest fragment of a secret that an error must not hold, as the
#: redaction rules say (16 consecutive bytes).
MIN_FRAGMENT = 16


def compact(value: Any) -> str:
    """JSON as serde_json's `Value::to_string` writes it: compact, keys sorted."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return urlsafe_b64encode(data).decode().rstrip("=")


def resolve(value: Any, secrets: dict[str, str]) -> Any:
    """`value` with `${name}` / `${name:from:to}` replaced by secrets and
    `{"jwt": claims}` by a JWT with those claims."""
    if isinstance(value, str):
        return substitute(value, secrets)
    if isinstance(value, list):
        return [resolve(item, secrets) for item in value]
    if isinstance(value, dict):
        if list(value) == ["jwt"]:
            claims = compact(resolve(value["jwt"], secrets)).encode()
            return ".".join([b64url(b'{"alg":"RS256","typ":"JWT"}'), b64url(claims), b64url(b"sig")])
        return {key: resolve(item, secrets) for key, item in value.items()}
    return value


def substitute(text: str, secrets: dict[str, str]) -> str:
    """`text` with its `${...}` references replaced; ranges are byte ranges of
    ASCII secrets."""

    def secret(match: re.Match[str]) -> str:
        value = secrets[match["name"]]
        assert value.isascii(), match["name"]
        return value if match["from"] is None else value[int(match["from"]) : int(match["to"])]

    return re.sub(r"\$\{(?P<name>[^}:]+)(?::(?P<from>\d+):(?P<to>\d+))?\}", secret, text)


def load() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The cases, resolved, and the named secrets."""
    file = case_file("login-flow")
    secrets: dict[str, str] = {}
    for name, spec in file["secrets"].items():
        secrets[name] = resolve(spec, secrets)
    return [resolve(case, secrets) for case in file["cases"]], secrets


CASES, SECRETS = load()
each_flow_case = pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])


def credentials(case: dict[str, Any]) -> acr_auth.Credentials:
    """The case's credentials: an Entra token, or an identity."""
    given = case["credentials"]
    return given["entra_token"] if "entra_token" in given else identity(given["identity"])


def options(case: dict[str, Any]) -> acr_auth.LoginOptions:
    """The case's options."""
    given = case["options"]
    return acr_auth.LoginOptions(
        tenant=given.get("tenant"),
        repository_scopes=given.get("repository_scopes", []),
        discover=given.get("discover", False),
    )


def check_request(name: str, outgoing: acr_auth.Outgoing, expected: dict[str, Any]) -> None:
    """Asserts that `outgoing` is the request `expected` describes, exactly."""
    request = outgoing.request
    assert request.method == expected["method"], name
    assert request.url == expected["url"], name
    assert [[h.name, h.value] for h in request.headers] == expected["headers"], name
    if "form" in expected:
        fields = urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True)
        assert [list(field) for field in fields] == expected["form"], name
    else:
        assert request.body.decode() == expected["body"], name
    assert outgoing.max_response_len == MAX_RESPONSE_LEN, name


def outcome(item: dict[str, Any]) -> acr_auth.Response | acr_auth.TransportError:
    """What a script item answers: a response, or a transport failure."""
    if "fail" in item:
        fail = item["fail"]
        return acr_auth.TransportError(acr_auth.TransportErrorKind(fail["kind"]), fail.get("message", ""))
    respond = item["respond"]
    if "json" in respond:
        body = compact(respond["json"]).encode()
    else:
        body = respond.get("text", "").encode()
    headers = [acr_auth.Header(name, value) for name, value in respond.get("headers", [])]
    return acr_auth.Response(respond["status"], headers, body)


def event(item: dict[str, Any]) -> acr_auth.Event:
    """What a script item answers, as the flow's event."""
    if "read_file" in item:
        return acr_auth.FileRead(item["contents"]) if "contents" in item else acr_auth.FileFailed(item["read_failed"])
    answer = outcome(item)
    return (
        acr_auth.TransportFailed(answer) if isinstance(answer, acr_auth.TransportError) else acr_auth.Responded(answer)
    )


def check_end(case: dict[str, Any], end: acr_auth.LoginResult | acr_auth.LoginError) -> None:
    """Asserts that the login ended as the case says."""
    name = case["name"]
    if "done" in case:
        done = case["done"]
        assert isinstance(end, acr_auth.LoginResult), f"{name}: {end!r}"
        assert end.login_server == done["login_server"], name
        assert end.credential.expires_at == done["expires_at"], name
        assert end.credential.audience == done["audience"], name
        assert end.credential.password == done["password"], name
        access = end.access_token.expires_at if end.access_token else None
        assert access == done["access_token_expires_at"], name
        return
    failed = case["failed"]
    assert isinstance(end, acr_auth.LoginError), f"{name}: {end!r}"
    assert end.kind.value == failed["kind"], f"{name}: {end!r}"
    assert end.stage.value == failed["stage"], f"{name}: {end!r}"
    if "status" in failed:
        assert end.status == failed["status"], name
    for part in failed.get("message_contains", []):
        assert part in end.message, f"{name}: {end.message}"
    if "errors" in failed:
        assert [dataclasses.asdict(e) for e in end.errors] == failed["errors"], name
    if "correlation_id" in failed:
        assert end.correlation_id == failed["correlation_id"], name
    texts = [end.message, str(end), repr(end), end.correlation_id or ""]
    texts += [text for e in end.errors for text in (e.code, e.message)]
    for secret in (SECRETS[name] for name in failed.get("lacks", [])):
        for start in range(len(secret) - MIN_FRAGMENT + 1):
            window = secret[start : start + MIN_FRAGMENT]
            assert not any(window in text for text in texts), f"{name}: {window!r} in {texts}"


def ending(step: acr_auth.Step) -> acr_auth.LoginResult | acr_auth.LoginError:
    """The end a `Done` or `Failed` step holds."""
    match step:
        case acr_auth.Done(result):
            return result
        case acr_auth.Failed(error):
            return error
    raise AssertionError(f"expected the end, got {step}")


@each_flow_case
def test_step_by_step(case: dict[str, Any]) -> None:
    name, now = case["name"], case["start"]
    step_event: acr_auth.Event = acr_auth.Start()
    with acr_auth.LoginFlow(case["reference"], credentials(case), options(case)) as flow:
        for item in case["script"]:
            step = flow.step(now, step_event)
            if "wait" in item:
                assert step == acr_auth.Wait(now + item["wait"]), name
                # Waking early is told to wait again.
                assert flow.step(now + item["wait"] - 1, acr_auth.Woke()) == step, name
                now += item["wait"]
                step_event = acr_auth.Woke()
            elif "read_file" in item:
                assert step == acr_auth.ReadFile(acr_auth.FileToRead(**item["read_file"])), name
                step_event = event(item)
            else:
                assert isinstance(step, acr_auth.Send), f"{name}: expected a request, got {step}"
                check_request(name, step.outgoing, item["send"])
                step_event = event(item)
        end = flow.step(now, step_event)
        check_end(case, ending(end))
        # The end is the end: every further step returns it again.
        again = flow.step(now + 1, acr_auth.Woke())
        assert type(again) is type(end) and dataclasses.asdict(again) == dataclasses.asdict(end), name


class Scripted(acr_auth.Transport):
    """A transport that plays a case's script on a virtual clock, checking
    each request, wait and file read the driver asks for."""

    def __init__(self, case: dict[str, Any]) -> None:
        super().__init__(ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        self.name = case["name"]
        self.script = iter(case["script"])
        self.now = case["start"]

    def next(self, what: str) -> dict[str, Any]:
        item: dict[str, Any] | None = next(self.script, None)
        assert item is not None and what in item, f"{self.name}: an unscripted {what}: {item}"
        return item

    def send(self, outgoing: acr_auth.Outgoing) -> acr_auth.Response:
        item = self.next("send")
        check_request(self.name, outgoing, item["send"])
        answer = outcome(item)
        if isinstance(answer, acr_auth.TransportError):
            raise answer
        return answer

    def now_ms(self) -> int:
        return self.now

    def sleep_until(self, until_ms: int) -> None:
        assert until_ms - self.now == self.next("wait")["wait"], self.name
        self.now = until_ms

    async def sleep_until_async(self, until_ms: int) -> None:
        self.sleep_until(until_ms)

    def read_file(self, path: str, max_len: int) -> str:
        item = self.next("read_file")
        assert acr_auth.FileToRead(path, max_len) == acr_auth.FileToRead(**item["read_file"]), self.name
        if "contents" in item:
            contents: str = item["contents"]
            return contents
        raise OSError(item["read_failed"])

    def played(self) -> bool:
        """Whether the whole script was played."""
        return next(self.script, None) is None


@each_flow_case
def test_through_login(case: dict[str, Any]) -> None:
    transport = Scripted(case)
    try:
        end: acr_auth.LoginResult | acr_auth.LoginError = acr_auth.login(
            case["reference"], credentials(case), options(case), transport=transport
        )
    except acr_auth.LoginError as error:
        end = error
    assert transport.played(), f"{case['name']}: the script was not played to its end"
    check_end(case, end)


@each_flow_case
def test_through_login_async(case: dict[str, Any]) -> None:
    transport = Scripted(case)
    try:
        end: acr_auth.LoginResult | acr_auth.LoginError = asyncio.run(
            acr_auth.login_async(case["reference"], credentials(case), options(case), transport=transport)
        )
    except acr_auth.LoginError as error:
        end = error
    assert transport.played(), f"{case['name']}: the script was not played to its end"
    check_end(case, end)


def test_login_async_leaves_the_event_loop_running() -> None:
    """While a request is out, other tasks run: each request here takes 50 ms
    in its worker thread, and a task ticking every 5 ms ticks meanwhile."""
    [case] = [c for c in CASES if c["name"].startswith("discovery, the exchange")]
    sends = sum("send" in item for item in case["script"])

    class Slow(Scripted):
        def send(self, outgoing: acr_auth.Outgoing) -> acr_auth.Response:
            time.sleep(0.05)
            return super().send(outgoing)

    async def run() -> int:
        ticks, done = 0, False

        async def tick() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await asyncio.sleep(0.005)

        ticker = asyncio.create_task(tick())
        await acr_auth.login_async(case["reference"], credentials(case), options(case), transport=Slow(case))
        done = True
        await ticker
        return ticks

    assert asyncio.run(run()) > sends


def test_events_the_flow_did_not_ask_for_end_it() -> None:
    wrong_events: list[tuple[bool, acr_auth.Event]] = [
        (False, acr_auth.Responded(acr_auth.Response(200, [], b""))),
        (False, acr_auth.Woke()),
        (True, acr_auth.Start()),
        (True, acr_auth.Woke()),
    ]
    for started, wrong in wrong_events:
        with acr_auth.LoginFlow("myregistry.azurecr.io", "eyJ0eXAi.e30.c2ln") as flow:
            if started:
                assert isinstance(flow.step(0, acr_auth.Start()), acr_auth.Send)
            step = flow.step(0, wrong)
            assert isinstance(step, acr_auth.Failed) and step.error.kind is acr_auth.LoginErrorKind.MISUSE, step


def test_a_closed_flow_cannot_step() -> None:
    flow = acr_auth.LoginFlow("myregistry.azurecr.io", "eyJ0eXAi.e30.c2ln")
    flow.close()
    flow.close()
    with pytest.raises(ValueError, match="closed"):
        flow.step(0, acr_auth.Start())


def test_login_refuses_a_hand_built_cloud_record_before_any_request() -> None:
    """`login` takes a custom cloud too: a record that does not check out ends
    the login before the transport is asked for anything."""
    [case] = [
        c for c in case_file("custom-cloud-record")["cases"] if c["record"]["container_registry_dns_suffix"] == "com"
    ]
    cloud = acr_auth.CloudEnvironment(**case["record"])
    transport = Scripted({"name": case["name"], "script": [], "start": 0})
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login(
            case["reference"], "eyJ0eXAi.e30.c2ln", acr_auth.LoginOptions(custom_cloud=cloud), transport=transport
        )
    assert (caught.value.kind, caught.value.stage) == (acr_auth.LoginErrorKind.INVALID_INPUT, acr_auth.Stage.INPUT)
    assert case["field"] in caught.value.message
