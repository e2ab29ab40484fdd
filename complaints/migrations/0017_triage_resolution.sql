-- How each message kept for triage (0014) was resolved by an operator: attached
-- to a complaint (signalled to its run as the customer's message, once),
-- made a new complaint, or discarded; by whom and when. NULL: still waiting.

ALTER TABLE inbound_triage
    ADD COLUMN resolution          text CHECK (resolution IN ('attached', 'new_complaint', 'discarded')),
    ADD COLUMN resolved_reference  text REFERENCES complaints (reference),
    ADD COLUMN resolved_by         text,
    ADD COLUMN resolved_at         timestamptz,
    ADD COLUMN resolution_note     text,
    ADD CONSTRAINT inbound_triage_resolved CHECK (
        (resolution IS NULL) = (resolved_by IS NULL)
        AND (resolution IS NULL) = (resolved_at IS NULL)
        AND (resolution IN ('attached', 'new_complaint')) = (resolved_reference IS NOT NULL)
    );
-- the queue: the messages still waiting, oldest first
CREATE INDEX inbound_triage_waiting ON inbound_triage (received_at) WHERE resolution IS NULL;
