-- The lifecycle after intake: assessment, handling, response, satisfaction, closure.

ALTER TABLE complaints
    ADD COLUMN regulatory_due_at       timestamptz,
    ADD COLUMN assessment_due_at       timestamptz,
    ADD COLUMN escalation_level        integer NOT NULL DEFAULT 0,
    ADD COLUMN priority                text CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    ADD COLUMN severity                integer,
    ADD COLUMN complexity              integer,
    ADD COLUMN recurring               boolean,
    ADD COLUMN category                text,
    ADD COLUMN assessment              jsonb,
    ADD COLUMN handler                 text,
    ADD COLUMN team                    text,
    ADD COLUMN outcome                 text CHECK (outcome IN ('accepted', 'partially_accepted', 'rejected')),
    ADD COLUMN customer_verdict        text,
    ADD COLUMN root_cause_category     text,
    ADD COLUMN ack_deadline_met        boolean,
    ADD COLUMN assessment_deadline_met boolean,
    ADD COLUMN response_deadline_met   boolean,
    ADD COLUMN compensation_total      numeric(12, 2);
CREATE INDEX complaints_phase ON complaints (phase);
CREATE INDEX complaints_product ON complaints (product);

-- What the customer may see of the journal (never internal notes).
ALTER TABLE journal ADD COLUMN visible_to_customer boolean NOT NULL DEFAULT false;

ALTER TABLE alerts ADD COLUMN generation integer NOT NULL DEFAULT 0;

CREATE TABLE actions (
    id                  bigserial PRIMARY KEY,
    step_key            text NOT NULL UNIQUE,
    complaint_reference text NOT NULL REFERENCES complaints (reference),
    kind                text NOT NULL CHECK (kind IN ('corrective', 'improvement')),
    description         text NOT NULL,
    owner               text NOT NULL,
    due_on              date NOT NULL,
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    root_cause_category text,
    root_cause_analysis text,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    done_at             timestamptz
);
CREATE INDEX actions_complaint ON actions (complaint_reference);

-- The compensation ledger: one row per granted compensation, keyed so a
-- retried activity grants it once.
CREATE TABLE compensations (
    key                 text PRIMARY KEY,
    complaint_reference text NOT NULL REFERENCES complaints (reference),
    kind                text NOT NULL,
    amount              numeric(12, 2) NOT NULL CHECK (amount >= 0),
    currency            text NOT NULL,
    description         text NOT NULL,
    proposed_by         text NOT NULL,
    approved_by         text,
    granted_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE surveys (
    complaint_reference text PRIMARY KEY REFERENCES complaints (reference),
    csat                integer NOT NULL CHECK (csat BETWEEN 1 AND 5),
    ces                 integer NOT NULL CHECK (ces BETWEEN 1 AND 5),
    nps                 integer NOT NULL CHECK (nps BETWEEN 0 AND 10),
    comment             text,
    answered_at         timestamptz NOT NULL DEFAULT now()
);
