-- Reporting over the register (KPIs, quality report) and tracking of
-- corrective and improvement actions.
--
-- A year's report reads hundreds of thousands of complaints. So the columns a
-- report reads sit in one covering index beside the receipt time (an
-- index-only scan instead of the wide rows), and the surveys, alerts,
-- compensations and journal events it reads carry their complaint's receipt
-- time, set when they are inserted: a period's are read from their own index,
-- without joining every complaint. No complaint row is written for reporting.

-- The three durations the indicators use, computed once when a row is written.
ALTER TABLE complaints
    ADD COLUMN ack_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM acknowledged_at - received_at)::double precision) STORED,
    ADD COLUMN response_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM responded_at - acknowledged_at)::double precision) STORED,
    ADD COLUMN closure_seconds double precision
        GENERATED ALWAYS AS (extract(epoch FROM closed_at - received_at)::double precision) STORED;

-- (closure_seconds IS NULL tells an open complaint.) Same key as
-- complaints_received_at, which it supersedes for every query (see below).
CREATE INDEX complaints_report ON complaints (received_at) INCLUDE (
    reference, phase, ack_seconds, response_seconds, closure_seconds,
    ack_deadline_met, assessment_deadline_met, response_deadline_met,
    outcome, customer_verdict, recurring, root_cause_category,
    product, category, channel, priority, handler, customer_id
);
-- One index fewer to write on every change of a complaint: the write path
-- keeps the number of indexes it had.
DROP INDEX complaints_received_at;

-- Recurrence of a root cause around the completion of its action, and the
-- root-cause trend.
CREATE INDEX complaints_root_cause ON complaints (root_cause_category, received_at)
    WHERE root_cause_category IS NOT NULL;

-- The complaint's receipt time on the rows the indicators read beside it.
ALTER TABLE surveys ADD COLUMN complaint_received_at timestamptz;
ALTER TABLE alerts ADD COLUMN complaint_received_at timestamptz;
ALTER TABLE compensations ADD COLUMN complaint_received_at timestamptz;

CREATE FUNCTION report_complaint_received_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.complaint_received_at := (SELECT received_at FROM complaints WHERE reference = NEW.complaint_reference);
    RETURN NEW;
END $$;
CREATE TRIGGER surveys_received_at BEFORE INSERT ON surveys FOR EACH ROW
    EXECUTE FUNCTION report_complaint_received_at();
CREATE TRIGGER alerts_received_at BEFORE INSERT ON alerts FOR EACH ROW
    EXECUTE FUNCTION report_complaint_received_at();
CREATE TRIGGER compensations_received_at BEFORE INSERT ON compensations FOR EACH ROW
    EXECUTE FUNCTION report_complaint_received_at();

-- The journal events the indicators count (surveys sent, reviews answered),
-- beside the journal: the journal itself stays as written.
CREATE TABLE report_events (
    complaint_reference   text NOT NULL REFERENCES complaints (reference),
    event                 text NOT NULL,
    complaint_received_at timestamptz NOT NULL,
    PRIMARY KEY (complaint_reference, event)
);
CREATE FUNCTION report_journal_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_events (complaint_reference, event, complaint_received_at)
    SELECT NEW.complaint_reference, NEW.event, received_at FROM complaints WHERE reference = NEW.complaint_reference
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
-- Only those two events call it: every other journal write pays nothing.
CREATE TRIGGER journal_report_event AFTER INSERT ON journal FOR EACH ROW
    WHEN (NEW.event IN ('survey_emailed', 'review_responded'))
    EXECUTE FUNCTION report_journal_event();

-- The register as it stands.
UPDATE surveys s SET complaint_received_at = c.received_at FROM complaints c WHERE c.reference = s.complaint_reference;
UPDATE alerts a SET complaint_received_at = c.received_at FROM complaints c WHERE c.reference = a.complaint_reference;
UPDATE compensations p SET complaint_received_at = c.received_at
  FROM complaints c WHERE c.reference = p.complaint_reference;
INSERT INTO report_events (complaint_reference, event, complaint_received_at)
SELECT DISTINCT j.complaint_reference, j.event, c.received_at
  FROM journal j JOIN complaints c ON c.reference = j.complaint_reference
 WHERE j.event IN ('survey_emailed', 'review_responded');

CREATE INDEX surveys_report ON surveys (complaint_received_at) INCLUDE (complaint_reference, csat, ces, nps);
CREATE INDEX alerts_report ON alerts (complaint_received_at) INCLUDE (complaint_reference, deadline, kind)
    WHERE deadline <> 'action';
CREATE INDEX compensations_report ON compensations (complaint_received_at) INCLUDE (complaint_reference, kind, amount);
CREATE INDEX report_events_received ON report_events (complaint_received_at) INCLUDE (event);

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
