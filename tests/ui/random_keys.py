"""The random-key tier's machinery: seeded key plans, delivering them, and what must stay true.

A plan is a list of steps made from a seed: a *burst* (several keys posted to the app in one go,
as one SSH write delivers them: every key is created, and so time-stamped, before the app handles
any) or a *slow* key (pressed through Pilot, as a person types). After each step the app runs
for a seeded pause; some pauses are longer than a question's guard (0.4 s), so questions really
get answered, yes or no, by whatever key comes next.

The seed fixes the keys and the pauses, not the thread timing of libvirt's answers: a failing
seed reproduces the same keys, and usually the same failure.

What is checked (`Watch`):
- the app never fails (Textual's own error handling ends it: `app._exception`, `return_code`);
- every change libvirt reports on a domain (lifecycle events, on the app's own connection) came
  after an action record for that domain; a destroy, a managed save or a revert came after a
  *confirmed* force_off / managed_save / snapshot-revert record, one record per destroy/save;
- at the end: a domain whose state changed has a record; one that was destroyed or saved (its
  shut-off reason says so) or has a new managed-save image has a confirmed record;
- no persistent domain vanished (a transient one goes away when it stops: only after a shutdown
  or a confirmed force off);
- every snapshot that vanished has a confirmed snapshot-delete record of its VM naming it or an
  ancestor (checked after every step, against the tree as last seen);
- every record of a destructive action (actionlog.DESTRUCTIVE) says it was confirmed, and —
  not taking the log's word for it — has its own question about that VM (seen by wrapping
  push_screen on the app instance) and a key that can say yes (y, enter, space) typed at least
  GUARD_S after that question was pushed and before the record started;
- a host leaves the fleet (`H`, then `D`) only after its own RemoveHostScreen was answered by
  such a key (seen by wrapping fleet.remove on the instance). When the watched host goes, its
  libvirt connection is closed only once the checks are done, so they can still read libvirt;
  everything else about removing it (callbacks, threads) happens as it would.
Hosts added with `H` `a` (random text that happens to be a URI) and the config file they may be
saved to are the test's own: the app's config_path is pointed at a temporary directory.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import libvirt
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

from kvmtui.screens.guarded import GUARD_S, GuardedModal
from kvmtui.virt.domain.actionlog import DESTRUCTIVE
from kvmtui.virt.models import DomainKey

# -- keys ---------------------------------------------------------------------------------------

# `q` quits (tested on its own); ctrl+c and ctrl+q are Textual's quit keys.
EXCLUDED = {"q", "ctrl+c", "ctrl+q"}

# What the app binds somewhere: power keys, screens, dialog answers, tree and tab keys.
INTERESTING = list("sdrpFRMtnvDxHyn123/") + ["enter", "escape", "space", "question_mark"]
PRINTABLE = [chr(c) for c in range(33, 127) if chr(c) not in EXCLUDED] + ["space"]
NAVIGATION = ["up", "down", "left", "right", "home", "end", "pageup", "pagedown",
              "tab", "shift+tab", "backspace", "delete"]
FUNCTION = [f"f{i}" for i in range(1, 13)]
CTRL = [f"ctrl+{c}" for c in "abcdefghijklmnopqrstuvwxyz" if f"ctrl+{c}" not in EXCLUDED]


def _weighted_keys() -> tuple[list[str], list[float]]:
    weights: dict[str, float] = {}
    for key in PRINTABLE:
        weights[key] = 1.0
    for key in NAVIGATION:
        weights[key] = 2.5
    for key in FUNCTION:
        weights[key] = 0.4
    for key in CTRL:
        weights[key] = 0.4
    for key in INTERESTING:
        weights[key] = 7.0
    weights["escape"] = 9.0  # keeps the run moving between screens
    assert not EXCLUDED & set(weights)
    return list(weights), list(weights.values())


KEYS, WEIGHTS = _weighted_keys()


def key_event(key: str) -> events.Key:
    """The Key event Pilot would make for `key` (a key name or a single character)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


# -- plans --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    keys: tuple[str, ...]
    burst: bool          # posted together (one write) or pressed through Pilot (one key)
    pause: float         # seconds the app runs afterwards

    def __str__(self) -> str:
        keys = " ".join(self.keys)
        return f"[{keys}]~{self.pause:.2f}" if self.burst else f"{keys}~{self.pause:.2f}"


def pause_for(rng: random.Random) -> float:
    roll = rng.random()
    if roll < 0.83:
        return rng.uniform(0.01, 0.07)   # typing
    if roll < 0.93:
        return rng.uniform(0.1, 0.35)    # hesitating
    return rng.uniform(0.42, 0.6)        # reading: longer than a question's guard


def make_plan(seed: int, count: int) -> list[Step]:
    """`count` keys from `seed`: bursts of 2-10 keys and single slow keys."""
    rng = random.Random(seed)
    steps: list[Step] = []
    total = 0
    while total < count:
        burst = rng.random() < 0.65
        n = min(rng.randint(2, 10) if burst else 1, count - total)
        keys = tuple(rng.choices(KEYS, WEIGHTS, k=n))
        steps.append(Step(keys, burst and n > 1, pause_for(rng)))
        total += n
    return steps


def describe(steps: list[Step], last: int = 40) -> str:
    """The last `last` keys of the steps, bursts in brackets, each step's pause after it."""
    shown: list[str] = []
    keys = 0
    for step in reversed(steps):
        shown.append(str(step))
        keys += len(step.keys)
        if keys >= last:
            break
    return " ".join(reversed(shown))


async def post_burst(app, keys, log: list | None = None) -> None:
    """All keys made (time-stamped) first, then posted without yielding: one SSH write."""
    made = [key_event(k) for k in keys]
    for event in made:
        event.set_sender(app)
        app.post_message(event)
        if log is not None:
            log.append((event.time, event.time, event.key))


def app_failed(app) -> bool:
    return app._exception is not None or app.return_code is not None


async def run_step(pilot, step: Step, log: list | None = None) -> None:
    """Send the step's keys; `log` gets (earliest, latest, key) creation times for each."""
    app = pilot.app
    if step.burst:
        await post_burst(app, step.keys, log)
    else:
        before = time.monotonic()
        await pilot.press(*step.keys)
        if log is not None:
            after = time.monotonic()
            log.extend((before, after, key_event(k).key) for k in step.keys)
    await sleep_while_running(app, step.pause)


async def sleep_while_running(app, seconds: float) -> None:
    """Let the app run; never touches the app once it has failed (pilot.pause would)."""
    import asyncio

    deadline = time.monotonic() + seconds
    while not app_failed(app):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.05))


# -- what must stay true ------------------------------------------------------------------------

RUNNING_LIKE = {libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED}

# lifecycle (event, detail) -> the confirmed action that alone may cause it
CONFIRMED_CAUSE = {
    (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED): "force_off",
    (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED): "managed_save",
    (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT):
        "snapshot-revert",
    (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT):
        "snapshot-revert",
    (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT):
        "snapshot-revert",
    (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT):
        "snapshot-revert",
    (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT):
        "snapshot-revert",
}
# the question that must have been answered for each destructive action
QUESTION_FOR = {"snapshot-revert": "RevertScreen", "snapshot-delete": "DeleteScreen"}
YES_KEYS = {"y", "enter", "space"}


def question_text(screen) -> str:
    plan = getattr(screen, "plan", None)  # a bulk question: the VMs it will touch
    if plan is not None:
        return "\n".join(t.summary.name for t in plan.targets)
    return str(getattr(screen, "question", "") or getattr(screen, "vm", ""))


def question_names(screen, vm: str) -> bool:
    """The question is about this VM (a bulk question: it is one of those it will touch)."""
    plan = getattr(screen, "plan", None)
    if plan is not None:
        return vm in {t.summary.name for t in plan.targets}
    return vm in question_text(screen)


# these destructive effects happen once per call: one record explains one event
ONE_PER_RECORD = {"force_off", "managed_save"}
EVENT_NAMES = {2: "started", 3: "suspended", 4: "resumed", 5: "stopped", 0: "defined",
               1: "undefined", 6: "shutdown", 7: "pmsuspended", 8: "crashed"}


@dataclass
class DomainFacts:
    uuid: str
    name: str
    state: int
    reason: int
    managed_save: bool
    persistent: bool
    parents: dict[str, str | None]  # snapshot -> parent


@dataclass
class Event:
    at: float
    uuid: str
    name: str
    event: int
    detail: int

    def __str__(self) -> str:
        return f"{self.name}: {EVENT_NAMES.get(self.event, self.event)}/{self.detail}"


def read_facts(conn: libvirt.virConnect) -> dict[str, DomainFacts]:
    facts = {}
    for dom in conn.listAllDomains(0):
        state, reason = dom.state()
        facts[dom.UUIDString()] = DomainFacts(
            dom.UUIDString(), dom.name(), state, reason, bool(dom.hasManagedSaveImage(0)),
            bool(dom.isPersistent()), read_facts_one(dom))
    return facts


def ancestors(parents: dict[str, str | None], name: str) -> list[str]:
    out, seen = [], set()
    parent = parents.get(name)
    while parent is not None and parent not in seen:
        out.append(parent)
        seen.add(parent)
        parent = parents.get(parent)
    return out


@dataclass
class Watch:
    """Reads libvirt through the app's own connection and checks it against the action log."""

    app: object
    uri: str
    conn: libvirt.virConnect
    before: dict[str, DomainFacts] = field(default_factory=dict)
    last_snapshots: dict[str, dict[str, str | None]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    keys: list[tuple[float, float, str]] = field(default_factory=list)  # sent, see run_step
    questions: list[tuple[float, GuardedModal]] = field(default_factory=list)  # pushed at
    removals: list[tuple[float, str]] = field(default_factory=list)  # (when, uri) of hosts removed
    t0: float = field(default_factory=time.monotonic)
    answered: int = 0  # confirmed destructive records with a question answered in time
    _callbacks: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, app) -> Watch:
        (connection,) = app.fleet.connections.values()
        watch = cls(app, connection.uri, connection.conn)
        watch.before = read_facts(watch.conn)
        # Every question the app asks, and when it was pushed: an answer needs a key typed at
        # least GUARD_S after that (it cannot have been seen earlier).
        push_screen = app.push_screen

        def pushing(screen, *args, **kwargs):
            if isinstance(screen, GuardedModal):
                watch.questions.append((time.monotonic(), screen))
            return push_screen(screen, *args, **kwargs)

        app.push_screen = pushing
        # `H` `a` may add a host and tick "save": never into the user's own config file
        app.config_path = Path(tempfile.mkdtemp(prefix="kvmtui-random-keys-")) / "config.toml"
        remove = app.fleet.remove

        def removing(uri: str) -> None:
            watch.removals.append((time.monotonic(), uri))
            if uri == watch.uri:
                # kvmtui deregisters its callbacks and closes the connection; the close itself
                # waits for check_end, which reads libvirt through this very connection (a
                # test:/// URI opened again would be another copy of the node)
                watch.conn.close = lambda: 0
            remove(uri)

        app.fleet.remove = removing
        watch.last_snapshots = {u: dict(f.parents) for u, f in watch.before.items()}
        # One registration per domain: libvirt refuses a second connection-wide lifecycle
        # callback next to the app's own on the same connection.
        for dom in watch.conn.listAllDomains(0):
            watch._callbacks.append(watch.conn.domainEventRegisterAny(
                dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, watch._on_event, None))
        return watch

    def stop(self) -> None:
        for callback in self._callbacks:
            try:
                self.conn.domainEventDeregisterAny(callback)
            except libvirt.libvirtError:
                pass
        self._callbacks.clear()

    def _on_event(self, _conn, dom, event, detail, _opaque) -> None:
        # libvirt's event thread: only append
        self.events.append(Event(time.monotonic(), dom.UUIDString(), dom.name(), event, detail))

    # -- the log --------------------------------------------------------------------------------

    def key(self, uuid: str) -> DomainKey:
        return DomainKey(self.uri, uuid)

    def records(self, uuid: str | None = None) -> list:
        records = list(self.app.action_log.records)
        if uuid is not None:
            records = [r for r in records if r.key == self.key(uuid)]
        return records

    def confirmed_destructive(self) -> list:
        return [r for r in self.records() if r.action in DESTRUCTIVE and r.confirmed]

    # -- checks ---------------------------------------------------------------------------------

    def check_snapshots(self) -> None:
        """Cheap, after every step: a snapshot that vanished needs a confirmed delete."""
        for dom in self.conn.listAllDomains(0):
            uuid = dom.UUIDString()
            try:
                now = set(dom.snapshotListNames(0))
            except libvirt.libvirtError:
                continue  # gone between the list and the call: check_end says whether it may
            seen = self.last_snapshots.get(uuid, {})
            gone = set(seen) - now
            if gone:
                self._explain_gone_snapshots(uuid, dom.name(), seen, gone)
            if gone or now - set(seen):
                self.last_snapshots[uuid] = read_facts_one(dom)

    def _explain_gone_snapshots(self, uuid: str, vm: str, seen: dict[str, str | None],
                                gone: set[str]) -> None:
        deletes = [r for r in self.records(uuid) if r.action == "snapshot-delete"]
        for name in sorted(gone):
            covers = {name, *ancestors(seen, name)}
            if not any(r.confirmed and r.snapshot in covers for r in deletes):
                self.problems.append(
                    f"snapshot {name!r} of {vm} vanished with no confirmed snapshot-delete "
                    f"record naming it or an ancestor ({sorted(covers - {name})}); snapshot "
                    f"records for {vm}: {[(r.action, r.snapshot, r.confirmed) for r in deletes]}"
                    + ("" if any(r.action.startswith("snapshot-") for r in self.records())
                       else " — the action log has no snapshot-* records at all"))

    def check_events(self) -> None:
        """Every lifecycle event follows a record for its domain; destructive ones a confirmed
        record of the one action that can cause them."""
        with self._lock:
            events = list(self.events)
        used: set[int] = set()
        for ev in events:
            records = [r for r in self.records(ev.uuid) if r.started <= ev.at]
            if not records:
                self.problems.append(f"{ev} at +{ev.at:.3f}: no action was recorded for "
                                     f"{ev.name} before it")
                continue
            cause = CONFIRMED_CAUSE.get((ev.event, ev.detail))
            if cause is None:
                continue
            candidates = [r for r in records if r.action == cause and r.confirmed
                          and (cause not in ONE_PER_RECORD or id(r) not in used)]
            if not candidates:
                self.problems.append(
                    f"{ev}: no confirmed {cause} record (unused) before it; records for "
                    f"{ev.name}: {[(r.action, r.confirmed, r.error) for r in records]}")
                continue
            used.add(id(candidates[0]))

    def check_log(self) -> None:
        for r in self.records():
            if r.action in DESTRUCTIVE and not r.confirmed:
                self.problems.append(f"{r.vm}: {r.action} recorded without a confirmation")
        self.check_answers()
        self.check_removals()

    def check_removals(self) -> None:
        """Each host removed needs its own RemoveHostScreen, answered by a yes key typed GUARD_S
        or more after it was pushed and before the host left."""
        used: set[int] = set()
        for at, uri in self.removals:
            asked = [(pushed, q) for pushed, q in self.questions
                     if id(q) not in used and type(q).__name__ == "RemoveHostScreen"
                     and getattr(q, "uri", None) == uri and pushed <= at]
            answered = [(pushed, q) for pushed, q in asked
                        if any(latest >= pushed + GUARD_S and earliest <= at and key in YES_KEYS
                               for earliest, latest, key in self.keys)]
            if answered:
                used.add(id(answered[-1][1]))
                continue
            self.problems.append(
                f"host {uri} was removed at +{at - self.t0:.3f} without a RemoveHostScreen about "
                f"it answered by y/enter/space typed {GUARD_S} s or more after it was pushed "
                f"(asked at: {', '.join(f'+{p - self.t0:.3f}' for p, _ in asked) or 'never'})")

    def check_answers(self) -> None:
        """Each confirmed destructive record needs its own question about that VM, and a key
        that can say yes (y, enter, space) typed GUARD_S or more after the question was pushed
        and before the record: the log's own `confirmed` is not taken on trust."""
        used: set[tuple[int, str]] = set()  # (question, VM): a bulk question covers several
        for r in self.records():
            if not (r.action in DESTRUCTIVE and r.confirmed):
                continue
            kind = "BulkConfirmScreen" if r.detail == "bulk" else QUESTION_FOR.get(
                r.action, "ConfirmScreen")
            candidates = [(at, q) for at, q in self.questions
                          if (id(q), r.vm) not in used and type(q).__name__ == kind
                          and question_names(q, r.vm) and at <= r.started]
            answered = [(at, q) for at, q in candidates
                        if any(latest >= at + GUARD_S and earliest <= r.started
                               and key in YES_KEYS for earliest, latest, key in self.keys)]
            if answered:
                used.add((id(answered[-1][1]), r.vm))
                self.answered += 1
                continue
            asked = ", ".join(f"+{at - self.t0:.3f}" for at, _ in candidates) or "none"
            typed = " ".join(f"{key}@+{earliest - self.t0:.3f}" for earliest, _, key in self.keys
                             if r.started - 1.0 <= earliest <= r.started + 0.05)
            self.problems.append(
                f"{r.vm}: {r.action} recorded as confirmed at +{r.started - self.t0:.3f}, but no "
                f"y/enter/space was typed {GUARD_S} s or more after a {kind} about it was pushed "
                f"(pushed at: {asked}; keys in the second before: {typed})")

    def check_end(self) -> None:
        """After the run: libvirt's domains now against before, and against the log."""
        try:
            self._check_end()
        finally:
            if "close" in vars(self.conn):  # the watched host was removed: close it now
                del self.conn.close
                self.conn.close()

    def _check_end(self) -> None:
        self.check_snapshots()
        self.check_events()
        self.check_log()
        after = read_facts(self.conn)
        for uuid, was in self.before.items():
            records = self.records(uuid)
            actions = {r.action for r in records}
            confirmed = {r.action for r in records if r.confirmed}
            now = after.get(uuid)
            if now is None:
                if was.persistent:
                    self.problems.append(f"persistent domain {was.name} vanished")
                elif not ({"shutdown"} & actions or "force_off" in confirmed):
                    self.problems.append(f"transient domain {was.name} vanished without a "
                                         f"shutdown or a confirmed force off: {sorted(actions)}")
                continue
            if now.state != was.state and not records:
                self.problems.append(f"{was.name} went from state {was.state} to {now.state} "
                                     "with no action recorded for it")
            if now.state == libvirt.VIR_DOMAIN_SHUTOFF and now.state != was.state:
                need = {libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED: "force_off",
                        libvirt.VIR_DOMAIN_SHUTOFF_SAVED: "managed_save",
                        libvirt.VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT: "snapshot-revert"}.get(now.reason)
                if need and need not in confirmed:
                    self.problems.append(f"{was.name} is shut off (reason {now.reason}) with no "
                                         f"confirmed {need}: {sorted(actions)}")
            if now.managed_save and not was.managed_save and "managed_save" not in confirmed:
                self.problems.append(f"{was.name} has a new managed-save image and no confirmed "
                                     "managed_save record")
        for uuid, now in after.items():
            if uuid not in self.before:
                self.problems.append(f"a domain appeared: {now.name}")


def read_facts_one(dom: libvirt.virDomain) -> dict[str, str | None]:
    parents: dict[str, str | None] = {}
    for snap in dom.listAllSnapshots(0):
        try:
            parents[snap.getName()] = snap.getParent(0).getName()
        except libvirt.libvirtError:
            parents[snap.getName()] = None
    return parents
