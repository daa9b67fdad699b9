"""Fitting long values into a narrow terminal (widgets/formatting.py): paths are cut only after
a '/', titles drop whole parts, and every figure keeps its unit."""

from __future__ import annotations

from kvmtui.widgets.formatting import (
    bytes_per_second,
    fit_parts,
    pack_parts,
    seconds_total,
    wrap_line,
)

ROOT = "/var/lib/libvirt/images/very-long-project-name/production-database-primary-volume-0001.qcow2"


def test_a_path_that_fits_stays_whole():
    assert wrap_line(ROOT, len(ROOT)) == [ROOT]


def test_a_path_too_long_for_a_line_is_cut_after_a_slash():
    assert wrap_line(ROOT, 76) == ["/var/lib/libvirt/images/very-long-project-name/",
                                   "production-database-primary-volume-0001.qcow2"]


def test_a_path_moves_whole_to_the_next_line_when_it_fits_there():
    assert wrap_line("size unknown: /var/lib/libvirt/images/a.qcow2", 40, 2) == [
        "size unknown:", "  /var/lib/libvirt/images/a.qcow2"]


def test_only_a_stretch_with_no_slash_longer_than_a_line_is_cut_mid_word():
    assert wrap_line("/iso/" + "x" * 30, 20) == ["/iso/", "x" * 20, "x" * 10]


def test_words_wrap_at_spaces_with_the_hanging_indent():
    assert wrap_line("a signal made the vCPU thread return to QEMU", 20, 2) == [
        "a signal made the", "  vCPU thread return", "  to QEMU"]


def test_a_title_drops_whole_parts_from_the_end():
    parts = ["n" * 60, "running", "4 vCPUs", "16384 MiB", "1-7 tabs"]
    assert fit_parts(parts, 78) == "n" * 60 + " · running"
    assert fit_parts(parts, 200) == " · ".join(parts)


def test_parts_are_packed_on_lines_never_split():
    assert pack_parts(["Memory used 9.0 GiB", "disk read 4.2 KiB/s", "net rx 0 B/s"], 42) == (
        "Memory used 9.0 GiB · disk read 4.2 KiB/s\nnet rx 0 B/s")


def test_rates_and_times_carry_their_units():
    assert [bytes_per_second(v) for v in (None, 0, 812, 4300, 12.5 * 2**20)] == [
        "-", "0 B/s", "812 B/s", "4.2 KiB/s", "12 MiB/s"]
    assert [seconds_total(ns) for ns in (420_000_000, 37_100_000_000, 5_412_000_000_000)] == [
        "0.42 s", "37.1 s", "5,412 s"]
