#!/bin/sh
# Install a CPython 3.15 for the end-to-end test of the 3.15 bundle: Debian
# bookworm has only 3.11, so this takes Debian unstable's python3.15 with the
# C library and the libraries its modules load, unpacked into a cache that
# survives between runs.  Nothing is installed system-wide: apt works on a
# private state folder with unstable as its only source and only downloads
# the .debs.  Unstable's glibc is newer than the system's, so the interpreter
# runs through unstable's own dynamic loader: the interpreter is moved to
# `python3.15.bin`, and the wrapper that takes its place, `python3.15`, passes
# its own path as argv[0], which makes it sys.executable (so a subprocess of
# it runs the same way) and the place Python finds its standard library from.  Prints nothing when all is there.
set -eu

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cat-devtools/python3.15-debian"
ROOT="$CACHE/root"
[ "$(uname -m)" = x86_64 ] || exit 0
if [ -x "$ROOT/usr/bin/python3.15.bin" ] && [ -x "$ROOT/usr/bin/python3.15" ]; then
    exit 0
fi
echo "download Debian unstable's python3.15 into $CACHE"
rm -rf "$CACHE"
state="$CACHE/apt"
debs="$CACHE/debs"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$debs" "$ROOT"
: > "$state/status"
echo "deb http://deb.debian.org/debian unstable main" > "$state/sources.list"
apt="-o APT::Sandbox::User=root -o Dir::Etc::SourceList=$state/sources.list -o Dir::Etc::SourceParts=/nonexistent \
    -o Dir::State::Lists=$state/lists -o Dir::Cache=$state/cache -o Dir::State::status=$state/status"
# shellcheck disable=SC2086
apt-get -qq $apt update
# shellcheck disable=SC2086
(cd "$debs" && apt-get -qq $apt download python3.15-minimal libpython3.15-minimal libpython3.15-stdlib \
    libc6 libgcc-s1 zlib1g libexpat1 libffi8 libsqlite3-0 libssl3t64 libzstd1 2>/dev/null)
for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$ROOT"
done
rm -rf "$debs" "$state"
lib="$ROOT/usr/lib/x86_64-linux-gnu"
mv "$ROOT/usr/bin/python3.15" "$ROOT/usr/bin/python3.15.bin"
cat > "$ROOT/usr/bin/python3.15.part" <<WRAPPER
#!/bin/sh
exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" --argv0 "\$0" "$ROOT/usr/bin/python3.15.bin" "\$@"
WRAPPER
chmod +x "$ROOT/usr/bin/python3.15.part"
mv "$ROOT/usr/bin/python3.15.part" "$ROOT/usr/bin/python3.15"
