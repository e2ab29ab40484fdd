-- Events out and automation rules. The journal is the change feed: a dispatcher
-- reads it past its watermark and delivers each step to the subscribers that
-- chose its type (CloudEvents 1.0, HMAC-signed), and carries out the rules
-- that match it.
CREATE TABLE subscribers (
    id                    bigserial PRIMARY KEY,
    name                  text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    url                   text NOT NULL CHECK (url ~ '^https?://'),
    secret                text NOT NULL,  -- HMAC-SHA256 key: shown once at creation, never again
    event_types           text[] NOT NULL,  -- CloudEvents types, or '*' for every one
    personal_data         boolean NOT NULL DEFAULT false,
    active                boolean NOT NULL DEFAULT true,
    -- the newest journal entry when it was added: it receives the steps after it
    after_journal_id      bigint NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now()
);

-- The dispatcher's watermark: the journal entries it has handled.
CREATE TABLE event_dispatch_state (
    dispatcher  text PRIMARY KEY,
    watermark   bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Events a subscriber did not take after every attempt; "deliver again" asks
-- the dispatcher to try once more (status 'redeliver'), and it settles them.
CREATE TABLE dead_letters (
    id             bigserial PRIMARY KEY,
    subscriber_id  bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    event_id       text NOT NULL,
    journal_id     bigint NOT NULL,
    reference      text NOT NULL,
    event_type     text NOT NULL,
    event          jsonb NOT NULL,
    error          text NOT NULL,
    status         text NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'redeliver', 'delivered')),
    failed_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at   timestamptz,
    UNIQUE (subscriber_id, event_id)
);

-- "When EVENT (and the complaint matches) then ACTIONS".
CREATE TABLE automation_rules (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    event       text NOT NULL,        -- a journal event name ("assessed", "decided", ...)
    conditions  jsonb NOT NULL DEFAULT '{}',  -- {"category": "safety", "priority": "P1", ...}
    actions     jsonb NOT NULL,       -- [{"kind": "assign", "handler": "...", "team": "..."}, ...]
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
