-- Erasure of a complainant's personal data (GDPR): on request or after the
-- retention period. The complaint's row stays (that it existed, its dates,
-- channel, product, category, deadlines met, scores), its personal data and
-- free texts go. The journal stays append-only with one exception: the
-- erasure itself may scrub the details of one complaint's entries, keeping
-- each entry, its event, actor role and date; the erasure is journaled.

ALTER TABLE complaints ADD COLUMN erased_at timestamptz;
CREATE INDEX complaints_retention ON complaints (closed_at) WHERE erased_at IS NULL AND phase = 'closed';

-- A journal entry's details with every string replaced by the marker, but
-- the statistical facts the reports read (kind, amount, outcome...).
CREATE FUNCTION journal_scrubbed(value jsonb, marker text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN CASE jsonb_typeof(value)
        WHEN 'object' THEN coalesce((
            SELECT jsonb_object_agg(k, CASE
                       WHEN k = ANY (ARRAY['kind', 'amount', 'currency', 'outcome', 'priority', 'category',
                                           'deadline', 'due_at', 'channel', 'method', 'regime', 'phase',
                                           'status', 'sink', 'generation', 'level'])
                            AND jsonb_typeof(v) NOT IN ('object', 'array') THEN v
                       ELSE journal_scrubbed(v, marker) END)
              FROM jsonb_each(value) AS e (k, v)), '{}'::jsonb)
        WHEN 'array' THEN coalesce((SELECT jsonb_agg(journal_scrubbed(v, marker))
                                      FROM jsonb_array_elements(value) AS a (v)), '[]'::jsonb)
        WHEN 'string' THEN to_jsonb(marker)
        ELSE value
    END;
END $$;

-- The append-only rule, with its one exception: while erase_journal_details
-- runs for a complaint, that complaint's entries may have their details and
-- an actor that is an address replaced; nothing else of an entry changes and
-- no entry is ever deleted.
CREATE OR REPLACE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('complaints.erasing', true) = OLD.complaint_reference
       AND NEW.id = OLD.id
       AND NEW.complaint_reference = OLD.complaint_reference
       AND NEW.occurred_at = OLD.occurred_at
       AND NEW.event = OLD.event
       AND NEW.step_key IS NOT DISTINCT FROM OLD.step_key
       AND NEW.visible_to_customer = OLD.visible_to_customer THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the journal is append-only';
END $$;

CREATE FUNCTION erase_journal_details(ref text, marker text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    scrubbed integer;
BEGIN
    PERFORM set_config('complaints.erasing', ref, true);
    UPDATE journal
       SET details = journal_scrubbed(details, marker),
           actor = CASE WHEN actor LIKE '%@%' THEN marker ELSE actor END
     WHERE complaint_reference = ref AND event <> 'erased';
    GET DIAGNOSTICS scrubbed = ROW_COUNT;
    PERFORM set_config('complaints.erasing', '', true);
    RETURN scrubbed;
END $$;
