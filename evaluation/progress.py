"""Progress bars for long work (rich, on stderr; silent when disabled)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")

_enabled = True
_active = 0  # bars open now: an inner bar (one analysis inside `analyse --all`) stays silent
_shown: list[tuple[Progress, object, str]] = []  # the bar on screen: (bar, task, description)


def set_enabled(value: bool) -> None:
    global _enabled
    _enabled = value


@contextmanager
def progress_bar(description: str, total: int | None):
    """Yield an `advance(n=1)` function that moves a bar on stderr."""
    global _active
    if not _enabled or _active:
        yield lambda n=1: None
        return
    _active += 1
    try:
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            transient=True, console=Console(stderr=True),
        ) as bar:
            task = bar.add_task(description, total=total)
            _shown.append((bar, task, description))
            try:
                yield lambda n=1: bar.advance(task, n)
            finally:
                _shown.pop()
    finally:
        _active -= 1


def stage(text: str | None) -> None:
    """Say what the bar on screen is doing now ("sampling ..."), or nothing when there is no bar
    (disabled, or a notebook without one); None goes back to the bar's own description."""
    if _shown:
        bar, task, description = _shown[-1]
        bar.update(task, description=description if text is None else f"{description}: {text}")


def in_notebook() -> bool:
    """Running in a Jupyter kernel (where a sampler can draw its own progress display)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def notebook_progress() -> bool:
    """Whether a library's own progress display should be shown: in a notebook, when enabled."""
    return _enabled and in_notebook()


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    items = list(items) if total is None else items
    with progress_bar(description, total if total is not None else len(items)) as advance:  # type: ignore[arg-type]
        for item in items:
            yield item
            advance()
