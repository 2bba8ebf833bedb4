#!/usr/bin/env bash
# Build Tandem's container images with buildah, without a registry (docs/DEPLOY.md "Images"):
#   1. localhost/tandem-base:bookworm — Debian bookworm from Debian's archive with debootstrap
#      (minbase + ca-certificates, nodejs and npm for the build stage), imported as a local image;
#   2. localhost/tandem/sync-server:<tag> and localhost/tandem/runner:<tag> FROM that base.
# Usage: deploy/images/build.sh [sync-server|runner|all] (default: sync-server). TAG (default: the git
# commit), MIRROR (default http://deb.debian.org/debian). Needs root or rootless buildah with
# subuids; `apt-get install buildah podman debootstrap` brings the tools. Prints each image's size
# and build time.
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-sync-server}"
tag="${TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo dev)}"
mirror="${MIRROR:-http://deb.debian.org/debian}"
for tool in buildah debootstrap; do
	command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (apt-get install buildah podman debootstrap)" >&2; exit 1; }
done
[ -x node_modules/node/bin/node ] || { echo "build.sh: run npm ci first (node_modules/node holds the pinned Node)" >&2; exit 1; }

seconds() { date +%s; }

if ! buildah inspect --type image localhost/tandem-base:bookworm >/dev/null 2>&1; then
	t0=$(seconds)
	root=$(mktemp -d /var/tmp/tandem-base.XXXXXX)
	trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$root"' EXIT
	debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror"
	# npm's dependency tree fails to configure inside debootstrap's second stage: install it with apt afterwards.
	mount -t proc proc "$root/proc"
	chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm' \
		|| { umount "$root/proc"; exit 1; }
	umount "$root/proc"
	chroot "$root" apt-get clean
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
	ctr=$(buildah from scratch)
	mnt=$(buildah mount "$ctr")
	cp -a "$root"/. "$mnt"/
	buildah umount "$ctr"
	buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --env LANG=C.UTF-8 "$ctr"
	buildah commit --rm "$ctr" localhost/tandem-base:bookworm
	echo "build.sh: localhost/tandem-base:bookworm in $(( $(seconds) - t0 )) s"
fi

build() {
	local name="$1" t0
	t0=$(seconds)
	# chroot isolation: no OCI runtime, so no cgroup setup (crun refuses cgroup v1/hybrid hosts).
	# The host's CA bundle (a TLS-intercepting proxy's CA) for npm during the build only.
	local ca=()
	[ -f "${HOST_CA:-/etc/ssl/certs/ca-certificates.crt}" ] && ca=(-v "${HOST_CA:-/etc/ssl/certs/ca-certificates.crt}:/run/host-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt)
	buildah build --isolation "${BUILDAH_ISOLATION:-chroot}" --layers "${ca[@]}" --ignorefile deploy/images/containerignore \
		-f "deploy/images/$name.Containerfile" -t "localhost/tandem/$name:$tag" .
	echo "build.sh: localhost/tandem/$name:$tag in $(( $(seconds) - t0 )) s, $(buildah inspect --type image --format '{{.Size}}' "localhost/tandem/$name:$tag" 2>/dev/null || true)"
	buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "localhost/tandem/$name:$tag"
}
case "$what" in
	sync-server | runner) build "$what" ;;
	all) build sync-server && build runner ;;
	*) echo "usage: $0 [sync-server|runner|all]" >&2; exit 2 ;;
esac
