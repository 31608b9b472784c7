"""Progress on stderr for the steps that can take more than a second, in one style: a ``rich`` bar per Region (per
listed page, then per judged group and key read), a ``rich`` bar for counted steps (evidence's key-use lookups), and
one line per step of the demo's seeding.

Shown only when stderr is a terminal and ``--quiet`` was not given, and only once a step has lasted
:data:`SHOW_AFTER_SECONDS` (a fast scan prints nothing but its report). ``rich`` is imported only when a bar is
actually shown, so start-up and pipes never pay for it. Thread-safe: Regions are scanned in parallel threads.

A closed display stays closed: after Ctrl-C the worker threads still in flight keep reporting, and must not draw a
bar again over the interrupted terminal. :func:`stop_all` stops every bar still drawn (``main`` calls it on Ctrl-C),
so the terminal is left clean: the bar erased and the cursor shown again.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from cmk_rule_cli.reports.output import is_terminal, say
from cmk_rule_cli.reports.text_safety import visible

SHOW_AFTER_SECONDS = 1.0
_DRAWN: set[Any] = set()  # rich Progress displays currently started (stop_all stops them)
_DRAWN_LOCK = threading.Lock()


def stop_all() -> None:
    """Stop every progress display still drawn: rich erases its transient bar and shows the cursor again."""
    with _DRAWN_LOCK:
        drawn = list(_DRAWN)
        _DRAWN.clear()
    for bar in drawn:
        bar.stop()


def _new_bar(stream: TextIO, *columns: Any) -> Any:
    """A started, transient rich ``Progress`` on ``stream`` (registered for :func:`stop_all`)."""
    from rich.console import Console  # noqa: PLC0415 - only when a bar is shown
    from rich.progress import Progress  # noqa: PLC0415

    bar = Progress(*columns, console=Console(file=stream), transient=True)
    with _DRAWN_LOCK:
        _DRAWN.add(bar)
    return bar


def _stop(bar: Any) -> None:
    with _DRAWN_LOCK:
        _DRAWN.discard(bar)
    bar.stop()


@dataclass
class _RegionState:
    listed: int = 0
    pages: int = 0
    judged: int = 0
    keys: int = 0
    listing: bool = True
    task: Any = None


class ScanProgress:
    """Per-Region progress of a scan. The collection calls :meth:`page`, :meth:`judged`, :meth:`key_read` and
    :meth:`region_done`; they cost a dictionary update when nothing is shown."""

    def __init__(self, regions: Sequence[str], *, label: str, stream: TextIO | None = None, enabled: bool = True):
        self._stream = stream or sys.stderr
        self._enabled = enabled and is_terminal(self._stream)
        self._label = label
        self._states = {region: _RegionState() for region in regions}
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._bar: Any = None
        self._closed = False

    def page(self, region: str, groups: int) -> None:
        """One page of DescribeReplicationGroups arrived with ``groups`` groups."""
        with self._lock:
            state = self._states[region]
            state.listed += groups
            state.pages += 1
            self._refresh(region)

    def judged(self, region: str) -> None:
        """One group was judged (its key and tags read)."""
        with self._lock:
            state = self._states[region]
            state.listing = False
            state.judged += 1
            self._refresh(region)

    def key_read(self, region: str) -> None:
        """One distinct key was described by KMS."""
        with self._lock:
            self._states[region].keys += 1
            self._refresh(region)

    def region_done(self, region: str) -> None:
        """The Region is finished."""
        with self._lock:
            state = self._states[region]
            state.listing = False
            state.judged = max(state.judged, state.listed)
            self._refresh(region)

    def close(self) -> None:
        """Remove the bars (transient), so the summary that follows starts clean."""
        with self._lock:
            self._closed = True
            if self._bar is not None:
                _stop(self._bar)
                self._bar = None

    def _refresh(self, region: str) -> None:
        if not self._enabled or self._closed:
            return
        if self._bar is None:
            if time.monotonic() - self._started < SHOW_AFTER_SECONDS:
                return
            self._start()
        self._show(region)

    def _show(self, region: str) -> None:
        state = self._states[region]
        if state.listed == 0 and state.pages == 0 and state.listing:
            return  # nothing yet: "waiting"
        if state.listing:
            text = f"{self._label} {region}: listing, {state.listed:,} groups in {state.pages} page(s)"
            self._bar.update(state.task, description=visible(text), total=None, completed=0)
        else:
            text = f"{self._label} {region}: {state.listed:,} groups, {state.keys:,} key(s) read"
            self._bar.update(state.task, description=visible(text), total=max(state.listed, 1), completed=state.judged)

    def _start(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn  # noqa: PLC0415

        self._bar = _new_bar(
            self._stream,
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        for region, state in self._states.items():
            state.task = self._bar.add_task(visible(f"{self._label} {region}: waiting"), total=None)
            self._show(region)  # what happened before the bar was shown
        self._bar.start()


class Counted:
    """A ``rich`` bar of items done (``label  ━━━━  n/total  (item)``) on stderr, on a terminal and without
    ``--quiet``, shown once the step has lasted :data:`SHOW_AFTER_SECONDS`: for steps whose unit is not a Region
    (evidence's key-use lookups, one per key). The same style as :class:`ScanProgress`."""

    def __init__(self, total: int, label: str, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled and is_terminal(self._stream)
        self._total, self._label, self._done = total, label, 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._closed = False

    def advance(self, item: str) -> None:
        """Count one item as done and redraw the bar."""
        with self._lock:
            self._done += 1
            if not self._enabled or self._closed:
                return
            if self._bar is None:
                if time.monotonic() - self._started < SHOW_AFTER_SECONDS:
                    return
                from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn  # noqa: PLC0415

                self._bar = _new_bar(
                    self._stream,
                    TextColumn("{task.description}", markup=False),  # text, never rich markup
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    TextColumn("{task.fields[item]}", markup=False),
                )
                self._task = self._bar.add_task(self._label, total=self._total, item="")
                self._bar.start()
            self._bar.update(self._task, completed=self._done, item=f"({visible(item)})")

    def close(self) -> None:
        """Remove the bar (transient), so the summary that follows starts clean."""
        with self._lock:
            self._closed = True
            if self._bar is not None:
                _stop(self._bar)
                self._bar = None


class Steps:
    """One line per step on stderr (the demo's seeding and invocations), on a terminal and without ``--quiet``."""

    def __init__(self, label: str, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled and is_terminal(self._stream)
        self._label = label

    def step(self, message: str) -> None:
        """Say what is being done now."""
        if self._enabled:
            say(f"{self._label}: {visible(message)}", self._stream)
            self._stream.flush()
