-- Reporting over the register (KPIs, quality report) and tracking of
-- corrective and improvement actions.
--
-- A year's report reads hundreds of thousands of complaints: joining each to
-- its surveys, alerts and journal at report time costs seconds. So what the
-- indicators need of those rows is kept on the complaint when they are
-- written (triggers below; their tables stay the evidence), and one narrow
-- covering index holds every column a report reads.

-- The three durations the indicators use, computed once when a row is written.
ALTER TABLE complaints
    ADD COLUMN ack_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM acknowledged_at - received_at)::double precision) STORED,
    ADD COLUMN response_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM responded_at - acknowledged_at)::double precision) STORED,
    ADD COLUMN closure_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM closed_at - received_at)::double precision) STORED;

-- Facts from the complaint's other rows, kept by the triggers below.
ALTER TABLE complaints
    ADD COLUMN survey_sent         boolean NOT NULL DEFAULT false,  -- journal: survey_emailed
    ADD COLUMN reviewed            boolean NOT NULL DEFAULT false,  -- journal: review_responded
    ADD COLUMN csat                smallint,                        -- surveys
    ADD COLUMN ces                 smallint,
    ADD COLUMN nps                 smallint,
    ADD COLUMN sla_warnings        smallint NOT NULL DEFAULT 0,     -- alerts (not actions')
    ADD COLUMN sla_breaches        smallint NOT NULL DEFAULT 0,
    ADD COLUMN ack_breached        boolean NOT NULL DEFAULT false,
    ADD COLUMN assessment_breached boolean NOT NULL DEFAULT false,
    ADD COLUMN response_breached   boolean NOT NULL DEFAULT false;

CREATE FUNCTION report_journal_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE complaints
       SET survey_sent = survey_sent OR NEW.event = 'survey_emailed',
           reviewed = reviewed OR NEW.event = 'review_responded'
     WHERE reference = NEW.complaint_reference;
    RETURN NULL;
END $$;
-- Only those two events call it: every other journal write pays nothing.
CREATE TRIGGER journal_report_fact AFTER INSERT ON journal FOR EACH ROW
    WHEN (NEW.event IN ('survey_emailed', 'review_responded'))
    EXECUTE FUNCTION report_journal_fact();

CREATE FUNCTION report_survey_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE complaints SET csat = NEW.csat, ces = NEW.ces, nps = NEW.nps
     WHERE reference = NEW.complaint_reference;
    RETURN NULL;
END $$;
CREATE TRIGGER surveys_report_fact AFTER INSERT ON surveys FOR EACH ROW
    EXECUTE FUNCTION report_survey_fact();

-- An alert row is inserted once (keyed), so counting inserts counts alerts.
CREATE FUNCTION report_alert_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE complaints
       SET sla_warnings = sla_warnings + (NEW.kind = 'warning')::int,
           sla_breaches = sla_breaches + (NEW.kind = 'breach')::int,
           ack_breached = ack_breached OR (NEW.kind = 'breach' AND NEW.deadline = 'acknowledgement'),
           assessment_breached = assessment_breached OR (NEW.kind = 'breach' AND NEW.deadline = 'assessment'),
           response_breached = response_breached OR (NEW.kind = 'breach' AND NEW.deadline = 'response')
     WHERE reference = NEW.complaint_reference;
    RETURN NULL;
END $$;
CREATE TRIGGER alerts_report_fact AFTER INSERT ON alerts FOR EACH ROW
    WHEN (NEW.deadline <> 'action')
    EXECUTE FUNCTION report_alert_fact();

-- A compensation carries its complaint's receipt time, so the period's
-- compensations by kind are read without a join.
ALTER TABLE compensations ADD COLUMN complaint_received_at timestamptz;
CREATE FUNCTION report_compensation_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.complaint_received_at := (SELECT received_at FROM complaints WHERE reference = NEW.complaint_reference);
    RETURN NEW;
END $$;
CREATE TRIGGER compensations_report_received BEFORE INSERT ON compensations FOR EACH ROW
    EXECUTE FUNCTION report_compensation_received();

-- The register as it stands.
UPDATE complaints c SET survey_sent = true
 WHERE EXISTS (SELECT 1 FROM journal j WHERE j.complaint_reference = c.reference AND j.event = 'survey_emailed');
UPDATE complaints c SET reviewed = true
 WHERE EXISTS (SELECT 1 FROM journal j WHERE j.complaint_reference = c.reference AND j.event = 'review_responded');
UPDATE complaints c SET csat = s.csat, ces = s.ces, nps = s.nps
  FROM surveys s WHERE s.complaint_reference = c.reference;
UPDATE complaints c
   SET sla_warnings = a.warnings, sla_breaches = a.breaches,
       ack_breached = a.ack, assessment_breached = a.assessment, response_breached = a.response
  FROM (SELECT complaint_reference,
               count(*) FILTER (WHERE kind = 'warning') AS warnings,
               count(*) FILTER (WHERE kind = 'breach') AS breaches,
               bool_or(kind = 'breach' AND deadline = 'acknowledgement') AS ack,
               bool_or(kind = 'breach' AND deadline = 'assessment') AS assessment,
               bool_or(kind = 'breach' AND deadline = 'response') AS response
          FROM alerts WHERE deadline <> 'action' GROUP BY complaint_reference) a
 WHERE a.complaint_reference = c.reference;
UPDATE compensations p SET complaint_received_at = c.received_at
  FROM complaints c WHERE c.reference = p.complaint_reference;

-- Everything a period's indicators read from a complaint, beside its receipt
-- time: a year's report is an index-only scan of this index instead of a
-- read of the wide rows (descriptions, addresses, assessments).
-- (closure_seconds IS NULL tells an open complaint.)
CREATE INDEX complaints_report ON complaints (received_at) INCLUDE (
    reference, phase, ack_seconds, response_seconds, closure_seconds,
    ack_deadline_met, assessment_deadline_met, response_deadline_met,
    ack_breached, assessment_breached, response_breached, sla_warnings, sla_breaches,
    outcome, customer_verdict, reviewed, recurring, survey_sent, csat, ces, nps, root_cause_category,
    product, category, channel, priority, handler, customer_id
);
CREATE INDEX compensations_report ON compensations (complaint_received_at) INCLUDE (kind, amount);

-- Recurrence of a root cause around the completion of its action.
CREATE INDEX complaints_root_cause ON complaints (root_cause_category, received_at)
    WHERE root_cause_category IS NOT NULL;

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
