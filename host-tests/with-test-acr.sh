#!/usr/bin/env bash
# Runs a command with the local test ACR reachable at https://$ACR_TEST_HOST
# (port 443), the way a host that cannot redirect connections sees a registry.
#
#   host-tests/with-test-acr.sh <test-acr binary> <command> [args...]
#
# Everything runs in new network and mount namespaces: only a loopback
# interface, and a private /etc/hosts (bind-mounted over the real one inside
# the mount namespace only) that names $ACR_TEST_HOST, login.microsoftonline.com
# and the registry's storage host as 127.0.0.1: the test ACR also answers
# Entra's token endpoint for one app registration, and the storage host its
# blob downloads are redirected to. Nothing on the machine changes.
# The command sees ACR_TEST_HOST, ACR_TEST_CA (the test CA's PEM file),
# ACR_TEST_IMAGE_DIGESTS (the test image's digests, one `<role> <digest>` a line),
# ACR_TEST_ENTRA_TOKEN, the app's ACR_TEST_TENANT, ACR_TEST_CLIENT_ID and
# ACR_TEST_CLIENT_SECRET, SSL_CERT_FILE and NODE_EXTRA_CA_CERTS; and
# ACR_TEST_SERVER, the test-acr binary's absolute path, with which a test
# starts a server of its own (a platform's managed-identity endpoint, say).
set -euo pipefail
if [[ "${1:-}" != "--inside" ]]; then
    exec unshare --net --mount --fork -- "$0" --inside "$@"
fi
shift
server="$(realpath "$1")"; shift
export ACR_TEST_SERVER="$server"
export ACR_TEST_HOST="${ACR_TEST_HOST:-hosttestregistry.azurecr.io}"
export ACR_TEST_ENTRA_TOKEN="test-entra-access-token"
export ACR_TEST_TENANT="72f988bf-86f1-41af-91ab-2d7cd011db47"
export ACR_TEST_CLIENT_ID="04b07795-8ddb-461a-bbee-02f9e1bf7b46"
export ACR_TEST_CLIENT_SECRET="test-client-secret"
work="$(mktemp -d)"
trap 'exec 3>&-; wait 2>/dev/null || true; rm -rf "$work"' EXIT
ip link set lo up
storage_host="testregistrystorage.blob.core.windows.net"
printf '127.0.0.1 localhost %s login.microsoftonline.com %s\n' "$ACR_TEST_HOST" "$storage_host" > "$work/hosts"
mount --bind "$work/hosts" /etc/hosts
export ACR_TEST_CA="$work/ca.pem" ACR_TEST_IMAGE_DIGESTS="$work/image-digests"
# The server lives until this script closes its standard input (fd 3).
exec 3> >("$server" "$ACR_TEST_HOST" 443 "$ACR_TEST_CA" \
    --entra-app "$ACR_TEST_TENANT:$ACR_TEST_CLIENT_ID:$ACR_TEST_CLIENT_SECRET" \
    --image-digests "$ACR_TEST_IMAGE_DIGESTS" > "$work/ready")
for _ in $(seq 1 100); do
    [[ -s "$work/ready" ]] && break
    sleep 0.1
done
[[ -s "$work/ready" ]] || { echo "the test ACR did not start" >&2; exit 1; }
export SSL_CERT_FILE="$ACR_TEST_CA" NODE_EXTRA_CA_CERTS="$ACR_TEST_CA"
"$@"
