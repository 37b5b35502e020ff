#!/usr/bin/env bash
# A Pi behind a wall TV shows one board: Chromium in kiosk mode started by the desktop session of the
# auto-login user, on Raspberry Pi OS Bookworm's labwc (Wayland) and on X11. Needs no shopfloor install: the
# board is a page of the server. Idempotent: the same URL again changes nothing.
set -euo pipefail

usage() {
  cat <<'TEXT'
usage: sudo install-wall-screen.sh URL [options]
  URL              the board, e.g. http://shopfloor.lan:8080/board/progress?token=<the screen's token>
                   (/lounge needs no token); the screen waits for the server's /healthz before opening it
  --user USER      the desktop user who logs in on the screen (default: the user running sudo)
  --ca FILE        the site's CA certificate (DATA_DIR/tls/ca.crt) for an https:// server: Chromium and curl
                   trust it
  --no-autologin   leave the boot and login settings alone (default: boot to the desktop, logged in)
TEXT
}

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

url="" user=${SUDO_USER:-} ca="" autologin=1
while [ $# -gt 0 ]; do
  case $1 in
    --user) user=$2; shift 2 ;;
    --ca) ca=$2; shift 2 ;;
    --no-autologin) autologin=0; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [ -z "$url" ] || die "one URL (got $url and $1)"; url=$1; shift ;;
  esac
done
[[ $url =~ ^https?://[^/]+ ]] || { usage >&2; die "give the board's URL (http://HOST:PORT/…)"; }
[[ $url != *[[:space:]\"\'\\]* ]] || die "the URL holds a space, quote or backslash"
need_root
if [ -z "$user" ] || [ "$user" = root ]; then
  die "give --user: the desktop user (not root) who logs in on this screen"
fi
home=$(getent passwd "$user" | cut -d: -f6)
if [ -z "$home" ] || [ ! -d "$home" ]; then
  die "no user $user with a home folder"
fi
group=$(id -gn "$user")

# Chromium is chromium-browser on Raspberry Pi OS and chromium on Debian.
if ! command -v chromium-browser >/dev/null && ! command -v chromium >/dev/null; then
  if apt-cache policy chromium-browser 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt_install chromium-browser
  else
    apt_install chromium
  fi
fi
# Chinese on the boards (Noto Sans CJK), the health wait, X11's blanking and cursor tools
packages=(curl fonts-noto-cjk unclutter x11-xserver-utils python3)
[ -n "$ca" ] && packages+=(libnss3-tools)
apt_install "${packages[@]}"

ensure_dir "$CONF_DIR" 755 root:root
env_text="SHOPFLOOR_URL='$url'"
if [ -n "$ca" ]; then
  install_file "$ca" "$CONF_DIR/ca.crt" 644
  env_text="$env_text
SHOPFLOOR_CA=$CONF_DIR/ca.crt"
  # Chromium's trust store on Linux is the user's NSS database
  nssdb="sql:$home/.pki/nssdb"
  if ! runuser -u "$user" -- certutil -d "$nssdb" -L -n shopfloor-site-ca >/dev/null 2>&1; then
    runuser -u "$user" -- mkdir -p "$home/.pki/nssdb"
    runuser -u "$user" -- certutil -d "$nssdb" -N --empty-password 2>/dev/null || true
    runuser -u "$user" -- certutil -d "$nssdb" -A -t "C,," -n shopfloor-site-ca -i "$CONF_DIR/ca.crt"
    changed=1
  fi
fi
install_text "$CONF_DIR/wall-screen.env" 644 "$env_text"
install_file "$KIT_DIR/wall-screen.sh" /usr/local/bin/shopfloor-wall-screen 755

# X11: the session's XDG autostart
install_file "$KIT_DIR/shopfloor-wall-screen.desktop" "$home/.config/autostart/shopfloor-wall-screen.desktop" 644 \
  "$user:$group"

# Wayland (labwc): the user's autostart. A user file replaces /etc/xdg/labwc/autostart (the panel and the
# desktop icons, which a wall screen hides anyway); kanshi keeps the screen layout chosen in Screen Configuration.
autostart=$home/.config/labwc/autostart
if ! grep -qs '^# shopfloor wall screen$' "$autostart"; then
  runuser -u "$user" -- mkdir -p "$home/.config/labwc"
  cat >>"$autostart" <<'TEXT'
# shopfloor wall screen
command -v kanshi >/dev/null && kanshi &
systemd-cat -t shopfloor-wall-screen /usr/local/bin/shopfloor-wall-screen &
TEXT
  chown "$user:$group" "$autostart"
  say "added the wall screen to $autostart"
  changed=1
fi

# Wayland has no unclutter: a cursor theme whose every cursor is one transparent pixel, for labwc and the
# programs it starts (XCURSOR_THEME in labwc's environment file).
theme=/usr/share/icons/shopfloor-blank
if [ ! -f "$theme/index.theme" ]; then
  python3 - "$theme/cursors" <<'PY'
import os, struct, sys
# Xcursor file: header, one table-of-contents entry, one 1x1 image chunk with a transparent ARGB pixel
IMAGE, SIZE = 0xFFFD0002, 24
image = struct.pack("<9I", 36, IMAGE, SIZE, 1, 1, 1, 0, 0, 0) + struct.pack("<I", 0)
data = b"Xcur" + struct.pack("<3I", 16, 0x10000, 1) + struct.pack("<3I", IMAGE, SIZE, 16 + 12) + image
os.makedirs(sys.argv[1], exist_ok=True)
for name in ("default left_ptr arrow top_left_arrow pointer hand hand1 hand2 text xterm ibeam wait watch progress "
             "left_ptr_watch crosshair cross move grab grabbing all-scroll fleur not-allowed help context-menu "
             "col-resize row-resize ew-resize ns-resize sb_h_double_arrow sb_v_double_arrow").split():
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(data)
PY
  printf '[Icon Theme]\nName=shopfloor-blank\nComment=every cursor transparent (wall screens)\n' >"$theme/index.theme"
  changed=1
fi
environment=$home/.config/labwc/environment
if ! grep -qs '^XCURSOR_THEME=shopfloor-blank$' "$environment"; then
  printf 'XCURSOR_THEME=shopfloor-blank\n' >>"$environment"
  chown "$user:$group" "$environment"
  changed=1
fi

# No blanking, and the desktop logged in at boot, by raspi-config's nonint calls (get_blanking 1: blanking off;
# get_boot_cli 1: boot to the desktop; get_autologin 0: logged in).
if command -v raspi-config >/dev/null; then
  if [ "$(raspi-config nonint get_blanking 2>/dev/null || echo 0)" != 1 ]; then
    raspi-config nonint do_blanking 1
    changed=1
  fi
  if [ "$autologin" = 1 ] && { [ "$(raspi-config nonint get_boot_cli 2>/dev/null)" != 1 ] \
       || [ "$(raspi-config nonint get_autologin 2>/dev/null)" != 0 ]; }; then
    raspi-config nonint do_boot_behaviour B4
    changed=1
  fi
else
  say "no raspi-config (not Raspberry Pi OS): turn screen blanking off and log $user in to the desktop at boot yourself"
fi

if [ "$changed" = 1 ]; then
  say "done: reboot (or log $user out and in) to start the wall screen"
else
  say "nothing to change: the wall screen was installed as asked"
fi
