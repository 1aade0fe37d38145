//! `acr-auth`: Azure Container Registry authentication from the command line.
//!
//! Every command runs the embedded `acr:auth` component in wasmtime. Output
//! is JSON on stdout; on error nothing is printed on stdout, one line
//! `error: ...` goes to stderr and the exit status is 1 (2 for usage errors).

mod credentials;
mod output;
mod token_cache;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use acr_auth_host::Runtime;
use acr_auth_host::certificate::{ClientCertificate, random_guid};
use acr_auth_host::client::ClientRuntime;
use acr_auth_host::client::wit::entra::{CertificateFile, FederatedToken, Identity, ManagedIdentitySource};
use acr_auth_host::client::wit::flow::{Credentials, LoginOptions};
use acr_auth_host::client::wit::scope::CloudEnvironment as ClientCloud;
use acr_auth_host::network::{ConnectTo, Network};
use acr_auth_host::wit::scope::CloudEnvironment;
use anyhow::{Context as _, Result, anyhow};
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::credentials::{
    DOCKER_HELPER_NAME, Environment as _, HelperRequest, NOT_FOUND, ProcessEnvironment, helper_credentials,
    helper_usage, helper_version, identity_variables, kubelet_response, read_helper_request, read_kubelet_request,
    service_account_identity, usable_identity,
};
use crate::output::{
    challenge_json, credential_json, login_error_message, login_json, request_error_message, request_json,
    response_error_message, scope_json,
};
use crate::token_cache::{CacheKey, TokenCache, cache_dir, cached_credential, fresh};

/// The most bytes read from any input file: far above every cap the
/// component applies, so the component, not this host, refuses oversize input.
const MAX_INPUT_LEN: u64 = 1 << 20;

/// Azure Container Registry authentication, run through the acr-auth WebAssembly component.
#[derive(Parser)]
#[command(
    name = "acr-auth",
    version,
    after_help = "Installed or linked as docker-credential-acr-auth, the binary is a docker credential \
helper (get, erase, list, version). It logs in with the identity `login` takes from the environment \
and caches the refresh token per registry and identity in $XDG_CACHE_HOME/acr-auth (else \
~/.cache/acr-auth; directory 0700, files 0600) until five minutes before it expires; `docker logout` \
(erase) removes it, ACR_AUTH_TOKEN_CACHE=off turns the cache off (an absolute path names another \
directory)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve a registry reference to its login server and Entra token scope.
    Scope {
        /// A registry host, image reference, oci:// or https:// URL.
        reference: String,
        /// A custom cloud's environment file (the JSON AZURE_ENVIRONMENT_FILEPATH names).
        #[arg(long, value_name = "FILE")]
        cloud_config: Option<PathBuf>,
    },
    /// Print the /oauth2/exchange request that trades an Entra token for an ACR refresh token.
    ExchangeRequest {
        /// A registry host, image reference, oci:// or https:// URL.
        reference: String,
        /// A file holding the Entra access token (a trailing newline is ignored).
        #[arg(long, value_name = "FILE")]
        entra_token_file: PathBuf,
        /// The Entra tenant (directory) ID or domain.
        #[arg(long, value_name = "ID")]
        tenant: Option<String>,
        /// A custom cloud's environment file.
        #[arg(long, value_name = "FILE")]
        cloud_config: Option<PathBuf>,
    },
    /// Log in: trade an Entra token for an ACR refresh token (and access tokens) over HTTPS.
    ///
    /// Without --entra-token-file the identity comes from the environment, in
    /// the Azure SDKs' DefaultAzureCredential order: a client secret
    /// (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), then workload
    /// identity (AZURE_FEDERATED_TOKEN_FILE with the tenant and client ID),
    /// then the managed identity of the platform (IDENTITY_ENDPOINT with
    /// IDENTITY_HEADER: App Service; with IMDS_ENDPOINT: Azure Arc;
    /// MSI_ENDPOINT: Cloud Shell; else the instance metadata service;
    /// user-assigned when AZURE_CLIENT_ID is set). AZURE_AUTHORITY_HOST picks
    /// the Entra cloud. A half-set credential is an error, never skipped.
    Login {
        /// A registry host, image reference, oci:// or https:// URL.
        reference: String,
        /// A file holding the Entra access token (a trailing newline is ignored).
        #[arg(long, value_name = "FILE")]
        entra_token_file: Option<PathBuf>,
        /// The Entra tenant (directory) ID or domain.
        #[arg(long, value_name = "ID")]
        tenant: Option<String>,
        /// A repository scope for an access token, e.g. repository:team/app:pull (repeatable).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Confirm the registry's Bearer challenge at /v2/ first.
        #[arg(long)]
        discover: bool,
        /// Connect, first-byte and between-bytes timeout for each request, in seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
        #[command(flatten)]
        network: NetworkArgs,
    },
    /// Parse a WWW-Authenticate header and print its Bearer challenge.
    ParseChallenge {
        /// The header value: a WWW-Authenticate challenge such as ACR's Bearer realm and service.
        header: String,
        /// A custom cloud's environment file.
        #[arg(long, value_name = "FILE")]
        cloud_config: Option<PathBuf>,
    },
    /// Read an /oauth2/exchange response body and print the credential's details (not the token).
    ParseRefreshToken {
        /// The HTTP status of the response.
        #[arg(long, default_value_t = 200)]
        status: u16,
        /// The response body, or - for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Serve the kubelet's credential provider exec plugin protocol: a
    /// CredentialProviderRequest on stdin, a CredentialProviderResponse on stdout.
    ///
    /// With a service-account token in the request, the pod's app signs in
    /// with it: its client ID from the service account's
    /// kubernetes.azure.com/acr-client-id annotation, else
    /// azure.workload.identity/client-id, and its tenant from
    /// kubernetes.azure.com/acr-tenant-id, else
    /// azure.workload.identity/tenant-id. A missing one is an error: the
    /// node's settings never stand in. Without a token, the node's identity
    /// from the environment, as `login` chooses it.
    KubeletCredentialProvider {
        #[command(flatten)]
        network: NetworkArgs,
    },
}

/// Where the client component's requests may go and whom they trust, and
/// the custom cloud: the options `login` and the credential provider share.
#[derive(clap::Args)]
struct NetworkArgs {
    /// Connect to ADDR:PORT instead of HOST:PORT, as curl does (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR:PORT")]
    connect_to: Vec<ConnectTo>,
    /// Trust only these PEM CA certificates instead of the system's roots.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// A custom cloud's environment file.
    #[arg(long, value_name = "FILE")]
    cloud_config: Option<PathBuf>,
}

impl NetworkArgs {
    /// The client component with this network.
    fn client(self) -> Result<ClientRuntime> {
        let ca = self.cacert.as_deref().map(read_input).transpose()?;
        ClientRuntime::new(Network::new(ca.as_deref(), self.connect_to)?)
    }
}

fn main() -> ExitCode {
    let invoked_as = std::env::args_os()
        .next()
        .and_then(|arg0| Path::new(&arg0).file_name().map(|n| n.to_string_lossy().into_owned()));
    if invoked_as.as_deref() == Some(DOCKER_HELPER_NAME) {
        return docker_credential_helper();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("error: invalid arguments");
            eprintln!("{first} (see --help)");
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(output) => {
            println!("{output:#}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<Value> {
    let runtime = Runtime::new()?;
    match command {
        Command::Scope {
            reference,
            cloud_config,
        } => {
            let cloud = custom_cloud(&runtime, cloud_config.as_deref())?;
            let resolved = runtime
                .resolve_scope(&reference, cloud.as_ref())?
                .map_err(|e| anyhow!(e.message))?;
            Ok(scope_json(&resolved))
        }
        Command::ExchangeRequest {
            reference,
            entra_token_file,
            tenant,
            cloud_config,
        } => {
            let cloud = custom_cloud(&runtime, cloud_config.as_deref())?;
            let token = read_token(&entra_token_file)?;
            let request = runtime
                .build_exchange_request(&reference, &token, tenant.as_deref(), cloud.as_ref())?
                .map_err(|e| anyhow!(request_error_message(&e).to_owned()))?;
            Ok(request_json(&request))
        }
        Command::Login {
            reference,
            entra_token_file,
            tenant,
            scopes,
            discover,
            timeout,
            network,
        } => {
            let custom_cloud: Option<ClientCloud> =
                custom_cloud(&runtime, network.cloud_config.as_deref())?.map(Into::into);
            let timeout_ms = timeout
                .map(|secs| {
                    if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
                        Ok((secs * 1000.0).round() as u64)
                    } else {
                        Err(anyhow!("--timeout must be between 0 and 3600 seconds"))
                    }
                })
                .transpose()?;
            let mut client = network.client()?;
            let credentials = match entra_token_file {
                Some(path) => Credentials::EntraToken(read_token(&path)?),
                None => {
                    let identity = environment_identity(&client, custom_cloud.as_ref())?;
                    client = reaching_identity_endpoint(client, &identity)?;
                    Credentials::Identity(identity)
                }
            };
            let options = LoginOptions {
                tenant,
                repository_scopes: scopes,
                discover,
                custom_cloud,
                connect_timeout_ms: timeout_ms,
                first_byte_timeout_ms: timeout_ms,
                between_bytes_timeout_ms: timeout_ms,
                retry: None,
            };
            let result = client
                .login(&reference, &credentials, &options)?
                .map_err(|e| anyhow!(login_error_message(&e)))?;
            Ok(login_json(&result))
        }
        Command::ParseChallenge { header, cloud_config } => {
            let cloud = custom_cloud(&runtime, cloud_config.as_deref())?;
            let challenge = runtime
                .parse_challenge(&header, cloud.as_ref())?
                .map_err(|e| anyhow!(e.message))?;
            Ok(challenge_json(&challenge))
        }
        Command::KubeletCredentialProvider { network } => {
            let request = read_kubelet_request(&read_input(Path::new("-"))?)?;
            let options = LoginOptions {
                custom_cloud: custom_cloud(&runtime, network.cloud_config.as_deref())?.map(Into::into),
                ..identity_login_options()
            };
            let client = network.client()?;
            let identity = match service_account_identity(&request, ProcessEnvironment.var("AZURE_AUTHORITY_HOST"))? {
                Some(pods) => pods,
                None => environment_identity(&client, options.custom_cloud.as_ref())?,
            };
            let client = reaching_identity_endpoint(client, &identity)?;
            let result = client
                .login(&request.image, &Credentials::Identity(identity), &options)?
                .map_err(|e| anyhow!(login_error_message(&e)))?;
            let credential = &result.credential;
            Ok(kubelet_response(
                &result.login_server,
                &credential.username,
                &credential.password,
                credential.expires_at,
                unix_now(),
            ))
        }
        Command::ParseRefreshToken { status, file } => {
            let body = read_input(&file)?;
            let credential = runtime
                .parse_refresh_token(status, &body, &[])?
                .map_err(|e| anyhow!(response_error_message(&e).to_owned()))?;
            Ok(credential_json(&credential))
        }
    }
}

/// This host's identity, as the component chooses it from the process
/// environment (see `Command::Login`); a client certificate signs an
/// assertion for `custom_cloud`'s Entra, or the built-in clouds'.
fn environment_identity(client: &ClientRuntime, custom_cloud: Option<&ClientCloud>) -> Result<Identity> {
    let described = client
        .identity_from_environment(&identity_variables(&ProcessEnvironment))?
        .map_err(|e| anyhow!(e.message))?;
    usable_identity(described, &ProcessEnvironment, |file| {
        certificate_identity(client, &file, custom_cloud)
    })
}

/// Signs a client assertion with the certificate `file` names: the
/// component writes the claims, this host signs them with the key.
fn certificate_identity(
    client: &ClientRuntime,
    file: &CertificateFile,
    custom_cloud: Option<&ClientCloud>,
) -> Result<Identity> {
    let pem = read_input(Path::new(&file.path))?;
    let certificate = ClientCertificate::from_pem(&pem).with_context(|| format!("reading {}", file.path))?;
    let claims = client
        .client_assertion_claims(file, custom_cloud, unix_now(), &random_guid()?)?
        .map_err(|e| anyhow!(e.message))?;
    Ok(Identity::FederatedToken(FederatedToken {
        tenant: file.tenant.clone(),
        client_id: file.client_id.clone(),
        assertion: certificate.sign(&claims, file.send_chain)?,
        authority_host: file.authority_host.clone(),
    }))
}

/// `client`, allowed plain HTTP to the managed-identity endpoint `identity`
/// names, if it is an `http://` one (App Service, Azure Arc and Cloud Shell
/// serve tokens on a loopback port): that endpoint, exactly, and nothing
/// else.
fn reaching_identity_endpoint(client: ClientRuntime, identity: &Identity) -> Result<ClientRuntime> {
    let Identity::ManagedIdentity(managed) = identity else {
        return Ok(client);
    };
    let endpoint = match &managed.source {
        ManagedIdentitySource::AppService(app) => &app.endpoint,
        ManagedIdentitySource::AzureArc(endpoint) | ManagedIdentitySource::CloudShell(endpoint) => endpoint,
        ManagedIdentitySource::Imds => return Ok(client),
    };
    if endpoint
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
    {
        client.allowing_plain_http(endpoint)
    } else {
        Ok(client)
    }
}

/// Login options for a credential provider or helper: no tenant (the
/// identity carries it), no repository scopes, default timeouts.
fn identity_login_options() -> LoginOptions {
    LoginOptions {
        tenant: None,
        repository_scopes: Vec::new(),
        discover: false,
        custom_cloud: None,
        connect_timeout_ms: None,
        first_byte_timeout_ms: None,
        between_bytes_timeout_ms: None,
        retry: None,
    }
}

/// The current unix time in seconds.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Acts as `docker-credential-acr-auth <get|store|erase|list|version>` (the
/// docker-credential-helpers protocol), as the reference helpers do:
/// answers on stdout; on failure the message on stdout and exit status 1.
/// The identity comes from the environment, as `login` chooses it;
/// `ACR_AUTH_CACERT` (a PEM file) and `ACR_AUTH_CONNECT_TO` (comma-separated
/// HOST:PORT:ADDR:PORT rules) stand in for the flags a helper cannot be given.
/// `get` answers from the refresh-token cache while it can and `erase`
/// empties it (see [`token_cache`]).
fn docker_credential_helper() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let answer = read_helper_request(&args, std::io::stdin()).and_then(|request| match request {
        HelperRequest::Get(server) => helper_get(&server).map(|answer| Some(answer.to_string())),
        HelperRequest::List => Ok(Some("{}".to_owned())),
        HelperRequest::Erase(server) => helper_erase(&server).map(|()| None),
        HelperRequest::Version => Ok(Some(helper_version())),
        HelperRequest::Help => Ok(Some(helper_usage())),
        HelperRequest::Store => Err(anyhow!(
            "acr-auth stores no credentials: it obtains them from this host's Azure identity"
        )),
    });
    match answer {
        Ok(output) => {
            if let Some(output) = output {
                println!("{output}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// The helper's `get`: the refresh token cached for `server` and this
/// host's identity while it is fresh (see [`token_cache`]), else a login
/// with that identity, whose token is then cached. A server that is not an
/// ACR login server has no credentials here.
fn helper_get(server: &str) -> Result<Value> {
    let runtime = Runtime::new()?;
    let Some(key) = helper_cache_key(&runtime, server)? else {
        return Err(anyhow!(NOT_FOUND));
    };
    let dir = cache_dir(&ProcessEnvironment);
    let now = unix_now();
    let cached = dir.as_deref().and_then(|dir| {
        let entry = TokenCache::open(dir).and_then(|cache| cache.load(&key)).ok()?;
        cached_credential(&entry, &key, now, |token| {
            let body = serde_json::json!({ "refresh_token": token }).to_string();
            runtime.parse_refresh_token(200, body.as_bytes(), &[]).ok()?.ok()
        })
    });
    if let Some(credential) = cached {
        return Ok(helper_credentials(server, &credential.username, &credential.password));
    }
    let ca = std::env::var_os("ACR_AUTH_CACERT")
        .map(|path| read_input(Path::new(&path)))
        .transpose()?;
    let connect_to = std::env::var("ACR_AUTH_CONNECT_TO")
        .unwrap_or_default()
        .split(',')
        .filter(|rule| !rule.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<ConnectTo>>>()?;
    let client = ClientRuntime::new(Network::new(ca.as_deref(), connect_to)?)?;
    let identity = environment_identity(&client, None)?;
    let client = reaching_identity_endpoint(client, &identity)?;
    let result = client
        .login(server, &Credentials::Identity(identity), &identity_login_options())?
        .map_err(|e| anyhow!(login_error_message(&e)))?;
    let credential = &result.credential;
    if let Some(dir) = &dir
        && fresh(credential.expires_at, now)
    {
        // A cache that cannot be written costs the next `get` a login, no more.
        let _ = TokenCache::create(dir).and_then(|cache| cache.store(&key, &key.entry(&credential.password)));
    }
    Ok(helper_credentials(server, &credential.username, &credential.password))
}

/// The helper's `erase`: forgets the refresh token cached for `server` and
/// the identity the environment names. Nothing to forget for a server that
/// is not an ACR login server, or without a cache or an identity.
fn helper_erase(server: &str) -> Result<()> {
    let runtime = Runtime::new()?;
    // Without an identity in the environment no entry can be its.
    let (Ok(Some(key)), Some(dir)) = (helper_cache_key(&runtime, server), cache_dir(&ProcessEnvironment)) else {
        return Ok(());
    };
    match TokenCache::open(&dir) {
        Ok(cache) => cache
            .remove(&key)
            .with_context(|| format!("removing the cached token for {server}")),
        // No cache directory (or none to trust): no entry.
        Err(_) => Ok(()),
    }
}

/// What the token for `server` is cached under: its login server and the
/// identity the environment describes (chosen by the component, as a login
/// chooses it). `None` when `server` is not an ACR login server.
fn helper_cache_key(runtime: &Runtime, server: &str) -> Result<Option<CacheKey>> {
    let Ok(scope) = runtime.resolve_scope(server, None)? else {
        return Ok(None);
    };
    let identity = runtime
        .identity_from_environment(&identity_variables(&ProcessEnvironment))?
        .map_err(|e| anyhow!(e.message))?;
    Ok(Some(CacheKey::new(&scope.login_server, &identity)))
}

/// Reads and parses `--cloud-config`, when given.
fn custom_cloud(runtime: &Runtime, path: Option<&Path>) -> Result<Option<CloudEnvironment>> {
    let Some(path) = path else { return Ok(None) };
    let json = String::from_utf8(read_input(path)?).map_err(|_| anyhow!("{} is not UTF-8 text", path.display()))?;
    let env = runtime
        .parse_cloud_environment(&json)?
        .map_err(|e| anyhow!("{}: {}", path.display(), e.message))?;
    Ok(Some(env))
}

/// Reads a token file, without its trailing newline.
fn read_token(path: &Path) -> Result<String> {
    let token = String::from_utf8(read_input(path)?).map_err(|_| anyhow!("the token file is not UTF-8 text"))?;
    Ok(token.trim_end_matches(['\n', '\r']).to_owned())
}

/// Reads a file, or standard input for `-`, up to [`MAX_INPUT_LEN`] bytes plus one.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let reader: Box<dyn std::io::Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?)
    };
    reader
        .take(MAX_INPUT_LEN + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes)
}
