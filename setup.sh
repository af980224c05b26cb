#!/usr/bin/env bash
# pianocam set-up on Debian, Ubuntu or Raspberry Pi OS.
#   ./setup.sh          create .venv with the unit's dependencies, then run the demo (30 s)
#   ./setup.sh test     also install what the tests need (mosquitto, fluidsynth, a soundfont, postgresql), lint, run the suite
#   ./setup.sh venv     only create or update .venv
#   ./setup.sh export   create .venv-export, the workstation environment (torch, ONNX, TFLite)
# Two environments because mediapipe 0.10 needs numpy<2 and the export tools bring numpy 2.
set -euo pipefail
cd "$(dirname "$0")"
MEDIAPIPE=mediapipe==0.10.18   # bundles the hand models and runs offline; 1.x fetches them at run time
# basic-pitch's wheel carries its transcription model (nmp.onnx); its metadata pulls TensorFlow,
# which the unit does not need (onnxruntime runs the model), so it too goes in --no-deps.
BASIC_PITCH=basic-pitch==0.4.0
UV_VERSION=0.13.9   # only where the OS has no Python 3.11/3.12 (Raspberry Pi OS on Debian 13): fetches CPython 3.11

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
    # Raspberry Pi OS on Debian 13 (trixie) ships Python 3.13 only, for which mediapipe 0.10.18 has no wheel.
    if [ "${PIANOCAM_FETCH_PYTHON:-yes}" = yes ] && command -v python3 >/dev/null; then
        echo "setup: no Python 3.11 or 3.12 here, and mediapipe 0.10.18 has wheels for those only. Fetching one:" >&2
        echo "setup:   pip installs uv $UV_VERSION from PyPI into .uv-tool, then uv downloads a standalone CPython" >&2
        echo "setup:   3.11 build (about 30 MB, from github.com/astral-sh/python-build-standalone) into" >&2
        echo "setup:   ~/.local/share/uv/python. PIANOCAM_FETCH_PYTHON=no stops here instead." >&2
        if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv >&2; fi
        [ -x .uv-tool/bin/uv ] || { python3 -m venv .uv-tool && .uv-tool/bin/python -m pip install -q "uv==$UV_VERSION"; } >&2
        .uv-tool/bin/uv python install 3.11 >&2 && .uv-tool/bin/uv python find 3.11 && return 0
    fi
    echo "setup: mediapipe 0.10.18 needs Python 3.11 or 3.12 (3.11 on a Raspberry Pi)" >&2
    return 1
}

# make_venv DIR LOCK [EXTRA-PIP-ARGS...]: create DIR from the pinned LOCK, re-installing only when it changed.
make_venv() {
    local dir=$1 lock=$2; shift 2
    local py; py=$(pick_python)
    if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv; fi
    if [ ! -x "$dir/bin/python" ]; then
        echo "setup: creating $dir with $("$py" --version)"
        # PIANOCAM_SYSTEM_SITE=1 lets the venv see the OS's picamera2/libcamera on a Raspberry Pi.
        "$py" -m venv ${PIANOCAM_SYSTEM_SITE:+--system-site-packages} "$dir"
    fi
    if [ ! -f "$dir/.lock-installed" ] || ! cmp -s "$lock" "$dir/.lock-installed"; then
        echo "setup: installing $lock into $dir"
        "$dir/bin/python" -m pip install -q --upgrade pip
        "$dir/bin/python" -m pip install -q -r "$lock"
        [ $# -gt 0 ] && "$dir/bin/python" -m pip install -q --no-deps "$@"
        cp "$lock" "$dir/.lock-installed"
    fi
    "$dir/bin/python" -m pip install -q --no-deps -e .
}

unit_venv() {
    apt_install libportaudio2   # sounddevice's PortAudio, for microphone input
    make_venv .venv requirements/unit.lock "$MEDIAPIPE" "$BASIC_PITCH"
}
export_venv() { make_venv .venv-export requirements/export.lock; }

case "${1:-demo}" in
    demo)
        unit_venv
        exec .venv/bin/pianocam demo --seconds "${DEMO_SECONDS:-30}" ;;
    venv)
        unit_venv ;;
    export)
        export_venv ;;
    test)
        apt_install mosquitto fluidsynth timgm6mb-soundfont openssl systemd ffmpeg chromium fonts-dejavu-core postgresql \
            gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav
        unit_venv
        shift || true
        .venv/bin/ruff check .   # the house style (pyproject.toml [tool.ruff]) before any test
        # The unit's suite runs in .venv; the workstation's (tests/export) in .venv-export.
        .venv/bin/python -m pytest --ignore=tests/export "$@"
        if [ -f requirements/export.lock ] && [ -d tests/export ]; then
            export_venv
            .venv-export/bin/python -m pytest tests/export "$@"
        fi ;;
    *)
        sed -n '2,6p' "$0"; exit 2 ;;
esac
