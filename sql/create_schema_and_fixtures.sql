-- Creates the messages table and a few first messages. Run it as dockerworkshop:
--   psql -U dockerworkshop -f sql/create_schema_and_fixtures.sql dockerworkshop
-- Safe to run again: the table is kept, and no fixture is added twice.
\set ON_ERROR_STOP on

CREATE TABLE IF NOT EXISTS messages (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content    text NOT NULL CHECK (btrim(content) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- ORDER BY: without it, PostgreSQL (17, for one) may insert them in any order.
INSERT INTO messages (content)
SELECT fixture.content
FROM (VALUES
    (1, 'Welcome to the Docker workshop!'),
    (2, 'This message was stored by PostgreSQL.'),
    (3, 'POST your own with: curl -XPOST http://localhost:8080 -d "Hello world"')
) AS fixture (position, content)
WHERE NOT EXISTS (SELECT FROM messages WHERE messages.content = fixture.content)
ORDER BY fixture.position;
