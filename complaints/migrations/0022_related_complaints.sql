-- Related complaints (issue 16): two complaints of the register about linked
-- matters, linked without merging, each shown on the other's page. One row a
-- pair, the smaller reference first, so that a link made from either side is
-- the same link; each link journaled on both complaints.

CREATE TABLE related_complaints (
    first_reference  text NOT NULL REFERENCES complaints (reference),
    second_reference text NOT NULL REFERENCES complaints (reference),
    linked_by        text NOT NULL,
    note             text,
    linked_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (first_reference, second_reference),
    CHECK (first_reference < second_reference)
);
CREATE INDEX related_complaints_second ON related_complaints (second_reference);
