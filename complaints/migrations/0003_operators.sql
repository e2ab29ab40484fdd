-- Operators of the HTTP API: one row per API key. Only the key's SHA-256 is
-- kept (the key is shown once, at creation); a revoked key stays as evidence
-- of who acted. A name is unique among active keys, so a person whose key is
-- revoked gets a new one under the same name and the journal keeps one actor.

CREATE TABLE operators (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role       text NOT NULL CHECK (role IN ('intake', 'handler', 'manager', 'admin')),
    key_hash   text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE UNIQUE INDEX operators_active_name ON operators (name) WHERE revoked_at IS NULL;
