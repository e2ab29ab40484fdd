-- What was done to complete a corrective or improvement action, and who
-- confirmed it (the actions board of the console, `complaints actions done`).
-- An action completed before this migration keeps both NULL.

ALTER TABLE actions
    ADD COLUMN done_note text,
    ADD COLUMN done_by   text;
