#!/usr/bin/env bash
# Exists only because no container registry is reachable here: builds offline stand-ins
# for .env's PYTHON_IMAGE and POSTGRES_IMAGE, each ONLY when `docker pull` of the real
# image fails.
#
#   tests/standins/build.sh      (as root, with a Docker engine answering)
#
# 1. STANDIN_BASE (standins.env): a debootstrapped Debian STANDIN_SUITE rootfs, from the
#    Debian mirror of this machine's apt sources (tests/apt-mirror.sh), that trusts this
#    host's CAs (containers here reach PyPI only through a TLS proxy that only the host
#    trusts), imported with `docker import`. Other stand-ins (and the stand-in VM) build
#    FROM it.
# 2. The python and postgres stand-ins, from the Dockerfiles in python/ and postgres/.
# Idempotent and cached: an image is rebuilt only when the hash of its inputs (kept in the
# image label below) changes. A real pulled image (no such label) is never replaced.
# While it works it holds STANDINS_LOCK (standins.env).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/standins/standins.env
. "$here/standins.env"
exec 9>"$STANDINS_LOCK"
flock 9
# shellcheck source=tests/apt-mirror.sh
. "$here/../apt-mirror.sh"
BASE=$STANDIN_BASE
SUITE=$STANDIN_SUITE
LABEL=org.docker-workshop.standin.inputs
env_get() { sed -n "s/^$1=//p" "$here/../../.env"; }  # the project's single source of names
root=""  # the rootfs being built, removed on exit

cleanup() {  # debootstrap mounts /proc and /sys inside the rootfs: unmount before removing it
    [ -n "$root" ] || return 0
    for m in dev/pts dev proc sys; do
        if mountpoint -q "$root/$m"; then umount -l "$root/$m"; fi
    done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT

label_of() {  # image -> its stand-in label ("" for a real image or no image)
    docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null \
        | sed 's/<no value>//' || true
}

build_base() {  # hash
    local mirror
    mirror=$(apt_mirror)
    root=$(mktemp -d /var/tmp/standin-rootfs.XXXXXX)
    debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$mirror"
    rm -f "$root/etc/apt/sources.list"
    debian_sources "$SUITE" > "$root/etc/apt/sources.list.d/debian.sources"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
    tar -C "$root" --numeric-owner -c . | docker import \
        --change "LABEL $LABEL=$1" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' - "$BASE"
    cleanup
    root=""
}

base() {
    local want
    want=$({ declare -f build_base debian_sources; cat "$here/standins.env" \
        /usr/local/share/ca-certificates/*.crt; } | sha256sum | cut -c1-16)
    if [ "$(label_of "$BASE")" = "$want" ]; then
        echo "$BASE: up to date"
    else
        echo "$BASE: building (debootstrap, a few minutes)"
        build_base "$want"
    fi
}

standin() {  # image dir build-arg (NAME=value, e.g. PG_MAJOR=17, from the image's tag)
    local image=$1 dir=$here/$2 arg=$3 have want
    have=$(label_of "$image")
    if docker image inspect "$image" >/dev/null 2>&1 && [ -z "$have" ]; then
        echo "$image: real image present, kept"
        return
    fi
    if timeout 120 docker pull -q "$image" >/dev/null 2>&1; then
        echo "$image: pulled the real image"
        return
    fi
    want=$({ docker image inspect -f '{{.Id}}' "$BASE"; echo "$arg"; cat "$dir"/*; } \
        | sha256sum | cut -c1-16)
    if [ "$have" = "$want" ]; then
        echo "$image: stand-in up to date (no registry reachable)"
        return
    fi
    echo "$image: cannot be pulled, building the stand-in from $dir ($arg, Debian $SUITE)"
    local out
    if ! out=$(docker build --build-arg "BASE=$BASE" --build-arg "$arg" \
            --label "$LABEL=$want" -t "$image" "$dir" 2>&1); then
        echo "$out" >&2
        return 1
    fi
}

version_of() {  # tag -> its leading version (3.13-slim -> 3.13, 17 -> 17; test -> "")
    [[ $1 =~ ^[0-9]+(\.[0-9]+)* ]] && echo "${BASH_REMATCH[0]}" || true
}

base
python_image=${PYTHON_IMAGE:-$(env_get PYTHON_IMAGE)}  # a variable set in the shell wins
postgres_image=${POSTGRES_IMAGE:-$(env_get POSTGRES_IMAGE)}
# A tag without a version (e.g. a test's): Debian's python3, unchecked.
standin "$python_image" python "PYTHON_VERSION=$(version_of "${python_image##*:}")"
pg_major=$(version_of "${postgres_image##*:}")
standin "$postgres_image" postgres "PG_MAJOR=${pg_major%%.*}"
standin "${REGISTRY_IMAGE:=$(env_get REGISTRY_IMAGE)}" registry "REGISTRY_MAJOR=${REGISTRY_IMAGE##*:}"
docker image prune -f --filter "label=$LABEL" >/dev/null  # dangling old stand-ins
