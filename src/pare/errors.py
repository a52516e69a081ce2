"""The exceptions pare raises on purpose, and the exit code each one means.

Every error a user can cause (bad input, an unreachable registry, a digest that does not match)
is a PareError: the CLI prints its message as one line and exits with the class's `exit_code`.
Anything else is a bug and shows a traceback (exit 70). The codes are a contract for scripts and CI
(docs/cli.md); a new error class picks its meaning by its base class, never a number of its own.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `pare` exits with (docs/cli.md has the table)."""

    OK = 0
    POLICY = 1  # a gate the user asked for failed or could not judge (--fail-on, --ci, --verify)
    USAGE = 2  # malformed command line: unknown option, bad value, ambiguous reference
    INPUT = 3  # an input that does not exist or is not valid (image, file, layout, tar, manifest)
    NETWORK = 4  # a registry or download refused, failed or could not be reached
    ENVIRONMENT = 5  # this machine lacks something: a tool, root, a kernel feature, disk space
    BUG = 70  # an unexpected exception (EX_SOFTWARE): please report it
    INTERRUPTED = 130  # Ctrl-C or SIGTERM
    BROKEN_PIPE = 141  # the reader of stdout went away (`pare ... | head`), as coreutils exit


class PareError(Exception):
    """A failure with a message fit for the user; exit_code is what the CLI returns."""

    exit_code: int = ExitCode.INPUT


class PolicyFailed(PareError):
    """A check the user asked for did not pass (or had nothing to judge with)."""

    exit_code = ExitCode.POLICY


class UsageError(PareError):
    """The user asked for something malformed (a bad reference, an unknown transport...)."""

    exit_code = ExitCode.USAGE


class InvalidReference(UsageError):
    """A malformed image reference."""


class InputError(PareError):
    """An input that is missing or not what it claims to be."""

    exit_code = ExitCode.INPUT


class DigestMismatch(InputError):
    """Bytes did not hash to the digest they were announced with."""


class ManifestError(InputError):
    """A manifest, index or config that is not valid JSON of the expected shape."""


class NotFound(InputError):
    """An image, tag or blob that does not exist in a store."""


class UnsafeTarError(InputError):
    """A tar entry that would escape its root, or a tar that is truncated or malformed."""


class NetworkError(PareError):
    """A remote server refused, failed, or could not be reached."""

    exit_code = ExitCode.NETWORK


class RegistryError(NetworkError):
    """A registry refused, failed, or could not be reached."""


class AuthError(RegistryError):
    """Credentials were missing or rejected."""


class EnvironmentProblem(PareError):
    """This machine lacks what the command needs (a tool, root, a kernel feature)."""

    exit_code = ExitCode.ENVIRONMENT


class ToolMissing(EnvironmentProblem):
    """A system tool pare drives (skopeo, buildah, mmdebstrap...) is not installed."""
