#!/bin/sh
# The venue kit: a Vagrant box of the fully provisioned workshop VM (Debian's
# and Docker's packages, PostgreSQL with its database, the Python environment,
# the workshop's images, Docker's build cache for step 1, the `workshop`
# command), so that a room of learners starts with nothing to download.
# Instructors run it once, from the project folder, on a machine with network:
#
#   sh provisioning/kit.sh [FILE.box]     # default: docker-workshop-<date>-<arch>.box
#
# A box boots only on the processor type it was built on (<arch>: amd64 for Intel and
# AMD, arm64 for Apple Silicon): build one kit per type your learners bring.
#
# It needs Vagrant and the provider you use (VirtualBox, or libvirt), nothing
# else: it runs `vagrant up`, then `vagrant provision` with WORKSHOP_KIT=yes (the
# VM must have no containers and no recorded progress: build the kit from a
# fresh VM), then `vagrant package`, then writes FILE.box.sha256. Learners run:
#
#   vagrant box add --name docker-workshop-<arch> FILE.box
#   WORKSHOP_BOX=docker-workshop-<arch> vagrant up
#
# The Vagrantfile refuses a docker-workshop-<arch> box of the other processor type.
#
# exercises/INSTRUCTORS.md says how to hand it out.
set -eu
cd "$(dirname "$0")/.."
say() { printf 'kit: %s\n' "$*"; }
# The names the Vagrantfile gives processors (its HOST_ARCH).
case "$(uname -m)" in
    arm64|aarch64) arch=arm64 ;;
    *) arch=amd64 ;;
esac
box=${1:-docker-workshop-$(date +%Y-%m-%d)-$arch.box}

case "$box" in
    *.box) ;;
    *) say "the kit's file name must end in .box (got $box)"; exit 2 ;;
esac
if [ -e "$box" ]; then
    say "$box exists already: remove it, or name another file (sh provisioning/kit.sh NAME.box)"
    exit 1
fi

say "1/3 the VM, provisioned for the kit (vagrant up, then vagrant provision with WORKSHOP_KIT=yes)"
vagrant up
WORKSHOP_KIT=yes vagrant provision

say "2/3 packaging the VM into $box (vagrant package: the VM stops; minutes)"
vagrant package --output "$box"

say "3/3 writing the checksum ($box.sha256)"
name=$(basename "$box")
(
    cd "$(dirname "$box")"   # the file's name only: `sha256sum -c` works beside the box
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$name" > "$name.sha256"
    else
        shasum -a 256 "$name" > "$name.sha256"   # macOS
    fi
)
size=$(du -k "$box" | cut -f1)
say "done: $box, $((size / 1024)) MiB, checksum in $box.sha256"
say "for $arch processors; learners run:"
say "  vagrant box add --name docker-workshop-$arch $box"
say "  WORKSHOP_BOX=docker-workshop-$arch vagrant up"
