"""Progress on stderr for the steps that can take more than a second: a ``rich`` bar per Region (per listed page,
then per judged group and key read), and one line per step of the demo's seeding.

Shown only when stderr is a terminal and ``--quiet`` was not given, and only once a step has lasted
:data:`SHOW_AFTER_SECONDS` (a fast scan prints nothing but its report). ``rich`` is imported only when a bar is
actually shown, so start-up and pipes never pay for it. Thread-safe: Regions are scanned in parallel threads.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from cmk_rule_cli.output import is_terminal
from cmk_rule_cli.text_safety import visible

SHOW_AFTER_SECONDS = 1.0


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
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

    def _refresh(self, region: str) -> None:
        if not self._enabled:
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
        from rich.console import Console  # noqa: PLC0415 - only when a bar is shown
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

        self._bar = Progress(
            TextColumn("{task.description}", markup=False),  # a description is text, never rich markup
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=self._stream),
            transient=True,
        )
        for region, state in self._states.items():
            state.task = self._bar.add_task(visible(f"{self._label} {region}: waiting"), total=None)
            self._show(region)  # what happened before the bar was shown
        self._bar.start()


class Counted:
    """A one-line count of items done (``label n/total (item)``) on stderr, on a terminal and without ``--quiet``:
    for steps whose unit is not a Region (the key-use lookups, one per key)."""

    def __init__(self, total: int, label: str, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled and is_terminal(self._stream)
        self._total, self._label, self._done = total, label, 0
        self._lock = threading.Lock()

    def advance(self, item: str) -> None:
        """Count one item as done and redraw the line."""
        with self._lock:
            self._done += 1
            if self._enabled:
                self._stream.write(f"\r\033[K{self._label} {self._done}/{self._total} ({visible(item)})")
                self._stream.flush()

    def close(self) -> None:
        """Erase the line, so the summary that follows starts clean."""
        if self._enabled:
            self._stream.write("\r\033[K")
            self._stream.flush()


class Steps:
    """One line per step on stderr (the demo's seeding and invocations), on a terminal and without ``--quiet``."""

    def __init__(self, label: str, *, stream: TextIO | None = None, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled and is_terminal(self._stream)
        self._label = label

    def step(self, message: str) -> None:
        """Say what is being done now."""
        if self._enabled:
            self._stream.write(f"{self._label}: {visible(message)}\n")
            self._stream.flush()
