#!/bin/sh
# Installs Ansible in the VM for the ansible_local provisioner that runs next
# (the Vagrantfile runs this first, as root). Debian's ansible-core is enough:
# the playbook uses only ansible.builtin's modules, and the full `ansible`
# package that Vagrant would install brings every collection (about 30,000
# files to unpack), minutes more on every learner's first `vagrant up`.
# Nothing to do, and no network needed, when Ansible is there already (a second
# `vagrant provision`, or a VM booted from the venue kit's box).
set -eu
if command -v ansible-playbook >/dev/null 2>&1; then
    echo "Ansible is installed: $(ansible-playbook --version | head -n 1)"
    exit 0
fi
echo "Installing Debian's ansible-core (apt)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# python3-apt: what Ansible's apt and package_facts modules work with.
apt-get install -y -q --no-install-recommends ansible-core python3-apt
