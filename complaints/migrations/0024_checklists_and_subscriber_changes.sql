-- A complaint's checklist (issue 18): items added by handlers in the console or
-- by automation rules, ticked done with who and when, each journaled. A rule's
-- item is keyed by (rule, journal entry, action) and a console item by its
-- form, so that either is added once however often it is asked for.
CREATE TABLE checklist_items (
    id                  bigserial PRIMARY KEY,
    complaint_reference text NOT NULL REFERENCES complaints (reference),
    text                text NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    added_by            text NOT NULL,
    added_at            timestamptz NOT NULL DEFAULT now(),
    item_key            text NOT NULL UNIQUE,
    done_by             text,
    done_at             timestamptz,
    CHECK ((done_by IS NULL) = (done_at IS NULL))
);
CREATE INDEX checklist_items_complaint ON checklist_items (complaint_reference, id);

-- Who changed a subscriber and what (never its secret): the subscribers'
-- audit trail, shown on the console's events page.
CREATE TABLE subscriber_changes (
    id             bigserial PRIMARY KEY,
    subscriber_id  bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    changed_by     text NOT NULL,
    change         text NOT NULL CHECK (change IN ('added', 'edited', 'secret_rotated', 'removed')),
    details        jsonb NOT NULL DEFAULT '{}',
    changed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriber_changes_subscriber ON subscriber_changes (subscriber_id, changed_at);

ALTER TABLE subscribers ADD COLUMN secret_rotated_at timestamptz;
