/* queue_consumer.h — reading job ids from the stream (XREADGROUP, XAUTOCLAIM), claiming them in
 * PostgreSQL in one statement, running each through its handler, recording the outcome, XACK. */
#ifndef BCF_QUEUE_CONSUMER_H
#define BCF_QUEUE_CONSUMER_H

/* Makes sure the consumer group exists (creating it, and the stream, from the start). When this
 * call created it — a new or flushed Redis — every queued job is sent again. 1 ready, 0 not. */
int consumer_ready(void);
/* Forgets the group (after NOGROUP or a lost connection) so the next consumer_ready re-checks. */
void consumer_reset(void);
/* One blocking read of up to queue.batch entries (at most block_ms), then runs what it got.
 * Returns jobs run, 0 when nothing came, -1 when Redis failed (the caller waits a little). */
int consumer_poll(long block_ms);
/* Takes over entries pending longer than queue.visibility_ms in any consumer (a worker that
 * died or hung) and runs them. Returns jobs run or -1. */
int consumer_autoclaim(void);
/* Writes the done outcomes collected so far in one UPDATE (job_progress calls it too, so a
 * slow job does not hold earlier results back). 0, or -1 when PostgreSQL refused. */
int consumer_flush(void);
/* Removes consumers idle more than queue.consumer_drop_s with nothing pending. */
void consumer_drop_idle(void);
#endif
