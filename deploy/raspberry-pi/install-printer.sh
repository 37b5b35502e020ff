#!/usr/bin/env bash
# One printer's agent on the host the printer is attached to: the system user shopfloor (in groups lp and
# dialout through the unit), the venv with the wheel, the printer's own credentials file, the udev rule that
# keeps a USB printer's name, and shopfloor-printer-agent@NAME enabled. Idempotent.
set -euo pipefail

usage() {
  cat <<'TEXT'
usage: sudo install-printer.sh NAME [options]
  NAME                 the printer's name in the site TOML (e.g. reception)
  --credentials FILE   the file `shopfloor printer-credentials NAME --out FILE` wrote on the server
                       (needed on the first run; kept as /etc/shopfloor/printer-NAME.toml, mode 600)
  --device DEV         a serial printer behind a USB adapter (/dev/ttyUSB0): add its udev line, so it is
                       /dev/shopfloor/printer-NAME from then on (USB class printers need nothing)
  --wheel FILE --constraints FILE --find-links DIR   as for install-server.sh
  --no-systemctl       install without enabling or starting the unit (also SHOPFLOOR_NO_SYSTEMCTL=1)
TEXT
}

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

name="" credentials="" device="" wheel="" constraints="$REPO_DIR/constraints.txt" find_links=""
while [ $# -gt 0 ]; do
  case $1 in
    --credentials) credentials=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --wheel) wheel=$2; shift 2 ;;
    --constraints) constraints=$2; shift 2 ;;
    --find-links) find_links=$2; shift 2 ;;
    --no-systemctl) no_systemctl=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [ -z "$name" ] || die "one printer at a time (got $name and $1)"; name=$1; shift ;;
  esac
done
[ -n "$name" ] || { usage >&2; die "give the printer's name"; }
[[ $name =~ ^[a-z0-9_-]{1,32}$ ]] || die "printer name '$name': lower-case letters, digits, - and _ (as in the site TOML)"
need_root
check_systemd
wheel=$(find_wheel "$wheel")

apt_install python3 python3-venv
ensure_user
ensure_dir "$DATA_DIR" 750 shopfloor:shopfloor
ensure_dir "$CONF_DIR" 755 root:root
install_venv "$wheel" "$constraints" "$find_links"

own=$CONF_DIR/printer-$name.toml
if [ -n "$credentials" ]; then
  install_file "$credentials" "$own" 600 shopfloor:shopfloor
elif [ ! -f "$own" ]; then
  die "no $own yet: give --credentials FILE (\`shopfloor printer-credentials $name --out FILE\` on the server)"
fi

rules=/etc/udev/rules.d/99-shopfloor-printers.rules
# the lines added for serial printers stay: the file is laid down once, then only appended to
[ -f "$rules" ] || install_file "$KIT_DIR/99-shopfloor-printers.rules" "$rules" 644
install_file "$KIT_DIR/printer-udev-rule.sh" /usr/local/sbin/shopfloor-printer-udev-rule 755
if [ -n "$device" ]; then
  line=$("$KIT_DIR/printer-udev-rule.sh" --name "$name" "$device")
  if ! grep -qxF "$line" "$rules"; then
    printf '%s\n' "$line" >>"$rules"
    say "added to $rules: $line"
    changed=1
  fi
fi
if [ "$changed" = 1 ] && [ "$no_systemctl" != 1 ]; then
  udevadm control --reload
  udevadm trigger --subsystem-match=usbmisc --subsystem-match=tty
fi

install_file "$KIT_DIR/shopfloor-printer-agent@.service" "$UNIT_DIR/shopfloor-printer-agent@.service" 644
enable_units "shopfloor-printer-agent@$name.service"
say "done: journalctl -u shopfloor-printer-agent@$name says what the agent cannot reach (printer or broker)"
