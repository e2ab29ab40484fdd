-- Inbound mail that may not reach a complaint's run: from another address than
-- the complainant's, not authenticated by our MX, naming an unknown reference, or
-- answering an operations email. Kept for an operator, never signalled; one row
-- per Message-ID, so a redelivery is kept once.

CREATE TABLE inbound_triage (
    message_id      text PRIMARY KEY,
    fingerprint     text NOT NULL,
    sender          text,
    subject         text NOT NULL,
    reason          text NOT NULL,
    -- the complaint it was routed to, when a reference or one of our Message-IDs matched
    reference       text REFERENCES complaints (reference),
    -- the references it names (subject, In-Reply-To, References), as written
    named_references text[] NOT NULL DEFAULT '{}',
    -- its text, capped; the whole message is in raw
    text_excerpt    text NOT NULL,
    -- name, content type and size of each attachment
    documents       jsonb NOT NULL DEFAULT '[]',
    raw             bytea NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_triage_reference ON inbound_triage (reference);
CREATE INDEX inbound_triage_received_at ON inbound_triage (received_at);
