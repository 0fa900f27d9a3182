"""tests/apt-mirror.sh: the scripts that fetch from Debian take the mirror from apt's own
configuration, never from a host name written in the repo."""

import subprocess

import pytest

from settings import PROJECT

SCRIPT = PROJECT / "tests" / "apt-mirror.sh"

DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
"""


def mirror(root, *args, **env):
    command = f'. {SCRIPT} && apt_mirror "$@"'
    return subprocess.run(["bash", "-c", command, "apt_mirror", *args], capture_output=True,
                          text=True, env={"APT_ROOT": str(root), "PATH": "/usr/bin:/bin", **env})


@pytest.fixture
def machine(tmp_path):
    (tmp_path / "etc" / "apt" / "sources.list.d").mkdir(parents=True)
    (tmp_path / "etc" / "os-release").write_text("ID=debian\nVERSION_CODENAME=bookworm\n")
    return tmp_path


def sources(machine, name, text):
    (machine / "etc" / "apt" / name).write_text(text)


def test_deb822_sources(machine):
    sources(machine, "sources.list.d/debian.sources", DEB822)
    assert mirror(machine).stdout == "http://mirror.example/debian\n"
    assert mirror(machine, "security").stdout == "http://security.example/debian-security\n"


def test_one_line_sources_skip_comments_other_repositories_and_other_releases(machine):
    sources(machine, "sources.list", """\
# deb http://commented.example/debian bookworm main
deb [arch=amd64 signed-by=/k.asc] https://download.docker.com/linux/debian bookworm stable
deb http://old.example/debian bullseye main
deb-src http://src.example/debian bookworm main
deb http://lines.example/debian bookworm main non-free-firmware
""")
    assert mirror(machine).stdout == "http://lines.example/debian\n"


def test_a_disabled_deb822_entry_is_skipped(machine):
    sources(machine, "sources.list.d/debian.sources",
            "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n"
            "Enabled: no\n\n" + DEB822)
    assert mirror(machine).stdout == "http://mirror.example/debian\n"


def test_no_mirror_is_a_clear_error_and_the_variables_win(machine):
    sources(machine, "sources.list", "deb http://archive.ubuntu.com/ubuntu noble main\n")
    missing = mirror(machine)
    assert missing.returncode == 1
    assert "no Debian mirror for 'bookworm' (main)" in missing.stderr
    assert "set DEBIAN_MIRROR" in missing.stderr
    assert mirror(machine, DEBIAN_MIRROR="http://given.example/debian/").stdout == (
        "http://given.example/debian\n")
    assert mirror(machine, "security", DEBIAN_SECURITY_MIRROR="http://s.example/x").stdout == (
        "http://s.example/x\n")


def test_debian_sources_for_a_new_root_name_this_machines_mirrors(machine):
    sources(machine, "sources.list.d/debian.sources", DEB822)
    written = subprocess.run(["bash", "-c", f". {SCRIPT} && debian_sources trixie"],
                             capture_output=True, text=True,
                             env={"APT_ROOT": str(machine), "PATH": "/usr/bin:/bin"})
    assert written.returncode == 0, written.stderr
    entries = [dict(line.split(": ", 1) for line in block.splitlines())
               for block in written.stdout.strip().split("\n\n")]
    assert [(e["URIs"], e["Suites"], e["Components"]) for e in entries] == [
        ("http://mirror.example/debian", "trixie trixie-updates", "main"),
        ("http://security.example/debian-security", "trixie-security", "main"),
    ]
    broken = subprocess.run(["bash", "-c", f". {SCRIPT} && debian_sources trixie"],
                            capture_output=True, text=True,
                            env={"APT_ROOT": str(machine / "nothing"), "PATH": "/usr/bin:/bin"})
    assert broken.returncode == 1 and broken.stdout == ""
