"""TIC checksums: `(sum of the covered bytes & 0x3F) + 0x20`."""

from __future__ import annotations


def checksum(covered: bytes) -> int:
    """Return the checksum character (0x20..0x5F) of the covered bytes."""
    return checksum_of_sum(sum(covered))


def checksum_of_sum(total: int) -> int:
    """Return the checksum character of bytes whose sum is `total`."""
    return (total & 0x3F) + 0x20
