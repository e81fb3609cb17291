"""Opening the engine for one CLI command, and printing what engine operations return."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from omnisdk.cli.output import emit_json
from omnisdk.cli.state import CliState

if TYPE_CHECKING:
    from omnisdk.sync.engine import Engine

__all__ = ["JsonOption", "emit_result", "jsonable", "open_engine", "run_with_engine"]

T = TypeVar("T")

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON (exactly the result's model) instead of text.")
]
"""The ``--json`` flag every engine command that prints data takes."""


@contextlib.asynccontextmanager
async def open_engine(state: CliState) -> AsyncIterator[Engine]:
    """The engine for the invocation's config and plugins, open for the block."""
    from omnisdk.sync.engine import Engine

    async with Engine(state.config(), plugins=state.plugins) as engine:
        yield engine


def run_with_engine(state: CliState, work: Callable[[Engine], Awaitable[T]]) -> T:
    """Open the engine, ``await work(engine)``, close the engine; return what ``work`` did."""

    async def main() -> T:
        async with open_engine(state) as engine:
            return await work(engine)

    return asyncio.run(main())


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: pydantic models as their JSON, dataclasses field by field."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return to_jsonable_python(value)


def emit_result(value: Any) -> None:
    """Print one engine result as an indented JSON document on stdout."""
    emit_json(jsonable(value))
