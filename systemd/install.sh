#!/usr/bin/env bash
# Install pianocam as a headless unit on Raspberry Pi OS or Debian, in one command:
#   sudo systemd/install.sh [--unit-id ID] [--broker HOST[:PORT]] [--user NAME] [--password-file FILE] [--dry-run]
# Copies this checkout to /opt/pianocam, builds its .venv, creates the service user (groups
# video, audio), writes /etc/pianocam/pianocam.toml from the example unless one exists,
# stores the broker password as a systemd credential, and enables the service.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/pianocam etc=/etc/pianocam unit_id="" broker="" mqtt_user="" password_file="" dry=""
while [ $# -gt 0 ]; do
    case "$1" in
        --unit-id) unit_id=$2; shift 2 ;;
        --broker) broker=$2; shift 2 ;;
        --user) mqtt_user=$2; shift 2 ;;
        --password-file) password_file=$2; shift 2 ;;
        --dry-run) dry=1; shift ;;
        *) sed -n '2,6p' "$0"; exit 2 ;;
    esac
done
run() { if [ -n "$dry" ]; then echo "+ $*"; else "$@"; fi; }
[ -n "$dry" ] || [ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
if [ -n "$unit_id" ] && ! [[ "$unit_id" =~ ^[a-z0-9-]+$ ]]; then
    echo "install.sh: --unit-id must match [a-z0-9-]+" >&2; exit 2
fi

# The Pi camera's libcamera bindings come from the OS, so the venv must see system packages there.
system_site=""
if [ -e /proc/device-tree/model ] && grep -qi raspberry /proc/device-tree/model; then
    run apt-get install -y python3-picamera2
    system_site=1
fi
run mkdir -p "$prefix" "$etc"
run cp -a "$here/." "$prefix/"
run env PIANOCAM_SYSTEM_SITE="$system_site" "$prefix/setup.sh" venv
id pianocam >/dev/null 2>&1 || run useradd --system --home-dir /var/lib/pianocam --shell /usr/sbin/nologin pianocam
run usermod -aG video,audio pianocam

if [ ! -f "$etc/pianocam.toml" ]; then
    config=$(sed -e "s/^unit_id = .*/unit_id = \"${unit_id:-$(hostname | tr 'A-Z_' 'a-z-')}\"/" "$here/systemd/pianocam.toml.example")
    if [ -n "$broker" ]; then
        config=$(printf '%s\n' "$config" | sed -e "s/^host = .*/host = \"${broker%%:*}\"/")
        [[ "$broker" == *:* ]] && config=$(printf '%s\n' "$config" | sed -e "s/^port = .*/port = ${broker##*:}/")
    fi
    [ -n "$mqtt_user" ] && config=$(printf '%s\n' "$config" | sed -e "s/^username = .*/username = \"$mqtt_user\"/")
    if [ -n "$dry" ]; then echo "+ write $etc/pianocam.toml:"; printf '%s\n' "$config"; else printf '%s\n' "$config" > "$etc/pianocam.toml"; fi
fi
run install -m 0644 "$here/systemd/pianocam.service" /etc/systemd/system/pianocam.service
if [ -n "$password_file" ]; then
    run install -m 0600 "$password_file" "$etc/mqtt.password"
    run sed -i 's|^# LoadCredential=|LoadCredential=|' /etc/systemd/system/pianocam.service
fi
run "$prefix/.venv/bin/pianocam" config --config "$etc/pianocam.toml"
run systemctl daemon-reload
run systemctl enable --now pianocam.service
# The doctor runs as the service would (its user and groups, state directory, credentials),
# so it sees the same camera permissions, journal and key map.
credential=""
[ -n "$password_file" ] && credential="-p LoadCredential=mqtt.password:$etc/mqtt.password "
echo "installed: systemctl status pianocam"
echo "check it (stop the service first: it holds the camera; start it again after):"
echo "check it:  sudo systemd-run --pipe --wait --collect -p User=pianocam -p Group=pianocam" \
     "-p SupplementaryGroups='video audio' -p StateDirectory=pianocam -p CacheDirectory=pianocam" \
     "${credential}-E PIANOCAM_CONFIG=$etc/pianocam.toml $prefix/.venv/bin/pianocam doctor"
