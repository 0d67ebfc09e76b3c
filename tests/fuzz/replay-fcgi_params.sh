#!/bin/sh
# replay-fcgi_params.sh — make check test: runs every seed of tests/fuzz/corpus/fcgi_params through fuzz_fcgi_params.
exec "$(dirname "$0")/replay-one.sh" fcgi_params
