"""What marks a test user: an email in the reserved test domain (and ``pitstop: true`` in its
metadata, checked in SQL). ``.test`` is reserved (RFC 2606): no real address is ever in it."""

from __future__ import annotations

import re

from harness.errors import BadInput

DEFAULT_TEST_DOMAIN = "pitstop.test"

# A bare host name: labels of letters, digits and inner hyphens, at least one dot.
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def check_test_domain(domain: str) -> str:
    """Return the test domain in lower case, or refuse one that is not a host name."""
    normalized = domain.strip().lower().lstrip("@")
    if not _DOMAIN.match(normalized):
        raise BadInput(
            f"test domain {domain!r} is not a domain name",
            fix="give a domain such as pitstop.test (a .test domain can never be a real address)",
        )
    return normalized
