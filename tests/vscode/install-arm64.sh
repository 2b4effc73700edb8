#!/bin/sh
# Install what runs the linux-arm64 bundle's server on this x86-64 machine:
# Debian's qemu-aarch64-static (from qemu-user-static) and Debian's arm64
# CPython 3.11 with the libraries its modules load, unpacked into a cache
# that survives between runs.  Nothing is installed system-wide: apt works on
# a private state folder for arm64 and only downloads the .debs, which
# dpkg-deb unpacks into a root that qemu is given with -L.  Prints nothing
# when all is there.  tests/vscode/test_vsix.py runs the server with it.
set -eu

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cat-devtools/linux-arm64-python"
ROOT="$CACHE/root"
[ "$(uname -m)" = x86_64 ] || exit 0   # the emulator fetched here is an x86-64 program
if [ -x "$CACHE/qemu-aarch64-static" ] && [ -x "$ROOT/usr/bin/python3.11" ]; then
    exit 0
fi
echo "download Debian's qemu-user-static and arm64 python3.11 into $CACHE"
rm -rf "$CACHE"
state="$CACHE/apt"
debs="$CACHE/debs"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$debs" "$ROOT"
: > "$state/status"
arm64="-o APT::Sandbox::User=root -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::Lists=$state/lists \
    -o Dir::Cache=$state/cache -o Dir::State::status=$state/status"
# shellcheck disable=SC2086
apt-get -qq $arm64 update
# shellcheck disable=SC2086
(cd "$debs" && apt-get -qq $arm64 download python3.11-minimal libpython3.11-minimal libpython3.11-stdlib \
    libc6 libgcc-s1 zlib1g libexpat1 libffi8 libsqlite3-0 2>/dev/null)
(cd "$debs" && apt-get -qq -o APT::Sandbox::User=root download qemu-user-static 2>/dev/null)
for deb in "$debs"/*_arm64.deb; do
    dpkg-deb -x "$deb" "$ROOT"
done
dpkg-deb --fsys-tarfile "$debs"/qemu-user-static_*.deb | tar -xO ./usr/bin/qemu-aarch64-static > "$CACHE/qemu-aarch64-static.part"
chmod +x "$CACHE/qemu-aarch64-static.part"
rm -rf "$debs" "$state"
mv "$CACHE/qemu-aarch64-static.part" "$CACHE/qemu-aarch64-static"
