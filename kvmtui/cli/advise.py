"""`kvmtui advise [DOMAIN]... [-c URI]... [--demo] [--json]`: why is this VM slow, for scripts.

Reads each VM's XML, two samples of its figures (`--interval` apart: a rate needs two) and its
host's facts, and prints the findings of kvmtui.virt.advice. Connections are read-only: advice
never changes a VM. The text is wrapped to the terminal's width (80 columns into a pipe), at
spaces and between tags only; --json is never wrapped."""

from __future__ import annotations

import argparse
import re
import shutil
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


# "  warning  Title": where the title starts, under which its further lines go
_TITLE = 2 + 9
_EVIDENCE = 6                   # evidence and "fix:" under the title
_FIX = _EVIDENCE + len("fix: ")  # the fix's further lines, under its first
MIN_WIDTH = 40                  # narrower terminals get 40-column lines: still readable

# a tag, with the spaces inside it, or a run of text between spaces and tags
_TOKEN = re.compile(r"<[^<>\n]*>|[^\s<]+|<")


def output_width() -> int:
    """The terminal's columns ($COLUMNS first), 80 when stdout is not a terminal."""
    return max(shutil.get_terminal_size((80, 24)).columns, MIN_WIDTH)


def wrap(text: str, width: int, indent: int = 0, hang: int = 0) -> list[str]:
    """`text` in lines of at most `width` columns, the first at `indent`, the others at
    `indent + hang`. Lines break only at spaces and between two adjacent tags (`><`), never
    inside a word or a tag, so an XML snippet stays whole and can be copied. A word or tag
    longer than any line is not cut either: it overflows, on a line of its own or after what
    precedes it (when a line of its own would be as long)."""
    return _pack(_chunks(text), width, indent, hang)


def _chunks(text: str) -> list[tuple[str, str]]:
    """The text's pieces that are never broken, each with the spaces before it."""
    chunks: list[tuple[str, str]] = []
    end, after_tag = 0, False
    for match in _TOKEN.finditer(text):
        gap, token = text[end:match.start()], match.group()
        is_tag = token.startswith("<") and token.endswith(">") and len(token) > 1
        if chunks and not gap and not (after_tag and is_tag):
            chunks[-1] = (chunks[-1][0], chunks[-1][1] + token)
        else:
            chunks.append((gap, token))
        end, after_tag = match.end(), is_tag
    return chunks


def _pack(chunks: list[tuple[str, str]], width: int, indent: int, hang: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for gap, chunk in chunks:
        if not line:
            line = " " * indent + chunk
        elif len(line) + len(gap) + len(chunk) <= max(width, indent + hang + len(chunk)):
            # (a chunk too long for any line stays where it is: a line of its own would be
            # as long)
            line += gap + chunk
        else:
            lines.append(line)
            line = " " * (indent + hang) + chunk
    lines.append(line)
    return lines


def _summary(findings: list[dict]) -> list[str]:
    """['1 problem,', '2 warnings,', '1 info'], or ['no findings']."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    parts = [f"{n} {severity}{'s' if n != 1 and severity != 'info' else ''}"
             for severity, n in counts.items()] or ["no findings"]
    return [part + "," for part in parts[:-1]] + parts[-1:]


def text_block(item: dict, width: int | None = None) -> str:
    """A domain's findings as text, wrapped to `width` (the terminal's by default)."""
    width = output_width() if width is None else width
    findings = item["findings"]
    # the header breaks between "1 problem," and "2 warnings", not inside them
    header = _chunks(f"{item['name']} on {item['uri']}:") + [(" ", part)
                                                             for part in _summary(findings)]
    lines = _pack(header, width, 0, 4)
    for f in findings:
        lines += wrap(f"{f['severity']:<8} {f['title']}", width, 2, _TITLE - 2)
        for line in f["evidence"]:
            lines += wrap(line, width, _EVIDENCE, 2)
        fix = f["fix"].splitlines() or ["-"]
        lines += wrap(f"fix: {fix[0]}", width, _EVIDENCE, _FIX - _EVIDENCE)
        for line in fix[1:]:
            lines += wrap(line, width, _FIX)
    return "\n".join(lines) + "\n"
