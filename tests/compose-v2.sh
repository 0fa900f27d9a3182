#!/usr/bin/env bash
# TEST ENVIRONMENT ONLY. Learners' VMs get Compose v2 from Docker's apt repository, or
# Debian 13's docker-compose (provisioning/); this Debian 12 machine has only Compose v1
# (docker-compose 1.29), and reaches no other repository. Debian 13's docker-compose package is Compose v2
# as a docker CLI plugin, built by Debian: take that binary from Debian's mirror, check
# it against the mirror's signed index, and install it as /usr/local/lib/docker/
# cli-plugins/docker-compose, so the tests run `docker compose` (v2) as learners do,
# and `docker-compose` (v1) as this machine can install. Does nothing if v2 answers.
# The mirror is the one this machine's apt uses (tests/apt-mirror.sh).
#   SUITE=sid bash tests/compose-v2.sh --deb FILE [PACKAGE]
# only writes that suite's checked docker-compose (or PACKAGE, e.g. docker-buildx) to
# FILE (tests/realvm: for the real VM).
set -euo pipefail

# shellcheck source=tests/apt-mirror.sh
. "$(dirname "$0")/apt-mirror.sh"
PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
SUITE=${SUITE:-trixie}
deb="" package=docker-compose
[ "${1:-}" = --deb ] && deb=${2:?"--deb FILE"} && package=${3:-$package}

if [ -z "$deb" ] && docker compose version >/dev/null 2>&1; then
    echo "compose-v2: $(docker compose version)"
    exit 0
fi
MIRROR=$(apt_mirror)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arch=$(dpkg --print-architecture)

# The suite's Release file is signed; it lists the checksum of the package index,
# and the index lists the checksum of the package: check the whole chain.
curl -fsS -o "$work/InRelease" "$MIRROR/dists/$SUITE/InRelease"
gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg \
    --output "$work/Release" "$work/InRelease" 2>/dev/null \
    || { echo "compose-v2: the $SUITE Release file is not signed by Debian" >&2; exit 1; }
index=main/binary-$arch/Packages.xz
curl -fsS -o "$work/Packages.xz" "$MIRROR/dists/$SUITE/$index"
want=$(awk -v f="$index" '/^SHA256:/ {s=1; next} /^[A-Z]/ {s=0} s && $3 == f {print $1}' \
    "$work/Release")
echo "$want  $work/Packages.xz" | sha256sum -c --quiet
xz -d "$work/Packages.xz"
awk -v want="Package: $package" '$0 == want {p=1} p && /^$/ {exit} p' "$work/Packages" \
    > "$work/stanza"
file=$(sed -n 's/^Filename: //p' "$work/stanza")
sum=$(sed -n 's/^SHA256: //p' "$work/stanza")
echo "compose-v2: $package $(sed -n 's/^Version: //p' "$work/stanza") from $SUITE"
curl -fsS -o "$work/compose.deb" "$MIRROR/$file"
echo "$sum  $work/compose.deb" | sha256sum -c --quiet
if [ -n "$deb" ]; then
    cp "$work/compose.deb" "$deb"
    exit 0
fi
dpkg-deb -x "$work/compose.deb" "$work/root"
install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN"
echo "compose-v2: $(docker compose version)"
