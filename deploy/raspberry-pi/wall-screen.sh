#!/usr/bin/env bash
# One shopfloor board full screen on a wall TV, for ever: waits until the server answers /healthz, then
# Chromium in kiosk mode, started again if it exits. Started by the desktop session (labwc's autostart on
# Wayland, ~/.config/autostart on X11); install-wall-screen.sh puts it in /usr/local/bin/shopfloor-wall-screen.
#   SHOPFLOOR_URL      the board's address (from /etc/shopfloor/wall-screen.env)
#   SHOPFLOOR_CA       the site's CA certificate, for an https:// server (curl's --cacert)
#   SHOPFLOOR_ONCE=1   open the browser once and return (to try it from a terminal)
set -euo pipefail

env_file=${SHOPFLOOR_WALL_SCREEN_ENV:-/etc/shopfloor/wall-screen.env}
if [ -z "${SHOPFLOOR_URL:-}" ] && [ -r "$env_file" ]; then
  # shellcheck disable=SC1090
  . "$env_file"
fi
url=${SHOPFLOOR_URL:?set SHOPFLOOR_URL (in $env_file) to the board address, e.g. http://shopfloor.lan:8080/board/progress}
profile=${SHOPFLOOR_PROFILE:-$HOME/.config/shopfloor-wall-screen}
origin=$(printf '%s\n' "$url" | sed -E 's#^(https?://[^/?#]+).*#\1#')
health=${SHOPFLOOR_HEALTH_URL:-$origin/healthz}
curl_args=(-fsS --max-time 5)
[ -n "${SHOPFLOOR_CA:-}" ] && curl_args+=(--cacert "$SHOPFLOOR_CA")
browser=$(command -v chromium-browser || command -v chromium) || { echo "chromium is not installed" >&2; exit 1; }

# One instance per user: labwc's autostart and the XDG autostart may both start it.
exec 9>"${XDG_RUNTIME_DIR:-/tmp}/shopfloor-wall-screen.$(id -u).lock"
if ! flock -n 9; then
  echo "shopfloor-wall-screen already runs for $(id -un)" >&2
  exit 0
fi

# A wall screen never blanks: on X11 here; on Wayland (labwc) the installer turned the idle blanker off with
# raspi-config, and wlopm (if installed) switches the outputs back on.
if [ -n "${WAYLAND_DISPLAY:-}" ]; then
  if command -v wlopm >/dev/null; then wlopm --on '*' || true; fi
elif [ -n "${DISPLAY:-}" ]; then
  if command -v xset >/dev/null; then xset s off -dpms s noblank || true; fi
  # X11's cursor hidden while still; on Wayland the installer's blank cursor theme does it
  if command -v unclutter >/dev/null; then unclutter -idle 0.5 -root & fi
fi

# After a power cut Chromium finds its profile marked as crashed and offers to restore the pages: mark the last
# run as a clean exit, so the board opens as if nothing happened.
clean_exit() {
  local prefs=$profile/Default/Preferences
  [ -f "$prefs" ] || return 0
  sed -i -E -e 's/"exit_type": ?"[A-Za-z]*"/"exit_type":"Normal"/g' \
    -e 's/"exited_cleanly": ?false/"exited_cleanly":true/g' "$prefs"
}

wait_for_server() {
  local waited=0
  until curl "${curl_args[@]}" "$health" >/dev/null 2>&1; do
    # once a minute in the journal, not every try
    if [ $((waited % 60)) -eq 0 ]; then echo "waiting for $health" >&2; fi
    sleep 5
    waited=$((waited + 5))
  done
}

while true; do
  wait_for_server
  clean_exit
  # Kiosk flags; no crash bubble or error dialogs; no background traffic: a shop LAN is often offline.
  status=0
  "$browser" --kiosk --noerrdialogs --disable-infobars --disable-session-crashed-bubble \
    --hide-crash-restore-bubble --no-first-run --disable-translate --disable-features=Translate \
    --disable-background-networking --disable-component-update --disable-sync --password-store=basic \
    --check-for-update-interval=31536000 --ozone-platform-hint=auto --user-data-dir="$profile" "$url" || status=$?
  [ "${SHOPFLOOR_ONCE:-0}" = 1 ] && exit "$status"
  echo "chromium exited ($status); starting it again in 5 s" >&2
  sleep 5
done
