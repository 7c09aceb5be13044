-- Adjustments keyed by their Idempotency-Key, bound to a fingerprint of the
-- request: the same key with another request is refused, and concurrent
-- identical requests meet on the unique key. The ledger refers to an
-- adjustment by its id (`ajustement:<id>`), so every valid key (8 to 100
-- visible ASCII characters) fits. Keys compare exactly (ASCII, binary).
CREATE TABLE ajustements (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cle_idempotence VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    empreinte CHAR(64) NOT NULL,
    type VARCHAR(24) NOT NULL,
    magasin_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    delta INT NOT NULL,
    auteur VARCHAR(64) NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_ajustements_cle (cle_idempotence),
    CONSTRAINT ck_ajustements_type CHECK (type IN ('ajustement', 'reception'))
) ENGINE = InnoDB;

-- Transfer keys compare exactly too (they were case-insensitive).
ALTER TABLE transferts MODIFY cle_idempotence VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
