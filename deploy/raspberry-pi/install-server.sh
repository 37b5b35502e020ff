#!/usr/bin/env bash
# The shopfloor server on this machine (a Pi 4/5 with Raspberry Pi OS Bookworm, or any Debian 12): the system
# user shopfloor, the venv /opt/shopfloor/venv with the wheel at the tested versions, the site in
# /var/lib/shopfloor (`shopfloor init` on the first run), the broker and the server as systemd units.
# Idempotent: a second run with the same wheel changes nothing.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: sudo install-server.sh [options]
  --wheel FILE         the wheel from `make dist` (default: the newest in the repository's dist/)
  --constraints FILE   pinned versions (default: the repository's constraints.txt)
  --find-links DIR     install the dependencies from this folder only (a site without the internet)
  --site-id ID --site-name NAME [--timezone TZ] [--language zh-CN|en] [--manager NAME]
                       the site to make on the first run (`shopfloor init`); ignored once a site exists
  --broker embedded|mosquitto   the MQTT broker: `shopfloor broker` (default) or Debian's Mosquitto
  --http-port N        the server's port, written to /etc/default/shopfloor on the first run (default 8080)
  --no-systemctl       install the units without enabling or starting them (also SHOPFLOOR_NO_SYSTEMCTL=1)
  --start-direct       with --no-systemctl: start `shopfloor serve` in the background as user shopfloor
                       (also SHOPFLOOR_START_DIRECT=1; for a chroot or container without systemd)
EOF
}

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

wheel="" constraints="$REPO_DIR/constraints.txt" find_links="" broker=embedded http_port=8080
site_id="" site_name="" timezone=Asia/Shanghai language=zh-CN manager=""
start_direct=${SHOPFLOOR_START_DIRECT:-0}
while [ $# -gt 0 ]; do
  case $1 in
    --wheel) wheel=$2; shift 2 ;;
    --constraints) constraints=$2; shift 2 ;;
    --find-links) find_links=$2; shift 2 ;;
    --site-id) site_id=$2; shift 2 ;;
    --site-name) site_name=$2; shift 2 ;;
    --timezone) timezone=$2; shift 2 ;;
    --language) language=$2; shift 2 ;;
    --manager) manager=$2; shift 2 ;;
    --broker) broker=$2; shift 2 ;;
    --http-port) http_port=$2; shift 2 ;;
    --no-systemctl) no_systemctl=1; shift ;;
    --start-direct) start_direct=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done
case $broker in embedded | mosquitto) ;; *) die "--broker embedded or mosquitto, not $broker" ;; esac
if [ "$start_direct" = 1 ] && [ "$no_systemctl" != 1 ]; then
  die "--start-direct is for a machine without systemd: give --no-systemctl (SHOPFLOOR_NO_SYSTEMCTL=1) too"
fi
need_root
check_systemd
wheel=$(find_wheel "$wheel")

packages=(python3 python3-venv curl ca-certificates)
[ "$broker" = mosquitto ] && packages+=(mosquitto)
apt_install "${packages[@]}"
ensure_user
ensure_dir "$DATA_DIR" 750 shopfloor:shopfloor
ensure_dir "$CONF_DIR" 755 root:root
install_venv "$wheel" "$constraints" "$find_links"
sf=$VENV/bin/shopfloor

# The site: made once. Both files or neither: one without the other is a half-made site a person must look at.
if [ -f "$DATA_DIR/site.toml" ] && [ -f "$DATA_DIR/credentials.toml" ]; then
  say "site in $DATA_DIR kept as it is"
elif [ -f "$DATA_DIR/site.toml" ] || [ -f "$DATA_DIR/credentials.toml" ]; then
  die "$DATA_DIR holds only one of site.toml and credentials.toml: a half-made site; look at it, then move it away"
else
  if [ -z "$site_id" ] || [ -z "$site_name" ]; then
    die "no site in $DATA_DIR yet: give --site-id ID and --site-name NAME"
  fi
  init_args=(init --data-dir "$DATA_DIR" --site-id "$site_id" --site-name "$site_name" --timezone "$timezone"
    --language "$language")
  [ -n "$manager" ] && init_args+=(--manager "$manager")
  say "making the site $site_id in $DATA_DIR (note the manager's one-time PIN below: it is shown once)"
  (cd "$DATA_DIR" && runuser -u shopfloor -- "$sf" "${init_args[@]}")
  changed=1
fi

# Settings of this host, the site's own from then on: written once, never overwritten.
if [ ! -f /etc/default/shopfloor ]; then
  install_text /etc/default/shopfloor 644 "# Read by shopfloor-server.service and shopfloor-broker.service (systemctl restart them after a change)
SHOPFLOOR_SERVE_ARGS=\"--http-port $http_port\"
# e.g. --tls-host shopfloor.lan --tls-ip 192.168.1.10: more names in the broker's TLS certificate
SHOPFLOOR_BROKER_ARGS=\"\""
fi

install_file "$KIT_DIR/shopfloor-server.service" "$UNIT_DIR/shopfloor-server.service" 644
units=(shopfloor-server.service)
if [ "$broker" = embedded ]; then
  install_file "$KIT_DIR/shopfloor-broker.service" "$UNIT_DIR/shopfloor-broker.service" 644
  units=(shopfloor-broker.service "${units[@]}")
else
  # Mosquitto's files from the site's accounts: made again only when credentials.toml changed since (the
  # password file has fresh salts each time, so regenerating on every run would change it every run).
  out=$CONF_DIR/mosquitto
  if [ ! -f "$out/mosquitto.conf" ] || [ "$DATA_DIR/credentials.toml" -nt "$out/passwd" ]; then
    # as root, so the secrets come out mosquitto:mosquitto 0640; what it adds to the data dir goes back to shopfloor
    "$sf" mosquitto-config --data-dir "$DATA_DIR" --out "$out"
    chown -R shopfloor:shopfloor "$DATA_DIR"
    changed=1
  fi
  install_file "$KIT_DIR/mosquitto.service.d/shopfloor.conf" "$UNIT_DIR/mosquitto.service.d/shopfloor.conf" 644
  units=(mosquitto.service "${units[@]}")
fi

enable_units "${units[@]}"

# shellcheck disable=SC1091
. /etc/default/shopfloor
port=$(printf '%s\n' "${SHOPFLOOR_SERVE_ARGS:-}" | sed -n 's/.*--http-port[ =]\([0-9]*\).*/\1/p')
health=http://127.0.0.1:${port:-8080}/healthz
if [ "$start_direct" = 1 ]; then
  if curl -fsS --max-time 5 "$health" >/dev/null 2>&1; then
    say "a server already answers $health: not starting another"
  else
    # as the units would run them (their arguments from /etc/default/shopfloor), as user shopfloor, in the
    # background; their output in DATA_DIR/*.log
    start() {
      local log=$DATA_DIR/$1.log
      [ -f "$log" ] || install -m 640 -o shopfloor -g shopfloor /dev/null "$log"
      say "starting \`shopfloor $*\` directly (no systemd), its output in $log"
      (cd "$DATA_DIR" && runuser -u shopfloor -- setsid "$sf" "$@" >>"$log" 2>&1 </dev/null &)
    }
    # shellcheck disable=SC2086  # the arguments are words, as systemd splits them
    [ "$broker" = embedded ] && start broker --data-dir "$DATA_DIR" ${SHOPFLOOR_BROKER_ARGS:-}
    # shellcheck disable=SC2086
    start serve --data-dir "$DATA_DIR" ${SHOPFLOOR_SERVE_ARGS:-}
  fi
elif [ "$no_systemctl" = 1 ]; then
  say "done; not started (no systemctl). On a machine with systemd: systemctl enable --now ${units[*]}"
  exit 0
fi
say "waiting for $health"
if ! wait_http "$health" 120; then
  if [ "$start_direct" = 1 ]; then tail -n 40 "$DATA_DIR/serve.log" >&2; fi
  die "the server did not answer $health within 120 s (journalctl -u shopfloor-server)"
fi
say "done: the server answers $health"
