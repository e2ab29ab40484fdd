-- Reporting over the register (KPIs, quality report) and tracking of
-- corrective and improvement actions.

-- The three durations the indicators use, computed once when a row is written
-- rather than at every report over a year of complaints.
ALTER TABLE complaints
    ADD COLUMN ack_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM acknowledged_at - received_at)::double precision) STORED,
    ADD COLUMN response_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM responded_at - acknowledged_at)::double precision) STORED,
    ADD COLUMN closure_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM closed_at - received_at)::double precision) STORED;

-- Everything a period's indicators read from a complaint, beside its receipt
-- time: a year's report is an index-only scan of this narrow index instead of
-- a read of the wide rows (descriptions, addresses, assessments).
CREATE INDEX complaints_report ON complaints (received_at) INCLUDE (
    reference, phase, closed_at, ack_seconds, response_seconds, closure_seconds,
    ack_deadline_met, assessment_deadline_met, response_deadline_met,
    outcome, customer_verdict, recurring, root_cause_category,
    product, category, channel, priority, handler, customer_id
);

-- Recurrence of a root cause around the completion of its action.
CREATE INDEX complaints_root_cause ON complaints (root_cause_category, received_at)
    WHERE root_cause_category IS NOT NULL;

-- The only journal events the indicators read (surveys sent, reviews answered):
-- a small partial index, so every other journal write pays nothing for it.
CREATE INDEX journal_report_events ON journal (complaint_reference, event)
    WHERE event IN ('survey_emailed', 'review_responded');

-- Open actions by due date (the daily overdue check, `complaints actions list`).
CREATE INDEX actions_open ON actions (due_on) WHERE status = 'open';
CREATE INDEX actions_done ON actions (done_at) WHERE status = 'done';

-- Every quality report generated: the figures it was rendered from and the
-- documents, so what was shown at a quality review can be read again.
CREATE TABLE quality_reports (
    id           bigserial PRIMARY KEY,
    -- the generating run's key: a retried run stores and emails its report once
    key          text NOT NULL UNIQUE,
    period_from  timestamptz NOT NULL,
    period_to    timestamptz NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now(),
    figures      jsonb NOT NULL,
    html         text NOT NULL,
    text         text NOT NULL,
    recipient    text NOT NULL,
    emailed_at   timestamptz
);
