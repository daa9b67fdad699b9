"""Command line: `kvmtui [-c URI]... [--readonly] [--demo]` starts the console."""

from __future__ import annotations

import argparse
import os
import sys
import threading

from kvmtui import __version__
from kvmtui.cli.options import add_connection_options, add_exits_source_option, seconds_in

DEFAULT_SHUTDOWN_TIMEOUT_S = 60.0
# No guest shuts down in less than a second, and after a day nobody is waiting for it.
SHUTDOWN_TIMEOUT_RANGE_S = (1.0, 86400.0)


def build_parser() -> argparse.ArgumentParser:
    from kvmtui.virt.perf.stats import MAX_INTERVAL_S, MIN_INTERVAL_S

    parser = argparse.ArgumentParser(
        prog="kvmtui",
        description="A keyboard-driven console for KVM virtual machines managed by libvirt.",
        epilog="Without -c, kvmtui uses $LIBVIRT_DEFAULT_URI or libvirt's own default URI. "
               "Try 'kvmtui --demo' for a lab of VMs that needs no hypervisor. "
               "'kvmtui inspect --help': domain details as JSON for scripts; "
               "'kvmtui top --help': performance samples as JSON or CSV.")
    add_connection_options(
        parser, "open the shipped demo lab (libvirt's test driver, no daemon needed)")
    parser.add_argument("--readonly", action="store_true",
                        help="open read-only connections: show everything, change nothing")
    low, high = SHUTDOWN_TIMEOUT_RANGE_S
    parser.add_argument("--shutdown-timeout", metavar="SECONDS", type=seconds_in(low, high),
                        default=DEFAULT_SHUTDOWN_TIMEOUT_S,
                        help="offer force off when a shutdown has not finished after this "
                             f"long, {low:g} to {high:g} (default: %(default)g)")
    parser.add_argument("--refresh", metavar="SECONDS",
                        type=seconds_in(MIN_INTERVAL_S, MAX_INTERVAL_S), default=1.0,
                        help="seconds between performance samples, "
                             f"{MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g}; '+' and '-' change it "
                             "while running (default: %(default)g)")
    add_exits_source_option(parser)
    parser.add_argument("--version", action="version", version=_version_text())
    return parser


def _version_text() -> str:
    try:
        import libvirt

        lib = libvirt.getVersion()
        from kvmtui.virt.session.uris import version_text

        libvirt_text = f"libvirt {version_text(lib)}"
    except Exception:  # noqa: BLE001 - --version must work even when libvirt is broken
        libvirt_text = "libvirt unavailable"
    return f"kvmtui {__version__} ({libvirt_text})"


def resolve_uris(args: argparse.Namespace) -> list[str]:
    from kvmtui.virt.session.demo import demo_uri

    uris = list(args.connect)
    if args.demo:
        uris.insert(0, demo_uri())
    if not uris:
        # "" lets libvirt pick its own default (uri_default in libvirt.conf, then probing)
        uris.append(os.environ.get("LIBVIRT_DEFAULT_URI", ""))
    return uris


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["inspect"]:
        from kvmtui.cli.inspect import main as inspect_main

        return inspect_main(argv[1:])
    if argv[:1] == ["top"]:
        from kvmtui.cli.top import main as top_main

        return top_main(argv[1:])
    args = build_parser().parse_args(argv)
    missing = _not_terminals()
    if missing:
        # a full-screen console on a pipe or file draws escape codes and waits forever
        print(f"kvmtui: needs a terminal ({missing}); for scripts use 'kvmtui top' or "
              "'kvmtui inspect'", file=sys.stderr)
        return 1
    return run_console(args)


def _not_terminals() -> str:
    """'stdin is not a terminal', 'stdout is not…', both, or '' when both are terminals."""
    names = []
    for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)):
        try:
            tty = stream is not None and stream.isatty()
        except ValueError:  # closed
            tty = False
        if not tty:
            names.append(name)
    if len(names) == 2:
        return "stdin and stdout are not terminals"
    return f"{names[0]} is not a terminal" if names else ""


def run_console(args: argparse.Namespace) -> int:
    from kvmtui.virt.models import DomainSummary
    from kvmtui.virt.session.errors import connect_failure_line, libvirt_message
    from kvmtui.virt.session.fleet import ConnectFailed, Fleet
    from kvmtui.virt.session.native_stderr import native_stderr_silenced

    fleet = Fleet(resolve_uris(args), readonly=args.readonly)
    summaries: list[DomainSummary] = []
    errors: list[str] = []  # filled by the connecting thread, read after it ended

    def connect_and_list() -> None:
        try:
            fleet.open_all()
            if args.demo and not args.readonly:
                from kvmtui.virt.session.demo import apply_demo_settings, demo_uri
                apply_demo_settings(fleet.connection(demo_uri()).conn)
            summaries.extend(fleet.list_summaries())
        except ConnectFailed as failed:
            errors.append(connect_failure_line(failed.uri, failed.error))
        except Exception as err:  # noqa: BLE001 - one clear line, never a traceback
            errors.append(f"kvmtui: cannot list domains: {libvirt_message(err)}")

    # Connecting and listing overlap with importing Textual, the slowest part of start-up.
    with native_stderr_silenced():
        worker = threading.Thread(target=connect_and_list, name="connect", daemon=True)
        worker.start()
        from kvmtui.app import KvmApp

        worker.join()
    if errors:
        print(errors[0], file=sys.stderr)
        return 1
    app = KvmApp(fleet, summaries, shutdown_timeout=args.shutdown_timeout,
                 refresh=args.refresh, exits_source=args.exits_source)
    try:
        app.run()
    finally:
        fleet.close()
    return app.return_code or 0
