#!/usr/bin/env bash
# Runs the Python host's tests: creates (or reuses) the virtualenv at
# <repo>/target/python-venv, installs requirements.txt into it and runs pytest.
# Needs the pure component built by `cargo xtask build` (the package is not
# installed here, so it is named in ACR_AUTH_COMPONENT). The live login tests
# run only under host-tests/with-test-acr.sh, which provides the test registry.
# Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$repo/target/python-venv"

component="${ACR_AUTH_COMPONENT:-${ACR_AUTH_COMPONENTS_DIR:-$repo/target/components}/acr_auth.wasm}"
if [[ ! -f "$component" ]]; then
    echo "error: $component is missing: run cargo xtask build" >&2
    exit 1
fi
export ACR_AUTH_COMPONENT="$component"
if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3.11}" -m venv "$venv"
fi
# A no-op, without network access, once the pinned versions are installed.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

cd "$here"
status=0
"$venv/bin/python" -m pytest -q -rsx "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "error: pytest collected no tests" >&2
fi
exit "$status"
