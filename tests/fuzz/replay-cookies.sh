#!/bin/sh
# replay-cookies.sh — make check test: runs every seed of tests/fuzz/corpus/cookies through fuzz_cookies.
exec "$(dirname "$0")/replay-one.sh" cookies
