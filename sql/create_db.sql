-- Creates the workshop's role and database. Run it as the postgres superuser:
--   psql -U postgres -f sql/create_db.sql postgres
-- Safe to run again: it changes nothing that is already right.
\set ON_ERROR_STOP on

-- server.py's driver (py-postgresql) can log in with md5 but not with SCRAM,
-- PostgreSQL's default since 14. Store this role's password as an md5 hash; the
-- server's pg_hba.conf must also say md5 for the connections server.py makes.
SET password_encryption = 'md5';

SELECT 'CREATE ROLE dockerworkshop'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dockerworkshop')\gexec
ALTER ROLE dockerworkshop WITH LOGIN PASSWORD 'dockerworkshop';

SELECT 'CREATE DATABASE dockerworkshop OWNER dockerworkshop'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'dockerworkshop')\gexec
