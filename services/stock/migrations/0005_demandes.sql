-- Restocking requests: a store asks the logistics centre for stock
-- (créée → approuvée → expédiée → reçue, or créée → refusée). The shipment
-- is a transfer (`transferts`), its discrepancy at reception a movement of
-- its own (`ecart_reception`, reference `demande:<id>`).
ALTER TABLE mouvements DROP CONSTRAINT ck_mouvements_type;
ALTER TABLE mouvements ADD CONSTRAINT ck_mouvements_type CHECK (type IN ('reception', 'transfert_sortie',
    'transfert_entree', 'ajustement', 'vente', 'liberation', 'retour', 'ecart_reception'));

-- The level a suggested request fills an entry up to (NULL: twice the alert
-- threshold, capped at the overstock threshold).
ALTER TABLE stocks ADD COLUMN niveau_cible INT NULL AFTER seuil_surstock;

CREATE TABLE demandes (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    magasin_id BIGINT NOT NULL,
    statut VARCHAR(16) NOT NULL,
    motif_refus VARCHAR(255) NULL,
    transfert_id BIGINT NULL,
    cree_par VARCHAR(64) NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY ix_demandes_statut (statut, id),
    KEY ix_demandes_magasin (magasin_id, id),
    CONSTRAINT ck_demandes_statut CHECK (statut IN ('creee', 'approuvee', 'refusee', 'expediee', 'recue'))
) ENGINE = InnoDB;

CREATE TABLE demande_lignes (
    demande_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite_demandee INT NOT NULL,
    quantite_approuvee INT NULL,
    quantite_recue INT NULL,
    -- The store while the line is open, NULL once closed (refused, approved
    -- at 0, received): at most one open request per product per store,
    -- whatever runs alongside.
    magasin_ouvert BIGINT NULL,
    PRIMARY KEY (demande_id, produit_id),
    UNIQUE KEY uq_demande_ligne_ouverte (magasin_ouvert, produit_id),
    CONSTRAINT fk_demande_lignes FOREIGN KEY (demande_id) REFERENCES demandes (id),
    CONSTRAINT ck_demande_lignes_quantites CHECK (quantite_demandee > 0
        AND (quantite_approuvee IS NULL OR quantite_approuvee BETWEEN 0 AND quantite_demandee)
        AND (quantite_recue IS NULL OR quantite_recue BETWEEN 0 AND quantite_approuvee))
) ENGINE = InnoDB;

-- Every status change, with who and when (and why, for a refusal or a
-- discrepancy).
CREATE TABLE demande_etapes (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    demande_id BIGINT NOT NULL,
    statut VARCHAR(16) NOT NULL,
    par VARCHAR(64) NOT NULL,
    le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    motif VARCHAR(255) NOT NULL DEFAULT '',
    KEY ix_demande_etapes (demande_id, id),
    CONSTRAINT fk_demande_etapes FOREIGN KEY (demande_id) REFERENCES demandes (id)
) ENGINE = InnoDB;
