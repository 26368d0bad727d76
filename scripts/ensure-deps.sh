#!/bin/sh
# ensure-deps.sh - installs the Debian packages of scripts/packages.txt that are missing, so that
# `make`, `make run` and `make test` work on a fresh Debian 12 machine. Idempotent and quiet when
# everything is there. Uses sudo when not root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
list="$here/packages.txt"
missing=""
for p in $(grep -v '^[[:space:]]*#' "$list" | tr -s ' \t' '\n\n' | grep -v '^$'); do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
  esac
done
[ -z "$missing" ] && exit 0
echo "ensure-deps: installing:$missing" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "ensure-deps: need root (or sudo) to apt-get install:$missing" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 || $sudo apt-get update >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >&2
