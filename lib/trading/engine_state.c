/* engine_state.c — an engine saved as bytes and restored: a header that ties the blob to this
 * struct layout, a checksum, and a validation pass so a damaged blob is refused, never run. */
#include "engine.h"
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct engine_blob_header {
    uint32_t magic;
    uint32_t version;
    uint32_t struct_size; /* sizeof(engine) of the build that wrote it */
    uint32_t nsymbols;
    uint64_t checksum; /* FNV-1a 64 of the state bytes that follow */
} engine_blob_header;

/* The state bytes: everything up to and including the last symbol in use. */
static size_t est_payload(int nsymbols)
{
    return offsetof(engine, sym) + (size_t)nsymbols * sizeof(engine_symbol);
}

static uint64_t est_fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

size_t engine_state_size(const engine *e)
{
    if (!e || e->nsymbols < 1 || e->nsymbols > ENGINE_MAX_SYMBOLS)
        return 0;
    return sizeof(engine_blob_header) + est_payload(e->nsymbols);
}

long engine_save(const engine *e, void *buf, size_t len)
{
    size_t need = engine_state_size(e);
    if (!need || !buf || len < need)
        return ENGINE_EINVAL;
    engine_blob_header h;
    memset(&h, 0, sizeof h);
    h.magic = ENGINE_MAGIC;
    h.version = ENGINE_VERSION;
    h.struct_size = (uint32_t)sizeof(engine);
    h.nsymbols = (uint32_t)e->nsymbols;
    h.checksum = est_fnv1a((const unsigned char *)e, est_payload(e->nsymbols));
    memcpy(buf, &h, sizeof h);
    memcpy((unsigned char *)buf + sizeof h, e, est_payload(e->nsymbols));
    return (long)need;
}

static int est_finite_nonneg(double v)
{
    return isfinite(v) && v >= 0;
}

/* The invariants engine_step relies on for memory safety: indexes in range, counts that agree
 * with the slots, masks within the grid. Numbers are only checked for being finite. */
static int est_valid(const engine *e)
{
    if (e->nsymbols < 1 || e->nsymbols > ENGINE_MAX_SYMBOLS || engine_config_check(&e->cfg, NULL, 0) < 0)
        return 0;
    if (!est_finite_nonneg(e->cash) || !(e->initial_balance > 0) || !isfinite(e->initial_balance) ||
        e->next_trade_id < 1 || e->pending_entries < 0 || e->exits_armed != engine_exits_armed(&e->cfg))
        return 0;
    int per_sym[ENGINE_MAX_SYMBOLS] = {0}, open = 0, pending = 0;
    uint64_t slots[ENGINE_MAX_SYMBOLS] = {0};
    int levels = e->cfg.kind == STRATEGY_GRID ? (int)e->cfg.params[STRAT_GRID_LEVELS] : 0;
    for (int i = 0; i < ENGINE_MAX_TRADES; i++) {
        const engine_trade *t = &e->trades[i];
        if (!t->id)
            continue;
        if (t->sym < 0 || t->sym >= e->nsymbols || t->tag < 0 || t->tag > levels || t->id >= e->next_trade_id ||
            !(t->qty > 0) || !(t->cost > 0) || !isfinite(t->qty) || !isfinite(t->cost) || !(t->entry_price > 0))
            return 0;
        per_sym[t->sym]++;
        slots[t->sym] |= 1ULL << i;
        open++;
    }
    if (open != e->open_trades)
        return 0;
    uint32_t level_mask = levels >= 32 ? 0xffffffffu : (1u << levels) - 1u;
    for (int s = 0; s < e->nsymbols; s++) {
        const engine_symbol *sym = &e->sym[s];
        if (sym->open_trades != per_sym[s] || sym->slots != slots[s] || sym->cooldown < 0 ||
            !sig_valid(&sym->sig, &e->cfg))
            return 0;
        uint32_t allowed = e->cfg.kind == STRATEGY_GRID ? level_mask : 1u;
        if ((sym->pend_buy & ~allowed) || (sym->pend_sell & ~allowed) || (sym->grid_held & ~allowed) ||
            sym->pend_add_kind < 0 || sym->pend_add_kind > 3)
            return 0;
        pending += __builtin_popcount(sym->pend_buy);
    }
    return pending == e->pending_entries;
}

int engine_load(engine *e, const void *buf, size_t len)
{
    engine_blob_header h;
    if (!e || !buf || len < sizeof h)
        return ENGINE_ESTATE;
    memcpy(&h, buf, sizeof h);
    if (h.magic != ENGINE_MAGIC || h.version != ENGINE_VERSION || h.struct_size != sizeof(engine) ||
        h.nsymbols < 1 || h.nsymbols > ENGINE_MAX_SYMBOLS || len != sizeof h + est_payload((int)h.nsymbols))
        return ENGINE_ESTATE;
    const unsigned char *payload = (const unsigned char *)buf + sizeof h;
    if (est_fnv1a(payload, est_payload((int)h.nsymbols)) != h.checksum)
        return ENGINE_ESTATE;
    /* validated in a scratch copy first, so a refused blob leaves *e as it was (on the heap:
     * the struct is too big for the stack of a small thread) */
    engine *scratch = calloc(1, sizeof *scratch);
    if (!scratch)
        return ENGINE_EINVAL;
    int rc = ENGINE_ESTATE;
    memcpy(scratch, payload, est_payload((int)h.nsymbols));
    if ((uint32_t)scratch->nsymbols != h.nsymbols || !est_valid(scratch))
        goto out;
    memcpy(e, scratch, sizeof *scratch);
    rc = 0;
out:
    free(scratch);
    return rc;
}
