-- Sales and the saga state that makes them crash-safe, returns, and the
-- transactional outbox of their events.
CREATE TABLE ventes (
    id CHAR(36) NOT NULL PRIMARY KEY,
    -- Receipt number, also the list cursor.
    numero BIGINT NOT NULL AUTO_INCREMENT,
    cle_idempotence VARCHAR(100) NOT NULL,
    empreinte CHAR(64) NOT NULL,
    magasin_id BIGINT NOT NULL,
    caissier_id BIGINT NOT NULL,
    caissier_login VARCHAR(64) NOT NULL,
    panier_id BIGINT NOT NULL,
    -- Set while a sale holds its cart (pending or completed): one per cart.
    panier_verrou BIGINT NULL,
    -- en_cours, terminee, rejetee, annulation, annulee
    statut VARCHAR(16) NOT NULL,
    sous_total DECIMAL(12, 2) NULL,
    tps DECIMAL(12, 2) NULL,
    tvq DECIMAL(12, 2) NULL,
    total DECIMAL(12, 2) NULL,
    mode_paiement VARCHAR(8) NOT NULL,
    montant_recu DECIMAL(12, 2) NULL,
    -- The stored answer of a rejected sale, replayed for its key.
    reponse_statut INT NULL,
    reponse TEXT NULL,
    panier_ferme BOOLEAN NOT NULL DEFAULT FALSE,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    terminee_le DATETIME(3) NULL,
    annulee_le DATETIME(3) NULL,
    annulee_par VARCHAR(64) NULL,
    -- Last time the recovery loop claimed this row.
    tentative_le DATETIME(3) NULL,
    UNIQUE KEY uq_ventes_numero (numero),
    UNIQUE KEY uq_ventes_cle (cle_idempotence),
    UNIQUE KEY uq_ventes_panier (panier_verrou),
    KEY ix_ventes_magasin (magasin_id, numero),
    KEY ix_ventes_statut (statut, cree_le),
    CONSTRAINT ck_ventes_statut CHECK (statut IN ('en_cours', 'terminee', 'rejetee', 'annulation', 'annulee')),
    CONSTRAINT ck_ventes_paiement CHECK (mode_paiement IN ('especes', 'carte'))
) ENGINE = InnoDB;

CREATE TABLE vente_lignes (
    vente_id CHAR(36) NOT NULL,
    produit_id BIGINT NOT NULL,
    nom VARCHAR(200) NOT NULL,
    code_barres VARCHAR(13) NULL,
    prix_unitaire DECIMAL(12, 2) NOT NULL,
    quantite INT NOT NULL,
    total_ligne DECIMAL(12, 2) NOT NULL,
    quantite_retournee INT NOT NULL DEFAULT 0,
    PRIMARY KEY (vente_id, produit_id),
    CONSTRAINT fk_vente_lignes FOREIGN KEY (vente_id) REFERENCES ventes (id) ON DELETE CASCADE,
    CONSTRAINT ck_vente_lignes_quantites CHECK (quantite > 0 AND quantite_retournee BETWEEN 0 AND quantite)
) ENGINE = InnoDB;

CREATE TABLE retours (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vente_id CHAR(36) NOT NULL,
    cle_idempotence VARCHAR(100) NOT NULL,
    empreinte CHAR(64) NOT NULL,
    statut VARCHAR(10) NOT NULL,
    sous_total DECIMAL(12, 2) NOT NULL,
    tps DECIMAL(12, 2) NOT NULL,
    tvq DECIMAL(12, 2) NOT NULL,
    total DECIMAL(12, 2) NOT NULL,
    par VARCHAR(64) NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    termine_le DATETIME(3) NULL,
    tentative_le DATETIME(3) NULL,
    UNIQUE KEY uq_retours_cle (vente_id, cle_idempotence),
    KEY ix_retours_statut (statut, cree_le),
    CONSTRAINT fk_retours_vente FOREIGN KEY (vente_id) REFERENCES ventes (id),
    CONSTRAINT ck_retours_statut CHECK (statut IN ('en_cours', 'termine'))
) ENGINE = InnoDB;

CREATE TABLE retour_lignes (
    retour_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL,
    PRIMARY KEY (retour_id, produit_id),
    CONSTRAINT fk_retour_lignes FOREIGN KEY (retour_id) REFERENCES retours (id),
    CONSTRAINT ck_retour_lignes_quantite CHECK (quantite > 0)
) ENGINE = InnoDB;

CREATE TABLE outbox (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    evenement_id CHAR(36) NOT NULL,
    type VARCHAR(32) NOT NULL,
    vente_id CHAR(36) NOT NULL,
    charge TEXT NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    publie_le DATETIME(3) NULL,
    UNIQUE KEY uq_outbox_evenement (evenement_id),
    KEY ix_outbox_a_publier (publie_le, id)
) ENGINE = InnoDB;
