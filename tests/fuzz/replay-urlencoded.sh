#!/bin/sh
# replay-urlencoded.sh — make check test: runs every seed of tests/fuzz/corpus/urlencoded through fuzz_urlencoded.
exec "$(dirname "$0")/replay-one.sh" urlencoded
