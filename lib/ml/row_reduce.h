/* row_reduce.h — sums per-row values (a row's gradient or loss) of a mini-batch in the trainer's
 * order: rows in order within each shard, shards in order; the CUDA trainer's reduction. */
#ifndef BCF_ML_ROW_REDUCE_H
#define BCF_ML_ROW_REDUCE_H
#include "mlmath.h"
#include <stddef.h>

/*
 * The CPU trainer (trainer.c) cuts a mini-batch of `count` rows into `nshards` contiguous shards,
 * shard s holding rows [count·s/nshards, count·(s+1)/nshards), sums each shard from 0 row by row,
 * and adds the shard sums to a total that starts at 0, in shard order. A gradient engine that
 * computes each row on its own (one GPU thread per row) gets the same sums in the same order by
 * running this over one column of its per-row values. Empty shards add nothing (x + 0 = x for a
 * total that starts at +0).
 *
 * Rows may come in consecutive pieces [a, b) (a piece is what fits in device memory at once):
 * *acc carries the open shard's running sum from one piece to the next. vals[(r - a)·stride] is
 * row r's value. When a shard ends, its sum is added to *total (when total is not NULL) and
 * stored in shard_sum[s] (when shard_sum is not NULL); an empty shard's entry is left as it was,
 * so the caller zeroes shard_sum before a batch.
 */
ML_KERNEL size_t ml_shard_lo(size_t count, int nshards, int s)
{
    return count * (size_t)s / (size_t)nshards;
}

ML_KERNEL void ml_reduce_rows(const double *vals, size_t stride, size_t a, size_t b, size_t count, int nshards,
                              double *acc, double *total, double *shard_sum)
{
    int s = 0;
    while (s < nshards && ml_shard_lo(count, nshards, s + 1) <= a)
        s++;
    double sum = *acc;
    for (size_t r = a; r < b; r++) {
        if (r == ml_shard_lo(count, nshards, s))
            sum = 0;
        sum += vals[(r - a) * stride];
        if (r + 1 == ml_shard_lo(count, nshards, s + 1)) {
            if (total)
                *total += sum;
            if (shard_sum)
                shard_sum[s] = sum;
            while (s < nshards && ml_shard_lo(count, nshards, s + 1) <= r + 1)
                s++;
        }
    }
    *acc = sum;
}
#endif
