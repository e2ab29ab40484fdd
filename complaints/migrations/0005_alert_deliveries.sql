-- Each alert delivered once to each configured sink (email, webhook, log).
CREATE TABLE alert_deliveries (
    alert_key    text NOT NULL REFERENCES alerts (key),
    sink         text NOT NULL,
    delivered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_key, sink)
);
