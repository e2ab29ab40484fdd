-- Consumer or professional, as the complainant said at intake (the register's
-- export for the supervisor); unknown for complaints taken in before.
ALTER TABLE complaints
    ADD COLUMN complainant_type text CHECK (complainant_type IN ('consumer', 'professional'));
