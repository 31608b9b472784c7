"""Terminal captures and the evidence page's screenshot for the documentation, from real runs:
``python3 tasks.py screenshots``.

Each command runs as its own process on a pseudo-terminal (so ``cmk-rule`` fits its tables to the width and colours
them, as it does for a person), its output is read back with rich's ANSI decoder and saved with rich's
``Console.export_svg`` into ``docs/assets/``. The scan runs against ``cmk-rule demo --serve``, the way the demo tells
a user to try it; so does the evidence command the demo prints, whose ``summary.html`` is photographed by headless
Chromium (Debian's ``chromium`` package) into ``docs/assets/evidence.png``. Nothing is drawn by hand, and nothing
touches AWS or the network.
"""

from __future__ import annotations

import argparse
import io
import os
import pty
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.text import Text

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "docs" / "assets"
CMK_RULE = str(Path(sys.executable).with_name("cmk-rule"))
WIDTH = 120
TIMEOUT = 180
CAPTURES = ("demo", "scan", "check", "evidence")
# The evidence page is written for 1,400 px without horizontal scrolling (docs/cli/evidence.md, "The HTML summary").
PAGE_SIZE = (1400, 1800)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


class MissingToolError(Exception):
    """A capture this machine cannot make; the message says what is missing."""


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("NO_COLOR", "TERM")}
    return {**env, "TERM": "xterm-256color", "COLUMNS": str(WIDTH), "LINES": "50", **(extra or {})}


def on_terminal(argv: list[str], env: dict[str, str] | None = None) -> str:
    """Run ``argv`` with stdout on a pseudo-terminal (stderr discarded: progress lines); return what it printed."""
    leader, follower = pty.openpty()
    with subprocess.Popen(  # noqa: S603 - the project's own console script
        argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.DEVNULL, cwd=ROOT, env=env or _environment()
    ) as process:
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=TIMEOUT)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")


def save_svg(name: str, command: str, output: str) -> Path:
    """``$ command`` and its output, as rich renders a terminal, into docs/assets/<name>.svg."""
    console = Console(record=True, width=WIDTH, force_terminal=True, color_system="truecolor", file=io.StringIO())
    console.print(Text(f"$ {command}", style="bold"))
    console.print(Text.from_ansi(output.rstrip("\n")))
    target = ASSETS / f"{name}.svg"
    svg = re.sub(r"@font-face\s*\{[^}]*\}\s*", "", console.export_svg(title=command))  # no font from a CDN
    target.write_text(svg, encoding="utf-8")
    return target


@contextmanager
def served_demo() -> Iterator[str]:
    """``cmk-rule demo --serve`` in the background; yields what it printed up to "Press Ctrl-C"."""
    server = subprocess.Popen(  # noqa: S603 - the project's own console script
        [CMK_RULE, "demo", "--serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=_environment({"NO_COLOR": "1"}),
    )  # fmt: skip
    printed = []
    try:
        for line in server.stdout or ():
            printed.append(line)
            if "Press Ctrl-C" in line:
                break
        else:
            raise SystemExit("cmk-rule demo --serve stopped before serving:\n" + "".join(printed)[-2000:])
        yield "".join(printed)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def demo_command(printed: str, command: str) -> tuple[list[str], dict[str, str]]:
    """The ``cmk-rule <command>`` line and the environment that ``demo --serve`` printed."""
    lines = printed.split("In another shell:", 1)[1].replace("\\\n", " ").splitlines()
    env = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
    (argv,) = [shlex.split(line) for line in lines if re.search(rf"\bcmk-rule {command}\b", line)]
    return argv[argv.index(command) :], env


def scan_command(printed: str) -> tuple[list[str], dict[str, str]]:
    """The scan command and environment that ``demo --serve`` printed."""
    return demo_command(printed, "scan")


def find_chromium() -> str:
    """Headless Chromium's executable, or :class:`MissingToolError` naming what to install."""
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    raise MissingToolError(
        "docs/assets/evidence.png needs headless Chromium to photograph summary.html, and none was found on PATH "
        f"({', '.join(CHROMIUM_NAMES)}); install it (Debian: apt-get install chromium) and run again"
    )


def chromium_argv(chromium: str, page: Path, target: Path, profile: Path) -> list[str]:
    """Headless Chromium photographing ``page`` at :data:`PAGE_SIZE`, with nothing reaching the network."""
    width, height = PAGE_SIZE
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--screenshot={target}", f"--window-size={width},{height}", page.as_uri(),
    ]  # fmt: skip


def save_evidence_png(evidence: list[str], env: dict[str, str]) -> Path:
    """Run the evidence command ``demo --serve`` printed into a temporary folder, photograph its summary.html."""
    chromium = find_chromium()
    target = ASSETS / "evidence.png"
    with tempfile.TemporaryDirectory(prefix="cmk-rule-evidence-") as work:
        folder, profile = Path(work) / "evidence", Path(work) / "chromium"
        argv = [*evidence[: evidence.index("--output-dir")], *evidence[evidence.index("--output-dir") + 2 :]]
        done = subprocess.run(  # noqa: S603 - the project's own console script
            [CMK_RULE, *argv, "--output-dir", str(folder), "--quiet"],
            cwd=ROOT, env=_environment(env), capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
        page = folder / "summary.html"
        if not page.is_file():  # exit 1 is expected (the demo fleet has failing groups); no page is not
            said = done.stderr[-2000:]
            raise SystemExit(f"cmk-rule evidence wrote no summary.html (exit {done.returncode}):\n{said}")
        target.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603 - a fixed argv: the browser, a local file, a local target
            chromium_argv(chromium, page, target, profile),
            cwd=ROOT, capture_output=True, timeout=TIMEOUT, check=False,
        )  # fmt: skip
    if not target.is_file():
        raise SystemExit(f"{chromium} wrote no screenshot of summary.html")
    return target


def capture(names: list[str]) -> tuple[list[Path], list[str]]:
    """Run and save the named captures (demo, scan, check, evidence); return what was written and what could not be
    made on this machine (each a sentence naming what is missing)."""
    ASSETS.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    missing: list[str] = []
    if "demo" in names:
        written.append(save_svg("demo", "cmk-rule demo", on_terminal([CMK_RULE, "demo"])))
    if "check" in names:
        argv = ["check", "tests/corpus/cloudformation/cache-groups.yaml", "--format", "table"]
        written.append(save_svg("check", f"cmk-rule {shlex.join(argv)}", on_terminal([CMK_RULE, *argv])))
    if "scan" in names:
        with served_demo() as printed:
            argv, env = scan_command(printed)
            shown = ["scan", "--region", "us-east-1", "--region", "eu-west-1", "..."]
            output = on_terminal([CMK_RULE, *argv], env=_environment(env))
        written.append(save_svg("scan", f"cmk-rule {shlex.join(shown)}", output))
    if "evidence" in names:
        try:
            find_chromium()
        except MissingToolError as error:
            missing.append(str(error))
        else:
            with served_demo() as printed:
                written.append(save_evidence_png(*demo_command(printed, "evidence")))
    return written, missing


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 tasks.py screenshots", description=__doc__.splitlines()[0])
    choices = ", ".join(CAPTURES)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which captures: {choices} (default: all)")
    names = parser.parse_args().names or list(CAPTURES)
    if unknown := sorted(set(names) - set(CAPTURES)):
        parser.error(f"unknown capture {', '.join(unknown)}; choose from {choices}")
    written, missing = capture(names)
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")
    for sentence in missing:
        print(f"not written: {sentence}", file=sys.stderr)
    if missing:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
