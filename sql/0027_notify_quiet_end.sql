-- 0027_notify_quiet_end.sql — when a user's quiet period ends, as a true instant: the end's local
-- time is placed on the local calendar in the user's time zone, so a daylight-saving change inside
-- the period does not move it by an hour (docs/notifications.md, "Quiet hours").
--
-- p_at inside [p_start_min, p_end_min) of its local day in p_tz (wrapping past midnight when
-- start > end): the instant the local clock next reads p_end_min. Outside, or an empty period: NULL.
-- A local end that does not exist (a spring-forward gap) or exists twice (fall-back) is resolved as
-- PostgreSQL's AT TIME ZONE does: the gap's time read with the offset before the change, the
-- repeated hour with the offset after it.
CREATE FUNCTION notify_quiet_end(p_at TIMESTAMPTZ, p_start_min INT, p_end_min INT, p_tz TEXT)
RETURNS TIMESTAMPTZ LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_start_min IS NULL OR p_end_min IS NULL OR p_start_min = p_end_min THEN NULL
        WHEN p_start_min < p_end_min THEN
            CASE WHEN time_of_day >= p_start_min * interval '1 minute' AND time_of_day < p_end_min * interval '1 minute'
                 THEN (local_day + p_end_min * interval '1 minute') AT TIME ZONE p_tz END
        -- wrapping: before midnight the period ends tomorrow, after midnight today
        WHEN time_of_day >= p_start_min * interval '1 minute'
            THEN (local_day + interval '1 day' + p_end_min * interval '1 minute') AT TIME ZONE p_tz
        WHEN time_of_day < p_end_min * interval '1 minute'
            THEN (local_day + p_end_min * interval '1 minute') AT TIME ZONE p_tz
    END
    FROM (SELECT date_trunc('day', local) AS local_day, local - date_trunc('day', local) AS time_of_day
          FROM (SELECT p_at AT TIME ZONE p_tz AS local) l) d
$$;
