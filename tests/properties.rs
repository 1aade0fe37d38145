//! Properties of the native library over generated inputs: what an accepted
//! reference can resolve to, that requests carry exactly their inputs, that
//! no error repeats a token, and that the parsers take any bytes.

use acr_auth::{
    CloudEnvironment, build_exchange_request, build_token_request, parse_access_token, parse_challenge,
    parse_cloud_environment, parse_entra_token_response, parse_refresh_token, resolve_scope,
};
use proptest::prelude::*;

/// The registry suffixes the built-in clouds recognise.
const BUILT_IN_SUFFIXES: [&str; 3] = ["azurecr.io", "azurecr.cn", "azurecr.us"];
/// The suffix of [`custom_cloud`].
const CUSTOM_SUFFIX: &str = "azurecr.contoso.private";

fn custom_cloud() -> CloudEnvironment {
    parse_cloud_environment(&format!(
        r#"{{"name": "Contoso", "resourceManagerEndpoint": "https://management.contoso.private/",
            "activeDirectoryEndpoint": "https://login.contoso.private", "containerRegistryDNSSuffix": "{CUSTOM_SUFFIX}"}}"#
    ))
    .expect("a valid environment file")
}

/// One of `choices`, taken literally (a `&str` strategy is a regex).
fn literal(choices: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    prop::sample::select(choices)
}

/// References shaped like what users type, good and bad: schemes, user-info,
/// labels, suffixes (recognised, look-alike, retired, foreign), ports, paths.
fn reference() -> impl Strategy<Value = String> {
    let scheme = literal(&["", "https://", "HTTPS://", "oci://", "http://", "ftp://", "//"]);
    let user = prop_oneof![Just(""), Just("user@"), Just("u:p@"), Just("@")];
    let labels = prop::collection::vec("[a-zA-Z0-9-]{0,12}", 1..4).prop_map(|l| l.join("."));
    let suffix = prop_oneof![
        Just("azurecr.io"),
        Just("AzureCR.IO"),
        Just("azurecr.cn"),
        Just("azurecr.us"),
        Just("azurecr.de"),
        Just(CUSTOM_SUFFIX),
        Just("azurecr.io.example.com"),
        Just("example.com"),
        Just("io"),
        Just(""),
    ];
    let separator = prop_oneof![Just("."), Just(""), Just("-"), Just("..")];
    let port = literal(&["", ":443", ":8443", ":", ":0443"]);
    let path = literal(&[
        "",
        "/",
        "/team/app:1.2",
        "/app@sha256:0123456789abcdef",
        "?x=1",
        "#frag",
        "/a b",
        "\\evil",
    ]);
    let space = literal(&["", " ", "\t", "\n"]);
    (
        space.clone(),
        scheme,
        user,
        labels,
        separator,
        suffix,
        port,
        path,
        space,
    )
        .prop_map(|(lead, scheme, user, labels, separator, suffix, port, path, trail)| {
            format!("{lead}{scheme}{user}{labels}{separator}{suffix}{port}{path}{trail}")
        })
}

/// Any reference: shaped ones and arbitrary text.
fn any_reference() -> impl Strategy<Value = String> {
    prop_oneof![reference(), any::<String>(), "\\PC{0,80}"]
}

/// Token-like text: printable ASCII (what is accepted), or anything.
fn token() -> impl Strategy<Value = String> {
    prop_oneof!["[!-~]{1,300}", any::<String>()]
}

/// The form fields of a request body, decoded.
fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Fails when `text` contains `token` (tokens of 8 bytes or more: shorter
/// ones can occur in any message by chance).
fn assert_no_token(text: &str, token: &str) -> Result<(), TestCaseError> {
    prop_assert!(token.len() < 8 || !text.contains(token), "{text:?} contains the token");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn accepted_login_servers_are_bare_hosts_under_a_recognised_suffix(reference in any_reference()) {
        let cloud = custom_cloud();
        for env in [None, Some(&cloud)] {
            let Ok(resolved) = resolve_scope(&reference, env) else { continue };
            let server = &resolved.login_server;
            let suffixes = BUILT_IN_SUFFIXES.iter().chain(env.map(|_| &CUSTOM_SUFFIX));
            let under_suffix = suffixes
                .into_iter()
                .any(|s| server.strip_suffix(s).is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')));
            prop_assert!(under_suffix, "{reference:?} resolved to {server}");
            prop_assert!(
                server.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'),
                "{reference:?} resolved to {server}: user-info, port, path or other characters"
            );
            // Normalising twice changes nothing.
            prop_assert_eq!(resolve_scope(server, env), Ok(resolved.clone()));
        }
    }

    #[test]
    fn exchange_requests_carry_exactly_their_inputs(
        reference in reference(),
        token in token(),
        tenant in prop::option::of("[a-zA-Z0-9.-]{0,40}"),
    ) {
        let Ok(request) = build_exchange_request(&reference, &token, tenant.as_deref(), None) else {
            return Ok(());
        };
        let server = resolve_scope(&reference, None).expect("the request was built").login_server;
        prop_assert_eq!(&request.url, &format!("https://{server}/oauth2/exchange"));
        let mut expected = vec![
            ("grant_type".to_owned(), "access_token".to_owned()),
            ("service".to_owned(), server),
            ("access_token".to_owned(), token),
        ];
        expected.extend(tenant.map(|t| ("tenant".to_owned(), t)));
        prop_assert_eq!(form(request.body.expose()), expected);
    }

    #[test]
    fn token_requests_carry_exactly_their_inputs(
        token in token(),
        scopes in prop::collection::vec("repository:[a-z0-9]{1,8}(/[a-z0-9]{1,8})?:(pull|push|pull,push|\\*)", 1..5),
    ) {
        let Ok(request) = build_token_request("myregistry.azurecr.io", &token, &scopes, None) else {
            return Ok(());
        };
        prop_assert_eq!(&request.url, "https://myregistry.azurecr.io/oauth2/token");
        let mut expected = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("service".to_owned(), "myregistry.azurecr.io".to_owned()),
        ];
        expected.extend(scopes.into_iter().map(|s| ("scope".to_owned(), s)));
        expected.push(("refresh_token".to_owned(), token));
        prop_assert_eq!(form(request.body.expose()), expected);
    }

    #[test]
    fn request_errors_never_contain_the_token(
        reference in any_reference(),
        token in token(),
        scope in any::<String>(),
    ) {
        let errors = [
            build_exchange_request(&reference, &token, None, None).err(),
            build_exchange_request("myregistry.azurecr.io", &token, Some(&scope), None).err(),
            build_token_request(&reference, &token, &[&scope], None).err(),
        ];
        for error in errors.into_iter().flatten() {
            assert_no_token(&error.to_string(), &token)?;
            assert_no_token(&format!("{error:?}"), &token)?;
        }
    }

    #[test]
    fn response_errors_never_contain_the_token(
        status in prop_oneof![Just(200u16), 100u16..600],
        token in "[!-~&&[^\"\\\\]]{8,200}",
        shape in 0usize..6,
    ) {
        // Bodies that carry the token and are still refused somewhere.
        let body = match shape {
            0 => format!(r#"{{"refresh_token":"{token}","access_token":"{token}"}}"#),
            1 => format!(r#"{{"refresh_token":"{token}.{token}"}}"#),
            2 => format!(r#"{{"errors":[{{"code":"{token}","message":"x"}}],"refresh_token":"{token}"}}"#),
            3 => format!(r#"{{"refresh_token":"{token}", "#),
            4 => format!(r#"{{"access_token":"a.{token}.b"}}"#),
            _ => format!(r#"{{"refresh_token":["{token}"]}}"#),
        };
        // A refusal whose ACR error repeats the value of the field being read
        // drops that error rather than show it. Reading `access_token`, the
        // body's `refresh_token` is not that field, and an ACR error code
        // equal to it is shown as the server's text (shape 2).
        let access_shows_code = shape == 2 && status != 200;
        let texts = [
            parse_refresh_token(status, body.as_bytes(), &[]).err().map(|e| (e.to_string(), format!("{e:?}"))),
            parse_access_token(status, body.as_bytes(), &[])
                .err()
                .filter(|_| !access_shows_code)
                .map(|e| (e.to_string(), format!("{e:?}"))),
        ];
        for (display, debug) in texts.into_iter().flatten() {
            assert_no_token(&display, &token)?;
            assert_no_token(&debug, &token)?;
        }
    }

    #[test]
    fn a_secret_echoed_anywhere_leaves_no_fragment_in_the_error(
        secret in "[A-Za-z0-9_.~-]{40,4000}",
        cuts in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0), 1..4),
        prefix in "[ -~&&[^\"\\\\]]{0,40}",
        status in prop_oneof![Just(400u16), Just(401), Just(403), Just(500)],
        in_code in any::<bool>(),
    ) {
        // Pieces of the secret (the whole of it among them when a cut spans
        // everything), each at least a fragment long, echoed after `prefix`
        // in an ACR error's message or code, or in Entra's description.
        let pieces: Vec<&str> = cuts
            .iter()
            .map(|&(a, b)| {
                let (a, b) = (a.min(b), a.max(b));
                let start = (a * secret.len() as f64) as usize;
                let end = ((b * secret.len() as f64) as usize).max(start + acr_auth::MIN_FRAGMENT).min(secret.len());
                &secret[end.saturating_sub((end - start).max(acr_auth::MIN_FRAGMENT))..end]
            })
            .collect();
        let echo = format!("{prefix}{}", pieces.join(" and "));
        let (code, message) = if in_code { (echo.as_str(), "refused") } else { ("DENIED", echo.as_str()) };
        let acr = serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string();
        let entra = serde_json::json!({"error": code, "error_description": message, "correlation_id": echo}).to_string();
        let texts = [
            parse_refresh_token(status, acr.as_bytes(), &[&secret]).err().map(|e| format!("{e} {e:?}")),
            parse_access_token(status, acr.as_bytes(), &[&secret]).err().map(|e| format!("{e} {e:?}")),
            parse_entra_token_response(status, entra.as_bytes(), 0, &[&secret]).err().map(|e| format!("{e} {e:?}")),
        ];
        for text in texts.into_iter().flatten() {
            for window in secret.as_bytes().windows(acr_auth::MIN_FRAGMENT) {
                let window = std::str::from_utf8(window).expect("ASCII");
                prop_assert!(!text.contains(window), "{window:?} in {text}");
            }
        }
    }

    #[test]
    fn error_messages_stay_short_whatever_the_input_size(piece in "\\PC{1,8}", times in 1usize..20_000) {
        let big = piece.repeat(times);
        let scope = format!("repository:{big}:pull");
        let texts = [
            resolve_scope(&big, None).err().map(|e| e.to_string()),
            parse_challenge(&big, None).err().map(|e| e.to_string()),
            parse_cloud_environment(&big).err().map(|e| e.to_string()),
            build_token_request("myregistry.azurecr.io", "a.b.c", &[&scope], None).err().map(|e| e.to_string()),
            build_exchange_request("myregistry.azurecr.io", "a.b.c", Some(&big), None).err().map(|e| e.to_string()),
        ];
        for text in texts.into_iter().flatten() {
            prop_assert!(text.len() <= 1024, "a {}-byte message for a {}-byte input", text.len(), big.len());
        }
    }

    #[test]
    fn parsers_take_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600), status in any::<u16>()) {
        let text = String::from_utf8_lossy(&bytes);
        let cloud = custom_cloud();
        let _ = resolve_scope(&text, None);
        let _ = resolve_scope(&text, Some(&cloud));
        let _ = parse_cloud_environment(&text);
        let _ = parse_challenge(&text, None);
        let _ = parse_challenge(&text, Some(&cloud));
        let _ = parse_refresh_token(status, &bytes, &[]);
        let _ = parse_access_token(status, &bytes, &[]);
        let _ = build_exchange_request(&text, &text, Some(&text), None);
        let _ = build_token_request(&text, &text, &[&text], Some(&cloud));
    }
}
