//! `acr-auth`: Azure Container Registry authentication from the command line.
//!
//! Every command runs the embedded `acr:auth` component in wasmtime. Output
//! is JSON on stdout; on error nothing is printed on stdout, one line
//! `error: ...` goes to stderr and the exit status is 1 (2 for usage errors).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use acr_auth_cli::wit::scope::CloudEnvironment;
use acr_auth_cli::{Runtime, credential_json, request_error_message, request_json, response_error_message, scope_json};
use anyhow::{Context as _, Result, anyhow};
use clap::{Parser, Subcommand};
use serde_json::Value;

/// The most bytes read from any input file: far above every cap the
/// component applies, so the component, not this host, refuses oversize input.
const MAX_INPUT_LEN: u64 = 1 << 20;

/// Azure Container Registry authentication, run through the acr-auth WebAssembly component.
#[derive(Parser)]
#[command(name = "acr-auth", version)]
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
    /// Read an /oauth2/exchange response body and print the credential's details (not the token).
    ParseRefreshToken {
        /// The HTTP status of the response.
        #[arg(long, default_value_t = 200)]
        status: u16,
        /// The response body, or - for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

fn main() -> ExitCode {
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
        Command::Scope { reference, cloud_config } => {
            let cloud = custom_cloud(&runtime, cloud_config.as_deref())?;
            let resolved = runtime
                .resolve_scope(&reference, cloud.as_ref())?
                .map_err(|e| anyhow!(e.message))?;
            Ok(scope_json(&resolved))
        }
        Command::ExchangeRequest { reference, entra_token_file, tenant, cloud_config } => {
            let cloud = custom_cloud(&runtime, cloud_config.as_deref())?;
            let token = String::from_utf8(read_input(&entra_token_file)?)
                .map_err(|_| anyhow!("the token file is not UTF-8 text"))?;
            let token = token.trim_end_matches(['\n', '\r']);
            let request = runtime
                .build_exchange_request(&reference, token, tenant.as_deref(), cloud.as_ref())?
                .map_err(|e| anyhow!(request_error_message(&e).to_owned()))?;
            Ok(request_json(&request))
        }
        Command::ParseRefreshToken { status, file } => {
            let body = read_input(&file)?;
            let credential = runtime
                .parse_refresh_token(status, &body)?
                .map_err(|e| anyhow!(response_error_message(&e).to_owned()))?;
            Ok(credential_json(&credential))
        }
    }
}

/// Reads and parses `--cloud-config`, when given.
fn custom_cloud(runtime: &Runtime, path: Option<&Path>) -> Result<Option<CloudEnvironment>> {
    let Some(path) = path else { return Ok(None) };
    let json = String::from_utf8(read_input(path)?)
        .map_err(|_| anyhow!("{} is not UTF-8 text", path.display()))?;
    let env = runtime
        .parse_cloud_environment(&json)?
        .map_err(|e| anyhow!("{}: {}", path.display(), e.message))?;
    Ok(Some(env))
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
