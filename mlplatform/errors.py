"""The error types every part of the platform raises for a problem a user must fix.

Each carries one clear line (what is wrong and, where possible, what to do) and the exit code
the CLI uses. Anything else that escapes is a bug and is shown with its traceback.
"""


class MlpError(Exception):
    """A problem the user can act on. `str(error)` is the one line the CLI prints."""

    exit_code = 1


class ConfigError(MlpError):
    """Bad input: values, flags, specs or files that cannot be used as given."""

    exit_code = 2


class DependencyError(MlpError):
    """A service or binary the operation needs is missing or does not answer."""

    exit_code = 3


class MissingBinary(DependencyError):
    """A required executable (helm, nginx, prometheus, ...) is not installed."""

    def __init__(self, name: str, hint: str):
        super().__init__(f"{name} not found: {hint}")
        self.name = name
