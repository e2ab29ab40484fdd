-- A merge claimed in the register before either run is asked (complaints/
-- merge_claims.py): two merges posted at once, opposite (A into B, B into A)
-- or chained (A into B, B into C), could both pass the register's check and
-- then close a complaint into one closed too. The claim is taken with both
-- complaints' rows locked, in the order of their references, and a merge is
-- refused while the survivor is being merged away, or the absorbed complaint
-- is being merged elsewhere or is taking another in. `done_at` is set once
-- the survivor's run has taken the absorbed complaint in; until then the
-- same merge posted again goes on with it. A complaint is absorbed once: its
-- reference is the key.

CREATE TABLE merges (
    absorbed   text PRIMARY KEY REFERENCES complaints (reference),
    survivor   text NOT NULL REFERENCES complaints (reference),
    claimed_at timestamptz NOT NULL DEFAULT now(),
    done_at    timestamptz,
    CONSTRAINT merges_not_into_itself CHECK (absorbed <> survivor)
);
CREATE INDEX merges_pending_survivor ON merges (survivor) WHERE done_at IS NULL;

-- The merges made before: done, unless the survivor's journal lacks the absorption (a merge
-- interrupted between its halves, pending until it is posted again).
INSERT INTO merges (absorbed, survivor, claimed_at, done_at)
SELECT c.reference, c.merged_into, coalesce(c.closed_at, now()),
       CASE WHEN EXISTS (SELECT 1 FROM journal j
                          WHERE j.complaint_reference = c.merged_into AND j.event = 'merged_in'
                            AND j.details->>'absorbed' = c.reference)
            THEN coalesce(c.closed_at, now()) END
  FROM complaints c WHERE c.merged_into IS NOT NULL;
