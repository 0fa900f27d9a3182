#!/usr/bin/env bash
# TEST ENVIRONMENT ONLY. Builds the Vagrant box the real-VM tests boot under qemu (TCG):
# a Debian box for vagrant-libvirt that matches the Vagrantfile's bento box in what the
# workshop touches, built here from Debian's mirror with debootstrap (no box can be
# downloaded here). Learners use bento's box; nothing of this reaches them.
#
#   tests/realvm/box.sh          (as root) prints the box's name as its last line
#
# Like bento/debian-N: the `vagrant` user with Vagrant's insecure key and passwordless
# sudo, sshd, systemd, Debian's kernel with its modules (ip_vs for Swarm's routing mesh),
# apparmor (Docker needs it), and no Ansible: ansible_local installs it as on bento.
# Only for this machine, and only in the box (never in the project's Vagrantfile):
# - its Vagrantfile boots the kernel directly under qemu's TCG (KVM here cannot boot a
#   stock kernel), with eth0 named eth0;
# - systemd-networkd configures eth0 only, so Vagrant's private network owns eth1;
# - it trusts this machine's CAs (/usr/local/share/ca-certificates: pip in the VM goes
#   through this machine's TLS proxy), and apt uses the mirror this machine's apt uses.
# Cached in $CACHE, keyed by the hash of its inputs (this script, the release, the
# mirror, the CAs, the key): rebuilt only when one changes. The box is added to the
# tests' own VAGRANT_HOME ($CACHE/vagrant-home), never to the user's ~/.vagrant.d.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
CACHE=${REALVM_CACHE:-/var/cache/docker-workshop/realvm}
export VAGRANT_HOME=$CACHE/vagrant-home
KEY=$(dirname "$(readlink -f "$(command -v vagrant)")")/../keys/vagrant.pub
[ -f "$KEY" ] || KEY=$(find /usr/share /opt -path '*vagrant*/keys/vagrant.pub' 2>/dev/null | head -1)
DISK_GB=20
# Packages beyond debootstrap's minbase: what a bento box has that the workshop uses.
PACKAGES=(
    systemd-sysv dbus systemd-resolved udev kmod   # systemd, networking by networkd
    linux-image-amd64 initramfs-tools              # the kernel, with its modules
    openssh-server sudo                            # Vagrant's way in
    apparmor                                       # Docker refuses to start without it
    ca-certificates iproute2 iptables procps less
)

say() { printf 'box: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

# Debian's release, from the box the Vagrantfile names (bento/debian-13 -> 13 -> trixie).
release=$(sed -n 's/^BOX = ENV.fetch("WORKSHOP_BOX", "[^"]*debian-\([0-9]*\)").*/\1/p' \
    "$project/Vagrantfile")
case "$release" in
    12) suite=bookworm ;;
    13) suite=trixie ;;
    *) fail "cannot tell the Debian release from the Vagrantfile's BOX (got '$release')" ;;
esac

# The mirrors this machine's apt uses (tests/apt-mirror.sh): the box gets its packages,
# and its apt its sources, from them, never from a host name written in here.
. "$project/tests/apt-mirror.sh"
MIRROR=$(apt_mirror) || fail "no Debian mirror in this machine's apt configuration"
SECURITY=$(apt_mirror security) || fail "no Debian security mirror in apt's configuration"
[ -f "$KEY" ] || fail "Vagrant's insecure public key (keys/vagrant.pub) is missing: install vagrant"

hash=$({ cat "$0" "$project/tests/apt-mirror.sh"; echo "$suite $MIRROR $SECURITY"; cat "$KEY";
         cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true; } \
       | sha256sum | cut -c1-12)
NAME=docker-workshop-realvm/debian-$release-$hash
BOXDIR=$CACHE/box-$release-$hash

if VAGRANT_HOME=$VAGRANT_HOME vagrant box list 2>/dev/null | grep -q "^$NAME "; then
    say "$NAME: up to date (cached in $CACHE)"
    echo "$NAME"
    exit 0
fi

root=""
cleanup() {  # unmount what debootstrap and chroot mounted, then remove the rootfs
    [ -n "$root" ] || return 0
    for m in dev/pts dev proc sys; do
        if mountpoint -q "$root/$m"; then umount -l "$root/$m"; fi
    done
    rm -rf --one-file-system "$root"
    rm -f "$BOXDIR.raw" "$BOXDIR.box"
}
trap cleanup EXIT

mkdir -p "$CACHE" "$VAGRANT_HOME"
chmod 0755 "$CACHE" "$VAGRANT_HOME" "$(dirname "$CACHE")"  # qemu reads the kernel from here
started=$SECONDS
root=$(mktemp -d /var/tmp/realvm-rootfs.XXXXXX)
say "building $NAME: Debian $release ($suite) from $MIRROR (debootstrap, a few minutes)"
LOG=$CACHE/box-build.log
if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
        "$suite" "$root" "$MIRROR" 2>&1 | tee "$LOG" \
        | awk '/^I: (Retrieving|Unpacking|Configuring) / { n[$2]++
              if (n[$2] % 50 == 0) { print "box: debootstrap: " $2 " " n[$2] " packages"; fflush() } }' >&2
then
    tail -n 20 "$LOG" >&2
    fail "debootstrap failed (log above, full log: $LOG)"
fi
[ -x "$root/usr/sbin/sshd" ] || fail "debootstrap failed"

say "configuring the system (user, sshd, network, apt, CAs)"
debian_sources "$suite" > "$root/etc/apt/sources.list.d/debian.sources"
rm -f "$root/etc/apt/sources.list"
echo "debian" > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n' > "$root/etc/hosts"
echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" > "$root/etc/fstab"
# eth0 only (the management network, by DHCP); Vagrant writes eth1's file itself.
cat > "$root/etc/systemd/network/10-eth0.network" <<EOF
[Match]
Name=eth0

[Network]
DHCP=ipv4
EOF
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" \
    2>/dev/null || true
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$root/etc/pip.conf"
chroot "$root" /bin/sh -eu <<'EOF'
update-ca-certificates >/dev/null
systemctl enable systemd-networkd systemd-resolved ssh >/dev/null 2>&1
# Not during a test run: apt's daily jobs would hold apt's lock while Ansible needs it.
systemctl mask apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1
useradd -m -s /bin/bash -G sudo vagrant
echo "vagrant:vagrant" | chpasswd
echo "vagrant ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/vagrant
chmod 0440 /etc/sudoers.d/vagrant
install -d -m 0700 -o vagrant -g vagrant /home/vagrant/.ssh
echo "UseDNS no" > /etc/ssh/sshd_config.d/vagrant.conf
: > /etc/machine-id
apt-get clean
rm -rf /var/lib/apt/lists/*
EOF
install -m 0600 "$KEY" "$root/home/vagrant/.ssh/authorized_keys"
chroot "$root" chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys

say "writing the disk image (ext4 -> qcow2)"
mkdir -p "$BOXDIR.tmp"
cp "$(readlink -f "$root/vmlinuz")" "$BOXDIR.tmp/vmlinuz"
cp "$(readlink -f "$root/initrd.img")" "$BOXDIR.tmp/initrd.img"
for m in dev/pts dev proc sys; do if mountpoint -q "$root/$m"; then umount -l "$root/$m"; fi; done
truncate -s "${DISK_GB}G" "$BOXDIR.raw"
mkfs.ext4 -q -L root -d "$root" "$BOXDIR.raw"
qemu-img convert -O qcow2 "$BOXDIR.raw" "$BOXDIR.tmp/box.img"
printf '{"provider": "libvirt", "format": "qcow2", "virtual_size": %s}\n' "$DISK_GB" \
    > "$BOXDIR.tmp/metadata.json"
cat > "$BOXDIR.tmp/Vagrantfile" <<'EOF'
# The real-VM tests' box (tests/realvm/box.sh): settings for this test machine only.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.driver = "qemu"            # TCG: this machine's KVM cannot boot a stock kernel
    lv.cpu_mode = "custom"
    lv.cpu_model = "qemu64"
    lv.kernel = File.join(__dir__, "vmlinuz")
    lv.initrd = File.join(__dir__, "initrd.img")
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
  end
end
EOF
rm -rf "$BOXDIR"
mv "$BOXDIR.tmp" "$BOXDIR"

say "adding the box to the tests' Vagrant ($VAGRANT_HOME)"
tar -C "$BOXDIR" -cf "$BOXDIR.box" metadata.json Vagrantfile box.img vmlinuz initrd.img
vagrant box add --force --name "$NAME" "$BOXDIR.box" >&2
# Older builds of this box are of no use any more.
for old in $(vagrant box list 2>/dev/null | awk '{print $1}' \
             | grep "^docker-workshop-realvm/" | grep -vx "$NAME" || true); do
    vagrant box remove --force --all "$old" >&2 || true
done
find "$CACHE" -maxdepth 1 -name 'box-*' ! -name "box-$release-$hash" -exec rm -rf {} +
rm -f "$BOXDIR/box.img"  # Vagrant keeps its own copy
say "built $NAME in $((SECONDS - started)) s"
echo "$NAME"
