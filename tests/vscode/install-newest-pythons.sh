#!/bin/sh
# Install CPython 3.14 and 3.15, for running their bundles (tests/vscode/test_vsix.py)
# and the end-to-end test on 3.15: Debian bookworm has only 3.11, so this
# takes Debian unstable's python3.14 and python3.15 with the C library and
# the libraries their modules load, unpacked into a cache that survives
# between runs.  Nothing is installed system-wide: apt works on a private
# state folder with unstable as its only source and only downloads the .debs.
# Unstable's glibc is newer than the system's, so each interpreter runs
# through unstable's own dynamic loader: it is moved to `python3.X.bin`, and
# the wrapper that takes its place, `python3.X`, passes its own path as
# argv[0], which makes it sys.executable (so a subprocess of it runs the same
# way) and the place Python finds its standard library from.  Prints nothing
# when all is there.
set -eu

VERSIONS="3.14 3.15"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cat-devtools/python-debian-unstable"
ROOT="$CACHE/root"
[ "$(uname -m)" = x86_64 ] || exit 0
ready=yes
for v in $VERSIONS; do
    [ -x "$ROOT/usr/bin/python$v.bin" ] && [ -x "$ROOT/usr/bin/python$v" ] || ready=""
done
[ -z "$ready" ] || exit 0
echo "download Debian unstable's python$(echo $VERSIONS | sed 's/ /, python/g') into $CACHE"
rm -rf "$CACHE"
state="$CACHE/apt"
debs="$CACHE/debs"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$debs" "$ROOT"
: > "$state/status"
echo "deb http://deb.debian.org/debian unstable main" > "$state/sources.list"
apt="-o APT::Sandbox::User=root -o Dir::Etc::SourceList=$state/sources.list -o Dir::Etc::SourceParts=/nonexistent \
    -o Dir::State::Lists=$state/lists -o Dir::Cache=$state/cache -o Dir::State::status=$state/status"
packages="libc6 libgcc-s1 zlib1g libexpat1 libffi8 libsqlite3-0 libssl3t64 libzstd1"
for v in $VERSIONS; do
    packages="$packages python$v-minimal libpython$v-minimal libpython$v-stdlib"
done
# shellcheck disable=SC2086
apt-get -qq $apt update
# shellcheck disable=SC2086
(cd "$debs" && apt-get -qq $apt download $packages 2>/dev/null)
for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$ROOT"
done
rm -rf "$debs" "$state"
lib="$ROOT/usr/lib/x86_64-linux-gnu"
for v in $VERSIONS; do
    mv "$ROOT/usr/bin/python$v" "$ROOT/usr/bin/python$v.bin"
    cat > "$ROOT/usr/bin/python$v.part" <<WRAPPER
#!/bin/sh
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" --argv0 "\$0" "$ROOT/usr/bin/python$v.bin" "\$@"
WRAPPER
    chmod +x "$ROOT/usr/bin/python$v.part"
    mv "$ROOT/usr/bin/python$v.part" "$ROOT/usr/bin/python$v"
done
