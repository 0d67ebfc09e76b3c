#!/bin/sh
# replay-router.sh — make check test: runs every seed of tests/fuzz/corpus/router through fuzz_router.
exec "$(dirname "$0")/replay-one.sh" router
