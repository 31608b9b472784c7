"""Infrastructure tests: run jsii (aws-cdk-lib, cdk-nag) on the venv's Node.js 24.

jsii starts its Node.js process on first use and takes ``node`` from PATH; Node 20 at /usr/bin/node is end-of-life for
jsii and prints a warning on every run. Putting the venv's bin directory first here, before anything imports
aws_cdk, makes the suite independent of the caller's PATH.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_VENV_BIN = Path(sys.executable).parent
if (_VENV_BIN / "node").exists() and not os.environ.get("PATH", "").startswith(str(_VENV_BIN)):
    os.environ["PATH"] = f"{_VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
