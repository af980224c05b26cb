#!/usr/bin/env bash
# pianocam set-up on Debian, Ubuntu or Raspberry Pi OS.
#   ./setup.sh          create .venv with the unit's dependencies, then run the demo (30 s)
#   ./setup.sh test     also install what the tests need (mosquitto, fluidsynth, a soundfont), run the suite
#   ./setup.sh venv     only create or update .venv
set -euo pipefail
cd "$(dirname "$0")"
MEDIAPIPE=mediapipe==0.10.18   # bundles the hand models and runs offline; 1.x fetches them at run time

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
    for py in python3.11 python3.12 python3.10 python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))'; then
            echo "$py"; return 0
        fi
    done
    echo "setup: mediapipe 0.10.18 needs Python 3.11 or 3.12 (3.11 on a Raspberry Pi)" >&2
    return 1
}

make_venv() {
    local py; py=$(pick_python)
    if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv; fi
    if [ ! -x .venv/bin/python ]; then
        echo "setup: creating .venv with $("$py" --version)"
        "$py" -m venv .venv
    fi
    if [ ! -f .venv/.lock-installed ] || ! cmp -s requirements/unit.lock .venv/.lock-installed; then
        .venv/bin/python -m pip install -q --upgrade pip
        .venv/bin/python -m pip install -q -r requirements/unit.lock
        .venv/bin/python -m pip install -q --no-deps "$MEDIAPIPE"
        cp requirements/unit.lock .venv/.lock-installed
    fi
    .venv/bin/python -m pip install -q --no-deps -e .
}

case "${1:-demo}" in
    demo)
        make_venv
        exec .venv/bin/pianocam demo --seconds "${DEMO_SECONDS:-30}" ;;
    venv)
        make_venv ;;
    test)
        apt_install mosquitto fluidsynth timgm6mb-soundfont
        make_venv
        shift || true
        exec .venv/bin/python -m pytest "$@" ;;
    *)
        sed -n '2,6p' "$0"; exit 2 ;;
esac
