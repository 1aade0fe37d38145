"""Fixtures shared by the tests."""

from pathlib import Path

import pytest
from wasmtime import Engine
from wasmtime.component import Component

#: The `client` component, which exports every WIT type (`pure` plus `login`).
CLIENT_COMPONENT = Path(__file__).resolve().parents[3] / "target" / "components" / "acr_auth_client.wasm"


@pytest.fixture(scope="session")
def client_component() -> tuple[Engine, Component]:
    """The `client` component, compiled once per test run, with its engine."""
    engine = Engine()
    return engine, Component.from_file(engine, CLIENT_COMPONENT)
