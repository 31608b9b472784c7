"""The bounds of one ``cmk-rule check`` run: it gates pull requests, so no input may stall or exhaust it.

Every limit is defined here, once, and the README's "Bounds" table quotes these names. A limit that is reached is an
input error (exit 2) whose one sentence names the file and the limit; nothing is silently truncated, because a gate
that judges part of its input passes what it did not read.

The limits are far above what real infrastructure code needs (the largest CDK templates are a few MB; a Terraform
root module rarely instantiates more than a few dozen modules) and low enough that, measured on this project's CI
machine, the worst input under them runs in a few seconds and a few hundred MB.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 10 * 1024 * 1024  # one file; CloudFormation's own template limit is 1 MB (S3-hosted)
MAX_TOTAL_BYTES = 50 * 1024 * 1024  # every file of one run together
MAX_NESTING = 128  # JSON/YAML nesting levels (a CloudFormation template or a plan needs a few dozen)
MAX_YAML_NODES = 1_000_000  # YAML nodes once aliases are expanded ("billion laughs")
MAX_MODULE_INSTANCES = 1_000  # Terraform module instances in one configuration (module calls x count/for_each)
MAX_RESOURCE_INSTANCES = 1_000  # instances of one resource block (count / for_each)
MAX_VARIANTS = 64  # deployments of one group (Fn::If / unknown conditionals): a handful in real code
MAX_EVALUATIONS = 2_000_000  # HCL expression nodes evaluated in one configuration (references re-evaluate)


class LimitExceeded(Exception):  # noqa: N818 - reads as the sentence it carries
    """An input beyond one of the bounds; the message is one sentence naming the file and the limit."""


def refuse(where: str, what: str, limit: int, unit: str) -> LimitExceeded:
    """The one wording of every limit error: ``WHERE: WHAT (the limit is N UNIT)``."""
    return LimitExceeded(f"{where}: {what} (cmk-rule check stops at {limit:,} {unit})")


@dataclass
class Budget:
    """What one run has used so far: bytes read, and (per Terraform configuration) instances and evaluations."""

    bytes_read: int = 0
    module_instances: int = 0
    evaluations: int = 0
    where: str = ""  # the file or module being evaluated, for the error
    _seen: set[Path] = field(default_factory=set)

    def charge_bytes(self, size: int, display: str) -> None:
        self.bytes_read += size
        if self.bytes_read > MAX_TOTAL_BYTES:
            raise refuse(display, "the files of this run are too large together", MAX_TOTAL_BYTES, "bytes")

    def charge_module_instance(self, where: str) -> None:
        self.module_instances += 1
        if self.module_instances > MAX_MODULE_INSTANCES:
            raise refuse(
                where,
                "the configuration expands into too many module instances",
                MAX_MODULE_INSTANCES,
                "module instances",
            )

    def charge_evaluation(self) -> None:
        self.evaluations += 1
        if self.evaluations > MAX_EVALUATIONS:
            raise refuse(
                self.where or "the configuration",
                "too many expressions to evaluate",
                MAX_EVALUATIONS,
                "evaluated expression nodes",
            )


class NotReadable(Exception):  # noqa: N818 - reads as the sentence it carries
    """A path that is not read: not a regular file, or a symlink leaving the scanned root. The reason is a phrase."""


def regular_file(path: Path, roots: tuple[Path, ...] = ()) -> os.stat_result:
    """The file's status when it may be read; raises :class:`NotReadable` with the reason otherwise.

    ``roots``: the scanned directories; a symlinked file whose target lies outside all of them is not followed, so a
    pull request cannot make the gate read ``/etc`` or a file of the CI runner (symlinked directories are never
    entered by the directory walk). A file named on the command line (no ``roots``) is the user's choice.
    """
    resolved = path.resolve()
    if roots and path.is_symlink() and not any(resolved.is_relative_to(root) for root in roots):
        raise NotReadable(f"a symlink to {resolved}, outside the scanned directory: not followed")
    try:
        status = resolved.stat()
    except OSError as error:
        raise NotReadable(f"cannot be read ({error.__class__.__name__}: {error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise NotReadable("not a regular file (a device, FIFO or socket is never read)")
    return status


def read_text(path: Path, display: str, budget: Budget, roots: tuple[Path, ...] = ()) -> str:
    """A regular file's text (UTF-8, BOM dropped), at most :data:`MAX_FILE_BYTES`, charged to ``budget``.

    Raises :class:`NotReadable` (skip it, or an error when named) and :class:`LimitExceeded`; ``OSError`` and
    ``UnicodeDecodeError`` are the caller's to word.
    """
    status = regular_file(path, roots)
    if status.st_size > MAX_FILE_BYTES:
        raise refuse(display, f"the file has {status.st_size:,} bytes", MAX_FILE_BYTES, "bytes per file")
    # O_NONBLOCK: a file swapped for a FIFO after the check still cannot block the run.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotReadable("not a regular file (a device, FIFO or socket is never read)")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise refuse(display, "the file grew beyond the size limit while read", MAX_FILE_BYTES, "bytes per file")
    budget.charge_bytes(len(data), display)
    return data.decode("utf-8-sig")


def nesting_depth(value: object, limit: int = MAX_NESTING) -> int:
    """How deeply lists and mappings nest in a parsed document (counted without recursion; stops past ``limit``).

    A YAML document's aliases were bounded before it was built (:data:`MAX_YAML_NODES`), so the walk is bounded too.
    """
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            children = current.values() if isinstance(current, dict) else current
            pending.extend((child, depth + 1) for child in children)
    return deepest
