# shellcheck shell=bash
# A minimal Debian 12 tree for the package tests (sourced by Packaging/test and Tests/Boot/run).
# debian_tree TREE PACKAGES: debootstrap --variant=minbase with PACKAGES (comma-separated) into TREE,
# or TREE unpacked from the tarball an earlier run cached under .build/packaging-cache/ for the same
# PACKAGES. TREE must not exist yet; its parent does. Prints where it came from.
debian_tree() {
    local tree=$1 packages=$2 cache start=$SECONDS
    cache=$(dirname "${BASH_SOURCE[0]}")/../.build/packaging-cache/debian-12-minbase-${packages//,/-}.tar.zst
    if [ ! -s "$cache" ]; then
        mkdir -p "$(dirname "$cache")"
        debootstrap --variant=minbase --include="$packages" bookworm "$tree" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
            > "$tree.debootstrap.log" 2>&1 || { cat "$tree.debootstrap.log"; return 1; }
        rm -f "$tree"/var/cache/apt/archives/*.deb
        tar -C "$tree" --numeric-owner -cf - . | zstd -q -T0 > "$cache.new" && mv "$cache.new" "$cache"
    else
        mkdir "$tree"
        zstd -dc "$cache" | tar -C "$tree" --numeric-owner -xpf -
    fi
    echo "the Debian 12 tree ($packages) is ready ($((SECONDS - start)) s; cached in $(cd "$(dirname "$cache")" && pwd)/$(basename "$cache"))"
}
