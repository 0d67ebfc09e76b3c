#!/bin/sh
# replay-json.sh — make check test: runs every seed of tests/fuzz/corpus/json through fuzz_json.
exec "$(dirname "$0")/replay-one.sh" json
