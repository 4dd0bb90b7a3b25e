#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs as PID 1 of the private namespaces that tests/systemd/run.sh makes (mount, PID,
# network, UTS, IPC, cgroup): puts a throw-away root together, installs the package in
# it, and becomes the systemd of that root.
#
#   boot.sh TREE UPPER WORK ROOT DEB|-
#
# TREE, the cached Debian tree, is the lower layer of an overlay mounted on ROOT;
# every write (the package, the journal, systemd's state) lands in UPPER, so the
# cache stays as mmdebstrap made it. Every mount here is in the private mount
# namespace and goes away with it.
#
# What this systemd could change outside its namespaces is kept from it: /dev is a
# tmpfs with a handful of bound nodes (no host tty, no kmsg), /sys and /proc/sys are
# read-only except /proc/sys/net (this network namespace's own), and the units that
# touch the kernel's global state (sysctl, modules, binfmt_misc, the audit socket) or
# the consoles are masked.
set -eu

tree=$1 upper=$2 work=$3 root=$4 deb=$5

mount -t overlay overlay -o "lowerdir=$tree,upperdir=$upper,workdir=$work" "$root"

mount -t proc proc "$root/proc"
# /proc/sys read-only but for net/ (per network namespace); sysrq-trigger too
mount --bind "$root/proc/sys" "$root/proc/sys"
mount --bind "$root/proc/sys/net" "$root/proc/sys/net"
mount -o remount,bind,ro "$root/proc/sys"
if [ -e "$root/proc/sysrq-trigger" ]; then
	mount --bind "$root/proc/sysrq-trigger" "$root/proc/sysrq-trigger"
	mount -o remount,bind,ro "$root/proc/sysrq-trigger"
fi

mount -t sysfs -o ro sysfs "$root/sys"
# the cgroup namespace's root: the cgroup run.sh made for this test
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup"

mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"

mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
for n in null zero full random urandom tty; do
	touch "$root/dev/$n"
	mount --bind "/dev/$n" "$root/dev/$n"
done
# systemd's status output goes nowhere (the journal has it)
touch "$root/dev/console"
mount --bind /dev/null "$root/dev/console"
mkdir "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"

# The package, as an administrator installs it: dpkg -i, which enables and starts
# nothing (no systemd runs yet, and the package says --no-enable --no-start anyway).
# DEB "-": a reboot, the upper layer has it all already.
if [ "$deb" != - ]; then
	cp "$deb" "$root/tmp/"
	DEBIAN_FRONTEND=noninteractive chroot "$root" dpkg -i "/tmp/${deb##*/}"
	rm -f "$root/tmp/${deb##*/}"

	for u in getty@.service serial-getty@.service console-getty.service container-getty@.service \
		systemd-logind.service systemd-sysctl.service systemd-modules-load.service \
		systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
		systemd-journald-audit.socket systemd-random-seed.service; do
		ln -sfn /dev/null "$root/etc/systemd/system/$u"
	done
fi

echo "boot.sh: starting systemd"
# container=: systemd's own word for "not the machine's init"; it skips what only a
# real boot does (nspawn sets it the same way).
exec chroot "$root" /usr/bin/env -i container=ipbanset-check /lib/systemd/systemd --system
