//! Which requests the proxy serves: the OCI distribution pull API, from
//! clients whose `Host` is one the proxy answers to.

/// A pull API request, parsed from its method and path.
#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET` or `HEAD /v2/`: the API version check, answered by the proxy.
    Base,
    /// A request forwarded to the registry for `repository:<name>:pull`.
    Pull {
        /// The repository, e.g. `team/app`.
        name: &'a str,
        /// What is pulled.
        kind: Kind,
        /// The path and query sent to the registry.
        upstream: String,
    },
}

/// What a pull asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/v2/<name>/manifests/<tag or digest>`
    Manifest,
    /// `/v2/<name>/blobs/<digest>`: may be redirected to storage.
    Blob,
    /// `/v2/<name>/tags/list`, with `n` and `last`.
    Tags,
    /// `/v2/<name>/referrers/<digest>`, with `artifactType`.
    Referrers,
}

/// Why a request is not served.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a path of the pull API.
    NotFound,
    /// A method other than `GET` or `HEAD` on a path of the API (tags and
    /// referrers: `GET` only).
    Method,
    /// A repository name, tag or digest outside the characters the
    /// distribution spec allows.
    Name,
}

/// The query parameters passed on for each kind; others are dropped, so
/// nothing else of the client's reaches the registry.
fn passed_parameters(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Tags => &["n", "last"],
        Kind::Referrers => &["artifactType"],
        Kind::Manifest | Kind::Blob => &[],
    }
}

/// Parses a request line: `head` is whether the method is `HEAD` (else it
/// is `GET`; other methods are `None`).
pub fn parse(head: Option<bool>, path_with_query: &str) -> Result<Route<'_>, Refusal> {
    let (path, query) = path_with_query.split_once('?').unwrap_or((path_with_query, ""));
    let rest = path.strip_prefix("/v2/").ok_or(Refusal::NotFound)?;
    // Pushes and deletes, on any path of the API: the proxy is a pull mirror.
    let head = head.ok_or(Refusal::Method)?;
    if rest.is_empty() {
        return Ok(Route::Base);
    }
    let (name, kind, reference) = if let Some(name) = rest.strip_suffix("/tags/list") {
        (name, Kind::Tags, None)
    } else {
        let (rest, reference) = rest.rsplit_once('/').ok_or(Refusal::NotFound)?;
        let (name, kind) = rest.rsplit_once('/').ok_or(Refusal::NotFound)?;
        let kind = match kind {
            "manifests" => Kind::Manifest,
            "blobs" => Kind::Blob,
            "referrers" => Kind::Referrers,
            _ => return Err(Refusal::NotFound),
        };
        (name, kind, Some(reference))
    };
    if head && matches!(kind, Kind::Tags | Kind::Referrers) {
        return Err(Refusal::Method);
    }
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b));
    let reference_ok = reference.is_none_or(|r| {
        !r.is_empty() && r.len() <= 255 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-:+=".contains(&b))
    });
    if !name_ok || !reference_ok || name.len() > 255 {
        return Err(Refusal::Name);
    }
    let passed = passed_parameters(kind);
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| passed.contains(&key.as_ref()))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let mut upstream = path.to_owned();
    if !kept.is_empty() {
        upstream.push('?');
        upstream.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    Ok(Route::Pull { name, kind, upstream })
}

/// Whether `authority` (a `Host` header: a name, an IPv4 address or a
/// bracketed IPv6 address, with an optional port) names one of `allowed`.
/// A web page that reaches the proxy through a DNS name of its own
/// (rebinding) sends that name, which no configuration lists.
pub fn host_allowed(authority: &str, allowed: &[String]) -> bool {
    let name = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(address, _)| format!("[{address}]")),
        None => authority.split(':').next().map(str::to_owned),
    };
    name.is_some_and(|name| {
        let name = name.to_ascii_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name);
        allowed.iter().any(|allowed| allowed == name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pull(path: &str) -> (&str, Kind, String) {
        match parse(Some(false), path) {
            Ok(Route::Pull { name, kind, upstream }) => (name, kind, upstream),
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn every_pull_path_of_the_distribution_spec() {
        assert_eq!(parse(Some(false), "/v2/"), Ok(Route::Base));
        assert_eq!(parse(Some(true), "/v2/"), Ok(Route::Base));
        assert_eq!(
            pull("/v2/team/app/manifests/1.0?x=1"),
            ("team/app", Kind::Manifest, "/v2/team/app/manifests/1.0".into())
        );
        let digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        assert_eq!(pull(&format!("/v2/app/blobs/{digest}")).1, Kind::Blob);
        assert_eq!(
            pull("/v2/a/b/tags/list?n=2&last=v1&evil=1"),
            ("a/b", Kind::Tags, "/v2/a/b/tags/list?n=2&last=v1".into())
        );
        assert_eq!(
            pull(&format!(
                "/v2/app/referrers/{digest}?artifactType=application%2Fvnd.example"
            )),
            (
                "app",
                Kind::Referrers,
                format!("/v2/app/referrers/{digest}?artifactType=application%2Fvnd.example")
            )
        );
        assert_eq!(pull("/v2/a/manifests/b/manifests/c").0, "a/manifests/b");
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        for path in [
            "/",
            "/v2",
            "/oauth2/token",
            "/v2/_catalog",
            "/v2/app/uploads/x",
            "/v2/manifests/1.0",
        ] {
            assert_eq!(parse(Some(false), path), Err(Refusal::NotFound), "{path}");
        }
        for path in [
            "/v2/App/manifests/1",
            "/v2/app/manifests/1.0%2F..",
            "/v2/app/manifests/a b",
            "/v2//manifests/1",
        ] {
            assert_eq!(parse(Some(false), path), Err(Refusal::Name), "{path}");
        }
        assert_eq!(parse(None, "/v2/app/manifests/1"), Err(Refusal::Method));
        assert_eq!(parse(None, "/v2/app/blobs/uploads/"), Err(Refusal::Method));
        assert_eq!(parse(Some(true), "/v2/app/tags/list"), Err(Refusal::Method));
    }

    #[test]
    fn hosts_match_by_name_whatever_the_port() {
        let allowed: Vec<String> = ["localhost", "127.0.0.1", "[::1]"].map(String::from).into();
        for host in [
            "localhost",
            "LOCALHOST:5000",
            "127.0.0.1:8080",
            "[::1]:80",
            "localhost.",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        for host in [
            "attacker.example",
            "attacker.example:8080",
            "127.0.0.2",
            "localhost.attacker.example",
            "",
            "[::2]",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
    }
}
