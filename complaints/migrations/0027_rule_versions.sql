-- Automation rules are edited in place: a rule keeps its id (the key of the
-- actions it did, its page) and counts its versions. An edit is saved only
-- from the version it was made on (optimistic concurrency: the form and the
-- command line carry the version they read), and the version it replaces is
-- kept whole in automation_rule_versions with who replaced it and when, so a
-- rule's past conditions and actions stay readable. The dispatcher reads the
-- rules when it plans a step (activities.events.plan_events), so an edit
-- applies from the next steps it plans; the steps already planned keep the
-- actions in their plan (the dispatcher's history).

ALTER TABLE automation_rules
    ADD COLUMN version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN updated_at timestamptz;

CREATE TABLE automation_rule_versions (
    rule_id     bigint NOT NULL REFERENCES automation_rules (id),
    version     integer NOT NULL,
    name        text NOT NULL,
    event       text NOT NULL,
    conditions  jsonb NOT NULL,
    actions     jsonb NOT NULL,
    replaced_by text NOT NULL,            -- the operator whose edit replaced it (`cli` from the command line)
    replaced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, version)
);
