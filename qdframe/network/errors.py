"""Errors of the sharing network client."""

from __future__ import annotations

from qdframe.errors import EXIT_USAGE, QdframeError

__all__ = ["ContributionRejected", "NetworkError"]


class NetworkError(QdframeError):
    """The sharing network could not do what was asked."""


class ContributionRejected(NetworkError):
    """A server refused a contribution as invalid; sending it again will not help."""

    exit_code = EXIT_USAGE
