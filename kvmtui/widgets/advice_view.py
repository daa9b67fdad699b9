"""The advice findings as a user reads them: on the details screen's Advice tab and under the
tables of `x`. Pure: a list of Findings in, a rich renderable out, fitted to the width given.

Each finding is its severity word (styled, and a word, so it reads the same without colour),
its title, the evidence indented under it, then "fix:" and the fix, line by line. An XML tag
is never cut at its inner spaces: a line breaks between tags and words, and inside a tag only
when the tag alone is longer than a line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from kvmtui.virt.advice import INFO, NOT_CHECKED, PROBLEM, SEVERITIES, WARNING, Finding
from kvmtui.widgets.formatting import count, pack_spans, wrap_spans

STYLES = {PROBLEM: "bold red", WARNING: "yellow", INFO: "dim"}
WORD = max(len(s) for s in SEVERITIES) + 2   # "warning  Title": the titles line up
EVIDENCE = 4                                  # evidence and "fix:" under the title
FIX = EVIDENCE + len("fix: ")                 # the fix's further lines, under its first
NOTHING = "no advice: nothing found in its configuration, its host or its figures"

# a tag, with its attributes (spaces inside kept), or a run of text between spaces and tags
_TOKEN = re.compile(r"<[^<>\n]*>|[^\s<]+|<")


def xml_spans(text: str, width: int, hang: int = 0) -> list[tuple[int, int]]:
    """As formatting.wrap_spans, but breaking between tags (and words) rather than at the
    spaces inside a tag; a tag or word longer than a line is cut as wrap_spans cuts it."""
    width = max(1, width)
    hang = hang if width - hang >= 8 else 0
    limit = width - hang
    tokens: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if end - start <= limit:
            tokens.append((start, end))
        else:
            tokens += [(start + s, start + e) for s, e in wrap_spans(match.group(), limit)]
    return pack_spans(tokens, width, limit)


class Paragraphs:
    """Lines of Text, each at its own indent, wrapped to the width with a hanging indent;
    styles kept. The renderable of a finding list."""

    def __init__(self) -> None:
        self.items: list[tuple[Text, int, int]] = []   # (text, indent, hang)

    def add(self, text: Text | str, indent: int = 0, hang: int = 2, style: str = "") -> None:
        self.items.append((text if isinstance(text, Text) else Text(text, style=style),
                           indent, hang))

    def lines(self, width: int) -> list[Text]:
        out: list[Text] = []
        for text, indent, hang in self.items:
            room = max(1, width - indent)
            shown_hang = hang if room - hang >= 8 else 0
            for i, (start, end) in enumerate(xml_spans(text.plain, room, hang) or [(0, 0)]):
                out.append(Text(" " * (indent + (shown_hang if i else 0))) + text[start:end])
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            line.end = "\n"
            line.no_wrap = True
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((len(t.plain) + indent for t, indent, _ in self.items), default=0)
        return Measurement(min(widest, 30), widest).clamp(max_width=options.max_width)


def counts(findings: Sequence[Finding]) -> str:
    """'1 problem, 2 warnings, 1 info'; 'none' without any."""
    parts = []
    for severity, word in ((PROBLEM, "problem"), (WARNING, "warning")):
        n = sum(f.severity == severity for f in findings)
        if n:
            parts.append(count(n, word))
    infos = sum(f.severity == INFO for f in findings)
    if infos:
        parts.append(f"{infos} info")
    return ", ".join(parts) or "none"


def worst_style(findings: Sequence[Finding]) -> str:
    severities = {f.severity for f in findings if f.id != NOT_CHECKED}
    return next((STYLES[s] for s in (PROBLEM, WARNING) if s in severities), "")


def heading(findings: Sequence[Finding]) -> Text:
    """'Advice: 1 problem, 2 warnings', styled as the worst of them."""
    text = Text()
    text.append(f"Advice: {counts(findings)}", style=f"bold {worst_style(findings)}".strip())
    return text


def add_finding(out: Paragraphs, finding: Finding) -> None:
    style = STYLES.get(finding.severity, "")
    head = Text(f"{finding.severity:<{WORD}}", style=style)
    head.append(finding.title, style="bold")
    out.add(head, hang=WORD)
    for line in finding.evidence:
        out.add(line, indent=EVIDENCE)
    fix = finding.fix.splitlines() or ["-"]
    first = Text("fix: ", style="bold")
    first.append(fix[0])
    out.add(first, indent=EVIDENCE, hang=FIX - EVIDENCE)
    for line in fix[1:]:
        out.add(line, indent=FIX, hang=0)


def findings_view(findings: Sequence[Finding], note: str | None = None,
                  title: bool = True) -> Paragraphs:
    """Every finding, in the engine's order (problems first); without any, says so, and what
    could not be checked. `note` (dim) follows the heading."""
    out = Paragraphs()
    if title:
        out.add(heading(findings))
    if note:
        out.add(note, hang=0, style="dim")
    real = [f for f in findings if f.id != NOT_CHECKED]
    if not real:
        out.add("")
        out.add(NOTHING)
    for finding in findings:
        if finding.id == NOT_CHECKED and not real:
            out.add("")
            out.add("not checked:", style="dim")
            for line in finding.evidence:
                out.add(line, indent=EVIDENCE, style="dim")
            out.add(finding.fix, indent=EVIDENCE, style="dim")
            continue
        out.add("")
        add_finding(out, finding)
    return out
