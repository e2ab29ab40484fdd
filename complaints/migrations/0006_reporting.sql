-- Reporting over the register (KPIs, quality report) and tracking of
-- corrective and improvement actions.
--
-- A year's report reads hundreds of thousands of complaints. So the columns a
-- report reads of closed complaints sit in one covering index beside the
-- receipt time (an index-only scan instead of the wide rows), and what it
-- needs of the surveys, compensations, journal and SLA alerts is found by
-- receipt time in their own small indexes, without joining every complaint.
-- No complaint row is written for reporting.

-- The closed complaints only: a complaint's entry is written once, when it
-- closes, so its lifecycle's changes while open write no more index than
-- before. The few open ones are read through complaints_phase.
CREATE INDEX complaints_closed_report ON complaints (received_at) INCLUDE (
    reference, acknowledged_at, responded_at, closed_at,
    ack_deadline_met, assessment_deadline_met, response_deadline_met,
    outcome, customer_verdict, recurring, root_cause_category,
    product, category, channel, priority, handler, customer_id
) WHERE phase = 'closed';

-- Recurrence of a root cause around the completion of its action, and the
-- root-cause trend.
CREATE INDEX complaints_root_cause ON complaints (root_cause_category, received_at)
    WHERE root_cause_category IS NOT NULL;

-- Surveys and compensations carry their complaint's receipt time, set when
-- they are inserted: a period's are read from their own index.
ALTER TABLE surveys ADD COLUMN complaint_received_at timestamptz;
ALTER TABLE compensations ADD COLUMN complaint_received_at timestamptz;

CREATE FUNCTION report_complaint_received_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.complaint_received_at := (SELECT received_at FROM complaints WHERE reference = NEW.complaint_reference);
    RETURN NEW;
END $$;
CREATE TRIGGER surveys_received_at BEFORE INSERT ON surveys FOR EACH ROW
    EXECUTE FUNCTION report_complaint_received_at();
CREATE TRIGGER compensations_received_at BEFORE INSERT ON compensations FOR EACH ROW
    EXECUTE FUNCTION report_complaint_received_at();

-- What the indicators count of a complaint's journal and SLA alerts, one row
-- per complaint that has any, kept as those rows are inserted (each is
-- inserted once: its key). The journal and the alerts stay as written.
CREATE TABLE report_facts (
    complaint_reference   text PRIMARY KEY REFERENCES complaints (reference),
    complaint_received_at timestamptz NOT NULL,
    survey_sent           boolean NOT NULL DEFAULT false,  -- journal: survey_emailed
    survey_answered       boolean NOT NULL DEFAULT false,  -- journal: survey_answered
    reviewed              boolean NOT NULL DEFAULT false,  -- journal: review_responded
    review_outcome        text,                            -- the decision the review answer gave
    sla_warnings          integer NOT NULL DEFAULT 0,      -- alerts, but actions'
    sla_breaches          integer NOT NULL DEFAULT 0,
    ack_breached          boolean NOT NULL DEFAULT false,
    assessment_breached   boolean NOT NULL DEFAULT false,
    response_breached     boolean NOT NULL DEFAULT false
) WITH (fillfactor = 80);
-- Only the receipt time is indexed, and pages keep room: a fact changing
-- later updates its row in place (HOT), writing no index.
CREATE INDEX report_facts_received ON report_facts (complaint_received_at);

CREATE FUNCTION report_journal_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the review's answer is journaled in the transaction that records its decision
    INSERT INTO report_facts AS f (complaint_reference, complaint_received_at, survey_sent, survey_answered,
                                   reviewed, review_outcome)
    SELECT reference, received_at, NEW.event = 'survey_emailed', NEW.event = 'survey_answered',
           NEW.event = 'review_responded', CASE WHEN NEW.event = 'review_responded' THEN outcome END
      FROM complaints WHERE reference = NEW.complaint_reference
    ON CONFLICT (complaint_reference) DO UPDATE
       SET survey_sent = f.survey_sent OR excluded.survey_sent,
           survey_answered = f.survey_answered OR excluded.survey_answered,
           reviewed = f.reviewed OR excluded.reviewed,
           review_outcome = coalesce(excluded.review_outcome, f.review_outcome);
    RETURN NULL;
END $$;
-- Only those events call it: every other journal write pays nothing.
CREATE TRIGGER journal_report_fact AFTER INSERT ON journal FOR EACH ROW
    WHEN (NEW.event IN ('survey_emailed', 'survey_answered', 'review_responded'))
    EXECUTE FUNCTION report_journal_fact();

CREATE FUNCTION report_alert_fact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_facts AS f (complaint_reference, complaint_received_at, sla_warnings, sla_breaches,
                                   ack_breached, assessment_breached, response_breached)
    SELECT reference, received_at, (NEW.kind = 'warning')::int, (NEW.kind = 'breach')::int,
           NEW.kind = 'breach' AND NEW.deadline = 'acknowledgement',
           NEW.kind = 'breach' AND NEW.deadline = 'assessment',
           NEW.kind = 'breach' AND NEW.deadline = 'response'
      FROM complaints WHERE reference = NEW.complaint_reference
    ON CONFLICT (complaint_reference) DO UPDATE
       SET sla_warnings = f.sla_warnings + excluded.sla_warnings,
           sla_breaches = f.sla_breaches + excluded.sla_breaches,
           ack_breached = f.ack_breached OR excluded.ack_breached,
           assessment_breached = f.assessment_breached OR excluded.assessment_breached,
           response_breached = f.response_breached OR excluded.response_breached;
    RETURN NULL;
END $$;
CREATE TRIGGER alerts_report_fact AFTER INSERT ON alerts FOR EACH ROW
    WHEN (NEW.deadline <> 'action')
    EXECUTE FUNCTION report_alert_fact();

-- The register as it stands.
UPDATE surveys s SET complaint_received_at = c.received_at FROM complaints c WHERE c.reference = s.complaint_reference;
UPDATE compensations p SET complaint_received_at = c.received_at
  FROM complaints c WHERE c.reference = p.complaint_reference;
INSERT INTO report_facts (complaint_reference, complaint_received_at, survey_sent, survey_answered, reviewed,
                          review_outcome, sla_warnings, sla_breaches, ack_breached, assessment_breached,
                          response_breached)
SELECT c.reference, c.received_at,
       coalesce(j.survey_sent, false), coalesce(j.survey_answered, false), coalesce(j.reviewed, false),
       CASE WHEN j.reviewed THEN c.outcome END,
       coalesce(a.warnings, 0), coalesce(a.breaches, 0),
       coalesce(a.ack, false), coalesce(a.assessment, false), coalesce(a.response, false)
  FROM complaints c
  LEFT JOIN (SELECT complaint_reference, bool_or(event = 'survey_emailed') AS survey_sent,
                    bool_or(event = 'survey_answered') AS survey_answered,
                    bool_or(event = 'review_responded') AS reviewed
               FROM journal WHERE event IN ('survey_emailed', 'survey_answered', 'review_responded')
              GROUP BY complaint_reference) j ON j.complaint_reference = c.reference
  LEFT JOIN (SELECT complaint_reference, count(*) FILTER (WHERE kind = 'warning') AS warnings,
                    count(*) FILTER (WHERE kind = 'breach') AS breaches,
                    bool_or(kind = 'breach' AND deadline = 'acknowledgement') AS ack,
                    bool_or(kind = 'breach' AND deadline = 'assessment') AS assessment,
                    bool_or(kind = 'breach' AND deadline = 'response') AS response
               FROM alerts WHERE deadline <> 'action' GROUP BY complaint_reference) a
    ON a.complaint_reference = c.reference
 WHERE j.complaint_reference IS NOT NULL OR a.complaint_reference IS NOT NULL;

CREATE INDEX surveys_report ON surveys (complaint_received_at) INCLUDE (complaint_reference, csat, ces, nps);
CREATE INDEX compensations_report ON compensations (complaint_received_at) INCLUDE (complaint_reference, kind, amount);

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
