"""The machine: overview (firmware, boot), memory and NUMA, vCPUs, topology and CPU features."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from kvmtui.virt.domain.details import (
    Cpu,
    CpuFeature,
    Firmware,
    HugePage,
    HypervFeature,
    Memory,
    NumaCell,
    Overview,
    Pin,
    Topology,
    VcpuSlot,
)
from kvmtui.virt.domain.domxml.values import _UNITS, _attr, _int, _kib, _text, _yes

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


