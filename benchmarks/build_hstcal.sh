#!/bin/sh
# Build the two anchors, calwf3.e and cs0.e (calstis), from a public hstcal source tree, in a
# build directory outside the repository. Downloads nothing: SRC must already be a work tree,
# e.g. `git clone https://github.com/spacetelescope/hstcal SRC` (or a local mirror).
# Needs cmake, a C compiler, gfortran and libcfitsio-dev (Debian: apt-get install cmake
# gfortran libcfitsio-dev pkg-config). Under a minute and a half on two cores.
#
#   sh benchmarks/build_hstcal.sh SRC BUILD
#   -> BUILD/pkg/wfc3/calwf3.e and BUILD/pkg/stis/cs0.e
set -eu
if [ $# -ne 2 ]; then
    echo "usage: $0 HSTCAL_SOURCE_DIR BUILD_DIR" >&2
    exit 2
fi
src=$(cd "$1" && pwd)
[ -f "$src/CMakeLists.txt" ] && [ -d "$src/pkg/wfc3" ] || {
    echo "$src is not an hstcal source tree (no CMakeLists.txt, pkg/wfc3)" >&2; exit 2; }
mkdir -p "$2"
build=$(cd "$2" && pwd)
case "$build/" in
    "$src"/*) echo "build outside the source tree, please" >&2; exit 2 ;;
esac
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release
make -C "$build" -j2 calwf3 cs0
echo "calwf3: $build/pkg/wfc3/calwf3.e (version $("$build/pkg/wfc3/calwf3.e" --version))"
echo "calstis: $build/pkg/stis/cs0.e (version $("$build/pkg/stis/cs0.e" --version))"
echo "source: $(git -C "$src" describe --tags --always 2>/dev/null || echo unknown)"
