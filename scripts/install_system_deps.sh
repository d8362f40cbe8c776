#!/usr/bin/env bash
# Install the Debian packages CivicShield's tests and tools need, only those that are missing.
#
#   postgresql     server binaries (/usr/lib/postgresql/<ver>/bin) for the test harness
#   redis-server   Redis for the worker/streams tests
#   chromium       Debian's Chromium, driven by Playwright in the browser tests
#   util-linux     runuser (and bsdutils for logger)
#   nodejs, npm    only when `npm` is missing: scripts/fetch_assets.py downloads with `npm pack`
#   libpango-1.0-0, libpangoft2-1.0-0, fonts-dejavu-core
#                  Pango and a font for WeasyPrint (PDF reports); needed at run time too
#
#   --runtime      install only what the running application needs (the Pango/font packages);
#                  `make run` uses this, `make system-deps` installs everything
#
# Never starts services (a temporary policy-rc.d denies it during the install). Runs
# `apt-get update` at most once, and not at all when nothing is missing. Idempotent: when
# everything is present it only queries dpkg and exits in well under a second.
set -euo pipefail

runtime_only=false
case "${1:-}" in
    "") ;;
    --runtime) runtime_only=true ;;
    *)
        echo "usage: $0 [--runtime]" >&2
        exit 2
        ;;
esac

start_ns=$(date +%s%N)
elapsed() { awk -v ns="$(($(date +%s%N) - start_ns))" 'BEGIN { printf "%.1f", ns / 1e9 }'; }
say() { echo "system-deps: $*"; }

installed() { # installed PKG: true when dpkg says PKG is fully installed
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

have_postgres_server() {
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null &&
        compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    say "this script supports Debian/Ubuntu (dpkg and apt-get); install by hand:" \
        "PostgreSQL server, Redis, Chromium, util-linux, Node.js with npm, Pango, DejaVu fonts" >&2
    exit 1
fi

missing=()
# Run time: WeasyPrint loads Pango with cffi (dlopen), so only the packages tell us it is there.
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do
    installed "$pkg" || missing+=("$pkg")
done
if [[ $runtime_only == false ]]; then
    have_postgres_server || installed postgresql || missing+=(postgresql)
    { command -v redis-server >/dev/null || installed redis-server; } || missing+=(redis-server)
    { command -v chromium >/dev/null || installed chromium; } || missing+=(chromium)
    { command -v runuser >/dev/null || installed util-linux; } || missing+=(util-linux)
    command -v logger >/dev/null || missing+=(bsdutils)
    if ! command -v npm >/dev/null; then
        # A NodeSource "nodejs" already ships npm; Debian's splits it into its own package.
        command -v node >/dev/null || missing+=(nodejs)
        missing+=(npm)
    fi
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    say "all present, nothing to install ($(elapsed) s)"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}" >&2
    say "run as root, e.g.:  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

say "installing: ${missing[*]}"

# Keep maintainer scripts from starting services (postgresql, redis) during the install.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# temporary, from civicshield scripts/install_system_deps.sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 -q)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

for pkg in "${missing[@]}"; do
    if ! installed "$pkg"; then
        say "error: $pkg is still not installed" >&2
        exit 1
    fi
done
say "installed: ${missing[*]} in $(elapsed) s"
