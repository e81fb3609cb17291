"""The live count ``omnisdk catalog import`` shows on a terminal while listings arrive."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from omnisdk.sync.catalog import ImportStats

__all__ = ["ImportProgress"]


class ImportProgress:
    """A spinner with the listings read so far and how many SKUs are new or matched; the
    platform does not say how many listings there are, so it counts up instead of filling."""

    def __init__(self, account: str, console: Console) -> None:
        self.account = account
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task = self.progress.add_task(self._describe(None), total=None)

    def _describe(self, stats: ImportStats | None) -> str:
        if stats is None:
            return f"importing {self.account}: reading its listings"
        return (
            f"importing {self.account}: {stats.products_seen} listings, "
            f"{stats.variants_created} new SKUs, {stats.variants_matched} matched"
        )

    def update(self, stats: ImportStats) -> None:
        """Show the running figures (called by the engine after each listing)."""
        self.progress.update(self._task, description=self._describe(stats))

    def __enter__(self) -> ImportProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.progress.stop()
