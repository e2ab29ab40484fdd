-- Rate limits shared by every API process (issue 14): one row per request
-- counted, by what is limited (`scope`: the public form, failed API keys,
-- customers' signed links) and the client's address. A moving window counts
-- the rows newer than its period; rows older than the longest period are
-- deleted as requests are counted (client addresses are kept no longer than
-- the limits need them). Unlogged: a crash that loses
-- the counts loses nothing of the register.

CREATE UNLOGGED TABLE rate_limit_hits (
    scope  text NOT NULL,
    client text NOT NULL,
    at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rate_limit_hits_key ON rate_limit_hits (scope, client, at DESC);
CREATE INDEX rate_limit_hits_at ON rate_limit_hits (at);
