-- The operators' console: a password per operator (argon2, keyed by the
-- operator's name, so a revoked and reissued API key keeps the password),
-- server-side sessions (only the token's SHA-256 is kept; sign-out and
-- expiry end the row), and failed sign-ins, counted per account and per
-- address to slow down guessing.

CREATE TABLE operator_credentials (
    operator_name text PRIMARY KEY CHECK (length(operator_name) BETWEEN 1 AND 200),
    password_hash text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE console_sessions (
    token_hash    text PRIMARY KEY,
    operator_name text NOT NULL,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz
);
CREATE INDEX console_sessions_operator ON console_sessions (operator_name) WHERE ended_at IS NULL;

CREATE TABLE console_sign_in_failures (
    id            bigserial PRIMARY KEY,
    operator_name text NOT NULL,
    address       text NOT NULL,
    failed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_sign_in_failures_operator ON console_sign_in_failures (operator_name, failed_at);
CREATE INDEX console_sign_in_failures_address ON console_sign_in_failures (address, failed_at);

-- Who opened a complaint's page in the console, last: "someone else is on it".
CREATE TABLE console_views (
    complaint_reference text NOT NULL REFERENCES complaints (reference),
    operator_name       text NOT NULL,
    seen_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_reference, operator_name)
);

-- The console's search: by reference and email (their own indexes), and by
-- name, email, subject and description in French full text, kept by
-- PostgreSQL itself (a generated column, so an erased or corrected field is
-- searched as it now is) and indexed.
ALTER TABLE complaints ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    to_tsvector('french'::regconfig,
        complainant_name || ' ' || coalesce(complainant_email, '') || ' ' || subject || ' ' || description)
) STORED;
CREATE INDEX complaints_search ON complaints USING gin (search_document);

-- Reply templates: text modules administrators keep, offered in the console's
-- customer-facing forms; {nom}, {reference}, {date_reception} and
-- {date_reponse} are replaced with the complaint's.
CREATE TABLE reply_templates (
    id         bigserial PRIMARY KEY,
    title      text NOT NULL UNIQUE CHECK (length(title) BETWEEN 1 AND 200),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
