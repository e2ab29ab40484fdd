-- Messages taken in by the inbound mailbox, by Message-ID: a message the
-- sender redelivers (after a timeout or a 451) is processed once.

CREATE TABLE inbound_messages (
    message_id  text PRIMARY KEY,
    -- digest of what the sender wrote: a different message reusing a
    -- Message-ID is not mistaken for a redelivery
    fingerprint text NOT NULL,
    reference   text NOT NULL REFERENCES complaints (reference),
    -- 'complaint': it opened the complaint; 'reply': it was added to it
    kind        text NOT NULL CHECK (kind IN ('complaint', 'reply')),
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_messages_reference ON inbound_messages (reference);
