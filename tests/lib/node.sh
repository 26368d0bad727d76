# node.sh - the Node.js the JavaScript test suites need (sourced, not run): Node.js and npm from
# Debian when they are missing, then a check of the major version.
#
#   need_node MIN WHO     exit 1 saying WHO needs Node.js MIN or later when the one found is older
need_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
  fi
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt "$1" ]; then
    echo "Node.js $major is too old for $2 (needs $1 or later)" >&2
    exit 1
  fi
}
