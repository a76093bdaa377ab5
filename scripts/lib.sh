# Shared by scripts/run and scripts/test: Debian packages and the build.
# shellcheck shell=bash

REDLOOP_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsoci-dev libsqlite3-dev sqlite3 libpq-dev libssl-dev
  libfmt-dev libspdlog-dev libcli11-dev doctest-dev libjwt-dev
  curl ca-certificates
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs whichever of REDLOOP_PACKAGES (and any extra names given) are missing.
install_packages() {
  local missing=() p
  for p in "${REDLOOP_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# build PRESET [TARGET...]: configure and build with CMakePresets.json (all targets by default).
build() {
  local preset=$1
  shift
  log "building ($preset)"
  cmake --preset "$preset" >/dev/null
  if [ "$#" -gt 0 ]; then
    cmake --build --preset "$preset" -j "$(nproc)" --target "$@"
  else
    cmake --build --preset "$preset" -j "$(nproc)"
  fi
}

# Node.js and npm for the dashboard's build (Vite, TypeScript) and its browser test.
ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    return 0
  fi
  install_packages nodejs npm
}

# Builds dashboard/dist (served at /dashboard/) when its sources changed since the last build:
# npm ci from the committed package-lock.json, then tsc + vite build.
build_dashboard() {
  ensure_node
  local stamp=dashboard/dist/.source-hash sum
  sum=$(cd dashboard && cat package.json package-lock.json index.html vite.config.ts tsconfig.json \
        $(find src public -type f 2>/dev/null | LC_ALL=C sort) | sha256sum | cut -c1-32)
  if [ ! -d dashboard/node_modules ] || [ dashboard/package-lock.json -nt dashboard/node_modules/.package-lock.json ]; then
    log "installing the dashboard's npm packages (npm ci)"
    (cd dashboard && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return 0
  fi
  log "building the dashboard (tsc, vite build)"
  (cd dashboard && npm run --silent build)
  echo "$sum" > "$stamp"
}

# PostgreSQL 15's server binaries, for the pg_* tests (scripts/pg-cluster makes throw-away
# clusters with them). The package would create and start a cluster of its own ("main", port
# 5432): a createcluster.d setting turns that off before it is installed.
install_postgres() {
  [ -x /usr/lib/postgresql/15/bin/initdb ] && return 0
  as_root mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" |
    as_root tee /etc/postgresql-common/createcluster.d/redloop-no-main.conf >/dev/null
  install_packages postgresql-15
}

# Debian's Chromium and a CJK font, for the dashboard's browser test.
install_browser() {
  install_packages chromium fonts-noto-cjk
}
