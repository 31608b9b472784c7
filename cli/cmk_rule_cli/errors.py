"""The one exception every ``cmk-rule`` command turns into "error: <sentence>" and exit code 2.

It lives apart so that argument parsing, AWS collection and the commands can all raise it without importing each
other.
"""


class CliError(Exception):
    """A problem the operator can fix, said in one sentence: exit code 2, never a traceback."""
