"""Tier 1: the config file read, its mistakes reported by line, hosts added and removed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kvmtui.virt.session import config_edit as config_module
from kvmtui.virt.session.config import (
    REFRESH_RANGE_S,
    Config,
    ConfigError,
    HostEntry,
    default_config_path,
    load_config,
)
from kvmtui.virt.session.config_edit import append_host, remove_host, save_columns

GOOD = """\
# kvmtui settings
refresh = 2.5
shutdown_timeout = 90

[[hosts]]
name = "kvm1"
uri = "qemu+ssh://root@kvm1/system"
readonly = true

[[hosts]]   # the laptop's own libvirt
uri = "qemu:///system"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


# -- where the file is -----------------------------------------------------------------------

@pytest.mark.parametrize("env,expected", [
    ({"XDG_CONFIG_HOME": "/etc/xdg-me", "HOME": "/home/ann"}, "/etc/xdg-me/kvmtui/config.toml"),
    ({"HOME": "/home/ann"}, "/home/ann/.config/kvmtui/config.toml"),
    ({"XDG_CONFIG_HOME": "", "HOME": "/home/ann"}, "/home/ann/.config/kvmtui/config.toml"),
    ({"XDG_CONFIG_HOME": "rel/conf", "HOME": "/home/ann"}, "/home/ann/.config/kvmtui/config.toml"),
])
def test_default_path_follows_xdg_and_ignores_a_relative_one(env, expected):
    assert default_config_path(env) == Path(expected)


def test_default_path_without_home_in_env_is_the_users_home():
    assert default_config_path({}) == Path.home() / ".config" / "kvmtui" / "config.toml"


def test_refresh_range_is_the_one_the_sampler_clamps_to():
    from kvmtui.virt.perf.stats import MAX_INTERVAL_S, MIN_INTERVAL_S

    assert REFRESH_RANGE_S == (MIN_INTERVAL_S, MAX_INTERVAL_S)


# -- reading ---------------------------------------------------------------------------------

def test_missing_file_is_an_empty_config_unless_the_user_named_it(tmp_path):
    path = tmp_path / "nope" / "config.toml"
    assert load_config(path) == Config(path, exists=False)
    with pytest.raises(ConfigError) as info:
        load_config(path, required=True)
    assert str(info.value) == f"kvmtui: {path}: no such file"


def test_relative_path_is_reported_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(Path("mine.toml"), required=True)
    assert str(info.value) == f"kvmtui: {tmp_path / 'mine.toml'}: no such file"


def test_unreadable_file_gives_the_os_words(tmp_path):
    path = tmp_path / "config.toml"
    path.mkdir()
    assert error_of(path) == f"kvmtui: {path}: cannot read it: Is a directory"


def test_a_good_file_reads_whole(tmp_path):
    path = write(tmp_path, GOOD)
    assert load_config(path) == Config(
        path, refresh=2.5, shutdown_timeout=90.0, exists=True,
        hosts=(HostEntry("kvm1", "qemu+ssh://root@kvm1/system", readonly=True),
               HostEntry("localhost", "qemu:///system", readonly=False)))


def test_an_empty_file_sets_nothing(tmp_path):
    path = write(tmp_path, "# nothing yet\n")
    assert load_config(path) == Config(path, exists=True)


@pytest.mark.parametrize("uri,label", [("qemu+ssh://root@kvm7.lab/system", "kvm7.lab"),
                                       ("test:///srv/fleets/lab.xml", "lab")])
def test_name_defaults_to_the_uris_host_label(tmp_path, uri, label):
    path = write(tmp_path, f'[[hosts]]\nuri = "{uri}"\n')
    assert load_config(path).hosts == (HostEntry(label, uri),)


BAD = [
    ("refresh = 1\nrefesh = 2\n",
     "line 2: unknown setting 'refesh' (known: refresh, shutdown_timeout, columns, hosts)"),
    ('refresh = 1\n\n[colours]\nbg = "red"\n',
     "line 3: unknown setting 'colours' (known: refresh, shutdown_timeout, columns, hosts)"),
    ("# why\nrefresh = 0.01\n", "line 2: refresh = 0.01 is out of range: give 0.2 to 3600 seconds"),
    ("refresh = nan\n", "line 1: refresh = nan is out of range: give 0.2 to 3600 seconds"),
    ("shutdown_timeout = 100000\n",
     "line 1: shutdown_timeout = 100000 is out of range: give 1 to 86400 seconds"),
    ("shutdown_timeout = inf\n",
     "line 1: shutdown_timeout = inf is out of range: give 1 to 86400 seconds"),
    ('refresh = "1s"\n', "line 1: refresh must be a number of seconds, not a string"),
    ("\nrefresh = true\n", "line 2: refresh must be a number of seconds, not true/false"),
    ('hosts = "kvm1"\n', "line 1: hosts must be [[hosts]] tables, not a string"),
    ('[hosts]\nuri = "qemu:///system"\n', "line 1: hosts must be [[hosts]] tables, not a table"),
    ('hosts = ["kvm1"]\n', "line 1: host 1 must be a table, not a string"),
    ('[[hosts]]\nuri = "qemu:///system"\n\n[[hosts]]\nname = "kvm1"\n', "line 4: host 2 has no uri"),
    ('[[hosts]]\nuri = "qemu:///system"\n[[ hosts ]]\nname = "x"\nuri = "kvm1"\n',
     "line 5: host 2: uri 'kvm1' is not a libvirt URI (e.g. qemu+ssh://root@kvm1/system)"),
    ('[[hosts]]\nuri = "/var/run/libvirt"\n',
     "line 2: host 1: uri '/var/run/libvirt' is not a libvirt URI (e.g. qemu+ssh://root@kvm1/system)"),
    ('[[hosts]]\nuri = ""\n',
     "line 2: host 1: uri '' is not a libvirt URI (e.g. qemu+ssh://root@kvm1/system)"),
    ('[[hosts]]\nuri = 7\n', "line 2: host 1: uri must be a string, not an integer"),
    ('[[hosts]]\nuri = "qemu:///system"\nreadOnly = true\n',
     "line 3: host 1: unknown key 'readOnly' (known: name, uri, readonly)"),
    ('[[hosts]]\nname = "  "\nuri = "qemu:///system"\n',
     "line 2: host 1: name is empty (leave it out to get 'localhost')"),
    ('[[hosts]]\nuri = "qemu:///system"\nname = 3\n',
     "line 3: host 1: name must be a string, not an integer"),
    ('[[hosts]]\nuri = "qemu:///system"\nreadonly = "yes"\n',
     "line 3: host 1: readonly must be true or false, not a string"),
    ('hosts = [{uri = "qemu:///system"}, {uri = "x y"}]\n',
     "line 1: host 2: uri 'x y' is not a libvirt URI (e.g. qemu+ssh://root@kvm1/system)"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_each_mistake_is_one_line_naming_its_line(tmp_path, text, message):
    path = write(tmp_path, text)
    assert error_of(path) == f"kvmtui: {path}, {message}"


DUPLICATES = [
    ('[[hosts]]\nname = "kvm1"\nuri = "qemu+ssh://root@kvm1/system"\n\n'
     '[[hosts]]\nuri = "qemu:///system"\n\n'
     '[[hosts]]\nuri = "qemu+ssh://root@kvm2/system"\nname = "kvm1"\n',
     "line 10: host 3: name 'kvm1' is already host 1's"),
    ('[[hosts]]\nuri = "qemu:///system"\n\n[[hosts]]\nname = "again"\nuri = "qemu:///system"\n',
     "line 6: host 2: uri 'qemu:///system' is already host 1's"),
    ('[[hosts]]\nuri = "qemu+ssh://root@kvm1/system"\n\n[[hosts]]\nuri = "qemu+ssh://admin@kvm1/system"\n',
     "line 4: host 2: name 'kvm1' (from its uri; give it a name) is already host 1's"),
]


@pytest.mark.parametrize("text,message", DUPLICATES)
def test_duplicate_names_and_uris_are_refused_at_the_later_host(tmp_path, text, message):
    path = write(tmp_path, text)
    assert error_of(path) == f"kvmtui: {path}, {message}"


def test_syntax_errors_give_line_and_column(tmp_path):
    path = write(tmp_path, "refresh = 1\n\nshutdown_timeout = sixty\n")
    assert error_of(path) == f"kvmtui: {path}, line 3, column 20: invalid value"


def test_syntax_error_at_the_end_says_so(tmp_path):
    path = write(tmp_path, '[[hosts]]\nuri = "qemu:///system\n')
    assert error_of(path).startswith(f"kvmtui: {path}, line 2, column ")
    path = write(tmp_path, "refresh =")
    assert error_of(path) == f"kvmtui: {path}: invalid value at the end of the file"


def test_a_key_holding_a_newline_still_gives_one_line(tmp_path):
    path = write(tmp_path, '"re\\nfresh" = 1\n')
    message = error_of(path)
    assert "\n" not in message
    assert message.startswith(f"kvmtui: {path}: unknown setting 're\\nfresh'")


def test_text_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"refresh = 1\n# caf\xe9\n")
    assert error_of(path) == f"kvmtui: {path}, line 2: not UTF-8 text (byte 0xe9)"


# -- adding a host ---------------------------------------------------------------------------

def test_append_to_a_missing_file_creates_it_private(tmp_path):
    path = tmp_path / "deep" / "er" / "config.toml"
    entry = HostEntry("kvm1", "qemu+ssh://root@kvm1/system")
    append_host(path, entry)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config(path).hosts == (entry,)
    assert path.read_text() == ('[[hosts]]\nname = "kvm1"\nuri = "qemu+ssh://root@kvm1/system"\n'
                                "readonly = false\n")
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_append_keeps_comments_settings_and_mode(tmp_path):
    path = write(tmp_path, GOOD + "# end of my hosts\n\n\n")
    path.chmod(0o644)
    entry = HostEntry("lab", "test:///default", readonly=True)
    append_host(path, entry)
    text = path.read_text()
    assert text == (GOOD + '# end of my hosts\n\n[[hosts]]\nname = "lab"\nuri = "test:///default"\n'
                    "readonly = true\n")
    config = load_config(path)
    assert (config.refresh, config.shutdown_timeout) == (2.5, 90.0)
    assert [h.name for h in config.hosts] == ["kvm1", "localhost", "lab"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_append_after_a_last_line_without_newline(tmp_path):
    path = write(tmp_path, "refresh = 3  # seconds")
    append_host(path, HostEntry("h", "qemu:///system"))
    assert path.read_text().startswith('refresh = 3  # seconds\n\n[[hosts]]\nname = "h"\n')
    assert load_config(path).refresh == 3.0


@pytest.mark.parametrize("name", ['the "big" one', "C:\\vms\\", "kvm-Ω 😀", "tab\there", "del\x7f",
                                  "it's"])
def test_awkward_names_round_trip(tmp_path, name):
    path = tmp_path / "config.toml"
    append_host(path, HostEntry(name, "qemu:///system"))
    assert load_config(path).hosts == (HostEntry(name, "qemu:///system"),)


def test_append_of_a_duplicate_leaves_the_file_alone(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(ConfigError) as info:
        append_host(path, HostEntry("again", "qemu:///system"))
    assert str(info.value) == (f"kvmtui: {path}: cannot add it: "
                               "host 3: uri 'qemu:///system' is already host 2's")
    assert path.read_text() == GOOD


def test_append_of_a_bad_uri_leaves_no_file(tmp_path):
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="cannot add it: host 1: uri 'kvm1' is not a libvirt URI"):
        append_host(path, HostEntry("kvm1", "kvm1"))
    assert not path.exists()


def test_append_to_a_broken_file_reports_the_break(tmp_path):
    path = write(tmp_path, "refresh = 0\n")
    with pytest.raises(ConfigError) as info:
        append_host(path, HostEntry("h", "qemu:///system"))
    assert str(info.value) == f"kvmtui: {path}, line 1: refresh = 0 is out of range: give 0.2 to 3600 seconds"
    assert path.read_text() == "refresh = 0\n"


def test_append_to_inline_hosts_is_refused_unchanged(tmp_path):
    text = 'hosts = [{uri = "qemu:///system"}]\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        append_host(path, HostEntry("lab", "test:///default"))
    assert str(info.value) == (f"kvmtui: {path}: cannot add it: hosts is not written as [[hosts]] "
                               "tables; edit the file by hand")
    assert path.read_text() == text


def test_append_through_a_symlink_keeps_the_link(tmp_path):
    real = write(tmp_path, "refresh = 2\n")
    link = tmp_path / "link" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    append_host(link, HostEntry("h", "qemu:///system"))
    assert link.is_symlink()
    assert load_config(real).hosts == (HostEntry("h", "qemu:///system"),)


def test_a_file_that_reads_back_differently_is_put_back(tmp_path, monkeypatch):
    """Another program writing the file at the same moment: the edit is undone, not half-kept."""
    path = write(tmp_path, GOOD)
    real_replace = os.replace
    calls = []

    def interfering_replace(src, dst):
        real_replace(src, dst)
        if not calls:
            Path(dst).write_text("refresh = 9\n" + Path(dst).read_text())
        calls.append(dst)

    monkeypatch.setattr(config_module.os, "replace", interfering_replace)
    with pytest.raises(ConfigError, match="cannot add it: the file read back differently"):
        append_host(path, HostEntry("lab", "test:///default"))
    assert path.read_text() == GOOD


# -- removing a host -------------------------------------------------------------------------

THREE = """\
# my hosts
refresh = 2

[[hosts]]
name = "a"
uri = "qemu:///system"

# b is the lab box
[[hosts]]
name = "b"
uri = "test:///default"

# c, in the rack
[[hosts]]  # trailing words
uri = "qemu+ssh://root@c/system"
"""


@pytest.mark.parametrize("uri,expected", [
    ("test:///default", THREE.replace('# b is the lab box\n[[hosts]]\nname = "b"\n'
                                      'uri = "test:///default"\n\n', "")),
    ("qemu+ssh://root@c/system", THREE.split("\n# c, in the rack")[0]),
    ("qemu:///system", THREE.replace('[[hosts]]\nname = "a"\nuri = "qemu:///system"\n\n', "")),
])
def test_remove_takes_out_the_block_and_keeps_the_rest(tmp_path, uri, expected):
    path = write(tmp_path, THREE)
    assert remove_host(path, uri) is True
    assert path.read_text() == expected
    config = load_config(path)
    assert config.refresh == 2.0
    assert uri not in [h.uri for h in config.hosts] and len(config.hosts) == 2


def test_remove_the_only_block_at_the_top(tmp_path):
    path = write(tmp_path, '[[hosts]]\nuri = "qemu:///system"\n\n# a note\n[[hosts]]\nuri = "test:///default"\n')
    assert remove_host(path, "qemu:///system") is True
    assert path.read_text() == '# a note\n[[hosts]]\nuri = "test:///default"\n'


def test_remove_of_an_absent_host_is_false_and_touches_nothing(tmp_path):
    path = write(tmp_path, THREE)
    before = path.stat().st_mtime_ns
    assert remove_host(path, "qemu+ssh://root@elsewhere/system") is False
    assert path.read_text() == THREE and path.stat().st_mtime_ns == before
    assert remove_host(tmp_path / "missing.toml", "qemu:///system") is False
    assert not (tmp_path / "missing.toml").exists()


def test_remove_from_inline_hosts_is_refused_unchanged(tmp_path):
    text = 'hosts = [{uri = "qemu:///system"}, {uri = "test:///default"}]\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        remove_host(path, "test:///default")
    assert str(info.value) == (f"kvmtui: {path}: cannot remove it: hosts is not written as [[hosts]] "
                               "tables; edit the file by hand")
    assert path.read_text() == text


def test_remove_that_would_change_other_hosts_is_refused_unchanged(tmp_path):
    """'[[hosts]]' lines inside a multi-line string throw the block count off: the cut would
    land in host 1's name and still parse, so the result is checked before writing."""
    text = ("[[hosts]]\nuri = \"qemu:///system\"\nname = '''\n[[hosts]]\n[[hosts]]\n'''\n"
            '[[hosts]]\nuri = "test:///default"\n')
    path = write(tmp_path, text)
    assert load_config(path).hosts[0].name == "[[hosts]]\n[[hosts]]\n"
    with pytest.raises(ConfigError) as info:
        remove_host(path, "test:///default")
    assert str(info.value) == (f"kvmtui: {path}: cannot remove it: the file would read differently "
                               "after the edit; edit it by hand")
    assert path.read_text() == text


# -- the list's columns (`C` saves them) -----------------------------------------------------

def test_columns_read_in_the_users_order(tmp_path):
    path = write(tmp_path, 'columns = ["id", "name", "exits", "cpu"]\n' + GOOD.split("\n", 1)[1])
    config = load_config(path)
    assert config.columns == ("id", "name", "exits", "cpu")
    assert [h.uri for h in config.hosts] == ["qemu+ssh://root@kvm1/system", "qemu:///system"]


@pytest.mark.parametrize(("text", "message"), [
    ('refresh = 2\ncolumns = ["name", "cpu%"]\n',
     "line 2: columns: unknown column 'cpu%' (known: id, name, host, state, cpu, vcpus, "
     "memory, exits, used, history, disk_read, disk_write, net_rx, net_tx, autostart, "
     "persistent)"),
    ('columns = "cpu"\n',
     'line 1: columns must be a list of column names, not a string '
     '(e.g. columns = ["id", "name", "state", "cpu"])'),
    ('columns = ["name", "state", "state"]\n', "line 1: columns: column 'state' is listed twice"),
])
def test_bad_columns_are_one_line_naming_their_line(tmp_path, text, message):
    path = write(tmp_path, text)
    assert error_of(path) == f"kvmtui: {path}, {message}"


def test_save_columns_goes_before_the_hosts_and_keeps_the_rest(tmp_path):
    path = write(tmp_path, GOOD)
    save_columns(path, ("id", "name", "state", "exits"))
    text = path.read_text()
    assert text.startswith("# kvmtui settings\nrefresh = 2.5\nshutdown_timeout = 90\n")
    assert text.index('columns = ["id", "name", "state", "exits"]') < text.index("[[hosts]]")
    assert "[[hosts]]   # the laptop's own libvirt" in text
    assert load_config(path) == Config(path, 2.5, 90.0, load_config(path).hosts, exists=True,
                                       columns=("id", "name", "state", "exits"))
    save_columns(path, ("name", "cpu"))  # again: the same line is replaced, not a second one
    assert path.read_text().count("columns =") == 1
    assert load_config(path).columns == ("name", "cpu")


def test_save_columns_creates_a_missing_file(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    save_columns(path, ("name", "state"))
    assert load_config(path).columns == ("name", "state")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_save_columns_to_a_broken_file_changes_nothing(tmp_path):
    path = write(tmp_path, "refresh = [\n")
    with pytest.raises(ConfigError):
        save_columns(path, ("name",))
    assert path.read_text() == "refresh = [\n"
