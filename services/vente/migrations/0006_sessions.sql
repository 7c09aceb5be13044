-- The register and cash session a sale was rung up on (copied from its cart;
-- NULL for sales made before registers existed). A session's totals (its
-- Z-report) are read by session_id.
ALTER TABLE ventes
    ADD COLUMN caisse_id BIGINT NULL AFTER panier_version,
    ADD COLUMN session_id BIGINT NULL AFTER caisse_id,
    ADD KEY ix_ventes_session (session_id, numero);
