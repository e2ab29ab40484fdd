-- The knowledge base: articles written in the console, every change kept as
-- a version, suggested on a complaint's page by French full text over the
-- article (a generated column, indexed), and the public ones on the FAQ.
CREATE TABLE articles (
    id          bigserial PRIMARY KEY,
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    problem     text NOT NULL CHECK (length(problem) BETWEEN 1 AND 5000),
    cause       text NOT NULL DEFAULT '' CHECK (length(cause) <= 5000),
    answer      text NOT NULL CHECK (length(answer) BETWEEN 1 AND 10000),
    product     text NOT NULL DEFAULT '' CHECK (length(product) <= 200),
    category    text NOT NULL DEFAULT '' CHECK (length(category) <= 100),
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    public      boolean NOT NULL DEFAULT false,
    version     integer NOT NULL DEFAULT 1,
    author      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    search_document tsvector GENERATED ALWAYS AS (
        to_tsvector('french'::regconfig, title || ' ' || problem || ' ' || cause || ' ' || product || ' ' || category)
    ) STORED
);
CREATE INDEX articles_search ON articles USING gin (search_document);

-- Every version of an article as it was saved, with who saved it and when.
CREATE TABLE article_versions (
    article_id  bigint NOT NULL REFERENCES articles (id),
    version     integer NOT NULL,
    title       text NOT NULL,
    problem     text NOT NULL,
    cause       text NOT NULL,
    answer      text NOT NULL,
    product     text NOT NULL,
    category    text NOT NULL,
    status      text NOT NULL,
    public      boolean NOT NULL,
    changed_by  text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (article_id, version)
);

-- An article's answer used in a command that went through (once per command).
CREATE TABLE complaint_articles (
    complaint_reference text NOT NULL REFERENCES complaints (reference) ON DELETE CASCADE,
    article_id  bigint NOT NULL REFERENCES articles (id),
    command     text NOT NULL,
    command_key text NOT NULL,
    used_by     text NOT NULL,
    used_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_reference, article_id, command_key)
);
CREATE INDEX complaint_articles_article ON complaint_articles (article_id);

-- Self-care: how often the complaint form showed a public article (no
-- personal data, a count), and which articles a complainant had seen
-- before sending their complaint anyway.
CREATE TABLE article_form_views (
    article_id  bigint PRIMARY KEY REFERENCES articles (id),
    shown       bigint NOT NULL DEFAULT 0
);
CREATE TABLE complaint_seen_articles (
    complaint_reference text NOT NULL REFERENCES complaints (reference) ON DELETE CASCADE,
    article_id  bigint NOT NULL REFERENCES articles (id),
    PRIMARY KEY (complaint_reference, article_id)
);
