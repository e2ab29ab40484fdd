-- Reports read a projection of the register, kept off its write path.
--
-- 0006 made the lifecycle's own writes keep reporting facts (a covering
-- index written at closure, triggers on the journal, the alerts, the surveys
-- and the compensations): every complaint's steps paid for them. Here the
-- register's tables are left as the lifecycle writes them, and
-- report_complaints holds one row per complaint with everything the
-- indicators read of it, brought up to date from the journal by
-- reporting.projection.refresh (on a schedule, and before a report).
--
-- The journal is the change feed: every step that changes a complaint is
-- journaled in the same transaction. A row of report_complaints is exact for
-- its complaint unless that complaint has journal entries the projection has
-- not read yet (ids above the watermark, or in report_gaps): report_cohort
-- computes those few complaints from the register itself, so a report is
-- exact whenever it runs.

DROP TRIGGER journal_report_fact ON journal;
DROP TRIGGER alerts_report_fact ON alerts;
DROP TRIGGER surveys_received_at ON surveys;
DROP TRIGGER compensations_received_at ON compensations;
DROP FUNCTION report_journal_fact();
DROP FUNCTION report_alert_fact();
DROP FUNCTION report_complaint_received_at();
DROP TABLE report_facts;
DROP INDEX complaints_closed_report;
DROP INDEX complaints_root_cause;
ALTER TABLE surveys DROP COLUMN complaint_received_at;
ALTER TABLE compensations DROP COLUMN complaint_received_at;

CREATE TABLE report_complaints (
    reference           text PRIMARY KEY,
    received_at         timestamptz NOT NULL,
    phase               text NOT NULL,
    product             text,
    category            text,
    channel             text NOT NULL,
    priority            text,
    handler             text,
    customer_id         text,
    -- each span in microseconds (exact; integers sort fastest); NULL until it ends
    ack_us              bigint,
    response_us         bigint,
    closure_us          bigint,
    -- each deadline 'met' or 'missed'; NULL while pending (an open complaint's
    -- deadline is missed once its breach is raised)
    ack_deadline        text,
    assessment_deadline text,
    response_deadline   text,
    sla_warnings        integer NOT NULL,
    sla_breaches        integer NOT NULL,
    outcome             text,
    contested           boolean NOT NULL,
    reviewed            boolean NOT NULL,
    recurring           boolean,
    root_cause_category text,
    surveyed            boolean NOT NULL,
    csat                integer,
    ces                 integer,
    nps                 integer,
    -- grants by kind: parallel arrays, NULL without any
    compensation_kinds   text[],
    compensation_counts  integer[],
    compensation_amounts numeric[]
) WITH (fillfactor = 90);  -- an open complaint's row is rewritten in place (HOT)
CREATE INDEX report_complaints_received ON report_complaints (received_at);
-- What the durations, the backlog's shape and the compensations read of a
-- period, beside its receipt times: index-only scans, not the rows.
CREATE INDEX report_complaints_durations ON report_complaints (received_at)
    INCLUDE (ack_us, response_us, closure_us);
CREATE INDEX report_complaints_shape ON report_complaints (received_at) INCLUDE (phase, root_cause_category);
CREATE INDEX report_complaints_compensated ON report_complaints (received_at)
    INCLUDE (compensation_kinds, compensation_counts, compensation_amounts)
    WHERE compensation_kinds IS NOT NULL;
-- recurrence of a root cause around its action's completion
CREATE INDEX report_complaints_root_cause ON report_complaints (root_cause_category, received_at)
    WHERE root_cause_category IS NOT NULL;

-- Every journal id up to the watermark has been read, but those in report_gaps:
-- ids a transaction may still commit (a sequence hands ids out before
-- commit). A gap goes once its row is read, or once every transaction that
-- could have held it has ended (open_until: the xid horizon when it was seen).
CREATE TABLE report_state (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    watermark    bigint NOT NULL DEFAULT 0,
    refreshed_at timestamptz
);
INSERT INTO report_state DEFAULT VALUES;
CREATE TABLE report_gaps (
    id         bigint PRIMARY KEY,
    open_until xid8 NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now()
);

-- Every complaint's row of report_complaints, computed from the register
-- (the same columns in the same order): read for the few complaints asked.
CREATE VIEW report_complaint_source AS
    SELECT c.reference, c.received_at, c.phase, c.product, c.category, c.channel, c.priority, c.handler,
           c.customer_id,
           (extract(epoch FROM c.acknowledged_at - c.received_at) * 1000000)::bigint AS ack_us,
           (extract(epoch FROM c.responded_at - c.acknowledged_at) * 1000000)::bigint AS response_us,
           (extract(epoch FROM c.closed_at - c.received_at) * 1000000)::bigint AS closure_us,
           CASE WHEN c.ack_deadline_met THEN 'met'
                WHEN NOT c.ack_deadline_met OR (c.phase <> 'closed' AND j.ack_breached) THEN 'missed'
           END AS ack_deadline,
           CASE WHEN c.assessment_deadline_met THEN 'met'
                WHEN NOT c.assessment_deadline_met OR (c.phase <> 'closed' AND j.assessment_breached) THEN 'missed'
           END AS assessment_deadline,
           CASE WHEN c.response_deadline_met THEN 'met'
                WHEN NOT c.response_deadline_met OR (c.phase <> 'closed' AND j.response_breached) THEN 'missed'
           END AS response_deadline,
           coalesce(j.warnings, 0)::integer AS sla_warnings, coalesce(j.breaches, 0)::integer AS sla_breaches,
           c.outcome, c.customer_verdict IS NOT DISTINCT FROM 'contested' AS contested,
           coalesce(j.reviewed, false) AS reviewed, c.recurring, c.root_cause_category,
           coalesce(j.surveyed, false) OR s.complaint_reference IS NOT NULL AS surveyed,
           s.csat, s.ces, s.nps,
           g.kinds AS compensation_kinds, g.counts AS compensation_counts, g.amounts AS compensation_amounts
      FROM complaints c
      LEFT JOIN surveys s ON s.complaint_reference = c.reference
      LEFT JOIN LATERAL (
           SELECT count(*) FILTER (WHERE event LIKE '%\_deadline\_warning') AS warnings,
                  count(*) FILTER (WHERE event LIKE '%\_deadline\_breached') AS breaches,
                  bool_or(event = 'acknowledgement_deadline_breached') AS ack_breached,
                  bool_or(event = 'assessment_deadline_breached') AS assessment_breached,
                  bool_or(event = 'response_deadline_breached') AS response_breached,
                  bool_or(event = 'review_responded') AS reviewed,
                  bool_or(event = 'survey_emailed') AS surveyed
             FROM journal WHERE complaint_reference = c.reference) j ON true
      LEFT JOIN LATERAL (
           SELECT array_agg(kind ORDER BY kind) AS kinds, array_agg(n ORDER BY kind) AS counts,
                  array_agg(amount ORDER BY kind) AS amounts
             FROM (SELECT details->>'kind' AS kind, count(*)::integer AS n, sum((details->>'amount')::numeric) AS amount
                     FROM journal WHERE complaint_reference = c.reference AND event = 'compensation_granted'
                    GROUP BY 1) k) g ON true;

-- The complaints as reports read them: report_complaints, but the complaints
-- with journal entries it has not read, which are computed afresh.
CREATE VIEW report_cohort AS
    WITH unread AS MATERIALIZED (
        SELECT complaint_reference AS reference FROM journal WHERE id > (SELECT watermark FROM report_state)
        UNION
        SELECT j.complaint_reference FROM report_gaps g JOIN journal j ON j.id = g.id
    )
    -- NOT IN: a hashed subplan of the few unread, whatever the planner guesses of them
    SELECT r.* FROM report_complaints r WHERE r.reference NOT IN (SELECT reference FROM unread)
    UNION ALL
    SELECT s.* FROM report_complaint_source s WHERE s.reference IN (SELECT reference FROM unread);
