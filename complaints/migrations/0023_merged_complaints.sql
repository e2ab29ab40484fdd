-- Duplicate complaints merged (issue 16): the absorbed complaint names the
-- complaint it was merged into (the survivor), which replies quoting it reach
-- and the register's export shows. Set once, by the absorbed run's closing
-- step; a survivor is never itself merged at that moment (the merge refuses).

ALTER TABLE complaints
    ADD COLUMN merged_into text REFERENCES complaints (reference),
    ADD CONSTRAINT complaints_not_merged_into_itself CHECK (merged_into <> reference);
CREATE INDEX complaints_merged_into ON complaints (merged_into) WHERE merged_into IS NOT NULL;
