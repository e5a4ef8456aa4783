-- Mend's two database roles for compose.yaml (run once, when the PostgreSQL
-- volume is created). mend_owner owns the database and its tables and runs
-- the migrations (MIGRATE_DATABASE_URL); mend_app is what web and worker log
-- in as (DATABASE_URL): `mend migrate` grants it reading and writing the
-- data and appending to the audit log, and it owns nothing, so it cannot
-- alter a table or switch off the audit log's triggers. The passwords are
-- for trying Mend out: set your own anywhere else.
CREATE ROLE mend_owner LOGIN PASSWORD 'mend-owner';
CREATE ROLE mend_app LOGIN PASSWORD 'mend-app';
CREATE DATABASE mend OWNER mend_owner;
