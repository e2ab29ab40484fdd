-- A complaint merged into another (migration 0023) is a duplicate, not a
-- complaint handled: the indicators leave it out of the volumes, the closure
-- rate, the durations, the deadlines, the root causes and the recurrence, and
-- count it apart (reporting.kpis, Volumes.merged). The projection carries its
-- merged_into, added at the end of report_complaints and of the views, which
-- keep the table's columns in its order (both views restated whole, as 0021
-- does, report_cohort for its * to take the new column).
--
-- Its closing step writes each deadline "met" unless breached (the closure's
-- facts), though it never reached the steps the survivor now takes: a merged
-- complaint's acknowledgement, assessment or response deadline is 'met' only
-- when that step was done before the merge, still 'missed' when breached, and
-- NULL (not judged) otherwise, for the register's export and summary too.

ALTER TABLE report_complaints ADD COLUMN merged_into text;

-- The covering indexes of 0007 keep serving index-only scans: the indicators
-- read only the complaints counted, so the indexes hold only those.
DROP INDEX report_complaints_durations, report_complaints_shape, report_complaints_compensated,
           report_complaints_root_cause;
CREATE INDEX report_complaints_durations ON report_complaints (received_at)
    INCLUDE (ack_us, response_us, closure_us) WHERE merged_into IS NULL;
CREATE INDEX report_complaints_shape ON report_complaints (received_at) INCLUDE (phase, root_cause_category)
    WHERE merged_into IS NULL;
CREATE INDEX report_complaints_compensated ON report_complaints (received_at)
    INCLUDE (compensation_kinds, compensation_counts, compensation_amounts)
    WHERE compensation_kinds IS NOT NULL AND merged_into IS NULL;
CREATE INDEX report_complaints_root_cause ON report_complaints (root_cause_category, received_at)
    WHERE root_cause_category IS NOT NULL AND merged_into IS NULL;

CREATE OR REPLACE VIEW report_complaint_source AS
    SELECT c.reference, c.received_at, c.phase, c.product, c.category, c.channel, c.priority, c.handler,
           c.customer_id,
           (extract(epoch FROM c.acknowledged_at - c.received_at) * 1000000)::bigint AS ack_us,
           (extract(epoch FROM c.responded_at - c.acknowledged_at) * 1000000)::bigint AS response_us,
           (extract(epoch FROM c.closed_at - c.received_at) * 1000000)::bigint AS closure_us,
           CASE WHEN c.ack_deadline_met AND (c.merged_into IS NULL OR c.acknowledged_at IS NOT NULL) THEN 'met'
                WHEN NOT c.ack_deadline_met OR (c.phase <> 'closed' AND j.ack_breached) THEN 'missed'
           END AS ack_deadline,
           CASE WHEN c.assessment_deadline_met AND (c.merged_into IS NULL OR c.assessed_at IS NOT NULL) THEN 'met'
                WHEN NOT c.assessment_deadline_met OR (c.phase <> 'closed' AND j.assessment_breached) THEN 'missed'
           END AS assessment_deadline,
           CASE WHEN c.response_deadline_met AND (c.merged_into IS NULL OR c.responded_at IS NOT NULL) THEN 'met'
                WHEN NOT c.response_deadline_met OR (c.phase <> 'closed' AND j.response_breached) THEN 'missed'
           END AS response_deadline,
           coalesce(j.warnings, 0)::integer AS sla_warnings, coalesce(j.breaches, 0)::integer AS sla_breaches,
           c.outcome, c.customer_verdict IS NOT DISTINCT FROM 'contested' AS contested,
           coalesce(j.reviewed, false) AS reviewed, c.recurring, c.root_cause_category,
           coalesce(j.surveyed, false) OR s.complaint_reference IS NOT NULL AS surveyed,
           s.csat, s.ces, s.nps,
           g.kinds AS compensation_kinds, g.counts AS compensation_counts, g.amounts AS compensation_amounts,
           c.regime,
           CASE WHEN a.final_at IS NOT NULL AND c.regulatory_due_at IS NOT NULL
                THEN CASE WHEN a.final_at <= c.regulatory_due_at THEN 'met' ELSE 'missed' END
                WHEN j.regulatory_breached THEN 'missed'
           END AS regulatory_deadline,
           s.problem_score, s.actions_score, s.relationship_score,
           c.merged_into
      FROM complaints c
      LEFT JOIN surveys s ON s.complaint_reference = c.reference
      LEFT JOIN LATERAL (
           SELECT count(*) FILTER (WHERE event LIKE '%\_deadline\_warning') AS warnings,
                  count(*) FILTER (WHERE event LIKE '%\_deadline\_breached') AS breaches,
                  bool_or(event = 'acknowledgement_deadline_breached') AS ack_breached,
                  bool_or(event = 'assessment_deadline_breached') AS assessment_breached,
                  bool_or(event = 'response_deadline_breached') AS response_breached,
                  bool_or(event = 'regulatory_deadline_breached') AS regulatory_breached,
                  min(occurred_at) FILTER (WHERE event = 'review_responded') AS review_responded_at,
                  bool_or(event = 'review_responded') AS reviewed,
                  bool_or(event = 'survey_emailed') AS surveyed
             FROM journal WHERE complaint_reference = c.reference) j ON true
      -- the final answer: a contested response's is the review's
      CROSS JOIN LATERAL (
           SELECT CASE WHEN c.customer_verdict IS NOT DISTINCT FROM 'contested' THEN j.review_responded_at
                       ELSE c.responded_at END AS final_at) a
      LEFT JOIN LATERAL (
           SELECT array_agg(kind ORDER BY kind) AS kinds, array_agg(n ORDER BY kind) AS counts,
                  array_agg(amount ORDER BY kind) AS amounts
             FROM (SELECT details->>'kind' AS kind, count(*)::integer AS n, sum((details->>'amount')::numeric) AS amount
                     FROM journal WHERE complaint_reference = c.reference AND event = 'compensation_granted'
                    GROUP BY 1) k) g ON true;

CREATE OR REPLACE VIEW report_cohort AS
    WITH unread AS MATERIALIZED (
        SELECT complaint_reference AS reference FROM journal WHERE id > (SELECT watermark FROM report_state)
        UNION
        SELECT j.complaint_reference FROM report_gaps g JOIN journal j ON j.id = g.id
    )
    -- NOT IN: a hashed subplan of the few unread, whatever the planner guesses of them
    SELECT r.* FROM report_complaints r WHERE r.reference NOT IN (SELECT reference FROM unread)
    UNION ALL
    SELECT s.* FROM report_complaint_source s WHERE s.reference IN (SELECT reference FROM unread);

UPDATE report_complaints r
   SET merged_into = s.merged_into, ack_deadline = s.ack_deadline,
       assessment_deadline = s.assessment_deadline, response_deadline = s.response_deadline
  FROM report_complaint_source s
 WHERE s.reference = r.reference AND s.merged_into IS NOT NULL;
