#!/usr/bin/env python3
"""How long `vagrant up`'s provisioning takes, measured on the stand-in VM.

    .venv/bin/python bench/bench_vm.py

Boots a fresh stand-in VM (tests/vm/standin_vm.py: Debian 12, systemd, its own Docker
engine), then times what ansible_local does: installing Debian's ansible, the first
playbook run, and a second run (idempotent: nothing changes). Offline mode: Debian's
docker.io, no image pulls. Packages come from Debian's mirror and PyPI, so the figures
include downloads. Prints one line per phase.
"""

import contextlib
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from vm.standin_vm import booted_vm, vm_image  # noqa: E402


def timed(label, action):
    start = time.monotonic()
    result = action()
    print(f"{label:<44} {time.monotonic() - start:7.1f} s", flush=True)
    return result


def main():
    cpu = platform.processor() or platform.machine()
    print(f"bench_vm {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
          f"({cpu}, {len(os.sched_getaffinity(0))} cores)")
    image = timed("stand-in VM image (cached after the 1st)", vm_image)
    with contextlib.ExitStack() as stack:
        vm = timed("boot (systemd up)", lambda: stack.enter_context(booted_vm(image)))
        timed("copy the project (synced folder)", vm.copy_project)
        timed("install Debian's ansible (ansible_local)", vm.install_ansible)
        for label in ("first provisioning run", "second provisioning run (idempotent)"):
            run = timed(label, vm.provision)
            if run.returncode:
                sys.exit(f"{label} failed:\n{run.output[-4000:]}")
            print(f"    recap: {run.recap}")


if __name__ == "__main__":
    main()
