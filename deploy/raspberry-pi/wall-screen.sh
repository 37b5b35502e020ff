#!/usr/bin/env bash
# Show one shopfloor board full screen on a wall TV, for ever: Chromium in kiosk mode, restarted if it exits.
set -u
url=${SHOPFLOOR_URL:?set SHOPFLOOR_URL to the board address, e.g. http://shopfloor.lan:8080/board/progress}
profile=${SHOPFLOOR_PROFILE:-$HOME/.config/shopfloor-wall-screen}
browser=$(command -v chromium || command -v chromium-browser) || { echo "chromium is not installed" >&2; exit 1; }

# A wall screen never blanks or sleeps.
if command -v xset >/dev/null && [[ -n ${DISPLAY:-} ]]; then xset s off -dpms s noblank; fi
if command -v unclutter >/dev/null; then unclutter -idle 1 -root & fi

while true; do
  # Kiosk flags; and no background traffic: a shop LAN is often offline.
  "$browser" --kiosk --noerrdialogs --disable-infobars --no-first-run --disable-translate \
    --disable-features=Translate --disable-background-networking --disable-component-update \
    --disable-sync --check-for-update-interval=31536000 --user-data-dir="$profile" "$url"
  echo "chromium exited ($?); restarting in 5 s" >&2
  sleep 5
done
