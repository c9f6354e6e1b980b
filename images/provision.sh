# shellcheck shell=bash
# Sourced by images/bake, tests/run and bench/run: make sure a Docker engine,
# the buildx plugin and a base image are there, provisioning only what is missing.
# Where Docker already runs (a laptop, a CI runner) this changes nothing.
#
# DJANGO_ASGI_PLATFORM (e.g. linux/arm64) asks for a base of another platform.
# After it: BASE_IMAGE is exported when the official base could not be had,
# BUILD_CA when pip here trusts an extra CA bundle, and DJANGO_ASGI_DOCKERD_PID
# names a dockerd this script started (empty if none).

DJANGO_ASGI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DJANGO_ASGI_DOCKERD_PID=${DJANGO_ASGI_DOCKERD_PID:-}
DJANGO_ASGI_STATE=${DJANGO_ASGI_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/django-asgi}
# The Python of images/offline-base's stand-in by default: Debian trixie's python3 (not a choice of ours).
# shellcheck disable=SC2034  # images/offline-base/build reads it
DA_STAND_IN_PYTHON=3.13
# The Debian suite whose packages give a stand-in base for a Python: trixie has only 3.13, forky
# (testing) carries 3.14 and 3.15, and no current suite 3.12.
da_stand_in_suite() {
    case $1 in
        3.13) echo trixie ;;
        3.14 | 3.15) echo forky ;;
        *) _da_die "no Debian suite carries Python $1, so no stand-in base can be built for it" ;;
    esac
}

_da_say() { printf 'provision: %s\n' "$*" >&2; }
# The Python of the short tags and of local builds: images/versions.toml's.
da_default_python() { sed -n 's/^default_python = "\(.*\)"$/\1/p' "$DJANGO_ASGI_ROOT/images/versions.toml"; }
_da_die() { _da_say "error: $*"; return 1; }

_da_can_install() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

_da_apt_updated=
_da_apt_install() {
    _da_can_install || _da_die "need $* but cannot install it here (needs root and apt-get); install it and run again" || return 1
    if [ -z "$_da_apt_updated" ]; then
        apt-get update -qq >&2 || return 1
        _da_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# The Debian mirror this machine already uses, so nothing here names a host;
# `_da_debian_mirror -security` gives its security mirror.
_da_debian_mirror() {
    local f uri suffix=${1:-}
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        [ -r "$f" ] || continue
        if [ -n "$suffix" ]; then
            uri=$(grep -Eo '(https?|file)://[^ ]+' "$f" | grep -m1 -- "/debian$suffix/\?\$")
        else
            uri=$(grep -Eo '(https?|file)://[^ ]+' "$f" | grep -v -- '-security' | grep -m1 '/debian/\?$')
        fi
        [ -n "$uri" ] && { printf '%s\n' "${uri%/}"; return 0; }
    done
    return 1
}

da_provision_engine() {
    docker info >/dev/null 2>&1 && return 0
    command -v dockerd >/dev/null 2>&1 || _da_apt_install docker.io || return 1
    mkdir -p "$DJANGO_ASGI_STATE"
    _da_say "starting dockerd (log: $DJANGO_ASGI_STATE/dockerd.log)"
    dockerd >"$DJANGO_ASGI_STATE/dockerd.log" 2>&1 &
    DJANGO_ASGI_DOCKERD_PID=$!
    export DJANGO_ASGI_DOCKERD_PID
    local deadline=$((SECONDS + 60))
    until docker info >/dev/null 2>&1; do
        kill -0 "$DJANGO_ASGI_DOCKERD_PID" 2>/dev/null || _da_die "dockerd exited; see $DJANGO_ASGI_STATE/dockerd.log" || return 1
        [ $SECONDS -lt $deadline ] || _da_die "dockerd did not answer within 60 s" || return 1
        sleep 0.5
    done
}

# Stop the dockerd that da_provision_engine started, if any.
da_stop_engine() {
    [ -n "$DJANGO_ASGI_DOCKERD_PID" ] || return 0
    kill "$DJANGO_ASGI_DOCKERD_PID" 2>/dev/null || return 0
    local deadline=$((SECONDS + 30))
    while kill -0 "$DJANGO_ASGI_DOCKERD_PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    DJANGO_ASGI_DOCKERD_PID=
}

# Debian 13's package NAME unpacked (not installed) into DIR: for Debian 12, which lacks
# buildx, Compose, cosign and a Docker engine with the containerd image store.
_da_trixie_unpack() {
    local package=$1 dir=$2 mirror tmp
    _da_can_install || _da_die "$package is missing: install it and run again" || return 1
    mirror=$(_da_debian_mirror) || _da_die "no Debian mirror found in the apt sources" || return 1
    tmp=$(mktemp -d)
    mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" >"$tmp/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives" -o APT::Get::List-Cleanup=0)
    _da_say "unpacking Debian 13's $package package"
    if ! { apt-get "${opts[@]}" update -qq >&2 &&
        (cd "$tmp" && apt-get "${opts[@]}" download "$package" >&2) &&
        mkdir -p "$dir" && dpkg-deb -x "$tmp/${package}"_*.deb "$dir"; }; then
        rm -rf "$tmp"
        _da_die "could not fetch $package"
        return 1
    fi
    rm -rf "$tmp"
}

# A Docker CLI plugin from Debian 13's package of it (one static binary).
_da_trixie_plugin() {
    local package=$1 plugin=$2 tmp
    _da_can_install || _da_die "docker $plugin is missing: install Docker's $plugin plugin and run again" || return 1
    tmp=$(mktemp -d)
    _da_trixie_unpack "$package" "$tmp/root" || { rm -rf "$tmp"; return 1; }
    mkdir -p "$HOME/.docker/cli-plugins"
    install -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-$plugin" "$HOME/.docker/cli-plugins/docker-$plugin"
    rm -rf "$tmp"
    docker "$plugin" version >&2
}

da_provision_buildx() {
    docker buildx version >/dev/null 2>&1 || _da_trixie_plugin docker-buildx buildx
}

# Only the tests of the Compose example need it.
da_provision_compose() {
    docker compose version >/dev/null 2>&1 || _da_trixie_plugin docker-compose compose
}

# The official base when it can be had; otherwise one built from Debian packages.
da_provision_base() {
    [ -n "${BASE_IMAGE:-}" ] && return 0
    local python=${PYTHON_VERSION:-}
    # Empty: the default Python of images/versions.toml, as in docker-bake.hcl.
    [ -n "$python" ] || python=$(da_default_python)
    local official="python:$python-slim-trixie" platform=${DJANGO_ASGI_PLATFORM:-}
    if [ -z "$platform" ] && docker image inspect "$official" >/dev/null 2>&1; then
        return 0
    fi
    if docker pull -q ${platform:+--platform "$platform"} "$official" >/dev/null 2>&1; then
        return 0
    fi
    _da_say "$official cannot be pulled; using a base built from Debian packages"
    da_stand_in_suite "$python" >/dev/null || return 1
    BASE_IMAGE=$("$DJANGO_ASGI_ROOT/images/offline-base/build" "${platform:-linux/$(dpkg --print-architecture)}" "$python") ||
        return 1
    export BASE_IMAGE
}

# Images of another architecture on this Linux machine (linux/arm64 on amd64):
# Debian's QEMU user emulation, registered with binfmt_misc.
da_provision_emulation() {
    local platform=$1 arch
    arch=${platform#linux/}
    case $arch in arm64) arch=aarch64 ;; amd64) arch=x86_64 ;; esac
    [ "$(uname -m)" = "$arch" ] && return 0
    grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$arch" && return 0
    command -v update-binfmts >/dev/null 2>&1 && [ -x "/usr/bin/qemu-$arch-static" ] ||
        _da_apt_install qemu-user-static binfmt-support || return 1
    mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || return 1
    update-binfmts --enable "qemu-$arch" >&2
    grep -qs '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$arch" || _da_die "could not enable qemu-$arch in binfmt_misc"
}

# A virtualenv with hash-pinned tools, kept between runs while its lock files are
# unchanged: `venv=$(da_tool_venv NAME LOCK...)`.
da_tool_venv() {
    local name=$1 python=${PYTHON:-python3} key venv
    shift
    key=$(cat "$@" | "$python" -c \
        'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read() + sys.version.encode()).hexdigest()[:12])') || return 1
    venv="$DJANGO_ASGI_STATE/$name-venv-$key"
    if [ ! -e "$venv/.complete" ]; then
        rm -rf "$venv"
        mkdir -p "$DJANGO_ASGI_STATE"
        "$python" -m venv "$venv" 2>/dev/null || { _da_apt_install python3-venv && rm -rf "$venv" && "$python" -m venv "$venv"; } || return 1
        local requirements=()
        for lock in "$@"; do requirements+=(-r "$lock"); done
        "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes "${requirements[@]}" >&2 || return 1
        touch "$venv/.complete"
    fi
    printf '%s\n' "$venv"
}

# The test command's virtualenv with the entrypoint of this checkout installed (the unit
# tests import it): `venv=$(da_test_venv)`. Once per run: a command that calls another
# that needs it (tests/publish, images/publish) installs it once.
da_test_venv() {
    if [ -n "${DJANGO_ASGI_TEST_VENV:-}" ] && [ -x "$DJANGO_ASGI_TEST_VENV/bin/python" ]; then
        printf '%s\n' "$DJANGO_ASGI_TEST_VENV"
        return 0
    fi
    local venv
    venv=$(da_tool_venv test "$DJANGO_ASGI_ROOT/tests/requirements.lock" "$DJANGO_ASGI_ROOT/images/requirements/build.lock") || return 1
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall \
        "$DJANGO_ASGI_ROOT/entrypoint" >&2 || return 1
    DJANGO_ASGI_TEST_VENV=$venv
    export DJANGO_ASGI_TEST_VENV
    printf '%s\n' "$venv"
}

# A machine whose pip trusts an extra CA bundle (behind an intercepting proxy) builds
# with that bundle as the build secret "build-ca" (docker-bake.hcl: BUILD_CA), so that
# no image trusts it at run time. Elsewhere nothing is set.
da_provision_build_ca() {
    local bundle=${BUILD_CA:-${PIP_CERT:-${SSL_CERT_FILE:-${REQUESTS_CA_BUNDLE:-}}}}
    [ -n "$bundle" ] || bundle=$("${PYTHON:-python3}" -m pip config get global.cert 2>/dev/null) || bundle=
    [ -n "$bundle" ] && [ -s "$bundle" ] || return 0
    BUILD_CA=$bundle
    export BUILD_CA
}

# Everything the build needs.
da_provision() {
    da_provision_engine && da_provision_buildx && da_provision_base && da_provision_build_ca
}
