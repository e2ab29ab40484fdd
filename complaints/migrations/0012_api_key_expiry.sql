-- API keys expire (issue 14): `expires_at` (NULL: never, as the keys issued
-- before it), refused like a revoked key once passed; and their last use,
-- recorded at most once a minute, so that a request costs no write.

ALTER TABLE operators
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz;
