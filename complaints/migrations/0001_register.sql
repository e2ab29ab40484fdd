-- The complaint register: complaints, their documents, the journal of every
-- step, the outbox of every email, and SLA alerts.

CREATE TABLE reference_counters (
    prefix     text NOT NULL,
    year       integer NOT NULL,
    last_value integer NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE complaints (
    reference           text PRIMARY KEY,
    -- identifies this row among all registers: tells its workflow run from a
    -- run of another register that used the same reference
    intake_id           uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    received_at         timestamptz NOT NULL,
    channel             text NOT NULL,
    complainant_name    text NOT NULL,
    complainant_email   text,
    complainant_phone   text,
    complainant_address text,
    customer_id         text,
    subject             text NOT NULL,
    description         text NOT NULL,
    product             text,
    persons_concerned   text[] NOT NULL DEFAULT '{}',
    desired_resolution  text,
    idempotency_key     text UNIQUE,
    external_reference  text,
    phase               text NOT NULL DEFAULT 'received',
    sla_status          text NOT NULL DEFAULT 'on_track',
    ack_due_at          timestamptz,
    response_due_at     timestamptz,
    workflow_started_at timestamptz,
    intake_recorded_at  timestamptz,
    acknowledged_at     timestamptz,
    ack_method          text CHECK (ack_method IN ('email', 'post')),
    assessed_at         timestamptz,
    responded_at        timestamptz,
    closed_at           timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, external_reference)
);
CREATE INDEX complaints_received_at ON complaints (received_at);
CREATE INDEX complaints_email ON complaints (lower(complainant_email));
CREATE INDEX complaints_customer ON complaints (customer_id);
CREATE INDEX complaints_unstarted ON complaints (created_at) WHERE workflow_started_at IS NULL;

CREATE TABLE documents (
    id                  bigserial PRIMARY KEY,
    complaint_reference text NOT NULL REFERENCES complaints (reference),
    filename            text NOT NULL,
    content_type        text NOT NULL,
    size_bytes          integer NOT NULL,
    sha256              text NOT NULL,
    content             bytea NOT NULL,
    source              text NOT NULL,
    added_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (complaint_reference, sha256, filename)
);

CREATE TABLE journal (
    id                  bigserial PRIMARY KEY,
    complaint_reference text NOT NULL REFERENCES complaints (reference),
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    actor               text NOT NULL,
    event               text NOT NULL,
    details             jsonb NOT NULL DEFAULT '{}',
    -- the step's idempotency key: a retried activity journals its step once
    step_key            text UNIQUE
);
CREATE INDEX journal_complaint ON journal (complaint_reference, occurred_at);

-- Append-only: the journal is evidence of what happened.
CREATE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only';
END $$;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_is_append_only();

CREATE TABLE outbox (
    key                 text PRIMARY KEY,
    complaint_reference text REFERENCES complaints (reference),
    kind                text NOT NULL,
    recipient           text NOT NULL,
    subject             text NOT NULL,
    body                text NOT NULL,
    message_id          text NOT NULL,
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);

CREATE TABLE alerts (
    key                 text PRIMARY KEY,
    complaint_reference text NOT NULL REFERENCES complaints (reference),
    deadline            text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('warning', 'breach')),
    due_at              timestamptz NOT NULL,
    raised_at           timestamptz NOT NULL DEFAULT now()
);
