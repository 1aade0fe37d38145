//! The registry side of the test ACR: the OCI distribution pull API over one
//! multi-platform image ([`TestImage`]) that every repository holds, and the
//! storage host ACR redirects blob downloads to.
//!
//! - `GET`/`HEAD /v2/<name>/manifests/<tag or digest>`: tags [`TAGS`]; `latest` is the
//!   image index, the others its one manifest. `Docker-Content-Digest` and `Content-Type`
//!   as a registry sends them.
//! - `GET /v2/<name>/blobs/<digest>`: `307` to `https://`[`STORAGE_HOST`]`/...?<signature>`,
//!   as ACR answers; `HEAD` answers `200` with the blob's length and digest.
//! - `GET /v2/<name>/tags/list` with `n` and `last`, and a `Link` header to the next page.
//! - `GET /v2/<name>/referrers/<digest>`: an empty image index.
//! - On [`STORAGE_HOST`]: the blob at the redirect's URL, with `Range`; a request that
//!   carries an `Authorization` header is refused, as Azure Storage refuses a second
//!   credential beside a signed URL.
//!
//! Every registry request needs an access token granting `pull` on the repository (the
//! challenge otherwise); the storage host needs only the signature.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use hyper::{Response, StatusCode};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::{RecordedRequest, ResBody, State, acr_error, full, parse_scope};

/// The storage host blob downloads are redirected to (on the server's certificate).
pub const STORAGE_HOST: &str = "testregistrystorage.blob.core.windows.net";

/// The tags of every repository, in the order `tags/list` returns them.
pub const TAGS: [&str; 3] = ["1.0", "1.2", "latest"];

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// One piece of content and its address.
#[derive(Clone, Debug)]
pub struct Blob {
    /// Its media type.
    pub media_type: &'static str,
    /// `sha256:<hex>` of [`Blob::bytes`].
    pub digest: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl Blob {
    fn new(media_type: &'static str, bytes: Vec<u8>) -> Self {
        Self {
            media_type,
            digest: sha256_digest(&bytes),
            bytes,
        }
    }

    /// Its OCI descriptor.
    fn descriptor(&self) -> serde_json::Value {
        json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.bytes.len() })
    }
}

/// The image every repository of the test ACR holds: an index naming one
/// linux/amd64 manifest, whose config and two gzip-compressed tar layers are
/// real (the config's `diff_ids` are the digests of the uncompressed tars),
/// as a client that stores or unpacks the image checks them.
#[derive(Clone, Debug)]
pub struct TestImage {
    /// The image index (tag `latest`).
    pub index: Blob,
    /// The image manifest (tags `1.0` and `1.2`).
    pub manifest: Blob,
    /// The image config.
    pub config: Blob,
    /// The layers.
    pub layers: [Blob; 2],
}

impl TestImage {
    /// The image; the same bytes every time.
    pub fn new() -> Self {
        let layer = |name: &str, size: usize| {
            let content: Vec<u8> = (0..size).map(|i| b"acr-auth test layer "[i % 20]).collect();
            let tar = tar(name, &content);
            let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
            gzip.write_all(&tar).expect("gzip into memory");
            let gzip = gzip.finish().expect("gzip into memory");
            (
                sha256_digest(&tar),
                Blob::new("application/vnd.oci.image.layer.v1.tar+gzip", gzip),
            )
        };
        // Sizes not a multiple of a tar block.
        let [(diff_0, layer_0), (diff_1, layer_1)] = [layer("etc/greeting", 100_003), layer("usr/share/data", 300_001)];
        let layers = [layer_0, layer_1];
        let config = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": { "Cmd": ["/bin/true"] },
            "rootfs": { "type": "layers", "diff_ids": [diff_0, diff_1] },
        });
        let config = Blob::new(
            "application/vnd.oci.image.config.v1+json",
            config.to_string().into_bytes(),
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config.descriptor(),
            "layers": [layers[0].descriptor(), layers[1].descriptor()],
        });
        let manifest = Blob::new(OCI_MANIFEST, manifest.to_string().into_bytes());
        let mut entry = manifest.descriptor();
        entry["platform"] = json!({ "architecture": "amd64", "os": "linux" });
        let index = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry] });
        let index = Blob::new(OCI_INDEX, index.to_string().into_bytes());
        Self {
            index,
            manifest,
            config,
            layers,
        }
    }

    /// The manifest or index a tag or digest names.
    pub fn manifest(&self, reference: &str) -> Option<&Blob> {
        match reference {
            "latest" => Some(&self.index),
            "1.0" | "1.2" => Some(&self.manifest),
            digest => [&self.index, &self.manifest]
                .into_iter()
                .find(|blob| blob.digest == digest),
        }
    }

    /// The config or layer with `digest`.
    pub fn blob(&self, digest: &str) -> Option<&Blob> {
        std::iter::once(&self.config)
            .chain(&self.layers)
            .find(|blob| blob.digest == digest)
    }
}

impl Default for TestImage {
    fn default() -> Self {
        Self::new()
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A POSIX (ustar) archive of one regular file.
fn tar(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let mut put = |at: usize, field: &[u8]| header[at..at + field.len()].copy_from_slice(field);
    put(0, name.as_bytes());
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", content.len()).as_bytes());
    put(136, b"14707372000\0");
    put(148, b"        ");
    put(156, b"0");
    put(257, b"ustar\0");
    put(263, b"00");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut archive = header.to_vec();
    archive.extend_from_slice(content);
    archive.resize(archive.len().div_ceil(512) * 512 + 1024, 0);
    archive
}

/// The query signature of a blob's storage URL.
fn signature(digest: &str) -> String {
    sha256_digest(format!("storage signature of {digest}").as_bytes())[7..39].to_owned()
}

/// A registry API path: repository, what, and the reference after it.
fn api_path(path: &str) -> Option<(&str, &str, &str)> {
    let rest = path.strip_prefix("/v2/")?;
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return Some((name, "tags", ""));
    }
    let (rest, reference) = rest.rsplit_once('/')?;
    let (name, kind) = rest.rsplit_once('/')?;
    Some((name, kind, reference))
}

impl State {
    /// `GET` or `HEAD` of a registry API path or a storage URL; `None` for other paths.
    pub(super) fn registry(&self, request: &RecordedRequest, head: bool) -> Option<Response<ResBody>> {
        let host = request.header("host").unwrap_or_default();
        if host.split(':').next() == Some(STORAGE_HOST) {
            return Some(self.storage(request, head));
        }
        let (name, kind, reference) = api_path(&request.path)?;
        if name.is_empty() || !matches!(kind, "manifests" | "blobs" | "tags" | "referrers") {
            return None;
        }
        if !self.may_pull(request, name) {
            return Some(self.challenge(Some(&format!("repository:{name}:pull"))));
        }
        let response = match kind {
            "manifests" => match self.image.manifest(reference) {
                Some(manifest) => content(manifest, head),
                None => acr_error(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", "manifest unknown"),
            },
            "blobs" => match self.image.blob(reference) {
                Some(blob) if head => content(blob, true),
                Some(blob) => {
                    let url = format!(
                        "https://{STORAGE_HOST}/registry/{}?sv=2024-11-04&se=2099-01-01T00%3A00%3A00Z&sig={}",
                        blob.digest,
                        signature(&blob.digest)
                    );
                    let mut response = full_response(StatusCode::TEMPORARY_REDIRECT, Vec::new());
                    response
                        .headers_mut()
                        .insert(LOCATION, url.parse().expect("a storage URL"));
                    response
                }
                None => acr_error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN", "blob unknown to registry"),
            },
            "tags" if !head => tags(name, request.query.as_deref().unwrap_or_default()),
            "referrers" if !head => {
                let body = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [] }).to_string();
                let mut response = full_response(StatusCode::OK, body.into_bytes());
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, OCI_INDEX.parse().expect("media type"));
                response
            }
            _ => acr_error(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "method not allowed"),
        };
        Some(response)
    }

    /// Whether the request bears an access token granting `pull` on `repository`.
    fn may_pull(&self, request: &RecordedRequest, repository: &str) -> bool {
        self.access_scopes(request).is_some_and(|scopes| {
            scopes
                .iter()
                .filter_map(|scope| parse_scope(scope))
                .any(|(kind, name, actions)| {
                    kind == "repository" && name == repository && actions.iter().any(|a| *a == "pull" || *a == "*")
                })
        })
    }

    /// A blob from the storage host: signed URL, no `Authorization`, `Range` honoured.
    fn storage(&self, request: &RecordedRequest, head: bool) -> Response<ResBody> {
        let storage_error = |status: StatusCode, code: &str| {
            let body = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code></Error>");
            let mut response = full_response(status, body.into_bytes());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, "application/xml".parse().expect("content type"));
            response
        };
        if request.header("authorization").is_some() {
            return storage_error(StatusCode::BAD_REQUEST, "InvalidAuthenticationInfo");
        }
        let Some(blob) = request.path.strip_prefix("/registry/").and_then(|d| self.image.blob(d)) else {
            return storage_error(StatusCode::NOT_FOUND, "BlobNotFound");
        };
        let signed = request.query.as_deref().is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "sig" && v == signature(&blob.digest))
        });
        if !signed {
            return storage_error(StatusCode::FORBIDDEN, "AuthenticationFailed");
        }
        let len = blob.bytes.len();
        let range = request.header("range").and_then(|r| byte_range(r, len));
        let (status, bytes) = match range {
            Some((first, last)) => (StatusCode::PARTIAL_CONTENT, &blob.bytes[first..=last]),
            None => (StatusCode::OK, &blob.bytes[..]),
        };
        let mut response = full_response(status, if head { Vec::new() } else { bytes.to_vec() });
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, "application/octet-stream".parse().expect("content type"));
        headers.insert(CONTENT_LENGTH, bytes.len().into());
        headers.insert("accept-ranges", "bytes".parse().expect("header"));
        if let Some((first, last)) = range {
            let value = format!("bytes {first}-{last}/{len}");
            headers.insert("content-range", value.parse().expect("content range"));
        }
        response
    }
}

/// `bytes=<first>-[<last>]` within `len` bytes, as inclusive offsets.
fn byte_range(header: &str, len: usize) -> Option<(usize, usize)> {
    let (first, last) = header.strip_prefix("bytes=")?.split_once('-')?;
    let first: usize = first.parse().ok()?;
    let last = if last.is_empty() {
        len.checked_sub(1)?
    } else {
        last.parse::<usize>().ok()?.min(len - 1)
    };
    (first <= last).then_some((first, last))
}

/// A manifest or blob with its type, length and digest; without the body for `HEAD`.
fn content(blob: &Blob, head: bool) -> Response<ResBody> {
    let mut response = full_response(StatusCode::OK, if head { Vec::new() } else { blob.bytes.clone() });
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, blob.media_type.parse().expect("media type"));
    headers.insert(CONTENT_LENGTH, blob.bytes.len().into());
    headers.insert("docker-content-digest", blob.digest.parse().expect("digest"));
    response
}

/// `tags/list`: [`TAGS`] after `last`, at most `n`, with a `Link` to the rest.
fn tags(name: &str, query: &str) -> Response<ResBody> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let n = value("n").and_then(|n| n.parse::<usize>().ok()).unwrap_or(TAGS.len());
    let after: Vec<&str> = TAGS
        .iter()
        .copied()
        .filter(|tag| value("last").is_none_or(|last| *tag > last))
        .collect();
    let page: Vec<&str> = after.iter().copied().take(n).collect();
    let body = json!({ "name": name, "tags": page }).to_string();
    let mut response = full_response(StatusCode::OK, body.into_bytes());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, "application/json".parse().expect("content type"));
    if let (true, Some(last)) = (after.len() > page.len(), page.last()) {
        let link = format!("</v2/{name}/tags/list?last={last}&n={n}>; rel=\"next\"");
        response.headers_mut().insert("link", link.parse().expect("link"));
    }
    response
}

/// A response with `bytes` as its body and ACR's correlation header.
fn full_response(status: StatusCode, bytes: Vec<u8>) -> Response<ResBody> {
    let mut response = Response::new(full(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "x-ms-correlation-request-id",
        super::CORRELATION_ID.parse().expect("correlation id"),
    );
    response
}
