//! `tests/cases/custom-cloud-record.json` natively: a custom cloud given
//! field by field is checked by `CloudEnvironment::new` as a file is, and
//! every function that takes one then trusts it. (The components check the
//! same records at their boundary: `host-tests`, Node and Python.)

use acr_auth::{CloudEnvironment, Credentials, Event, LoginFlow, LoginOptions, Secret, Step};
use serde_json::{Value, json};

/// The case file's cases.
fn cases() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases/custom-cloud-record.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the case file")).expect("JSON");
    file["cases"].as_array().expect("cases").clone()
}

/// A record as `CloudEnvironment::new` takes it.
fn make(record: &Value) -> Result<CloudEnvironment, acr_auth::CloudEnvironmentError> {
    let text = |key: &str| record[key].as_str().map(str::to_owned);
    CloudEnvironment::new(
        text("name"),
        &text("container_registry_dns_suffix").expect("a suffix"),
        &text("resource_manager_endpoint").expect("an ARM endpoint"),
        &text("active_directory_endpoint").expect("an Entra endpoint"),
        text("acr_audience").as_deref(),
    )
}

#[test]
fn records_are_checked_as_files_are() {
    let cases = cases();
    assert!(cases.len() >= 9, "{} cases", cases.len());
    for case in &cases {
        let name = &case["name"];
        match (make(&case["record"]), case.get("error")) {
            (Err(e), Some(kind)) => {
                assert_eq!(e.kind().as_str(), kind, "{name}");
                assert_eq!(json!(e.field()), case["field"], "{name}");
            }
            (Ok(env), None) => {
                let observed = json!({
                    "name": env.name(),
                    "container_registry_dns_suffix": env.container_registry_dns_suffix(),
                    "resource_manager_endpoint": env.resource_manager_endpoint(),
                    "active_directory_endpoint": env.active_directory_endpoint(),
                    "acr_audience": env.acr_audience(),
                });
                assert_eq!(observed, case["expect"], "{name}");
                let reference = case["reference"].as_str().expect("a reference");
                let resolved = acr_auth::resolve_scope(reference, Some(&env)).expect("resolves");
                assert_eq!(resolved.login_server, case["resolved"]["login_server"], "{name}");
                assert_eq!(resolved.scope, case["resolved"]["scope"], "{name}");
                assert_eq!(resolved.authority_host, case["resolved"]["authority_host"], "{name}");
                // The flow accepts it too, and sends the exchange there.
                let options = LoginOptions {
                    custom_cloud: Some(env),
                    ..LoginOptions::default()
                };
                let token = Credentials::EntraToken(Secret::new("eyJ0eXAi.e30.c2ln".to_owned()));
                let Step::Send(outgoing) = LoginFlow::new(reference, token, options).step(0, Event::Start) else {
                    panic!("{name}: the flow did not send");
                };
                assert_eq!(
                    outgoing.request.url,
                    format!("https://{reference}/oauth2/exchange"),
                    "{name}"
                );
            }
            (result, _) => panic!("{name}: {result:?}"),
        }
    }
}
