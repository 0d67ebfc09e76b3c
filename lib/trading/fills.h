/* fills.h — the fill arithmetic of the trading engine and the paper exchange, in one place: both
 * must do the same operations in the same order (and without FMA contraction) to agree to the bit. */
#ifndef BCF_TRADING_FILLS_H
#define BCF_TRADING_FILLS_H

/* nvcc compiles these for the GPU too (the sweep kernel, worker/cuda), where they must be
 * callable from device code; plain C sees an empty qualifier. */
#ifdef __CUDACC__
#define FILLS_HD __host__ __device__
#else
#define FILLS_HD
#endif

/* Whoever includes this must be compiled with -ffp-contract=off (lib/trading, the paper exchange,
 * the tests that compare them): a fused multiply-add rounds once where these round twice. */

/* A rate from basis points (fee_bps, slippage_bps): 10 bps is 0.001. */
static inline FILLS_HD double fill_rate(double bps)
{
    return bps / 10000.0;
}

/* Spends exactly `amount` quote at market price px: price = px × (1 + slip), qty = amount /
 * (price × (1 + fee_rate)), fee = qty × price × fee_rate (so qty × price + fee is the amount, up
 * to rounding; the fee is paid in quote on top of the notional). Returns qty. */
static inline FILLS_HD double fill_buy_amount(double amount, double px, double fee_rate, double slip, double *price,
                                     double *fee)
{
    double p = px * (1.0 + slip);
    double qty = amount / (p * (1.0 + fee_rate));
    *price = p;
    *fee = qty * p * fee_rate;
    return qty;
}

/* Buys qty base at market price px: price = px × (1 + slip), fee = qty × price × fee_rate.
 * Returns the quote spent, qty × price + fee. */
static inline FILLS_HD double fill_buy_qty(double qty, double px, double fee_rate, double slip, double *price, double *fee)
{
    double p = px * (1.0 + slip);
    double notional = qty * p;
    *price = p;
    *fee = notional * fee_rate;
    return notional + *fee;
}

/* Sells qty base at market price px: price = px × (1 − slip), gross = qty × price, fee = gross ×
 * fee_rate. Returns the proceeds, gross − fee. */
static inline FILLS_HD double fill_sell(double qty, double px, double fee_rate, double slip, double *price, double *fee)
{
    double p = px * (1.0 - slip);
    double gross = qty * p;
    *price = p;
    *fee = gross * fee_rate;
    return gross - *fee;
}

/* Sells for a gross of `amount` quote at market price px: price = px × (1 − slip), qty = amount /
 * price, fee = amount × fee_rate. Returns the proceeds, amount − fee; *qty is the base sold. */
static inline FILLS_HD double fill_sell_amount(double amount, double px, double fee_rate, double slip, double *price,
                                      double *qty, double *fee)
{
    double p = px * (1.0 - slip);
    *price = p;
    *qty = amount / p;
    *fee = amount * fee_rate;
    return amount - *fee;
}
#endif
