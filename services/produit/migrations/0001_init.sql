-- The catalogue. Prices are exact decimals; products that were sold are
-- deactivated, never deleted, so old receipts stay readable.
CREATE TABLE produits (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    nom VARCHAR(200) NOT NULL,
    description VARCHAR(2000) NOT NULL DEFAULT '',
    prix DECIMAL(12, 2) NOT NULL,
    code_barres VARCHAR(13) NULL,
    actif BOOLEAN NOT NULL DEFAULT TRUE,
    version INT NOT NULL DEFAULT 1,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    modifie_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_produits_code_barres (code_barres),
    KEY ix_produits_nom (nom),
    CONSTRAINT ck_produits_prix CHECK (prix >= 0)
) ENGINE = InnoDB;
