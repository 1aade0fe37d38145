#!/usr/bin/env bash
# Installs the pinned npm packages, transpiles the pure component with jco,
# type-checks the wrapper's declarations and runs the Node tests.
#
# Needs the pure component (`cargo xtask build` writes
# target/components/acr_auth.wasm, or it is in the directory
# ACR_AUTH_COMPONENTS_DIR names) and Node 20 with npm. `npm ci` prefers the
# npm cache, so once the packages have been downloaded this also runs without
# a network: under host-tests/with-test-acr.sh, which adds the login tests,
# it must.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

components="${ACR_AUTH_COMPONENTS_DIR:-../../target/components}"
if [[ ! -f "$components/acr_auth.wasm" ]]; then
    echo "error: $components/acr_auth.wasm is missing; build it with: cargo xtask build" >&2
    exit 1
fi

npm ci --prefer-offline --no-audit --no-fund
npm run build
npm run typecheck
npm test
