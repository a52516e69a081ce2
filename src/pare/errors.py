"""The exceptions pare raises on purpose.

Every error a user can cause (bad input, an unreachable registry, a digest that does not match)
is a PareError: the CLI prints its message as one line and exits non-zero. Anything else is a bug
and shows a traceback.
"""

from __future__ import annotations


class PareError(Exception):
    """A failure with a message fit for the user; exit_code is what the CLI returns."""

    exit_code = 1


class UsageError(PareError):
    """The user asked for something malformed (a bad reference, an unknown transport...)."""

    exit_code = 2


class InvalidReference(UsageError):
    """A malformed image reference."""


class DigestMismatch(PareError):
    """Bytes did not hash to the digest they were announced with."""


class ManifestError(PareError):
    """A manifest, index or config that is not valid JSON of the expected shape."""


class NotFound(PareError):
    """An image, tag or blob that does not exist in a store."""


class RegistryError(PareError):
    """A registry refused, failed, or could not be reached."""


class AuthError(RegistryError):
    """Credentials were missing or rejected."""


class UnsafeTarError(PareError):
    """A tar entry that would escape its root, or a tar that is truncated or malformed."""


class ToolMissing(PareError):
    """A system tool pare drives (skopeo, buildah, mmdebstrap...) is not installed."""
