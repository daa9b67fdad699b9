"""Why is this VM slow? Findings from its XML, its live figures and its host.

Pure: the rules read DomainDetails, one DomainStats tick and HostFacts, and never change a VM
(reading.py gathers them through libvirt for the command line and the screens' workers)."""

from kvmtui.virt.advice.engine import NOT_CHECKED, RULES, advise, not_checked, worst
from kvmtui.virt.advice.model import (
    INFO,
    PROBLEM,
    SEVERITIES,
    WARNING,
    Finding,
    GuestHints,
    HostFacts,
    Inputs,
    Limits,
    inputs_from_xml,
    read_hints,
)

__all__ = ["INFO", "NOT_CHECKED", "PROBLEM", "RULES", "SEVERITIES", "WARNING", "Finding",
           "GuestHints", "HostFacts", "Inputs", "Limits", "advise", "inputs_from_xml", "not_checked",
           "read_hints", "worst"]
