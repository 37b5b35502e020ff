# shellcheck shell=bash
# Shared by install-server.sh, install-printer.sh and install-wall-screen.sh (sourced, not run). Every step
# looks before it acts, so running an installer twice changes nothing the second time.

# shellcheck disable=SC2034  # the paths are the installers'
PREFIX=/opt/shopfloor
VENV=$PREFIX/venv
DATA_DIR=/var/lib/shopfloor
CONF_DIR=/etc/shopfloor
UNIT_DIR=/etc/systemd/system
KIT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$KIT_DIR/../.." && pwd)
# set to 1 by any step that changed something: the services are restarted at the end
changed=0
# SHOPFLOOR_NO_SYSTEMCTL=1 (or --no-systemctl): install the units without enabling or starting them, for a
# chroot or container where systemd is not PID 1 (the test of this kit runs the installer in one)
no_systemctl=${SHOPFLOOR_NO_SYSTEMCTL:-0}

say() { printf 'shopfloor-install: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 …)"
}

# Installs the Debian packages that are missing; none missing: no apt-get at all (no update, no download).
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  changed=1
}

# install_file SRC DEST MODE [OWNER:GROUP]: copies only when the content, mode or owner differ.
install_file() {
  local src=$1 dest=$2 mode=$3 owner=${4:-root:root}
  if [ -f "$dest" ] && cmp -s "$src" "$dest" \
     && [ "$(stat -c '%a %U:%G' "$dest")" = "$(printf '%o' "0$mode") $owner" ]; then
    return 0
  fi
  install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$src" "$dest"
  say "wrote $dest"
  changed=1
}

# install_text DEST MODE TEXT: as install_file, from a string.
install_text() {
  local dest=$1 mode=$2 text=$3 tmp
  tmp=$(mktemp)
  printf '%s\n' "$text" >"$tmp"
  install_file "$tmp" "$dest" "$mode"
  rm -f "$tmp"
}

ensure_user() {
  if ! getent passwd shopfloor >/dev/null; then
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin shopfloor
    say "created the system user shopfloor"
    changed=1
  fi
}

ensure_dir() {  # DIR MODE OWNER:GROUP
  local dir=$1 mode=$2 owner=$3
  if [ -d "$dir" ] && [ "$(stat -c '%a %U:%G' "$dir")" = "$mode $owner" ]; then
    return 0
  fi
  install -d -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$dir"
  changed=1
}

# The wheel given, else the newest in the repository's dist/ (`make dist`).
find_wheel() {
  local given=$1 newest
  if [ -n "$given" ]; then
    [ -f "$given" ] || die "no wheel at $given"
    printf '%s\n' "$given"
    return
  fi
  newest=$(find "$REPO_DIR/dist" -maxdepth 1 -name 'shopfloor-*.whl' -printf '%T@ %p\n' 2>/dev/null \
    | sort -rn | head -n 1 | cut -d' ' -f2-)
  [ -n "$newest" ] || die "no wheel: run \`make dist\` in the repository, or give --wheel FILE"
  printf '%s\n' "$newest"
}

# install_venv WHEEL CONSTRAINTS FIND_LINKS: the venv in $VENV with the wheel, its dependencies at the versions
# of the constraints file. The wheel's SHA-256 is kept: the same wheel again installs nothing.
install_venv() {
  local wheel=$1 constraints=$2 find_links=$3 sum pip_args=()
  [ -f "$constraints" ] || die "no constraints file at $constraints (the repository's constraints.txt)"
  ensure_dir "$PREFIX" 755 root:root
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    say "created the venv $VENV"
    changed=1
  fi
  install_file "$constraints" "$PREFIX/constraints.txt" 644
  sum=$(sha256sum "$wheel" | cut -d' ' -f1)
  if [ -f "$PREFIX/wheel.sha256" ] && [ "$(cat "$PREFIX/wheel.sha256")" = "$sum" ] \
     && "$VENV/bin/shopfloor" --help >/dev/null 2>&1; then
    return 0
  fi
  if [ -n "$find_links" ]; then
    # a site without the internet: every dependency from this folder (`pip download` on a machine with it)
    pip_args+=(--no-index --find-links "$find_links")
  fi
  say "installing $(basename "$wheel") into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${pip_args[@]}" \
    -c "$PREFIX/constraints.txt" "$wheel"
  # the same version rebuilt (a fix without a version bump) replaces the installed files
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall "$wheel"
  printf '%s\n' "$sum" >"$PREFIX/wheel.sha256"
  changed=1
}

# Says, once, whether systemctl will be used; refuses to guess when systemd is not running.
check_systemd() {
  if [ "$no_systemctl" = 1 ]; then
    say "SHOPFLOOR_NO_SYSTEMCTL=1: the units are installed but not enabled or started (no systemctl)"
    return 0
  fi
  if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
    die "systemd is not PID 1 here (PID 1 is '$(cat /proc/1/comm 2>/dev/null || echo unknown)'): to install" \
      "the files without enabling the units, run with SHOPFLOOR_NO_SYSTEMCTL=1 (or --no-systemctl)"
  fi
}

# enable_units UNIT…: enabled and started; restarted when this run changed something they use.
enable_units() {
  if [ "$no_systemctl" = 1 ]; then
    say "not enabling (no systemctl): $*"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable --quiet "$@"
  if [ "$changed" = 1 ]; then
    systemctl restart "$@"
  else
    systemctl start "$@"
  fi
}

# wait_http URL SECONDS: until the URL answers 2xx; prints its body.
wait_http() {
  local url=$1 seconds=$2 i
  for ((i = 0; i < seconds; i++)); do
    if curl -fsS --max-time 5 "$url" 2>/dev/null; then
      printf '\n'
      return 0
    fi
    sleep 1
  done
  return 1
}
