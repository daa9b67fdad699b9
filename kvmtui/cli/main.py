"""Command line: `kvmtui [-c URI]... [--readonly] [--demo]` starts the console."""

from __future__ import annotations

import argparse
import gc
import os
import sys

from kvmtui import __version__
from kvmtui.cli.options import add_connection_options, add_exits_source_option, seconds_in

DEFAULT_SHUTDOWN_TIMEOUT_S = 60.0
DEFAULT_REFRESH_S = 1.0
# With one host, how long start-up waits for it to answer before drawing the list anyway
# (the host then shows as connecting): an SSH login takes a second or two, not five.
SINGLE_HOST_WAIT_S = 5.0


def build_parser() -> argparse.ArgumentParser:
    # No guest shuts down in less than a second, and after a day nobody is waiting for it.
    from kvmtui.virt.session.config import REFRESH_RANGE_S, SHUTDOWN_TIMEOUT_RANGE_S

    MIN_INTERVAL_S, MAX_INTERVAL_S = REFRESH_RANGE_S

    parser = argparse.ArgumentParser(
        prog="kvmtui",
        description="A keyboard-driven console for KVM virtual machines managed by libvirt.",
        epilog="Without -c, kvmtui opens the hosts of its config file "
               "($XDG_CONFIG_HOME/kvmtui/config.toml, default ~/.config/kvmtui/config.toml), "
               "else $LIBVIRT_DEFAULT_URI or libvirt's own default URI. "
               "Try 'kvmtui --demo' for a lab of VMs that needs no hypervisor. "
               "'kvmtui inspect --help': domain details as JSON for scripts; "
               "'kvmtui top --help': performance samples as JSON or CSV.")
    add_connection_options(
        parser, "open the shipped demo lab (libvirt's test driver, no daemon needed)")
    parser.add_argument("--readonly", action="store_true",
                        help="open read-only connections: show everything, change nothing")
    low, high = SHUTDOWN_TIMEOUT_RANGE_S
    parser.add_argument("--shutdown-timeout", metavar="SECONDS", type=seconds_in(low, high),
                        default=None,
                        help="offer force off when a shutdown has not finished after this "
                             f"long, {low:g} to {high:g} (default: the config file's "
                             f"shutdown_timeout, else {DEFAULT_SHUTDOWN_TIMEOUT_S:g})")
    parser.add_argument("--refresh", metavar="SECONDS",
                        type=seconds_in(MIN_INTERVAL_S, MAX_INTERVAL_S), default=None,
                        help="seconds between performance samples, "
                             f"{MIN_INTERVAL_S:g} to {MAX_INTERVAL_S:g}; '+' and '-' change it "
                             "while running (default: the config file's refresh, else "
                             f"{DEFAULT_REFRESH_S:g})")
    parser.add_argument("--config", metavar="PATH",
                        help="the config file to read (default: "
                             "$XDG_CONFIG_HOME/kvmtui/config.toml, else "
                             "~/.config/kvmtui/config.toml)")
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
    uris = list(args.connect)
    if args.demo:
        from kvmtui.virt.session.demo import demo_uri

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
    if argv[:1] == ["advise"]:
        from kvmtui.cli.advise import main as advise_main

        return advise_main(argv[1:])
    # The console's start-up allocates hundreds of thousands of objects that live as long as
    # the program (modules, classes, rows): collecting while importing them costs time and
    # finds nothing. The app turns collection back on after its first paint.
    gc.disable()
    try:
        return _console(argv)
    finally:
        gc.enable()


def _console(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    config = load_settings(args)  # a broken file: one line, exit 1, nothing drawn
    if config is None:
        return 1
    missing = _not_terminals()
    if missing:
        # a full-screen console on a pipe or file draws escape codes and waits forever
        print(f"kvmtui: needs a terminal ({missing}); for scripts use 'kvmtui top' or "
              "'kvmtui inspect'", file=sys.stderr)
        return 1
    return run_console(args, config)


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


def load_settings(args: argparse.Namespace):
    """The config file (--config, else the default path), its defaults put into `args`; None
    after printing its one-line complaint."""
    from pathlib import Path

    from kvmtui.virt.session.config import ConfigError, default_config_path, load_config

    try:
        if args.config is not None:
            config = load_config(Path(args.config).expanduser().absolute(), required=True)
        else:
            config = load_config(default_config_path())
    except ConfigError as err:
        print(err, file=sys.stderr)
        return None
    if args.refresh is None:
        args.refresh = config.refresh if config.refresh is not None else DEFAULT_REFRESH_S
    if args.shutdown_timeout is None:
        args.shutdown_timeout = (config.shutdown_timeout if config.shutdown_timeout is not None
                                 else DEFAULT_SHUTDOWN_TIMEOUT_S)
    return config


def resolve_hosts(args: argparse.Namespace, config) -> list:
    """-c URIs (and --demo) instead of the configured hosts; else the configured hosts; else
    $LIBVIRT_DEFAULT_URI or libvirt's default. A -c URI that is configured keeps its name."""
    from kvmtui.virt.session.config import HostEntry

    configured = {h.uri: h for h in config.hosts}
    if args.connect or args.demo:
        return [configured.get(uri, HostEntry("", uri)) for uri in resolve_uris(args)]
    if config.hosts:
        return list(config.hosts)
    return [HostEntry("", uri) for uri in resolve_uris(args)]


def run_console(args: argparse.Namespace, config) -> int:
    from kvmtui.virt.session.fleet import Fleet
    from kvmtui.virt.session.native_stderr import native_stderr_silenced

    hosts = resolve_hosts(args, config)
    prepare = {}
    if args.demo:
        from kvmtui.virt.session.demo import apply_demo_settings, demo_uri
        prepare[demo_uri()] = apply_demo_settings
    fleet = Fleet(hosts, readonly=args.readonly, prepare=prepare)
    # Every host connects on its own thread, while Textual is imported (the slowest part of
    # start-up). Several hosts: the list is drawn at once, each host filling in as it answers.
    # One host: as before, kvmtui waits for it, so that a failure is one line and exit 1; but
    # a host that never answers only holds the start for SINGLE_HOST_WAIT_S.
    with native_stderr_silenced():
        fleet.start()
        from kvmtui.app import KvmApp

        if len(hosts) == 1:
            # libvirt's own default URI is local and must be known before the list is drawn
            fleet.wait_answered(None if not hosts[0].uri else SINGLE_HOST_WAIT_S)
    if len(hosts) == 1:
        (only,) = fleet.connections.values()
        if only.status.failed:
            fleet.close()
            print(_failure_line(only), file=sys.stderr)
            return 1
    app = KvmApp(fleet, fleet.summaries(), shutdown_timeout=args.shutdown_timeout,
                 refresh=args.refresh, exits_source=args.exits_source, config_path=config.path,
                 columns=config.columns)
    try:
        app.run()
    finally:
        fleet.close()
    return app.return_code or 0


def _failure_line(connection) -> str:
    """The one line a single host's failure at start gets: libvirt's words and what to try."""
    from kvmtui.virt.session.errors import connect_failure_line, libvirt_message

    if connection.last_error is not None and connection.failed_listing:
        return f"kvmtui: cannot list domains: {libvirt_message(connection.last_error)}"
    if connection.last_error is not None:
        return connect_failure_line(connection.uri or "libvirt's default URI",
                                    connection.last_error)
    return f"kvmtui: cannot connect to {connection.uri}: {connection.state.reason}"
