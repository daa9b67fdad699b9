"""Disks: sources (files, block devices, volumes, network hosts), backing chains."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from kvmtui.virt.domain.details import (
    BackingStore,
    Disk,
)
from kvmtui.virt.domain.domxml.values import _attr, _host_port, _int, _pci, _text

# -- disks -------------------------------------------------------------------------------

def _hosts(source: ET.Element | None) -> tuple[str, ...]:
    if source is None:
        return ()
    hosts = []
    for host in source.findall("host"):
        if host.get("socket"):
            hosts.append(f"unix:{host.get('socket')}")
        elif host.get("name"):
            hosts.append(_host_port(host.get("name"), host.get("port")))
    return tuple(hosts)


def _backing_chain(disk: ET.Element) -> tuple[BackingStore, ...]:
    chain = []
    store = disk.find("backingStore")
    while store is not None and len(store):  # an empty <backingStore/> ends the chain
        source = store.find("source")
        path = None
        if source is not None:
            path = source.get("file") or source.get("dev") or source.get("name") or source.get("dir")
        chain.append(BackingStore(store.get("type"), _attr(store, "format", "type"), path))
        store = store.find("backingStore")
    return tuple(chain)


def parse_disk(disk: ET.Element) -> Disk:
    kind = disk.get("type", "file")
    source = disk.find("source")
    path = protocol = name = pool = volume = None
    hosts: tuple[str, ...] = ()
    shown = None
    if source is not None:
        if kind == "file":
            path = source.get("file")
            shown = path
        elif kind == "block":
            path = source.get("dev")
            shown = path
        elif kind == "dir":
            path = source.get("dir")
            shown = path
        elif kind == "network":
            protocol = source.get("protocol")
            name = source.get("name")
            hosts = _hosts(source)
            where = ",".join(hosts)
            path_part = (name or "").lstrip("/")
            shown = f"{protocol or '?'}://{where}/{path_part}" if where \
                else f"{protocol or '?'}:{name or ''}"
        elif kind == "volume":
            pool, volume = source.get("pool"), source.get("volume")
            shown = f"{pool or '?'}/{volume or '?'}"
        elif kind == "nvme":
            pci = _pci(source.find("address"))
            shown = f"nvme {pci} ns {source.get('namespace', '1')}".replace("  ", " ")
        else:
            shown = source.get("file") or source.get("dev") or source.get("name")
    driver = disk.find("driver")
    return Disk(
        device=disk.get("device", "disk"), type=kind,
        target=_attr(disk, "target", "dev"), bus=_attr(disk, "target", "bus"),
        source=shown, path=path, protocol=protocol, source_name=name, hosts=hosts,
        pool=pool, volume=volume,
        format=driver.get("type") if driver is not None else None,
        driver=driver.get("name") if driver is not None else None,
        cache=driver.get("cache") if driver is not None else None,
        io=driver.get("io") if driver is not None else None,
        discard=driver.get("discard") if driver is not None else None,
        readonly=disk.find("readonly") is not None, shareable=disk.find("shareable") is not None,
        boot_order=_int(_attr(disk, "boot", "order")), serial=_text(disk, "serial"),
        backing_chain=_backing_chain(disk),
    )


