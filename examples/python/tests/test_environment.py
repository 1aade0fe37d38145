"""`identity_from_environment` and `read_identity_from_environment`: the
identity the Azure SDKs' environment variables describe, in
`DefaultAzureCredential`'s order (client secret, client certificate, workload
identity, then the platform's managed identity), a half-set credential refused
by name, and a workload identity's token file read for login. No network."""

import base64
import errno
import json
import urllib.parse
from pathlib import Path

import pytest

import acr_auth

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
ACR_SCOPE = "https://containerregistry.azure.net/.default"
#: A client secret as Entra issues them: 40 characters.
SECRET = "Xq8Q~3vBz.kPm4TnW7yRcD2sFgH9jL5aE1uO6iN0"
#: App Service's `IDENTITY_HEADER`: a GUID the platform sets.
IDENTITY_HEADER = "b1d7f8a2-9c3e-4f6a-8d5b-2e7c1a9f4b36"
#: A workload identity's token file, as AKS mounts it.
TOKEN_FILE = "/var/run/secrets/azure/tokens/azure-identity-token"
APP_SERVICE_ENDPOINT = "http://127.0.0.1:41741/msi/token"
ARC_ENDPOINT = "http://localhost:40342/metadata/identity/oauth2/token"
CLOUD_SHELL_ENDPOINT = "http://localhost:50342/oauth2/token"
US_GOVERNMENT = "https://login.microsoftonline.us/"

EVERYTHING = {
    "AZURE_TENANT_ID": TENANT,
    "AZURE_CLIENT_ID": CLIENT_ID,
    "AZURE_CLIENT_SECRET": SECRET,
    "AZURE_CLIENT_CERTIFICATE_PATH": "/etc/app/certificate.pem",
    "AZURE_FEDERATED_TOKEN_FILE": TOKEN_FILE,
    "AZURE_AUTHORITY_HOST": US_GOVERNMENT,
    "IDENTITY_ENDPOINT": APP_SERVICE_ENDPOINT,
    "IDENTITY_HEADER": IDENTITY_HEADER,
}


def without(*names: str) -> dict[str, str]:
    """`EVERYTHING` without the variables `names`."""
    return {name: value for name, value in EVERYTHING.items() if name not in names}


def service_account_token() -> str:
    """A service-account token as Kubernetes projects it, signed with a
    4096-bit RSA key: about 1.6 KB."""

    def segment(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {
        "aud": ["api://AzureADTokenExchange"],
        "exp": 1767225599,
        "iat": 1767221999,
        "iss": f"https://eastus.oic.prod-aks.azure.com/{TENANT}/5e6f7a8b-1c2d-4e3f-9a0b-c1d2e3f4a5b6/",
        "jti": "3c1f9e2a-7b4d-4e8f-a6c5-0d9b8e7f6a5b",
        "kubernetes.io": {
            "namespace": "team-app",
            "node": {"name": "aks-nodepool1-27318490-vmss000003", "uid": "e4d3c2b1-a0f9-4e8d-b7c6-5a4b3c2d1e0f"},
            "pod": {"name": "app-7d9f8c6b5-x2x4z", "uid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
            "serviceaccount": {"name": "app", "uid": "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4"},
        },
        "nbf": 1767221999,
        "sub": "system:serviceaccount:team-app:app",
    }
    header = {"alg": "RS256", "kid": "Zx3yT1u2v3w4x5y6z7a8b9c0d1e2f3g4h5i6j7k8l9m"}
    return f"{segment(header)}.{segment(claims)}.{'s' * 683}"


def form(request: acr_auth.Request) -> dict[str, str]:
    """The decoded form body of a request."""
    return dict(urllib.parse.parse_qsl(request.body.decode()))


def test_default_azure_credential_order_secret_certificate_token_file_managed_identity() -> None:
    assert acr_auth.identity_from_environment(EVERYTHING) == acr_auth.Ready(
        acr_auth.ClientSecret(TENANT, CLIENT_ID, SECRET, US_GOVERNMENT)
    )
    assert acr_auth.identity_from_environment(without("AZURE_CLIENT_SECRET")) == acr_auth.CertificateFile(
        TENANT, CLIENT_ID, "/etc/app/certificate.pem", False, US_GOVERNMENT
    )
    assert acr_auth.identity_from_environment(
        without("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH")
    ) == acr_auth.FederatedTokenFile(TENANT, CLIENT_ID, TOKEN_FILE, US_GOVERNMENT)
    assert acr_auth.identity_from_environment(
        without("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE")
    ) == acr_auth.Ready(
        acr_auth.ManagedIdentity(
            acr_auth.ClientId(CLIENT_ID), acr_auth.AppService(APP_SERVICE_ENDPOINT, IDENTITY_HEADER)
        )
    )


@pytest.mark.parametrize(
    ("variables", "identity"),
    [
        (
            {"IDENTITY_ENDPOINT": APP_SERVICE_ENDPOINT, "IDENTITY_HEADER": IDENTITY_HEADER},
            acr_auth.ManagedIdentity(source=acr_auth.AppService(APP_SERVICE_ENDPOINT, IDENTITY_HEADER)),
        ),
        (
            {"IDENTITY_ENDPOINT": ARC_ENDPOINT, "IMDS_ENDPOINT": "http://localhost:40342"},
            acr_auth.ManagedIdentity(source=acr_auth.AzureArc(ARC_ENDPOINT)),
        ),
        (
            {"MSI_ENDPOINT": CLOUD_SHELL_ENDPOINT},
            acr_auth.ManagedIdentity(source=acr_auth.CloudShell(CLOUD_SHELL_ENDPOINT)),
        ),
        # As in the Azure SDKs, an endpoint alone names no platform.
        ({"IDENTITY_ENDPOINT": APP_SERVICE_ENDPOINT}, acr_auth.ManagedIdentity()),
        ({}, acr_auth.ManagedIdentity()),
        ({"AZURE_CLIENT_ID": CLIENT_ID, "AZURE_TENANT_ID": TENANT}, acr_auth.ManagedIdentity(acr_auth.ClientId(CLIENT_ID))),
    ],
    ids=["App Service", "Azure Arc", "Cloud Shell", "an endpoint alone", "nothing", "user-assigned"],
)
def test_the_platform_endpoint_picks_the_managed_identity_source(
    variables: dict[str, str], identity: acr_auth.ManagedIdentity
) -> None:
    assert acr_auth.identity_from_environment(variables) == acr_auth.Ready(identity)


def test_the_identity_is_the_one_build_entra_token_request_and_login_flow_take() -> None:
    found = acr_auth.identity_from_environment(
        {"IDENTITY_ENDPOINT": APP_SERVICE_ENDPOINT, "IDENTITY_HEADER": IDENTITY_HEADER, "AZURE_CLIENT_ID": CLIENT_ID}
    )
    assert isinstance(found, acr_auth.Ready)
    request = acr_auth.build_entra_token_request(found.identity, ACR_SCOPE)
    resource = "resource=https%3A%2F%2Fcontainerregistry.azure.net"
    assert request.url == f"{APP_SERVICE_ENDPOINT}?api-version=2019-08-01&{resource}&client_id={CLIENT_ID}"
    assert request.headers[0] == acr_auth.Header("x-identity-header", IDENTITY_HEADER)
    secret = acr_auth.identity_from_environment(
        {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_CLIENT_SECRET": SECRET}
    )
    assert isinstance(secret, acr_auth.Ready)
    posted = acr_auth.build_entra_token_request(secret.identity, ACR_SCOPE)
    assert posted.url == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert form(posted)["client_secret"] == SECRET
    with acr_auth.LoginFlow("myregistry.azurecr.io", secret.identity) as flow:
        step = flow.step(0, acr_auth.Start())
    assert isinstance(step, acr_auth.Send) and step.outgoing.request.url == posted.url


@pytest.mark.parametrize(
    ("variables", "set_", "missing"),
    [
        ({"AZURE_CLIENT_SECRET": SECRET, "AZURE_CLIENT_ID": CLIENT_ID}, "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"),
        (
            {"AZURE_CLIENT_CERTIFICATE_PATH": "/etc/app/certificate.pem", "AZURE_TENANT_ID": TENANT},
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_CLIENT_ID",
        ),
        (
            {
                "AZURE_FEDERATED_TOKEN_FILE": TOKEN_FILE,
                "AZURE_CLIENT_ID": CLIENT_ID,
                "IDENTITY_ENDPOINT": APP_SERVICE_ENDPOINT,
                "IDENTITY_HEADER": IDENTITY_HEADER,
            },
            "AZURE_FEDERATED_TOKEN_FILE",
            "AZURE_TENANT_ID",
        ),
    ],
    ids=["secret without tenant", "certificate without client", "token file without tenant"],
)
def test_a_half_set_credential_is_refused_as_incomplete_naming_no_value(
    variables: dict[str, str], set_: str, missing: str
) -> None:
    with pytest.raises(acr_auth.IdentityEnvironmentError) as caught:
        acr_auth.identity_from_environment(variables)
    error = caught.value
    assert error.kind is acr_auth.EnvironmentErrorKind.INCOMPLETE
    assert set_ in str(error) and missing in str(error)
    assert not any(value in repr(error) for value in variables.values()), repr(error)


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        (
            {
                "AZURE_CLIENT_CERTIFICATE_PATH": "/etc/app/certificate.pfx",
                "AZURE_CLIENT_CERTIFICATE_PASSWORD": "pfx-password-4f1c",
            },
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        ),
        ({"AZURE_USERNAME": "ops@contoso.example", "AZURE_PASSWORD": "user-password-4f1c"}, "AZURE_USERNAME"),
        (
            {
                "IDENTITY_ENDPOINT": "https://localhost:2377/metadata/identity/oauth2/token",
                "IDENTITY_HEADER": IDENTITY_HEADER,
                "IDENTITY_SERVER_THUMBPRINT": "AB12CD34",
            },
            "IDENTITY_SERVER_THUMBPRINT",
        ),
        ({"MSI_ENDPOINT": "http://127.0.0.1:46808/MSI/token/", "MSI_SECRET": "msi-secret-4f1c"}, "MSI_SECRET"),
    ],
    ids=["certificate password", "user password", "Service Fabric", "Azure Machine Learning"],
)
def test_what_cannot_be_done_is_refused_as_unsupported_naming_no_value(extra: dict[str, str], variable: str) -> None:
    with pytest.raises(acr_auth.IdentityEnvironmentError) as caught:
        acr_auth.identity_from_environment({"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID, **extra})
    error = caught.value
    assert error.kind is acr_auth.EnvironmentErrorKind.UNSUPPORTED
    assert variable in str(error)
    assert not any(value in repr(error) for value in extra.values()), repr(error)


def test_mappings_and_pairs_are_taken_an_empty_value_is_unset_the_last_of_a_name_counts() -> None:
    pairs = [
        ("AZURE_CLIENT_SECRET", SECRET),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", ""),
        ("MSI_ENDPOINT", CLOUD_SHELL_ENDPOINT),
    ]
    expected = acr_auth.Ready(acr_auth.ManagedIdentity(acr_auth.ClientId(CLIENT_ID), acr_auth.CloudShell(CLOUD_SHELL_ENDPOINT)))
    for variables in (pairs, iter(pairs), dict(pairs)):
        assert acr_auth.identity_from_environment(variables) == expected

    def send_chain(value: str) -> bool:
        found = acr_auth.identity_from_environment(
            {
                "AZURE_TENANT_ID": TENANT,
                "AZURE_CLIENT_ID": CLIENT_ID,
                "AZURE_CLIENT_CERTIFICATE_PATH": "/etc/app/certificate.pem",
                "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN": value,
            }
        )
        assert isinstance(found, acr_auth.CertificateFile)
        return found.send_chain

    assert [send_chain(v) for v in ("1", "true", "True", "0", "yes", "")] == [True, True, True, False, False, False]


@pytest.mark.parametrize(
    "variables",
    ["AZURE_CLIENT_SECRET=x", [("AZURE_CLIENT_SECRET",)], [("AZURE_CLIENT_SECRET", 42)], {"AZURE_CLIENT_SECRET": b"x"}],
    ids=["a str", "a name alone", "a number", "bytes"],
)
def test_anything_but_names_and_str_values_is_a_type_error_showing_no_value(variables: object) -> None:
    with pytest.raises(TypeError) as caught:
        acr_auth.identity_from_environment(variables)  # type: ignore[arg-type]
    assert "42" not in str(caught.value) and "=x" not in str(caught.value)


def test_secrets_stay_out_of_repr() -> None:
    for variables, secret in [
        ({"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_CLIENT_SECRET": SECRET}, SECRET),
        ({"IDENTITY_ENDPOINT": APP_SERVICE_ENDPOINT, "IDENTITY_HEADER": IDENTITY_HEADER}, IDENTITY_HEADER),
    ]:
        found = acr_auth.identity_from_environment(variables)
        assert secret not in repr(found), repr(found)


def workload(path: Path | str) -> dict[str, str]:
    """Workload identity's variables, its token in the file at `path`."""
    return {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_FEDERATED_TOKEN_FILE": str(path)}


def test_a_workload_identity_token_file_is_read_into_a_federated_token_without_its_line_break(tmp_path: Path) -> None:
    token = service_account_token()
    assert 1500 < len(token) < 4096, len(token)
    path = tmp_path / "azure-identity-token"
    path.write_text(f"{token}\r\n")
    identity = acr_auth.read_identity_from_environment({**workload(path), "AZURE_AUTHORITY_HOST": US_GOVERNMENT})
    assert identity == acr_auth.FederatedToken(TENANT, CLIENT_ID, token, US_GOVERNMENT)
    assert token[-40:] not in repr(identity)
    request = acr_auth.build_entra_token_request(identity, ACR_SCOPE)
    assert request.url == f"{US_GOVERNMENT}{TENANT}/oauth2/v2.0/token"
    assert form(request)["client_assertion"] == token
    assert form(request)["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_os_environ_is_read_when_no_variables_are_given(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "token"
    path.write_text("header.payload.signature\n")
    monkeypatch.setattr("os.environ", workload(path))
    assert acr_auth.read_identity_from_environment() == acr_auth.FederatedToken(
        TENANT, CLIENT_ID, "header.payload.signature"
    )


def test_the_token_is_read_through_the_transport_at_most_64_kib(tmp_path: Path) -> None:
    read = []

    class Recording(acr_auth.Transport):
        def read_file(self, path: str, max_len: int) -> str:
            read.append((path, max_len))
            return "a.b.c"

    identity = acr_auth.read_identity_from_environment(workload(TOKEN_FILE), transport=Recording())
    assert identity == acr_auth.FederatedToken(TENANT, CLIENT_ID, "a.b.c")
    assert read == [(TOKEN_FILE, 65536)]
    long = tmp_path / "long-token"
    long.write_text("x" * 65537)
    with pytest.raises(OSError) as too_long:
        acr_auth.read_identity_from_environment(workload(long))
    assert too_long.value.errno == errno.EFBIG
    with pytest.raises(FileNotFoundError):
        acr_auth.read_identity_from_environment(workload(tmp_path / "missing"))


def test_a_ready_identity_is_returned_as_it_is_and_no_file_is_read() -> None:
    class NoFiles(acr_auth.Transport):
        def read_file(self, path: str, max_len: int) -> str:
            pytest.fail("no file to read")

    identity = acr_auth.read_identity_from_environment({"MSI_ENDPOINT": CLOUD_SHELL_ENDPOINT}, transport=NoFiles())
    assert identity == acr_auth.ManagedIdentity(source=acr_auth.CloudShell(CLOUD_SHELL_ENDPOINT))


def test_a_client_certificate_or_a_refused_environment_is_an_identity_environment_error() -> None:
    certificate = {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_CERTIFICATE_PATH": "/etc/app/certificate.pem",
    }
    with pytest.raises(acr_auth.IdentityEnvironmentError) as caught:
        acr_auth.read_identity_from_environment(certificate)
    assert caught.value.kind is acr_auth.EnvironmentErrorKind.UNSUPPORTED
    assert "AZURE_CLIENT_CERTIFICATE_PATH" in str(caught.value) and "/etc/app" not in str(caught.value)
    with pytest.raises(acr_auth.IdentityEnvironmentError) as caught:
        acr_auth.read_identity_from_environment({"AZURE_FEDERATED_TOKEN_FILE": TOKEN_FILE})
    assert caught.value.kind is acr_auth.EnvironmentErrorKind.INCOMPLETE
