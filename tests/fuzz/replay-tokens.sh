#!/bin/sh
# replay-tokens.sh — make check test: runs every seed of tests/fuzz/corpus/tokens through fuzz_tokens.
exec "$(dirname "$0")/replay-one.sh" tokens
