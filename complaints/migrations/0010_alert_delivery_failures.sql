-- A sink that refused an alert for good (a webhook answering 4xx, an SMTP
-- server answering 5xx, a webhook without its URL) is recorded beside the
-- sinks that delivered it, with why, for operations to see. Either way the
-- sink has had its answer for that alert: it is not tried again (the daily
-- check of overdue actions counts it as done).
ALTER TABLE alert_deliveries
    ALTER COLUMN delivered_at DROP NOT NULL,
    ADD COLUMN status    text NOT NULL DEFAULT 'delivered' CHECK (status IN ('delivered', 'failed')),
    ADD COLUMN failed_at timestamptz,
    ADD COLUMN error     text,
    ADD CONSTRAINT alert_deliveries_one_outcome CHECK (
        (status = 'delivered' AND delivered_at IS NOT NULL AND failed_at IS NULL)
        OR (status = 'failed' AND delivered_at IS NULL AND failed_at IS NOT NULL AND error IS NOT NULL)
    );
