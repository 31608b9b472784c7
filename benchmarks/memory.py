"""Resident memory of the current process, without psutil.

``VmHWM`` in ``/proc/self/status`` is the peak resident set size: what Lambda reports as "Max Memory Used" and
what the 128 MB bound is about. Off Linux, ``ru_maxrss`` gives the same peak (kilobytes on Linux, bytes on macOS).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

LAMBDA_MEMORY_BOUND_MB = 128.0
_STATUS = Path("/proc/self/status")


def _status_mb(field: str) -> float | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # the kernel reports kB
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    """The process's peak resident memory so far, in MiB."""
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def current_rss_mb() -> float:
    """The process's resident memory now, in MiB (falls back to the peak where /proc is missing)."""
    current = _status_mb("VmRSS")
    return current if current is not None else peak_rss_mb()
