-- When a complaint was sent, beside when it was received, and the regime its
-- regulatory deadlines follow (docs/deadlines.md): the ACPR's and the AMF's
-- texts count from the sending date.
--
-- A complaint taken in before this migration keeps sent_at NULL (its sending
-- was not recorded; its clocks counted from receipt) and the general regime,
-- the one its run follows.

ALTER TABLE complaints
    ADD COLUMN sent_at timestamptz,
    ADD COLUMN regime  text NOT NULL DEFAULT 'general',
    ADD CONSTRAINT complaints_sent_before_received CHECK (sent_at <= received_at);
