"""Test-driver nodes made of the domain fixtures, so the screens and `kvmtui inspect` can show
them through real libvirt."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

FIXTURES = Path(__file__).parent / "fixtures" / "domains"


def fixture_node(directory: Path, *names: str) -> str:
    """A test:/// node holding the named fixtures (as running test-driver domains); its URI."""
    node = ET.Element("node")
    for name in names:
        dom = ET.fromstring((FIXTURES / name).read_text())
        # the test driver defines only its own domain type, and gives ids itself
        dom.set("type", "test")
        dom.attrib.pop("id", None)
        node.append(dom)
    path = directory / "fixture-node.xml"
    ET.ElementTree(node).write(path, encoding="unicode")
    return f"test://{path}"
