#!/bin/sh
# The venue kit: a Vagrant box of the fully provisioned workshop VM (Debian's
# and Docker's packages, PostgreSQL with its database, the Python environment,
# the workshop's images, Docker's build cache for step 1, the `workshop`
# command), so that a room of learners starts with nothing to download.
# Instructors run it once, from the project folder, on a machine with network:
#
#   sh provisioning/kit.sh [FILE.box]     # default: docker-workshop-<date>.box
#
# It needs Vagrant and the provider you use (VirtualBox, or libvirt), nothing
# else: it runs `vagrant up`, then `vagrant provision` with WORKSHOP_KIT=yes (the
# VM must have no containers and no recorded progress: build the kit from a
# fresh VM), then `vagrant package`, then writes FILE.box.sha256. Learners run:
#
#   vagrant box add --name docker-workshop FILE.box
#   WORKSHOP_BOX=docker-workshop vagrant up
#
# exercises/INSTRUCTORS.md says how to hand it out.
set -eu
cd "$(dirname "$0")/.."
box=${1:-docker-workshop-$(date +%Y-%m-%d).box}
say() { printf 'kit: %s\n' "$*"; }

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
say "learners: vagrant box add --name docker-workshop $box"
say "          WORKSHOP_BOX=docker-workshop vagrant up"
