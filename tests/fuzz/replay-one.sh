#!/bin/sh
# replay-one.sh NAME — make check helper: replays tests/fuzz/corpus/NAME through the plain build
# of tests/fuzz/fuzz_NAME (BCF_SRCDIR/BCF_BUILDDIR come from make check; defaults: this tree).
set -eu
name="${1:?usage: replay-one.sh NAME}"
here="$(cd "$(dirname "$0")" && pwd)"
srcdir="${BCF_SRCDIR:-$here/../..}"
builddir="${BCF_BUILDDIR:-$srcdir}"
exec "$builddir/tests/fuzz/fuzz_$name" "$srcdir/tests/fuzz/corpus/$name"
