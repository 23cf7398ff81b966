#!/usr/bin/env bash
# Build the viggle-watch image the way the container tests do, and print its tag:
#   tests/container/build_image.sh localhost/viggle-watch:test
# No container registry is reachable here, so the base is made once with debootstrap (Debian
# bookworm minbase + python3 + python3-venv), imported into Podman and kept by name; the
# Dockerfile is then built on it, with the host's CA bundle as a build secret for pip.
# Progress goes to stderr; the tag alone to stdout.
set -euo pipefail
tag=${1:?usage: build_image.sh TAG}
root=$(cd "$(dirname "$0")/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/tests/container/containers.conf}
base=${VIGGLE_TEST_BASE:-localhost/viggle-watch-base:bookworm-minbase}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if ! podman image exists "$base"; then
    echo "== base $base: debootstrap bookworm (minbase, python3, python3-venv) from $mirror" >&2
    rootfs=$(mktemp -d)
    trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
    debootstrap --variant=minbase --include=python3,python3-venv bookworm "$rootfs" "$mirror" \
        >"$rootfs.log" 2>&1 || { tail -n 20 "$rootfs.log" >&2; exit 1; }
    rm -f "$rootfs.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | podman import --quiet - "$base" >/dev/null
    echo "== base $base imported" >&2
fi

secrets=()
ca=${VIGGLE_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}
if [ -s "$ca" ]; then secrets+=(--secret "id=cacert,src=$ca"); fi
echo "== build $tag on $base" >&2
podman build --format docker --network host --build-arg BASE="$base" "${secrets[@]}" \
    --tag "$tag" "$root" >&2
echo "$tag"
