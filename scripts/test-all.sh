#!/usr/bin/env bash
# The one command that runs every test on a fresh machine: system packages, npm packages, then `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
npm ci --no-audit --no-fund
npm test
