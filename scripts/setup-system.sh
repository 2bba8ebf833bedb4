#!/usr/bin/env bash
# Installs the system packages Tandem's tests and sandbox need, from Debian's repositories.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

# libjemalloc2: the sync-server start script preloads jemalloc (docs/decisions/035).
# python3-seccomp: libseccomp, which builds the sandbox's seccomp filter (docs/decisions/050).
# pgbouncer: the transaction-pooling test (apps/sync-server/test/pgbouncer.test.ts, decision 057); the Sentinel
# test runs redis-server --sentinel, which the redis-server package already has.
# haproxy: the load-balancer test runs it; deploy/manifests.test.ts checks the shipped configurations
# (haproxy -c, nginx -t; any nginx flavour does).
packages=(bubblewrap python3-seccomp chromium fonts-dejavu-core util-linux libjemalloc2 haproxy pgbouncer)
command -v nginx >/dev/null || packages+=(nginx-light)
# kubectl renders the Kustomize overlays in deploy/manifests.test.ts. Only when there is none: Debian's
# kubernetes-client conflicts with a kubectl another package (such as the Google Cloud SDK) installed.
command -v kubectl >/dev/null || packages+=(kubernetes-client)
# Toolchains for the runner's languages; the machine may already have some of them.
command -v go >/dev/null || packages+=(golang-go)
command -v ruby >/dev/null || packages+=(ruby)
command -v php >/dev/null || packages+=(php-cli)
command -v python3 >/dev/null || packages+=(python3)
command -v gcc >/dev/null || packages+=(gcc)
command -v g++ >/dev/null || packages+=(g++)
command -v javac >/dev/null || packages+=(default-jdk-headless)
command -v rustc >/dev/null || packages+=(rustc)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup-system: all packages present"
	exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup-system: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
