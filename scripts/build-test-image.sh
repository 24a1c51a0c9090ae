#!/usr/bin/env bash
# Build the local test image tamer-test/busybox:latest in Docker and in Podman, without any pull.
#
# The rootfs is Debian's static busybox (busybox-static) with a symlink per applet, minimal
# /etc/{passwd,group,nsswitch.conf,services,protocols} (the static glibc busybox segfaults in
# `wget http://host/` without /etc/services), /tmp, /root and /var/www/index.html. It is imported
# with `docker import` / `podman import`, CMD ["/bin/sh"], and a label carrying the recipe version
# so a re-run skips an engine that already has this exact recipe (set TAMER_REBUILD_IMAGE=1 to force).
#
# Env: TAMER_TEST_IMAGE (default tamer-test/busybox:latest), TAMER_TEST_DOCKER_HOST,
# TAMER_TEST_PODMAN_URL (only used to decide whether podman is wanted), TAMER_SKIP_DOCKER=1,
# TAMER_SKIP_PODMAN=1.
set -euo pipefail

IMAGE="${TAMER_TEST_IMAGE:-tamer-test/busybox:latest}"
DOCKER_HOST_URL="${TAMER_TEST_DOCKER_HOST:-unix:///var/run/docker.sock}"
RECIPE="3"
LABEL_KEY="org.tamer.test-image.recipe"

log() { printf '[%s] build-test-image: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'build-test-image: ERROR: %s\n' "$*" >&2; exit 1; }

BUSYBOX="$(command -v busybox || true)"
[ -n "$BUSYBOX" ] || die "busybox not found (apt-get install busybox-static)"
if command -v file >/dev/null 2>&1 && ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
    die "$BUSYBOX is not statically linked (install busybox-static)"
fi

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT

make_rootfs() {
    local applet
    mkdir -p "$ROOTFS"/{bin,sbin,etc,tmp,root,home,proc,sys,dev,var/www,usr/bin,usr/sbin}
    install -m 0755 "$BUSYBOX" "$ROOTFS/bin/busybox"
    for applet in $("$ROOTFS/bin/busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$ROOTFS/bin/$applet"
    done
    chmod 1777 "$ROOTFS/tmp"
    chmod 0700 "$ROOTFS/root"
    cat > "$ROOTFS/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
    cat > "$ROOTFS/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
    cat > "$ROOTFS/etc/nsswitch.conf" <<'NSS'
passwd: files
group: files
hosts: files dns
services: files
protocols: files
networks: files
NSS
    if [ -r /etc/services ]; then cp /etc/services "$ROOTFS/etc/services"; else
        printf 'http\t\t80/tcp\t\twww\nhttps\t\t443/tcp\n' > "$ROOTFS/etc/services"; fi
    if [ -r /etc/protocols ]; then cp /etc/protocols "$ROOTFS/etc/protocols"; else
        printf 'ip\t0\tIP\nicmp\t1\tICMP\ntcp\t6\tTCP\nudp\t17\tUDP\n' > "$ROOTFS/etc/protocols"; fi
    printf '<html><body>tamer test image</body></html>\n' > "$ROOTFS/var/www/index.html"
}

# import_into ENGINE... : pipe the rootfs tarball into `<engine> import`
import_into() {
    local err old new
    old="$("$@" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
    err="$(mktemp)"
    if ! tar --numeric-owner --owner=0 --group=0 -C "$ROOTFS" -c . \
        | "$@" import --change 'CMD ["/bin/sh"]' --change "LABEL $LABEL_KEY=$RECIPE" - "$IMAGE" >/dev/null 2>"$err"; then
        cat "$err" >&2
        rm -f "$err"
        die "$* import failed"
    fi
    rm -f "$err"
    # drop the previous build if nothing uses it any more (a failure here is harmless)
    new="$("$@" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
    if [ -n "$old" ] && [ "$old" != "$new" ]; then "$@" rmi "$old" >/dev/null 2>&1 || true; fi
}

# has_recipe ENGINE... : true when the engine already holds IMAGE built from this recipe
has_recipe() {
    local got
    got="$("$@" image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$IMAGE" 2>/dev/null || true)"
    [ "$got" = "$RECIPE" ]
}

built=0
ensure_rootfs() { if [ "$built" = 0 ]; then make_rootfs; built=1; fi; }

if [ "${TAMER_SKIP_DOCKER:-}" != "1" ]; then
    command -v docker >/dev/null 2>&1 || die "docker client not found"
    DOCKER=(docker -H "$DOCKER_HOST_URL")
    "${DOCKER[@]}" version >/dev/null 2>&1 || die "no Docker daemon answers at $DOCKER_HOST_URL (run scripts/start-services.sh)"
    if [ "${TAMER_REBUILD_IMAGE:-}" != "1" ] && has_recipe "${DOCKER[@]}"; then
        log "docker already has $IMAGE (recipe $RECIPE)"
    else
        ensure_rootfs
        import_into "${DOCKER[@]}"
        log "imported $IMAGE into docker"
    fi
    out="$("${DOCKER[@]}" run --rm "$IMAGE" echo ok 2>&1)" || die "docker run $IMAGE failed: $out"
    [ "$out" = "ok" ] || die "docker run $IMAGE printed '$out', expected 'ok'"
    log "docker run --rm $IMAGE echo ok -> ok"
fi

if [ "${TAMER_SKIP_PODMAN:-}" != "1" ]; then
    command -v podman >/dev/null 2>&1 || die "podman not found"
    PODMAN=(podman)
    if [ "${TAMER_REBUILD_IMAGE:-}" != "1" ] && has_recipe "${PODMAN[@]}"; then
        log "podman already has $IMAGE (recipe $RECIPE)"
    else
        ensure_rootfs
        import_into "${PODMAN[@]}"
        log "imported $IMAGE into podman"
    fi
    out="$("${PODMAN[@]}" run --rm "$IMAGE" echo ok 2>&1)" || die "podman run $IMAGE failed: $out"
    [ "$out" = "ok" ] || die "podman run $IMAGE printed '$out', expected 'ok'"
    log "podman run --rm $IMAGE echo ok -> ok"
fi
