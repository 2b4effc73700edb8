#!/bin/sh
# Install what the end-to-end test drives: Debian's chromium (and what
# code-server's npm install compiles with), and code-server itself from npm,
# into a cache that survives between runs.  Offline apart from the Debian and
# npm registries, so @vscode/ripgrep (which downloads `rg` from GitHub) is fed
# Debian's rg through its download cache.  Prints nothing when all is there.
set -eu

CODE_SERVER_VERSION=4.100.3   # the last release that runs on Node 20
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cat-devtools/vscode-e2e"
PREFIX="$CACHE/code-server-$CODE_SERVER_VERSION"

need_apt=""
for pkg in chromium build-essential pkg-config libkrb5-dev ripgrep; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt="$need_apt $pkg"
done
if [ -n "$need_apt" ]; then
    echo "apt-get install$need_apt"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

if [ ! -x "$PREFIX/node_modules/.bin/code-server" ]; then
    echo "npm install code-server@$CODE_SERVER_VERSION into $PREFIX (about a minute and a half)"
    tmp="$CACHE/tmp"
    rgcache="$tmp/vscode-ripgrep-cache-1.15.11"
    mkdir -p "$rgcache" "$PREFIX"
    if [ ! -f "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
        (cd "$(dirname "$(command -v rg)")" && tar czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg)
    fi
    [ -f "$PREFIX/package.json" ] || echo '{"name": "cat-devtools-e2e-editor", "private": true}' > "$PREFIX/package.json"
    (cd "$PREFIX" && TMPDIR="$tmp" npm_config_unsafe_perm=true npm_config_yes=true \
        npm_config_cache="$CACHE/npm" npm install --no-audit --no-fund --loglevel=error \
        "code-server@$CODE_SERVER_VERSION")
fi
