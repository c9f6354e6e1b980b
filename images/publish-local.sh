# shellcheck shell=bash
# Sourced by tests/publish: what publishing needs on a machine without the registry and the
# services a release uses (GitHub's runners have them): a registry on 127.0.0.1:5000, a Docker
# engine with the containerd image store (multi-platform images with attestations; Debian 12's
# engine 20.10 cannot) beside the machine's own, and cosign. Each is Debian's package, unpacked
# from Debian 13 where Debian 12 lacks it; each runs from DJANGO_ASGI_STATE and is stopped by
# da_stop_publishing.
# shellcheck source=images/provision.sh
. "$(dirname "${BASH_SOURCE[0]}")/provision.sh"

DJANGO_ASGI_REGISTRY=127.0.0.1:5000
_da_publish_pids=()

_da_wait() {  # _da_wait SECONDS WHAT COMMAND...: poll until COMMAND succeeds
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || _da_die "$what did not come up within the deadline" || return 1
        sleep 0.5
    done
}

# Debian's docker-registry, on 127.0.0.1:5000 with its own storage.
da_provision_registry() {
    local dir="$DJANGO_ASGI_STATE/registry"
    curl -fsS "http://$DJANGO_ASGI_REGISTRY/v2/" >/dev/null 2>&1 && return 0
    command -v docker-registry >/dev/null 2>&1 || _da_apt_install docker-registry || return 1
    mkdir -p "$dir/storage"
    cat >"$dir/config.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $DJANGO_ASGI_REGISTRY
EOF
    _da_say "starting a registry on $DJANGO_ASGI_REGISTRY (log: $dir/registry.log)"
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    _da_publish_pids+=($!)
    _da_wait 30 "the registry" curl -fsS "http://$DJANGO_ASGI_REGISTRY/v2/"
}

# cosign from Debian 13's package, on PATH.
da_provision_cosign() {
    command -v cosign >/dev/null 2>&1 && return 0
    local dir="$DJANGO_ASGI_STATE/cosign"
    [ -x "$dir/usr/bin/cosign" ] || _da_trixie_unpack cosign "$dir" || return 1
    PATH="$dir/usr/bin:$PATH"
    cosign version >/dev/null 2>&1 || _da_die "cosign does not run here"
}

# Debian 13's dockerd and containerd, with the containerd image store, on their own sockets,
# directories and bridge (a second daemon that touched docker0 would break the first one's
# containers). Debian 13's runc needs a newer glibc than Debian 12's: the machine's runc is used.
# Sets DJANGO_ASGI_MODERN_HOST (a DOCKER_HOST value).
da_provision_modern_engine() {
    local dir="$DJANGO_ASGI_STATE/engine" run="$DJANGO_ASGI_STATE/engine-run" bridge=dabr0
    DJANGO_ASGI_MODERN_HOST="unix://$run/docker.sock"
    export DJANGO_ASGI_MODERN_HOST
    DOCKER_HOST=$DJANGO_ASGI_MODERN_HOST docker info >/dev/null 2>&1 && return 0
    command -v runc >/dev/null 2>&1 || _da_apt_install runc || return 1
    [ -x "$dir/usr/sbin/dockerd" ] || _da_trixie_unpack docker.io "$dir" || return 1
    [ -x "$dir/usr/bin/containerd" ] || _da_trixie_unpack containerd "$dir" || return 1
    mkdir -p "$run" "$DJANGO_ASGI_STATE/engine-data"
    if ! ip link show "$bridge" >/dev/null 2>&1; then
        ip link add "$bridge" type bridge && ip addr add 172.31.254.1/24 dev "$bridge" && ip link set "$bridge" up || return 1
    fi
    printf '{"features": {"containerd-snapshotter": true}}\n' >"$run/daemon.json"
    local path
    path="$(dirname "$(command -v runc)"):$dir/usr/bin:$dir/usr/sbin:$dir/usr/libexec/docker:$PATH"
    _da_say "starting containerd and dockerd 26 (logs: $run/*.log)"
    PATH=$path "$dir/usr/bin/containerd" --address "$run/containerd.sock" \
        --root "$DJANGO_ASGI_STATE/engine-data/containerd" --state "$run/containerd" >"$run/containerd.log" 2>&1 &
    _da_publish_pids+=($!)
    _da_wait 30 "containerd" test -S "$run/containerd.sock" || return 1
    PATH=$path "$dir/usr/sbin/dockerd" --config-file "$run/daemon.json" --containerd "$run/containerd.sock" \
        --data-root "$DJANGO_ASGI_STATE/engine-data/docker" --exec-root "$run/exec" -H "$DJANGO_ASGI_MODERN_HOST" \
        --pidfile "$run/docker.pid" --bridge "$bridge" >"$run/dockerd.log" 2>&1 &
    _da_publish_pids+=($!)
    _da_wait 60 "dockerd 26" env DOCKER_HOST="$DJANGO_ASGI_MODERN_HOST" docker info
}

# Stop what the functions above started (in reverse order).
da_stop_publishing() {
    local i
    for ((i = ${#_da_publish_pids[@]} - 1; i >= 0; i--)); do
        kill "${_da_publish_pids[i]}" 2>/dev/null || continue
        local deadline=$((SECONDS + 30))
        while kill -0 "${_da_publish_pids[i]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    done
    _da_publish_pids=()
}
