"""Build fresh libvirt test-driver fleets for tests and benchmarks (never test:///default)."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

from kvmtui.virt.demo import demo_fleet_path

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def copy_demo_fleet(directory: Path, name: str = "demo-fleet.xml") -> str:
    """A private copy of the shipped demo lab; returns its test:/// URI."""
    target = directory / name
    shutil.copyfile(demo_fleet_path(), target)
    return f"test://{target}"


def write_fleet(path: Path, count: int, *, running_every: int = 2, paused_every: int = 0) -> str:
    """A node file of `count` small domains named vm0000…; every `running_every`-th one runs."""
    ET.register_namespace("test", TEST_NS)
    node = ET.Element("node")
    for i in range(count):
        dom = ET.SubElement(node, "domain", {"type": "test"})
        ET.SubElement(dom, "name").text = f"vm{i:04d}"
        ET.SubElement(dom, "uuid").text = f"00000000-0000-4000-8000-{i:012d}"
        ET.SubElement(dom, "memory", {"unit": "MiB"}).text = str(512 * (1 + i % 8))
        ET.SubElement(dom, "vcpu").text = str(1 + i % 4)
        os_el = ET.SubElement(dom, "os")
        ET.SubElement(os_el, "type").text = "hvm"
        if paused_every and i % paused_every == 0:
            state = 3
        elif running_every and i % running_every == 0:
            state = 1
        else:
            state = 5
        ET.SubElement(dom, f"{{{TEST_NS}}}runstate").text = str(state)
    ET.ElementTree(node).write(path, encoding="unicode")
    return f"test://{path}"


# Strings a libvirt user may legally give a domain or snapshot, each of which Rich or Textual
# would read as markup if it were ever interpreted instead of shown.
# (no "/": libvirt refuses it in a name)
MARKUP_NAMES = ("db[link=a:b]storage", "[bold]web", "a[red]b", "x[@click=app.quit]y")


def write_markup_fleet(path: Path) -> str:
    """Running test-driver domains whose names are full of markup; returns the URI."""
    ET.register_namespace("test", TEST_NS)
    node = ET.Element("node")
    for i, name in enumerate(MARKUP_NAMES):
        dom = ET.SubElement(node, "domain", {"type": "test"})
        ET.SubElement(dom, "name").text = name
        ET.SubElement(dom, "uuid").text = f"00000000-0000-4000-9000-{i:012d}"
        ET.SubElement(dom, "description").text = "[red]not red[/red] \\[ $x"
        ET.SubElement(dom, "memory", {"unit": "MiB"}).text = "512"
        ET.SubElement(dom, "vcpu").text = "1"
        os_el = ET.SubElement(dom, "os")
        ET.SubElement(os_el, "type").text = "hvm"
        ET.SubElement(dom, f"{{{TEST_NS}}}runstate").text = "1"
    ET.ElementTree(node).write(path, encoding="unicode")
    return f"test://{path}"
