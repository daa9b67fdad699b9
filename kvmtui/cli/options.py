"""What the three commands' parsers share: the connection options and the argument types."""

from __future__ import annotations

import argparse
import math

EXITS_SOURCE_HELP = ("KVM exit counters from libvirt's per-vCPU stats (any URI), KVM debugfs "
                     "(local, root; libvirt's when debugfs cannot be read, saying why), or "
                     "auto: libvirt, else debugfs (default: auto)")


def add_connection_options(parser: argparse.ArgumentParser, demo_help: str) -> None:
    """-c URI (repeatable) and --demo, worded alike in every command."""
    parser.add_argument("-c", "--connect", metavar="URI", action="append", default=[],
                        help="libvirt URI to connect to (repeat for several hosts), "
                             "e.g. qemu:///system or qemu+ssh://root@host/system")
    parser.add_argument("--demo", action="store_true", help=demo_help)


def add_exits_source_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exits-source", choices=("auto", "libvirt", "debugfs"),
                        default="auto", help=EXITS_SOURCE_HELP)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("it must be 1 or more")
    return value


def seconds_in(low: float, high: float):
    """An argparse type: a number of seconds from low to high (never nan or inf)."""
    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isnan(value):
            raise argparse.ArgumentTypeError(
                f"'{text}' is not a number of seconds: give {low:g} to {high:g}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text} is out of range: give {low:g} to {high:g} seconds")
        return value

    return seconds
