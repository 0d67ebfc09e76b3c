#!/bin/sh
# tenant-queries.sh — make check test: handlers reach tenant data only through tq_query/tq_exec.
# A direct db_query/db_exec in cgi/modules must say why within the 3 lines above: "cross-tenant:".
src="${BCF_SRCDIR:-$(dirname "$0")/../..}"
status=0
for f in "$src"/cgi/modules/*.c; do
  awk -v file="$f" '
    { ctx[NR % 4] = $0 }
    /db_(query|exec)\(/ {
      ok = 0
      for (i = 0; i < 4; i++) if (ctx[i] ~ /cross-tenant:/) ok = 1
      if (!ok) { printf "%s:%d: direct %s without a \"cross-tenant:\" reason\n", file, NR, $0; bad = 1 }
    }
    END { exit bad }' "$f" || status=1
done
if [ "$status" -ne 0 ]; then
  echo "tenant data goes through tq_query/tq_exec (lib/tenant.h); see docs/security.md" >&2
fi
exit $status
