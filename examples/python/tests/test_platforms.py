"""Managed identities on every platform the Azure SDKs know, logged in with
`login` against the test ACR's identity side: App Service, Functions and
Container Apps (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), Azure Arc (a 401
naming the agent's key file, read here from a directory of the test's own and
sent back as `Authorization: Basic`) and Cloud Shell (`MSI_ENDPOINT`).

Each test starts its own test-acr process (`$ACR_TEST_SERVER`) serving one
platform's endpoint over plain HTTP on a loopback port, with the exact
protocol of that platform, and reads back every request it received; the
registry is the one `host-tests/with-test-acr.sh` serves at
`https://$ACR_TEST_HOST`, which takes the Entra token the endpoint hands
out. Those are skipped elsewhere.

Also, without a network: the driver sends plain HTTP only to the endpoint the
identity names, and reads only the Arc agent's key files."""

import json
import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

import acr_auth

needs_test_acr = pytest.mark.skipif(
    "ACR_TEST_HOST" not in os.environ,
    reason="needs the test registry: run under host-tests/with-test-acr.sh",
)

#: `IDENTITY_HEADER`: a secret App Service rotates.
IDENTITY_HEADER = "7c1f3a9e-5b2d-4e8f-a6c0-1d9b3e5f7a2c"
#: A user-assigned identity's client ID.
CLIENT_ID = "2b5e9c1d-7f3a-4e6b-9d8c-0a1f2e3d4c5b"
#: The Arc agent's key file, as the agent names one, and the key it holds.
ARC_KEY_NAME = "3c5d7e9f-1a2b-4c6d-8e0f-2a4b6c8d0e1f.key"
ARC_KEY = "f3b9a1c7e5d2846a0b9c7e1f3a5d8b2c"
#: The ACR resource, as each platform's request names it.
RESOURCE = "resource=https%3A%2F%2Fcontainerregistry.azure.net"
#: How long a test server may take to start or to stop, in seconds.
SERVER_PATIENCE = 10.0
#: What every login here asks of the registry.
OPTIONS = acr_auth.LoginOptions(repository_scopes=["repository:team/app:pull"])


def host() -> str:
    return os.environ["ACR_TEST_HOST"]


class IdentitySide:
    """A test-acr process serving one platform's identity endpoint (its
    `--platform` value) at `endpoint`; `requests()` stops it and returns
    every request it received."""

    def __init__(self, platform: str, directory: Path) -> None:
        args = [host(), "0", str(directory / "ca.pem"), "--platform", platform, "--print-requests"]
        self.process = subprocess.Popen(
            [os.environ["ACR_TEST_SERVER"], *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        if not self.ready.wait(SERVER_PATIENCE):
            self.process.kill()
            raise AssertionError(f"test-acr did not start: {self.lines}")
        self.endpoint = next(line.split()[1] for line in self.lines if line.startswith("identity-endpoint "))

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("ready "):
                self.ready.set()

    def requests(self) -> list[dict[str, Any]]:
        """Every request the server received, oldest first: `method`, `path`,
        `query`, `headers` (a dict of lower-case names) and `body`."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(SERVER_PATIENCE)
        finally:
            self.process.kill()
        self.reader.join(SERVER_PATIENCE)
        requests = [json.loads(line.removeprefix("request ")) for line in self.lines if line.startswith("request ")]
        return [{**request, "headers": dict(request["headers"])} for request in requests]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(SERVER_PATIENCE)


@pytest.fixture
def identity_side(tmp_path: Path):
    """Starts test-acr processes serving identity endpoints, stopped after the test."""
    sides: list[IdentitySide] = []

    def start(platform: str) -> IdentitySide:
        side = IdentitySide(platform, tmp_path)
        sides.append(side)
        return side

    yield start
    for side in sides:
        side.stop()


class Recording(acr_auth.Transport):
    """The standard transport, recording each request it sends and each file it reads."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[acr_auth.Request] = []
        self.read: list[tuple[str, int]] = []

    def send(self, outgoing: acr_auth.Outgoing) -> acr_auth.Response:
        self.sent.append(outgoing.request)
        return super().send(outgoing)

    def read_file(self, path: str, max_len: int) -> str:
        self.read.append((path, max_len))
        return super().read_file(path, max_len)

    def origins(self) -> list[str]:
        """Where each request went: scheme, host and port."""
        return [request.url.split("/", 3)[2] for request in self.sent]

    def assert_only_sent_to(self, endpoint: str, secret: str) -> None:
        """Fails unless `secret` is only in requests to `endpoint`'s host and port."""
        where = endpoint.split("/", 3)[2]
        for request in self.sent:
            if request.url.split("/", 3)[2] != where:
                texts = [request.url, request.body.decode(errors="replace")] + [h.value for h in request.headers]
                assert not any(secret in text for text in texts), f"the secret went to {request.url}"


def check_logged_in(result: acr_auth.LoginResult) -> None:
    """The test registry's refresh token, and an access token."""
    assert result.login_server == host()
    assert result.credential.password.count(".") == 2
    assert result.access_token is not None and result.access_token.token.count(".") == 2


@needs_test_acr
@pytest.mark.parametrize("client_id", [None, CLIENT_ID], ids=["system-assigned", "user-assigned"])
def test_app_service_sends_its_header_to_its_endpoint_only(identity_side, client_id: str | None) -> None:
    side = identity_side(f"app-service:{IDENTITY_HEADER}" + (f":{client_id}" if client_id else ""))
    named = acr_auth.ClientId(client_id) if client_id else None
    identity = acr_auth.ManagedIdentity(named, acr_auth.AppService(side.endpoint, IDENTITY_HEADER))
    transport = Recording()
    result = acr_auth.login(host(), identity, OPTIONS, transport=transport)
    check_logged_in(result)
    [request] = side.requests()
    assert (request["method"], request["path"]) == ("GET", "/msi/token")
    assert request["query"] == f"api-version=2019-08-01&{RESOURCE}" + (f"&client_id={client_id}" if client_id else "")
    assert request["headers"]["x-identity-header"] == IDENTITY_HEADER
    assert request["headers"]["accept"] == "application/json"
    assert "authorization" not in request["headers"]
    assert request["body"] == ""
    assert transport.origins() == [side.endpoint.split("/", 3)[2], host(), host()]
    transport.assert_only_sent_to(side.endpoint, IDENTITY_HEADER)
    assert IDENTITY_HEADER not in repr(result)


@needs_test_acr
def test_azure_arc_answers_the_challenge_with_the_agents_key(identity_side, tmp_path: Path) -> None:
    side = identity_side(f"arc:{ARC_KEY_NAME}:{ARC_KEY}")
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / ARC_KEY_NAME).write_text(ARC_KEY)
    identity = acr_auth.ManagedIdentity(source=acr_auth.AzureArc(side.endpoint))
    transport = Recording()
    check_logged_in(acr_auth.login(host(), identity, OPTIONS, transport=transport, arc_key_directory=keys))
    assert transport.read == [(str(keys / ARC_KEY_NAME), 4096)]
    requests = side.requests()
    assert len(requests) == 2, "the challenge, then the keyed request"
    for request in requests:
        assert (request["method"], request["path"]) == ("GET", "/metadata/identity/oauth2/token")
        assert request["query"] == f"api-version=2020-06-01&{RESOURCE}"
        assert request["headers"]["metadata"] == "true"
        assert request["body"] == ""
    assert "authorization" not in requests[0]["headers"]
    assert requests[1]["headers"]["authorization"] == f"Basic {ARC_KEY}"
    transport.assert_only_sent_to(side.endpoint, ARC_KEY)


@needs_test_acr
def test_azure_arc_without_the_key_file_is_a_key_file_error(identity_side, tmp_path: Path) -> None:
    side = identity_side(f"arc:{ARC_KEY_NAME}:{ARC_KEY}")
    identity = acr_auth.ManagedIdentity(source=acr_auth.AzureArc(side.endpoint))
    transport = Recording()
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login(host(), identity, transport=transport, arc_key_directory=tmp_path)
    error = caught.value
    assert (error.kind, error.stage) == (acr_auth.LoginErrorKind.KEY_FILE, acr_auth.Stage.ENTRA), error.message
    assert ARC_KEY_NAME in error.message
    [challenge] = side.requests()
    assert "authorization" not in challenge["headers"]
    assert len(transport.sent) == 1, "nothing went to the registry"


@needs_test_acr
def test_cloud_shell_posts_the_resource(identity_side) -> None:
    side = identity_side("cloud-shell")
    identity = acr_auth.ManagedIdentity(source=acr_auth.CloudShell(side.endpoint))
    check_logged_in(acr_auth.login(host(), identity, OPTIONS))
    [request] = side.requests()
    assert (request["method"], request["path"], request["query"]) == ("POST", "/oauth2/token", None)
    assert request["headers"]["metadata"] == "true"
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert request["body"] == RESOURCE
    assert request["headers"]["content-length"] == str(len(RESOURCE))


@needs_test_acr
def test_the_app_service_identity_the_environment_names_logs_in(identity_side) -> None:
    side = identity_side(f"app-service:{IDENTITY_HEADER}")
    variables = {"IDENTITY_ENDPOINT": side.endpoint, "IDENTITY_HEADER": IDENTITY_HEADER}
    identity = acr_auth.read_identity_from_environment(variables)
    assert identity == acr_auth.ManagedIdentity(source=acr_auth.AppService(side.endpoint, IDENTITY_HEADER))
    transport = Recording()
    check_logged_in(acr_auth.login(host(), identity, OPTIONS, transport=transport))
    [request] = side.requests()
    assert (request["path"], request["query"]) == ("/msi/token", f"api-version=2019-08-01&{RESOURCE}")
    assert request["headers"]["x-identity-header"] == IDENTITY_HEADER
    transport.assert_only_sent_to(side.endpoint, IDENTITY_HEADER)


class ShiftingCloudShell(acr_auth.CloudShell):
    """A Cloud Shell source whose endpoint is the first of `endpoints` when
    first read and the second afterwards."""

    def __init__(self, endpoints: list[str]) -> None:
        object.__setattr__(self, "endpoints", endpoints)
        object.__setattr__(self, "reads", 0)

    @property
    def endpoint(self) -> str:
        object.__setattr__(self, "reads", self.reads + 1)
        return self.endpoints[min(self.reads, 2) - 1]


def test_plain_http_goes_to_no_loopback_endpoint_but_the_identitys() -> None:
    """An identity whose endpoint is one server's when the flow reads it and
    the other's when the driver does: the flow's request then goes to an
    endpoint the driver was not told about, and is refused unsent."""
    listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    try:
        endpoints = [f"http://127.0.0.1:{s.getsockname()[1]}/oauth2/token" for s in listeners]
        source = ShiftingCloudShell(endpoints)
        # Short timeouts, so that a request sent after all fails soon.
        options = acr_auth.LoginOptions(connect_timeout_ms=500, first_byte_timeout_ms=500)
        with pytest.raises(acr_auth.LoginError) as caught:
            acr_auth.login("myregistry.azurecr.io", acr_auth.ManagedIdentity(source=source), options)
        assert source.reads == 2, "the flow and the driver each read the endpoint once"
        error = caught.value
        assert error.kind == acr_auth.LoginErrorKind.CONNECT, error.message
        assert "refused to send plain HTTP to 127.0.0.1:" in error.message
        for listener in listeners:
            listener.settimeout(0.2)
            with pytest.raises(TimeoutError):
                listener.accept()
    finally:
        for listener in listeners:
            listener.close()


def test_no_key_file_is_read_but_the_linux_agents() -> None:
    """The flow also accepts the Windows agent's directory; this host reads
    only the Linux one's."""
    key = "C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\agent.key"

    class Challenged(acr_auth.Transport):
        def send(self, outgoing: acr_auth.Outgoing) -> acr_auth.Response:
            return acr_auth.Response(401, [acr_auth.Header("www-authenticate", f"Basic realm={key}")], b"")

        def read_file(self, path: str, max_len: int) -> str:
            raise AssertionError(f"read {path}")

    arc = acr_auth.ManagedIdentity(source=acr_auth.AzureArc("http://localhost:40342/metadata/identity/oauth2/token"))
    with pytest.raises(acr_auth.LoginError) as caught:
        acr_auth.login("myregistry.azurecr.io", arc, transport=Challenged())
    assert caught.value.kind == acr_auth.LoginErrorKind.KEY_FILE, caught.value.message
    assert "reads only the Azure Arc agent's key files, in /var/opt/azcmagent/tokens" in caught.value.message
