-- vente's first outbox (uuid event ids, untyped payloads) is kept as
-- `outbox_v1` for the record; events now go through the shared outbox
-- (next migration: services/common/migrations/outbox.sql), whose ids are
-- dense per producer and served by GET /api/ventes/evenements.
RENAME TABLE outbox TO outbox_v1;
