"""Fixtures shared by the tests."""

import pytest
from wasmtime import Engine
from wasmtime.component import Component

from acr_auth._component import DEFAULT_CLIENT_COMPONENT

#: The `client` component, which exports every WIT type (`pure` plus `entra`
#: and `login`).
CLIENT_COMPONENT = DEFAULT_CLIENT_COMPONENT


@pytest.fixture(scope="session")
def client_component() -> tuple[Engine, Component]:
    """The `client` component, compiled once per test run, with its engine."""
    engine = Engine()
    return engine, Component.from_file(engine, CLIENT_COMPONENT)
