"""`kvmtui advise [DOMAIN]... [-c URI]... [--demo] [--json]`: why is this VM slow, for scripts.

Reads each VM's XML, two samples of its figures (`--interval` apart: a rate needs two) and its
host's facts, and prints the findings of kvmtui.virt.advice. Connections are read-only: advice
never changes a VM."""

from __future__ import annotations

import argparse
import sys
import time

from kvmtui.cli.connect import Opened, print_results
from kvmtui.cli.options import add_connection_options, add_exits_source_option, seconds_in

# Long enough for rates that mean something, short enough for a script to wait for.
MAX_ADVISE_INTERVAL_S = 60.0


def build_parser() -> argparse.ArgumentParser:
    from kvmtui.virt.perf.stats import MIN_INTERVAL_S

    parser = argparse.ArgumentParser(
        prog="kvmtui advise",
        description="Say why the named domains (all when none is named) may be slow: findings "
                    "from each domain's XML, its exit rates, steal and I/O (two samples "
                    "--interval apart, running domains only) and its host. Connections are "
                    "opened read-only; nothing is changed.")
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="domain name or UUID")
    add_connection_options(parser, "advise on the shipped demo lab")
    parser.add_argument("--interval", metavar="SECONDS",
                        type=seconds_in(MIN_INTERVAL_S, MAX_ADVISE_INTERVAL_S), default=1.0,
                        help="time between the two samples the rates come from, "
                             f"{MIN_INTERVAL_S:g} to {MAX_ADVISE_INTERVAL_S:g} "
                             "(default: %(default)g)")
    add_exits_source_option(parser)
    parser.add_argument("--json", action="store_true",
                        help='one JSON array: {"name", "uri", "findings": [{"id", "severity" '
                             '(info, warning, problem), "title", "evidence" (a list of '
                             'strings), "fix"}]} per domain')
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from kvmtui.cli.connect import open_readonly, script_uris

    uris = script_uris(args.connect, args.demo)
    opened: list[Opened] = []
    try:
        for uri in uris:
            conn = open_readonly(uri)
            if conn is None:
                return 1
            opened.append(Opened(conn.getURI(), conn))
        chosen = _choose(opened, list(args.domains), uris)
        if chosen is None:
            return 1
        results = _advise_all(opened, chosen, args)
    finally:
        for o in opened:
            o.conn.close()
    if results is None:
        return 1
    return print_results(results, args.json, text_block)


def _choose(opened: list[Opened], wanted: list[str], uris: list[str]):
    """(connection, domain) pairs by name, or None after naming the domains not found."""
    import libvirt

    from kvmtui.virt.session.errors import libvirt_message

    chosen, found = [], set()
    for o in opened:
        try:
            for dom in sorted(o.conn.listAllDomains(0), key=lambda d: d.name()):
                if wanted and dom.name() not in wanted and dom.UUIDString() not in wanted:
                    continue
                found.update({dom.name(), dom.UUIDString()})
                chosen.append((o, dom))
        except libvirt.libvirtError as err:
            print(f"kvmtui advise: {o.uri}: {libvirt_message(err)}", file=sys.stderr)
            return None
    missing = [name for name in wanted if name not in found]
    if missing:
        print(f"kvmtui advise: no domain named {', '.join(repr(m) for m in missing)} on "
              f"{', '.join(uris)}", file=sys.stderr)
        return None
    return chosen


def _sample(opened: list[Opened], interval: float, exits_source: str) -> dict:
    """Every domain's stats with rates: two samples `interval` apart, every reason in detail."""
    from kvmtui.virt.perf.stats import StatsSampler

    sampler = StatsSampler(lambda: opened, interval=interval, exits_source=exits_source,
                           detail_all=True)
    sampler.sample_once()
    time.sleep(interval)
    stats: dict = {}
    for tick in sampler.sample_once():
        if tick.error:
            print(f"kvmtui advise: {tick.uri}: {tick.error} (rates not checked)",
                  file=sys.stderr)
            continue
        stats.update(tick.stats)
    return stats


def _advise_all(opened, chosen, args) -> list[dict] | None:
    import libvirt

    from kvmtui.virt.advice import advise
    from kvmtui.virt.advice.reading import read_host, read_inputs
    from kvmtui.virt.models import DomainKey
    from kvmtui.virt.session.errors import libvirt_message

    try:
        running = [(o, dom) for o, dom in chosen if dom.isActive()]
        # only a running VM has rates: without one, no samples and no waiting
        stats = _sample(opened, args.interval, args.exits_source) if running else {}
        hosts = {o.uri: read_host(o.conn, o.uri) for o in opened}
        results = []
        for o, dom in chosen:
            key = DomainKey(o.uri, dom.UUIDString())
            inputs = read_inputs(dom, stats.get(key), hosts[o.uri])
            results.append({"name": dom.name(), "uri": o.uri,
                            "findings": [f.as_json() for f in advise(inputs)]})
    except libvirt.libvirtError as err:
        print(f"kvmtui advise: {libvirt_message(err)}", file=sys.stderr)
        return None
    return results


def text_block(item: dict) -> str:
    findings = item["findings"]
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    summary = ", ".join(f"{n} {severity}" for severity, n in counts.items()) or "no findings"
    lines = [f"{item['name']} on {item['uri']}: {summary}"]
    for f in findings:
        lines.append(f"  {f['severity']:<8} {f['title']}")
        lines.extend(f"      {line}" for line in f["evidence"])
        fix = f["fix"].splitlines()
        lines.append(f"      fix: {fix[0]}" if fix else "      fix: -")
        lines.extend(f"           {line}" for line in fix[1:])
    return "\n".join(lines) + "\n"
