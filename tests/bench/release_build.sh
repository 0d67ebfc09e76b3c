# tests/bench/release_build.sh — sourced by the benchmark scripts: builds the programs a benchmark runs, in a
# release copy of the tree (no sanitizers; var/bench/build/src, shared by every benchmark) or in the tree itself.
# shellcheck shell=bash

# bench_build MODE LOG TARGET...: MODE release or in-tree; make's output goes to LOG. Sets BUILT_IN to
# the directory the targets were built under. Needs ROOT, and say/die from the caller.
bench_build() {
  local mode="$1" log="$2"
  shift 2
  if [ "$mode" != release ]; then
    say "make (in-tree)"
    (cd "$ROOT" && make -j2 "$@") >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "make failed"; }
    BUILT_IN="$ROOT"
    return
  fi
  # configure refuses an out-of-tree build of an in-tree-configured source, so a copy of the tree
  # without build outputs is configured without sanitizers once and then built incrementally
  local src="$ROOT/var/bench/build/src"
  mkdir -p "$src/tests/bench"
  tar -C "$ROOT" \
      --exclude=./var --exclude=./.git --exclude=node_modules --exclude=./tests \
      --exclude='*.o' --exclude='*.a' --exclude=.deps --exclude=.dirstamp \
      --exclude=./config.status --exclude=./config.log --exclude=./autom4te.cache \
      --exclude=./Makefile --exclude=./autoconfig.h --exclude=./stamp-h1 --exclude=./libtool \
      --exclude=./cgi/botcriptofy-fcgi --exclude=./worker/botcriptofy-worker --exclude=./cli/botctl \
      -cf - . | tar -C "$src" -xf -
  # tests/ is named by Makefile.am: the copy gets its sources; of tests/bench only the C sources,
  # never a binary built here with sanitizers that make would then take as up to date
  tar -C "$ROOT/tests" --exclude=node_modules --exclude=./bench -cf - . | tar -C "$src/tests" -xf -
  cp "$ROOT"/tests/bench/*.c "$ROOT"/tests/bench/*.h "$src/tests/bench/"
  if [ ! -f "$src/config.status" ] || [ "$src/configure" -nt "$src/config.status" ]; then
    say "configuring a release copy under $src (no sanitizers)"
    (cd "$src" && ./configure --without-cuda) >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "configure failed"; }
  fi
  say "make (release copy)"
  (cd "$src" && make -j2 "$@") >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "make failed (release copy)"; }
  BUILT_IN="$src"
}
