#!/usr/bin/env bash
# Check the unit installs and runs on arm64 (a Raspberry Pi's or a Jetson's CPU) from an x86 Debian/Ubuntu box.
#   sudo systemd/check-aarch64.sh            build (once, cached) a Debian 12 arm64 root, run the README's set-up
#                                            in it under qemu-user, then pianocam doctor, demo and the fast tests
#   ARM64_ROOT=DIR   where the root is kept (default /var/cache/pianocam/arm64-bookworm)
#   ARM64_TESTS="…"  the pytest arguments run inside (default: the unit's fast tests that need no broker)
# Emulation runs MediaPipe at several seconds a frame: this checks that it works, never how fast.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=${ARM64_ROOT:-/var/cache/pianocam/arm64-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Fast under emulation: pure geometry, features, decoding and messages, and the frame pacing (MediaPipe, at
# seconds a frame here, is exercised by doctor and the demo).
TESTS=${ARM64_TESTS:-"-q -m 'not slow' tests/config/test_config.py tests/technique/test_features.py tests/fingering/test_fingering.py tests/transport/test_messages.py tests/unit/test_frame_rate.py -k 'not offline and not hot'"}
INCLUDE=python3,python3-venv,python3-pip,ca-certificates,libgl1,libglib2.0-0,libportaudio2,git
declare -a RESULTS=()

[ "$(id -u)" = 0 ] || { echo "check-aarch64: run as root (debootstrap, binfmt_misc and chroot need it)"; exit 2; }

# step NAME CMD...: run, time and record one step; later steps still run so the summary is whole.
step() {
    local name=$1; shift
    local t0=$SECONDS
    echo "== $name"
    if "$@"; then RESULTS+=("PASS  $((SECONDS - t0))s  $name"); return 0; fi
    RESULTS+=("FAIL  $((SECONDS - t0))s  $name"); return 1
}
summary() { echo; echo "== aarch64 check ($(uname -m) host, root $ROOT)"; printf '%s\n' "${RESULTS[@]}"; }
trap summary EXIT

host_tools() {
    local missing=()
    for pkg in qemu-user-static debootstrap; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Registered by hand: containers and minimal hosts have no systemd-binfmt to do it. Debian's line as it is (its
# P flag is what the aarch64-binfmt-P wrapper needs), with F added where missing: the kernel then opens the
# interpreter at registration, so it works inside the chroot without a copy of qemu there.
binfmt() {
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || return 1
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && return 0
    local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    [ -f "$conf" ] || { echo "check-aarch64: $conf missing (qemu-user-static not installed?)"; return 1; }
    sed '/:[A-Z]*F[A-Z]*$/!s/$/F/' "$conf" > /proc/sys/fs/binfmt_misc/register
}

debian_root() {
    [ -f "$ROOT/.pianocam-root-ok" ] && { echo "cached: $ROOT"; return 0; }
    rm -rf "$ROOT" && mkdir -p "$ROOT"
    debootstrap --arch=arm64 --variant=minbase --include="$INCLUDE" bookworm "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 \
        || { tail -20 "$ROOT.log"; return 1; }
    touch "$ROOT/.pianocam-root-ok"
}

mounts() {
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
    mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
}
unmount() { umount "$ROOT/dev" 2>/dev/null; umount "$ROOT/proc" 2>/dev/null; }

# The project goes in as the working tree (tracked and untracked, not ignored), over the last copy so the root's
# .venv is reused when requirements/unit.lock did not change; ../shared beside it for the tests that read it.
project() {
    mkdir -p "$ROOT/opt/pianocam"
    git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$ROOT/opt/pianocam"
    if [ -d ../shared/data ] && ! mountpoint -q "$ROOT/opt/shared"; then
        mkdir -p "$ROOT/opt/shared" && mount --bind -o ro ../shared "$ROOT/opt/shared"
    fi
}
unshare_mounts() { umount "$ROOT/opt/shared" 2>/dev/null; unmount; }

inside() { chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    OMP_NUM_THREADS=1 /bin/bash -c "cd /opt/pianocam && $1"; }

# doctor in a root with no broker and no key map: the arm64 parts (models, onnxruntime, frame source) must be ok.
doctor() {
    local out; out=$(inside '.venv/bin/pianocam doctor' 2>&1); echo "$out"
    for check in "hand models" technique "frame source"; do
        grep -Eq "^ok +$check" <<<"$out" || { echo "check-aarch64: doctor's $check is not ok"; return 1; }
    done
}

# main, so that the whole file is read before any step runs (editing it mid-run is then harmless).
main() {
    step "host tools (qemu-user-static, debootstrap)" host_tools || exit 1
    step "binfmt_misc: qemu-aarch64 registered" binfmt || exit 1
    step "Debian 12 arm64 root (debootstrap, cached)" debian_root || exit 1
    trap 'unshare_mounts; summary' EXIT
    step "mounts, resolv.conf, CA bundle" mounts || exit 1
    step "arm64 userland: $(chroot "$ROOT" uname -m 2>&1), $(chroot "$ROOT" python3 --version 2>&1)" \
        chroot "$ROOT" /bin/sh -c '[ "$(uname -m)" = aarch64 ]' || exit 1
    step "project copied to /opt/pianocam" project || exit 1
    step "./setup.sh venv (the README's set-up)" inside './setup.sh venv' || exit 1
    step "pianocam doctor (hand models, technique model, frame source ok)" doctor
    step "pianocam demo --seconds 5" inside '.venv/bin/pianocam demo --seconds 5'
    step "fast tests: pytest $TESTS" inside ".venv/bin/python -m pytest -p no:cacheprovider $TESTS"
}
main "$@"
