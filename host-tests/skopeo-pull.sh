#!/usr/bin/env bash
# Pulls a manifest from the test ACR with skopeo, a real registry client, run
# inside host-tests/with-test-acr.sh:
#
#   host-tests/with-test-acr.sh <test-acr> bash host-tests/skopeo-pull.sh <acr-auth binary>
#
# skopeo finds no credentials of its own: its auth file names the acr-auth
# binary, installed as docker-credential-acr-auth, as the credential helper
# for the registry. The helper logs in with the test app's client secret
# through Entra (which the test ACR answers as login.microsoftonline.com) and
# gives skopeo the ACR refresh token, which skopeo trades for a pull token.
# It caches that token in its own cache directory here (never the user's):
# the second pull takes it from there, and the entry must be mode 0600.
set -euo pipefail
cli="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/certs"
cp "$cli" "$work/bin/docker-credential-acr-auth"
cp "$ACR_TEST_CA" "$work/certs/ca.crt"
printf '{"credHelpers": {"%s": "acr-auth"}}\n' "$ACR_TEST_HOST" > "$work/auth.json"
pull() {
    env PATH="$work/bin:$PATH" XDG_CACHE_HOME="$work/cache" \
        AZURE_TENANT_ID="$ACR_TEST_TENANT" AZURE_CLIENT_ID="$ACR_TEST_CLIENT_ID" \
        AZURE_CLIENT_SECRET="$ACR_TEST_CLIENT_SECRET" \
        skopeo inspect --raw --authfile "$work/auth.json" --cert-dir "$work/certs" \
        "docker://$ACR_TEST_HOST/team/app:1.0"
}
for attempt in login cached; do
    manifest="$(pull)"
    if [[ "$manifest" != *'"mediaType":"application/vnd.oci.image.manifest.v1+json"'* ]]; then
        echo "skopeo did not get the manifest ($attempt): $manifest" >&2
        exit 1
    fi
    modes="$(stat -c '%a %F' "$work/cache/acr-auth" "$work/cache/acr-auth/"*.json)"
    if [[ "$modes" != $'700 directory\n600 regular file' ]]; then
        echo "the helper's token cache is not private ($attempt): $modes" >&2
        exit 1
    fi
done
echo "skopeo pulled the manifest of $ACR_TEST_HOST/team/app:1.0 twice with credentials from docker-credential-acr-auth, the second time from its cache"
