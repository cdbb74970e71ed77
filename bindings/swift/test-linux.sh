#!/usr/bin/env bash
# Builds the Swift package (bindings/swift) and the non-UI part of ios-example with a real
# Swift toolchain on Linux and runs their XCTest suites against the libferrovec.so of this
# tree (`make test-swift` calls it after `make build` and a `make install` into a prefix).
#
# Debian 12 has no Swift; Debian trixie has `swiftlang` (6.0.3). So the toolchain lives in a
# trixie chroot made once with debootstrap and cached outside the clone:
#
#   FERROVEC_SWIFT_ROOT   the chroot (default /var/cache/ferrovec/swift-trixie, 2.6 GB)
#   FERROVEC_PREFIX       a `make install` prefix of this tree (lib/libferrovec.so,
#                         lib/pkgconfig/ferrovec.pc), default target/swift/prefix
#   FERROVEC_DEBIAN_MIRROR  the Debian mirror for debootstrap (default: this machine's own
#                         apt source for Debian, from /etc/apt/sources.list{,.d/*})
#
# Creating the chroot takes a few minutes and needs root (debootstrap, mount, chroot); so does
# every run (chroot and bind mounts). CI runs as root. The chroot is made in ROOT.partial and
# renamed to ROOT, with a stamp, only when Swift runs in it, so an interrupted creation is
# detected (ROOT missing, ROOT.partial left over) and redone. Runs take a lock (ROOT.lock);
# the mounts (/proc, /dev, the work tree at its own path) are undone on exit, also on failure
# or ^C, and any left by a killed run are undone first.
#
# The scratch (build) directories are target/swift/{bindings,ios-example} in the work tree,
# so a rerun with nothing changed only relinks and reruns the tests.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${FERROVEC_SWIFT_ROOT:-/var/cache/ferrovec/swift-trixie}
PREFIX=${FERROVEC_PREFIX:-$REPO/target/swift/prefix}
SCRATCH=$REPO/target/swift
SUITE=trixie
# swiftlang: swift, swiftc, SwiftPM, Foundation, XCTest; libc6-dev and libstdc++-14-dev for
# the C headers clang reads; pkgconf for the system library target's `pkgConfig: "ferrovec"`.
CHROOT_PACKAGES="swiftlang libc6-dev libstdc++-14-dev pkgconf"
STAMP_FILE=etc/ferrovec-swift-chroot
STAMP="suite=$SUITE packages=$CHROOT_PACKAGES"

# Every tool by the path its Debian package installs (overridable from the Makefile).
DEBOOTSTRAP=${DEBOOTSTRAP:-/usr/sbin/debootstrap}   # debootstrap
CHROOT=${CHROOT:-/usr/sbin/chroot}                  # coreutils
MOUNT=${MOUNT:-/usr/bin/mount}                      # mount
UMOUNT=${UMOUNT:-/usr/bin/umount}                   # mount
FLOCK=${FLOCK:-/usr/bin/flock}                      # util-linux
APT_GET=${APT_GET:-/usr/bin/apt-get}                # apt

say() { printf 'test-swift: %s\n' "$*"; }
die() { printf 'test-swift: %s\n' "$*" >&2; exit 1; }

SETUP_ONLY=0
case "${1:-}" in
    --setup-only) SETUP_ONLY=1 ;;   # make (or check) the chroot, run nothing
    "") ;;
    *) die "usage: $0 [--setup-only]" ;;
esac

[[ $SETUP_ONLY == 1 || ( -f "$PREFIX/lib/libferrovec.so" && -f "$PREFIX/lib/pkgconfig/ferrovec.pc" ) ]] \
    || die "no libferrovec.so / ferrovec.pc under $PREFIX: run 'make test-swift' (it builds and installs them)"
[[ "$(id -u)" == 0 ]] \
    || die "needs root: the Swift toolchain runs in a Debian $SUITE chroot ($ROOT), which takes debootstrap, mount and chroot. Run as root (CI does), e.g. 'sudo make test-swift'."
case "$ROOT" in
    /*) ;;
    *) die "FERROVEC_SWIFT_ROOT must be an absolute path, not '$ROOT'" ;;
esac
[[ "$(realpath -m "$ROOT")" != / ]] || die "FERROVEC_SWIFT_ROOT must not be /"
ROOT=$(realpath -m "$ROOT")
PARTIAL=$ROOT.partial

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
"$FLOCK" 9 || die "cannot lock $ROOT.lock"

# Mount points at or below $1, deepest first (from /proc/self/mountinfo; octal escapes such as
# \040 for a space decoded).
mounts_under() {
    local dir=$1
    while read -r _ _ _ _ point _; do
        point=$(printf '%b' "$point")
        [[ "$point" == "$dir" || "$point" == "$dir"/* ]] && printf '%s\n' "$point"
    done </proc/self/mountinfo | sort -r
}

unmount_under() {
    local dir=$1 point
    while read -r point; do
        [[ -n "$point" ]] || continue
        "$UMOUNT" "$point" 2>/dev/null || "$UMOUNT" -l "$point" \
            || die "cannot unmount $point"
    done < <(mounts_under "$dir")
    [[ -z "$(mounts_under "$dir")" ]] || die "mounts left under $dir"
}

# Removes a (half-made) chroot: unmounts everything inside first, and never crosses into
# another file system, so a mount that survived cannot take the host's files with it.
remove_tree() {
    unmount_under "$1"
    rm -rf --one-file-system "$1"
}

debian_mirror() {
    if [[ -n "${FERROVEC_DEBIAN_MIRROR:-}" ]]; then
        echo "$FERROVEC_DEBIAN_MIRROR"
        return
    fi
    local uri
    # deb822 sources (Debian 12's default): the URIs of the entry that is not debian-security.
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n' | grep -v -- '-security' \
        | grep -m1 '/debian/\?$' || true)
    if [[ -z "$uri" ]]; then  # one-line format
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk '$1 == "deb" && $2 !~ /security/ && $2 ~ /\/debian\/?$/ { print $2; exit }' || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

in_chroot() {  # runs $@ in the chroot $1 with a clean environment
    local root=$1
    shift
    "$CHROOT" "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

create_chroot() {
    if [[ ! -x "$DEBOOTSTRAP" ]]; then
        say "installing debootstrap"
        "$APT_GET" update -qq
        DEBIAN_FRONTEND=noninteractive "$APT_GET" install -y -qq --no-install-recommends debootstrap >/dev/null
    fi
    # PARTIAL.log is written before PARTIAL exists and removed after the rename: a PARTIAL
    # with its log is a creation of this script that did not finish.
    if [[ -e "$PARTIAL" ]]; then
        [[ -e "$PARTIAL.log" ]] || die "$PARTIAL exists but was not made by this script; remove it"
        say "removing $PARTIAL, left by an interrupted run"
        remove_tree "$PARTIAL"
    fi
    local mirror
    mirror=$(debian_mirror)
    say "creating a Debian $SUITE chroot in $ROOT from $mirror (once; a few minutes)"
    echo "debootstrap --variant=minbase $SUITE $PARTIAL $mirror" >"$PARTIAL.log"
    mkdir -p "$PARTIAL"
    "$DEBOOTSTRAP" --variant=minbase "$SUITE" "$PARTIAL" "$mirror" >>"$PARTIAL.log" 2>&1 \
        || { tail -20 "$PARTIAL.log" >&2; die "debootstrap failed (full log: $PARTIAL.log)"; }
    "$MOUNT" -t proc proc "$PARTIAL/proc"
    # apt in the chroot: the mirror debootstrap wrote, without recommends, docs or caches.
    if ! in_chroot "$PARTIAL" apt-get update -qq \
        || ! in_chroot "$PARTIAL" apt-get install -y -qq --no-install-recommends $CHROOT_PACKAGES \
            >>"$PARTIAL.log" 2>&1; then
        unmount_under "$PARTIAL"
        tail -20 "$PARTIAL.log" >&2
        die "installing $CHROOT_PACKAGES in the chroot failed (full log: $PARTIAL.log)"
    fi
    in_chroot "$PARTIAL" apt-get clean
    local version
    version=$(in_chroot "$PARTIAL" swift --version 2>&1 | head -1) || true
    unmount_under "$PARTIAL"
    [[ "$version" == *"Swift version"* ]] || die "swift does not run in the new chroot: $version"
    echo "$STAMP" >"$PARTIAL/$STAMP_FILE"
    [[ ! -e "$ROOT" ]] || die "$ROOT appeared while the chroot was made"
    mv "$PARTIAL" "$ROOT"
    rm -f "$PARTIAL.log"
    say "chroot ready: $version"
}

# Whatever happens from here on, nothing stays mounted in the chroot (or a half-made one).
trap 'unmount_under "$PARTIAL"; unmount_under "$ROOT"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The chroot, made unless ROOT carries the stamp of this script's suite and package list;
# remade if it carries another stamp (made by an older version of this script). A ROOT
# without a stamp is not touched: this script only ever renames a finished chroot to ROOT.
if [[ "$(cat "$ROOT/$STAMP_FILE" 2>/dev/null || true)" != "$STAMP" ]]; then
    if [[ -f "$ROOT/$STAMP_FILE" ]]; then
        say "$ROOT was made for another suite or package list: making it again"
        remove_tree "$ROOT"
    elif [[ -d "$ROOT" && -z "$(ls -A "$ROOT")" ]]; then
        rmdir "$ROOT"
    elif [[ -e "$ROOT" ]]; then
        die "$ROOT exists and is not a chroot made by this script (no $STAMP_FILE); remove it or set FERROVEC_SWIFT_ROOT"
    fi
    create_chroot
fi

# Mounts for this run (stale ones from a killed run are removed first; the lock is ours):
# /proc, /dev, a fresh /tmp (nothing a run leaves there stays in the cache), and the work
# tree at its own path, so paths are the same inside and out (ferrovec.pc's prefix, #filePath
# in the tests, compiler messages).
[[ $SETUP_ONLY == 0 ]] || exit 0
unmount_under "$ROOT"
"$MOUNT" -t proc proc "$ROOT/proc"
"$MOUNT" --bind /dev "$ROOT/dev"
"$MOUNT" -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
mkdir -p "$ROOT$REPO"
"$MOUNT" --bind "$REPO" "$ROOT$REPO"

SWIFT_ENV=(PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig" LD_LIBRARY_PATH="$PREFIX/lib")
# FERROVEC_ISA=avx2 (or scalar, ...) runs the suites on a lower kernel level, as elsewhere.
[[ -z "${FERROVEC_ISA:-}" ]] || SWIFT_ENV+=(FERROVEC_ISA="$FERROVEC_ISA")
in_chroot "$ROOT" swift --version 2>&1 | head -1

run_package() {  # <package dir> <scratch dir>; prints the XCTest summary line
    local dir=$1 scratch=$2 log=$2.log
    mkdir -p "$scratch"
    say "swift test in ${dir#"$REPO"/}"
    local start=$SECONDS
    if ! in_chroot "$ROOT" "${SWIFT_ENV[@]}" /bin/sh -c 'cd "$1" && exec swift test --scratch-path "$2"' \
        sh "$dir" "$scratch" >"$log" 2>&1; then
        {   # compiler errors, failed assertions and cases, crashes, the XCTest summary
            grep -E "error:|Fatal error|Test Case .* failed" "$log" | head -40
            grep -E "Executed [0-9]+ tests?" "$log" | tail -1
        } >&2 || true
        die "swift test failed in ${dir#"$REPO"/} (full log: ${log#"$REPO"/})"
    fi
    local summary
    summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?0 failures" "$log" | tail -1)
    [[ -n "$summary" ]] || { tail -20 "$log" >&2; die "no XCTest summary in $log"; }
    say "${dir#"$REPO"/}: ${summary#"${summary%%[![:space:]]*}"} ($((SECONDS - start)) s)"
}

run_package "$REPO/bindings/swift" "$SCRATCH/bindings"
run_package "$REPO/ios-example" "$SCRATCH/ios-example"
