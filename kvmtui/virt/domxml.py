"""Domain XML -> typed models (pure functions, no libvirt calls).

Never raises on XML libvirt produced, nor on XML with parts missing: every value is optional, an
element kvmtui has no reader for is kept as "other" with its tag, and a malformed number is
None. The readers follow libvirt's formatdomain documentation.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from kvmtui.virt.details import (
    BackingStore,
    Channel,
    Console,
    Cpu,
    CpuFeature,
    Device,
    Disk,
    DomainDetails,
    Firmware,
    Graphics,
    HugePage,
    HypervFeature,
    Memory,
    Nic,
    NumaCell,
    Overview,
    Pin,
    Topology,
    VcpuSlot,
)

_UNITS = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "kb": 1000 / 1024,
          "m": 1024, "mib": 1024, "mb": 1000 ** 2 / 1024, "g": 1024 ** 2, "gib": 1024 ** 2,
          "gb": 1000 ** 3 / 1024, "t": 1024 ** 3, "tib": 1024 ** 3, "tb": 1000 ** 4 / 1024}

# Top-level elements read somewhere below; anything else is reported as "other".
_KNOWN_TOP = {
    "name", "uuid", "title", "description", "metadata", "memory", "currentMemory", "maxMemory",
    "memoryBacking", "vcpu", "vcpus", "iothreads", "cputune", "cpu", "numatune", "os", "features",
    "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "devices",
    "resource", "seclabel", "blkiotune", "memtune", "genid", "sysinfo", "idmap", "keywrap",
    "launchSecurity", "perf", "bootloader", "bootloader_args", "throttlegroups", "iothreadids",
    "defaultiothread",
}

# Device elements with readers of their own (not listed again under Devices).
_OWN_READERS = {"disk", "interface", "graphics", "channel", "serial", "console", "parallel",
                "emulator"}

_CHANNEL_PURPOSES = {
    "com.redhat.spice.0": "clipboard (SPICE vdagent)",
    "org.spice-space.webdav.0": "file sharing (SPICE WebDAV)",
    "org.qemu.guest_agent.0": "guest agent",
    "org.libguestfs.channel.0": "libguestfs",
    "org.spice-space.stream.0": "SPICE streaming agent",
}


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    try:
        return int(text, 0) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def _text(el: ET.Element | None, path: str | None = None) -> str | None:
    if el is None:
        return None
    node = el.find(path) if path else el
    if node is None or node.text is None:
        return None
    return node.text.strip()


def _attr(el: ET.Element | None, path: str, name: str) -> str | None:
    if el is None:
        return None
    node = el.find(path)
    return None if node is None else node.get(name)


def _kib(el: ET.Element | None) -> int | None:
    value = _int(_text(el))
    if value is None:
        return None
    factor = _UNITS.get((el.get("unit") or "KiB").lower(), 1)
    return int(value * factor)


def _yes(value: str | None) -> bool:
    return (value or "").lower() in ("yes", "on", "true", "1")


def _host_port(host: str | None, port: str | None) -> str:
    """'mon1:6789', '[2001:db8::1]:6789': an IPv6 address is bracketed, as in a URL, or its
    last group would read as the port."""
    host = host or ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}" if port else host


# -- overview ----------------------------------------------------------------------------

def _firmware(os_el: ET.Element | None) -> Firmware:
    if os_el is None:
        return Firmware("bios")
    loader = os_el.find("loader")
    auto = os_el.get("firmware")
    secure: bool | None = None
    for feature in os_el.findall("firmware/feature"):
        if feature.get("name") == "secure-boot":
            secure = _yes(feature.get("enabled"))
    if loader is not None and loader.get("secure") is not None:
        secure = _yes(loader.get("secure"))
    loader_path = _text(loader)
    uefi = auto == "efi" or (loader is not None and (
        loader.get("type") == "pflash" or "OVMF" in (loader_path or "")
        or "edk2" in (loader_path or "") or "AAVMF" in (loader_path or "")))
    return Firmware(
        kind="uefi" if uefi else "bios", secure_boot=secure, loader=loader_path,
        loader_type=loader.get("type") if loader is not None else None,
        loader_readonly=(_yes(loader.get("readonly"))
                         if loader is not None and loader.get("readonly") else None),
        nvram=_text(os_el, "nvram") or _attr(os_el, "nvram/source", "file"),
        autoselect=auto)


def _boot_order(root: ET.Element) -> tuple[str, ...]:
    devs = tuple(b.get("dev", "?") for b in root.findall("os/boot"))
    if devs:
        return devs
    ordered = []
    for device in root.findall("devices/*"):
        order = _int(_attr(device, "boot", "order"))
        if order is None:
            continue
        if device.tag == "disk":
            label = f"{_attr(device, 'target', 'dev') or '?'} ({device.get('device', 'disk')})"
        elif device.tag == "interface":
            label = f"{_attr(device, 'mac', 'address') or 'nic'} (network)"
        else:
            label = device.tag
        ordered.append((order, label))
    return tuple(label for _, label in sorted(ordered))


def parse_overview(root: ET.Element) -> Overview:
    os_el = root.find("os")
    type_el = os_el.find("type") if os_el is not None else None
    return Overview(
        name=_text(root, "name") or "",
        uuid=_text(root, "uuid") or "",
        title=_text(root, "title") or "",
        description=_text(root, "description") or "",
        hypervisor=root.get("type", ""),
        os_type=_text(type_el) or "",
        arch=type_el.get("arch", "") if type_el is not None else "",
        machine=type_el.get("machine", "") if type_el is not None else "",
        firmware=_firmware(os_el),
        boot_order=_boot_order(root),
        kernel=_text(os_el, "kernel"),
        initrd=_text(os_el, "initrd"),
        cmdline=_text(os_el, "cmdline"),
        on_poweroff=_text(root, "on_poweroff") or "destroy",
        on_reboot=_text(root, "on_reboot") or "restart",
        on_crash=_text(root, "on_crash") or "destroy",
        emulator=_text(root, "devices/emulator"),
    )


# -- memory ------------------------------------------------------------------------------

def _numa_cells(root: ET.Element) -> tuple[NumaCell, ...]:
    cells = []
    for cell in root.findall("cpu/numa/cell"):
        memory = _int(cell.get("memory"))
        if memory is not None:
            memory = int(memory * _UNITS.get((cell.get("unit") or "KiB").lower(), 1))
        distances = tuple((_int(s.get("id")) or 0, _int(s.get("value")) or 0)
                          for s in cell.findall("distances/sibling"))
        cells.append(NumaCell(_int(cell.get("id")), cell.get("cpus", ""), memory,
                              cell.get("memAccess"), distances))
    return tuple(cells)


def parse_memory(root: ET.Element) -> Memory:
    backing = root.find("memoryBacking")
    hugepages = backing.find("hugepages") if backing is not None else None
    pages = []
    if hugepages is not None:
        for page in hugepages.findall("page"):
            size = _int(page.get("size"))
            if size is not None:
                size = int(size * _UNITS.get((page.get("unit") or "KiB").lower(), 1))
            pages.append(HugePage(size, page.get("nodeset")))
    balloon = root.find("devices/memballoon")
    max_memory = root.find("maxMemory")
    return Memory(
        current_kib=_kib(root.find("currentMemory")) or _kib(root.find("memory")),
        max_kib=_kib(root.find("memory")),
        hotplug_max_kib=_kib(max_memory),
        hotplug_slots=_int(max_memory.get("slots")) if max_memory is not None else None,
        balloon_model=balloon.get("model") if balloon is not None else None,
        hugepages=tuple(pages),
        uses_hugepages=hugepages is not None,
        shared=_attr(backing, "access", "mode") == "shared",
        backing_source=_attr(backing, "source", "type"),
        locked=backing is not None and backing.find("locked") is not None,
        numa_cells=_numa_cells(root),
    )


# -- cpu ---------------------------------------------------------------------------------

def _topology(cpu_el: ET.Element | None, maximum: int) -> Topology:
    topo = cpu_el.find("topology") if cpu_el is not None else None
    if topo is None:
        return Topology(max(maximum, 1), 1, 1, 1, 1, implied=True)

    def part(name: str) -> int:
        value = _int(topo.get(name))
        return value if value and value > 0 else 1

    return Topology(part("sockets"), part("dies"), part("clusters"), part("cores"),
                    part("threads"), implied=False)


def _hyperv(root: ET.Element) -> tuple[str | None, tuple[HypervFeature, ...]]:
    hv = root.find("features/hyperv")
    features = []
    mode = None
    if hv is not None:
        mode = hv.get("mode")
        for child in hv:
            on = _yes(child.get("state")) if child.get("state") is not None else True
            value = None
            if child.tag == "spinlocks" and child.get("retries"):
                retries = _int(child.get("retries"))
                value = hex(retries) if retries is not None else child.get("retries")
            elif child.tag == "vendor_id":
                value = child.get("value")
            elif child.tag == "stimer" and child.find("direct") is not None:
                value = "direct" if _yes(_attr(child, "direct", "state")) else None
            features.append(HypervFeature(child.tag, on, value))
    # hv_time is a clock, not a feature: <timer name='hypervclock' present='yes'/>
    for timer in root.findall("clock/timer"):
        if timer.get("name") == "hypervclock":
            features.append(HypervFeature("time", _yes(timer.get("present", "yes"))))
    return mode, tuple(features)


def _kvm_features(root: ET.Element) -> tuple[HypervFeature, ...]:
    kvm = root.find("features/kvm")
    if kvm is None:
        return ()
    return tuple(HypervFeature(c.tag, _yes(c.get("state", "on")), c.get("value")) for c in kvm)


def parse_cpu(root: ET.Element) -> Cpu:
    vcpu = root.find("vcpu")
    maximum = _int(_text(vcpu)) or 1
    current = _int(vcpu.get("current")) if vcpu is not None else None
    cpu_el = root.find("cpu")
    model = cpu_el.find("model") if cpu_el is not None else None
    pins = []
    tune = root.find("cputune")
    if tune is not None:
        for pin in tune.findall("vcpupin"):
            pins.append(Pin(f"vcpu {pin.get('vcpu', '?')}", pin.get("cpuset", "")))
        for pin in tune.findall("emulatorpin"):
            pins.append(Pin("emulator", pin.get("cpuset", "")))
        for pin in tune.findall("iothreadpin"):
            pins.append(Pin(f"iothread {pin.get('iothread', '?')}", pin.get("cpuset", "")))
    slots = []
    for slot in root.findall("vcpus/vcpu"):
        slot_id = _int(slot.get("id"))
        if slot_id is None:
            continue
        hot = slot.get("hotpluggable")
        slots.append(VcpuSlot(slot_id, _yes(slot.get("enabled", "yes")),
                              _yes(hot) if hot is not None else None, _int(slot.get("order"))))
    if current is None and slots:
        current = sum(1 for s in slots if s.enabled)
    mode = "default"
    if cpu_el is not None:
        mode = cpu_el.get("mode") or ("custom" if model is not None else "default")
    hyperv_mode, hyperv = _hyperv(root)
    return Cpu(
        current=current if current is not None else maximum,
        maximum=maximum,
        placement=vcpu.get("placement") if vcpu is not None else None,
        cpuset=vcpu.get("cpuset") if vcpu is not None else None,
        mode=mode,
        model=_text(model),
        fallback=model.get("fallback") if model is not None else None,
        vendor=_text(cpu_el, "vendor"),
        match=cpu_el.get("match") if cpu_el is not None else None,
        check=cpu_el.get("check") if cpu_el is not None else None,
        migratable=cpu_el.get("migratable") if cpu_el is not None else None,
        topology=_topology(cpu_el, maximum),
        features=tuple(CpuFeature(f.get("name", "?"), f.get("policy", "require"))
                       for f in (cpu_el.findall("feature") if cpu_el is not None else [])),
        hyperv_mode=hyperv_mode,
        hyperv=hyperv,
        kvm_features=_kvm_features(root),
        pins=tuple(pins),
        iothreads=_int(_text(root, "iothreads")) or 0,
        vcpu_slots=tuple(slots),
        numa_cells=_numa_cells(root),
    )


def _pci(address: ET.Element | None) -> str:
    if address is None:
        return ""
    if address.get("bus") is not None and address.get("slot") is not None:
        return "{}:{}:{}.{}".format(*(str(address.get(k, "0")).replace("0x", "")
                                      for k in ("domain", "bus", "slot", "function")))
    return ""


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


# -- NICs --------------------------------------------------------------------------------

def parse_nic(nic: ET.Element) -> Nic:
    kind = nic.get("type", "")
    source = nic.find("source")
    shown = mode = portgroup = None
    if source is not None:
        mode = source.get("mode")
        portgroup = source.get("portgroup")
        if kind == "network":
            shown = source.get("network")
        elif kind == "bridge":
            shown = source.get("bridge")
        elif kind == "direct":
            shown = source.get("dev")
        elif kind == "vhostuser":
            shown = source.get("path")
        elif kind == "hostdev":
            shown = _pci(source.find("address")) or None
        elif kind in ("mcast", "server", "client", "udp"):
            shown = _host_port(source.get("address"), source.get("port") or "")
        else:
            shown = source.get("network") or source.get("bridge") or source.get("dev")
    if kind == "ethernet" and shown is None:
        shown = _attr(nic, "target", "dev")  # the host tap device is what it plugs into
    virtualport = nic.find("virtualport")
    driver = nic.find("driver")
    return Nic(
        type=kind, mac=_attr(nic, "mac", "address"), model=_attr(nic, "model", "type"),
        source=shown, mode=mode, target=_attr(nic, "target", "dev"),
        link_state=_attr(nic, "link", "state"), boot_order=_int(_attr(nic, "boot", "order")),
        portgroup=portgroup,
        virtualport=virtualport.get("type") if virtualport is not None else None,
        driver=driver.get("name") if driver is not None else None,
        queues=_int(driver.get("queues")) if driver is not None else None,
    )


# -- graphics, channels, consoles --------------------------------------------------------

def parse_graphics(el: ET.Element) -> Graphics:
    listen = el.get("listen")
    socket = el.get("socket")
    listen_type = None
    for child in el.findall("listen"):
        kind = child.get("type")
        listen_type = listen_type or kind
        if kind == "none":
            # no listener at all (libvirt writes this for a SPICE given neither port nor
            # listen): a viewer attaches through libvirt, so any address or port is moot
            listen, socket, listen_type = None, None, "none"
            break
        if kind == "socket":
            socket = child.get("socket") or socket
        elif child.get("address"):
            listen = child.get("address")
        elif child.get("network") and not listen:
            listen = f"network {child.get('network')}"
    if listen_type is None and (socket or listen):
        listen_type = "socket" if socket else "address"  # the older attributes-only form
    port = _int(el.get("port"))
    return Graphics(type=el.get("type", "?"), listen=listen, port=port,
                    autoport=_yes(el.get("autoport")) or port == -1,
                    tls_port=_int(el.get("tlsPort")), socket=socket, listen_type=listen_type,
                    display=el.get("display"))


def parse_channel(el: ET.Element) -> Channel:
    target = el.find("target")
    name = target.get("name") if target is not None else None
    target_type = target.get("type") if target is not None else None
    if name in _CHANNEL_PURPOSES:
        purpose = _CHANNEL_PURPOSES[name]
    elif target_type == "guestfwd":
        purpose = f"guest forwarding to {target.get('address', '?')}:{target.get('port', '?')}"
    elif el.get("type") == "spicevmc":
        purpose = "clipboard (SPICE vdagent)"
    else:
        purpose = "channel"
    source = el.find("source")
    shown = None
    if source is not None:
        shown = source.get("path") or source.get("channel") or source.get("host")
    return Channel(type=el.get("type", "?"), target_type=target_type, target_name=name,
                   purpose=purpose, state=target.get("state") if target is not None else None,
                   source=shown)


def parse_console(el: ET.Element) -> Console:
    source = el.find("source")
    shown = None
    if source is not None:
        if source.get("host") or source.get("service"):
            shown = _host_port(source.get("host"), source.get("service") or "")
        else:
            shown = source.get("path")
    shown = shown or el.get("tty")
    return Console(kind=el.tag, type=el.get("type", "?"),
                   target_type=_attr(el, "target", "type"), port=_int(_attr(el, "target", "port")),
                   source=shown)


# -- other devices -----------------------------------------------------------------------

class _Attrs(dict):
    """An element's attributes for str.format_map: a missing one reads '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


# Devices summed up by their own attributes alone.
_SIMPLE_DEVICES = {
    "sound": "sound {model}",
    "memballoon": "memory balloon {model}",
    "redirdev": "USB redirection over {type}",
    "smartcard": "smartcard {mode}",
    "hub": "{type} hub",
    "shmem": "shared memory {name}",
    "iommu": "IOMMU {model}",
    "crypto": "crypto {model} ({type})",
    "audio": "audio backend {type}",
}


def parse_device(el: ET.Element) -> Device:
    tag = el.tag
    attrs = {k: v for k, v in el.attrib.items()}
    if tag == "controller":
        summary = f"{el.get('type', '?')} controller {el.get('index', '')}".strip()
        if el.get("model"):
            summary += f" ({el.get('model')})"
    elif tag == "input":
        summary = f"{el.get('type', '?')} on {el.get('bus', '?')}"
    elif tag == "video":
        model = el.find("model")
        summary = f"video {_attr(el, 'model', 'type') or '?'}"
        if model is not None and model.get("vram"):
            summary += f", vram {int(_int(model.get('vram')) or 0) // 1024} MiB"
        if model is not None and model.get("heads"):
            heads = model.get("heads")
            summary += f", {heads} head" + ("" if heads == "1" else "s")
    elif tag == "hostdev":
        source = el.find("source")
        where = _pci(source.find("address") if source is not None else None)
        vendor, product = _attr(source, "vendor", "id"), _attr(source, "product", "id")
        if vendor or product:
            where = f"{vendor or '?'}:{product or '?'}"
        summary = f"{el.get('type', '?')} passthrough {where}".strip()
        if el.get("managed"):
            summary += f" (managed={el.get('managed')})"
    elif tag == "tpm":
        backend = el.find("backend")
        summary = f"TPM {el.get('model', '?')}"
        if backend is not None:
            summary += f", {backend.get('type', '?')} {backend.get('version', '')}".rstrip()
    elif tag == "rng":
        backend = el.find("backend")
        summary = f"RNG {el.get('model', '?')}"
        if backend is not None:
            summary += f" from {_text(backend) or backend.get('model', '?')}"
    elif tag == "filesystem":
        summary = (f"filesystem {_attr(el, 'driver', 'type') or el.get('type', '?')}: "
                   f"{_attr(el, 'source', 'dir') or '?'} → {_attr(el, 'target', 'dir') or '?'}")
    elif tag == "watchdog":  # libvirt's default action is reset
        summary = f"watchdog {el.get('model', '?')}, action {el.get('action', 'reset')}"
    elif tag == "panic":  # the model is optional: QEMU picks one for the machine
        summary = f"panic notifier {el.get('model', '')}".strip()
    elif tag in _SIMPLE_DEVICES:
        summary = _SIMPLE_DEVICES[tag].format_map(_Attrs(el.attrib)).strip()
    elif tag == "vsock":
        summary = f"vsock cid {_attr(el, 'cid', 'address') or 'auto'}"
    elif tag == "memory":
        summary = f"memory {el.get('model', '?')} {(_kib(el.find('target/size')) or 0) // 1024} MiB"
    else:
        shown = " ".join(f"{k}={v}" for k, v in attrs.items())
        return Device(tag, f"{tag} {shown}".strip(), attrs, known=False)
    return Device(tag, summary, attrs)


# -- the whole domain --------------------------------------------------------------------

def parse_domain(xml: str | ET.Element) -> DomainDetails:
    """Parse a domain's XML (as virDomainGetXMLDesc returns it)."""
    root = ET.fromstring(xml) if isinstance(xml, str) else xml
    devices = root.find("devices")
    children = list(devices) if devices is not None else []
    return DomainDetails(
        overview=parse_overview(root),
        memory=parse_memory(root),
        cpu=parse_cpu(root),
        disks=tuple(parse_disk(el) for el in children if el.tag == "disk"),
        nics=tuple(parse_nic(el) for el in children if el.tag == "interface"),
        graphics=tuple(parse_graphics(el) for el in children if el.tag == "graphics"),
        channels=tuple(parse_channel(el) for el in children if el.tag == "channel"),
        consoles=tuple(parse_console(el) for el in children
                       if el.tag in ("serial", "console", "parallel")),
        devices=tuple(parse_device(el) for el in children if el.tag not in _OWN_READERS),
        other=tuple(el.tag for el in root if el.tag not in _KNOWN_TOP),
    )
