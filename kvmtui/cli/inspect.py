"""`kvmtui inspect [DOMAIN...] [-c URI]... --json`: the parsed models of domains, for scripts."""

from __future__ import annotations

import argparse
import sys

from kvmtui.cli.options import add_connection_options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kvmtui inspect",
        description="Print what kvmtui reads from the domain XML of the named domains "
                    "(all when none is named). Connections are opened read-only.")
    parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="domain name or UUID")
    add_connection_options(parser, "inspect the shipped demo lab")
    parser.add_argument("--json", action="store_true",
                        help="one JSON array of domain objects (see the README for the schema)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    import libvirt

    from kvmtui.cli.connect import open_readonly, script_uris
    from kvmtui.virt.domain.domxml import parse_domain
    from kvmtui.virt.domain.inspect import domain_json
    from kvmtui.virt.models import DomainState
    from kvmtui.virt.session.errors import libvirt_message
    from kvmtui.virt.session.uris import host_label

    uris = script_uris(args.connect, args.demo)
    results = []
    wanted = list(args.domains)
    found: set[str] = set()
    for uri in uris:
        conn = open_readonly(uri)
        if conn is None:
            return 1
        try:
            real_uri = conn.getURI()
            for dom in sorted(conn.listAllDomains(0), key=lambda d: d.name()):
                if wanted and dom.name() not in wanted and dom.UUIDString() not in wanted:
                    continue
                found.update({dom.name(), dom.UUIDString()})
                state = DomainState.coerce(dom.state()[0]).word
                details = parse_domain(dom.XMLDesc(0))
                results.append(domain_json(real_uri, state, details, host_label(real_uri)))
        except libvirt.libvirtError as err:
            print(f"kvmtui inspect: {uri}: {libvirt_message(err)}", file=sys.stderr)
            return 1
        finally:
            conn.close()
    missing = [name for name in wanted if name not in found]
    if missing:
        where = ", ".join(uris)
        print(f"kvmtui inspect: no domain named {', '.join(repr(m) for m in missing)} on {where}",
              file=sys.stderr)
        return 1
    from kvmtui.cli.connect import print_results

    return print_results(results, args.json, _text_block)


def _text_block(item: dict) -> str:
    lines = [f"{item['name']} ({item['state']}) {item['uuid']}  on {item['uri']}",
             f"  vCPUs {item['vcpu']['current']}/{item['vcpu']['max']}, "
             f"memory {(item['memory_kib'] or 0) // 1024} MiB, cpu {item['cpu']['mode']}"
             + (f" {item['cpu']['model']}" if item['cpu']['model'] else "")]
    for d in item["disks"]:
        lines.append(f"  disk {d['target']} {d['device']} {d['bus']} {d['format'] or ''} "
                     f"{d['source'] or '(empty)'}")
    for n in item["interfaces"]:
        lines.append(f"  nic  {n['mac']} {n['type']} {n['source'] or ''} {n['model'] or ''}")
    return "\n".join(lines)
