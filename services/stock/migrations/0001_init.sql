-- Per-store quantities and the movement ledger that explains them:
-- for every (magasin, produit), quantite = SUM(mouvements.delta).
CREATE TABLE stocks (
    magasin_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL DEFAULT 0,
    seuil_alerte INT NOT NULL DEFAULT 5,
    seuil_surstock INT NOT NULL DEFAULT 1000,
    version INT NOT NULL DEFAULT 1,
    modifie_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (magasin_id, produit_id),
    CONSTRAINT ck_stocks_quantite CHECK (quantite >= 0),
    CONSTRAINT ck_stocks_seuils CHECK (seuil_alerte >= 0 AND seuil_surstock > seuil_alerte)
) ENGINE = InnoDB;

CREATE TABLE mouvements (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    magasin_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    delta INT NOT NULL,
    quantite_apres INT NOT NULL,
    type VARCHAR(24) NOT NULL,
    -- What caused it: transfert:12, vente:<uuid>, ajustement:<key>, ...
    reference VARCHAR(100) NOT NULL,
    motif VARCHAR(255) NOT NULL DEFAULT '',
    auteur VARCHAR(64) NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    -- One movement per cause and line: replays cannot apply twice.
    UNIQUE KEY uq_mouvements_cause (type, reference, magasin_id, produit_id),
    KEY ix_mouvements_stock (magasin_id, produit_id, id),
    KEY ix_mouvements_reference (reference),
    CONSTRAINT ck_mouvements_delta CHECK (delta <> 0),
    CONSTRAINT ck_mouvements_type CHECK (type IN ('reception', 'transfert_sortie', 'transfert_entree', 'ajustement',
        'reservation', 'liberation', 'retour'))
) ENGINE = InnoDB;

CREATE TABLE transferts (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cle_idempotence VARCHAR(100) NOT NULL,
    -- SHA-256 of the request, to refuse a key reused for another request.
    empreinte CHAR(64) NOT NULL,
    source_id BIGINT NOT NULL,
    destination_id BIGINT NOT NULL,
    auteur VARCHAR(64) NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_transferts_cle (cle_idempotence)
) ENGINE = InnoDB;

CREATE TABLE transfert_lignes (
    transfert_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL,
    PRIMARY KEY (transfert_id, produit_id),
    CONSTRAINT fk_transfert_lignes FOREIGN KEY (transfert_id) REFERENCES transferts (id),
    CONSTRAINT ck_transfert_lignes_quantite CHECK (quantite > 0)
) ENGINE = InnoDB;
