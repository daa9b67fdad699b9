"""The list's filter language and sort orders, kept apart from the widgets so they are testable.

Filter text is split on spaces; every term must match (AND):
  win          name contains 'win' (case-insensitive)
  state:running / state:shut-off / state:paus   the domain's state (virsh's words or their start)
  host:kvm1    the host label contains 'kvm1'
  advice:problem / advice:warning (or worse) / advice:none   the advice mark of the VM
  -term        negates any term
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kvmtui.virt.models import DomainKey, DomainState, DomainStats, DomainSummary


class FilterError(ValueError):
    """A filter term that cannot mean anything (e.g. an unknown state)."""


@dataclass(frozen=True, slots=True)
class DomainFilter:
    text: str
    predicate: Callable[[DomainSummary], bool]

    def __call__(self, summary: DomainSummary) -> bool:
        return self.predicate(summary)


# A VM's worst advice finding ("problem", "warning", "info") by its key, None when none (or not
# read yet): the list's mark, kept by the screen.
AdviceOf = Callable[[DomainKey], str | None]
_ADVICE_WORDS: dict[str, set[str | None]] = {
    "problem": {"problem"}, "warning": {"problem", "warning"}, "none": {None, "info"}}


def _term(term: str, advice: AdviceOf) -> Callable[[DomainSummary], bool]:
    negate = term.startswith("-") and len(term) > 1
    if negate:
        term = term[1:]
    field, sep, value = term.partition(":")
    field = field.lower()
    if sep and field == "state":
        states = _states_starting(value)
        if not states:
            words = ", ".join(s.word.replace(" ", "-") for s in DomainState)
            raise FilterError(f"unknown state '{value}' (one of: {words})")
        test: Callable[[DomainSummary], bool] = _in_states(states)
    elif sep and field == "host":
        test = _on_host(value.lower())
    elif sep and field == "name":
        test = _name_has(value.lower())
    elif sep and field == "advice":
        wanted = _ADVICE_WORDS.get(value.lower())
        if wanted is None:
            raise FilterError(f"unknown advice '{value}' (one of: {', '.join(_ADVICE_WORDS)})")
        test = _advice_in(wanted, advice)
    elif sep and field in ("autostart", "persistent"):
        test = _flag_is(field, value.lower() in ("yes", "y", "true", "1", "on"))
    elif sep:
        raise FilterError(f"unknown filter field '{field}:' "
                          "(use name:, state:, host:, advice:, autostart:, persistent:)")
    else:
        test = _name_has(term.lower())
    return (lambda s: not test(s)) if negate else test


def _in_states(states: set[DomainState]) -> Callable[[DomainSummary], bool]:
    return lambda s: s.state in states


def _advice_in(wanted: set[str | None], advice: AdviceOf) -> Callable[[DomainSummary], bool]:
    return lambda s: advice(s.key) in wanted


def _on_host(text: str) -> Callable[[DomainSummary], bool]:
    return lambda s: text in s.host.lower() or text in s.key.uri.lower()


def _name_has(text: str) -> Callable[[DomainSummary], bool]:
    return lambda s: text in s.name.lower()


def _flag_is(field: str, want: bool) -> Callable[[DomainSummary], bool]:
    return lambda s: getattr(s, field) is want


def _states_starting(value: str) -> set[DomainState]:
    """'running' or a prefix of it ('run'), so the list narrows while the user types."""
    exact = DomainState.from_word(value)
    if exact is not None:
        return {exact}
    prefix = value.lower().replace("-", " ")
    return {s for s in DomainState if prefix and s.word.startswith(prefix)}


def parse_filter(text: str, advice: AdviceOf = lambda key: None) -> DomainFilter:
    """Parse filter text; raises FilterError with a one-line reason on a bad term."""
    tests = [_term(term, advice) for term in text.split()]
    return DomainFilter(text.strip(), lambda s: all(t(s) for t in tests))


# Sort orders cycled by 'o': (label, key function of a summary and its latest stats).  Name
# breaks every tie, so the order is total and rows never swap places between refreshes.
# Performance columns sort busiest first, as top does; a VM without the figure goes last.
def _name(s: DomainSummary) -> tuple:
    return (s.name.lower(), s.name, s.key)


def _busiest(field: str) -> Callable[..., tuple]:
    def key(s: DomainSummary, st: DomainStats | None = None) -> tuple:
        value = getattr(st, field, None) if st is not None else None
        return (value is None, -(value or 0), *_name(s))
    return key


def exit_rate(st: DomainStats | None) -> float | None:
    """All VM exits per second, summed over the VM's vCPUs (the "total" counter)."""
    if st is None or not st.exits:
        return None
    total = st.exits.get("total")
    return total.rate if total is not None else None


def _busiest_exits(s: DomainSummary, st: DomainStats | None = None) -> tuple:
    value = exit_rate(st)
    return (value is None, -(value or 0), *_name(s))


SortKey = Callable[..., tuple]
SORTS: list[tuple[str, SortKey]] = [
    ("name", lambda s, st=None: _name(s)),
    ("cpu", _busiest("cpu_percent")),
    ("state", lambda s, st=None: (_STATE_ORDER[s.state], *_name(s))),
    ("id", lambda s, st=None: (s.id is None, s.id or 0, *_name(s))),
    ("vcpus", lambda s, st=None: (s.vcpus, *_name(s))),
    ("memory", lambda s, st=None: (s.memory_kib, *_name(s))),
    ("exits", _busiest_exits),
    ("used", _busiest("memory_used_kib")),
    ("disk_read", _busiest("disk_read_bps")),
    ("disk_write", _busiest("disk_write_bps")),
    ("net_rx", _busiest("net_rx_bps")),
    ("net_tx", _busiest("net_tx_bps")),
    ("host", lambda s, st=None: (s.host, *_name(s))),
]
BUSIEST_FIRST = {"cpu", "exits", "used", "disk_read", "disk_write", "net_rx", "net_tx"}

# Most alive first: what an operator looks at before what is off.
_STATE_ORDER: dict[DomainState, int] = {
    DomainState.RUNNING: 0, DomainState.BLOCKED: 1, DomainState.NOSTATE: 2,
    DomainState.SHUTDOWN: 3, DomainState.PAUSED: 4, DomainState.PMSUSPENDED: 5,
    DomainState.CRASHED: 6, DomainState.SHUTOFF: 7,
}


def sort_key(name: str) -> SortKey:
    for label, key in SORTS:
        if label == name:
            return key
    raise KeyError(name)
