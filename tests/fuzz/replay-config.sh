#!/bin/sh
# replay-config.sh — make check test: runs every seed of tests/fuzz/corpus/config through fuzz_config.
exec "$(dirname "$0")/replay-one.sh" config
