"""Fixtures shared by the tests."""

import pytest
from wasmtime import Engine
from wasmtime.component import Component

from acr_auth._component import _runtime


@pytest.fixture(scope="session")
def pure_component() -> tuple[Engine, Component]:
    """The `pure` component the package runs, with its engine."""
    runtime = _runtime()
    return runtime.engine, runtime.component
