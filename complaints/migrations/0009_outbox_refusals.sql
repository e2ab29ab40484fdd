-- A message the receiving side refused for good (a 5xx reply to its
-- recipient, its sender or its content) is kept as refused: never sent again,
-- and visible to operations with the server's reply (last_error).
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'refused'));
ALTER TABLE outbox
    ADD COLUMN refused_at   timestamptz,
    ADD COLUMN refusal_code integer;
