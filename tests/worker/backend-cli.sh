#!/bin/sh
# backend-cli.sh — make check test: botcriptofy-worker refuses an unknown --backend, and refuses
# --backend cuda at start when no GPU is usable, with a clear message and a non-zero exit.
build="${BCF_BUILDDIR:-$(dirname "$0")/../..}"
worker="$build/worker/botcriptofy-worker"
plugin="$build/worker/cuda/botcriptofy-cuda.so"
[ -x "$worker" ] || { echo "backend-cli: $worker is not built" >&2; exit 99; }
out="$(mktemp)" errf="$(mktemp)"
trap 'rm -f "$out" "$errf"' EXIT
status=0
fail() { echo "backend-cli: FAIL: $*" >&2; sed 's/^/  stdout: /' "$out" >&2; sed 's/^/  stderr: /' "$errf" >&2; status=1; }
# a worker started from here reads no config file and no BCF_ override but ours
run() { env -u BCF_CONFIG -u BCF_WORKER_BACKEND -u BCF_WORKER_CUDA_PLUGIN "$@" >"$out" 2>"$errf"; }

run "$worker" --backend bogus; rc=$?
[ "$rc" -eq 2 ] && grep -q "unknown backend 'bogus'" "$errf" || fail "--backend bogus: exit $rc"

run env BCF_WORKER_BACKEND=bogus "$worker" --check-backend; rc=$?
[ "$rc" -eq 1 ] && grep -q "unknown backend 'bogus'" "$errf" || fail "worker.backend = bogus: exit $rc"

run "$worker" --backend cpu --check-backend; rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$out")" = cpu ] || fail "--backend cpu: exit $rc"

run "$worker" --backend auto --check-backend; rc=$?
[ "$rc" -eq 0 ] && grep -Eq '^(cpu|cuda)' "$out" || fail "--backend auto: exit $rc"
gpu=0
grep -q '^cuda' "$out" && gpu=1
# a build tree's worker finds the plugin built next to it (worker/cuda/)
if [ -f "$plugin" ] && grep -q "cannot load the CUDA plugin" "$out"; then
  fail "--backend auto did not load $plugin"
fi

run "$worker" --backend cuda --check-backend; rc=$?
if [ "$gpu" = 1 ]; then
  [ "$rc" -eq 0 ] && grep -q '^cuda' "$out" || fail "--backend cuda with a GPU: exit $rc"
else
  [ "$rc" -eq 1 ] && grep -q "backend cuda unavailable" "$errf" || fail "--backend cuda without a GPU: exit $rc"
  # and a real start stops there too, before reaching PostgreSQL or Redis
  run timeout 60 "$worker" --backend cuda; rc=$?
  [ "$rc" -eq 1 ] && grep -q "backend cuda unavailable" "$errf" || fail "start with --backend cuda without a GPU: exit $rc"
  echo "backend-cli: no usable GPU here: --backend cuda is refused at start ($(head -c 200 "$errf"))"
fi
exit $status
