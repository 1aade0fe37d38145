#!/usr/bin/env bash
# Copies a whole multi-platform image from the test ACR through the pull
# proxy with skopeo, a real registry client, run inside
# host-tests/with-test-acr.sh:
#
#   host-tests/with-test-acr.sh <test-acr> bash host-tests/skopeo-copy.sh <acr-auth-proxy> <proxy component>
#
# The proxy listens on 127.0.0.1:5000 and logs in with the test app's client
# secret (from the Azure SDKs' environment variables); skopeo has no
# credentials at all. `skopeo copy --all` fetches the image index, the
# manifest, the config and both layers, the layers from the storage host the
# registry redirects to; then every copied blob must have the digest the test
# ACR published for its role, and `skopeo inspect` must see the manifest and
# config through the proxy.
set -euo pipefail
proxy="$1"
component="$2"
work="$(mktemp -d)"
proxy_pid=""
trap '[[ -n "$proxy_pid" ]] && kill "$proxy_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "skopeo-copy: $*" >&2; exit 1; }

env AZURE_TENANT_ID="$ACR_TEST_TENANT" AZURE_CLIENT_ID="$ACR_TEST_CLIENT_ID" \
    AZURE_CLIENT_SECRET="$ACR_TEST_CLIENT_SECRET" \
    "$proxy" --component "$component" --registry "$ACR_TEST_HOST" \
    --listen 127.0.0.1:5000 --cacert "$ACR_TEST_CA" 2> "$work/proxy.log" &
proxy_pid=$!
for _ in $(seq 1 300); do
    grep -q "serving http://" "$work/proxy.log" && break
    kill -0 "$proxy_pid" 2>/dev/null || fail "the proxy exited: $(cat "$work/proxy.log")"
    sleep 0.1
done
grep -q "serving http://" "$work/proxy.log" || fail "the proxy did not start"

digest_of() { awk -v role="$1" '$1 == role { print $2 }' "$ACR_TEST_IMAGE_DIGESTS" | sed -n "${2:-1}p"; }
index="$(digest_of index)"
manifest="$(digest_of manifest)"
config="$(digest_of config)"
layers=("$(digest_of layer 1)" "$(digest_of layer 2)")
[[ -n "$index" && -n "$manifest" && -n "$config" && -n "${layers[1]}" ]] || fail "no image digests from the test ACR"

# The proxy serves plain HTTP: skopeo falls back to it with TLS verification off.
skopeo copy --all --src-tls-verify=false \
    "docker://127.0.0.1:5000/team/app:latest" "oci:$work/image:latest" \
    || fail "skopeo copy failed; the proxy said: $(cat "$work/proxy.log")"

layout="$work/image"
copied_index="$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' "$layout/index.json")"
[[ "$copied_index" == "$index" ]] || fail "the copied index is $copied_index, not $index"
for digest in "$index" "$manifest" "$config" "${layers[@]}"; do
    blob="$layout/blobs/sha256/${digest#sha256:}"
    [[ -f "$blob" ]] || fail "blob $digest was not copied"
    actual="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
    [[ "$actual" == "$digest" ]] || fail "blob $digest has digest $actual"
done
[[ "$(jq -r '.manifests[0].digest' "$layout/blobs/sha256/${index#sha256:}")" == "$manifest" ]] \
    || fail "the index does not name the manifest"
[[ "$(jq -r '[.config.digest] + [.layers[].digest] | join(" ")' "$layout/blobs/sha256/${manifest#sha256:}")" \
    == "$config ${layers[0]} ${layers[1]}" ]] || fail "the manifest does not name the config and both layers"

inspected="$(skopeo inspect --tls-verify=false "docker://127.0.0.1:5000/team/app:1.0")"
[[ "$(jq -r '.Digest' <<< "$inspected")" == "$manifest" ]] || fail "skopeo inspect saw another digest: $inspected"
[[ "$(jq -r '.Layers | join(" ")' <<< "$inspected")" == "${layers[0]} ${layers[1]}" ]] \
    || fail "skopeo inspect saw other layers: $inspected"
[[ "$(jq -r '.Os + "/" + .Architecture' <<< "$inspected")" == "linux/amd64" ]] \
    || fail "skopeo inspect did not read the config: $inspected"
echo "skopeo copied $ACR_TEST_HOST/team/app:latest (index, manifest, config, two layers) through the proxy, digests checked"
