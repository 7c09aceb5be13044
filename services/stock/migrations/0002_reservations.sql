-- Sale reservations: one per sale id, all lines or none. A release leaves a
-- tombstone so that a late reservation for a compensated sale is refused.
ALTER TABLE mouvements DROP CONSTRAINT ck_mouvements_type;
ALTER TABLE mouvements ADD CONSTRAINT ck_mouvements_type CHECK (type IN ('reception', 'transfert_sortie',
    'transfert_entree', 'ajustement', 'vente', 'liberation', 'retour'));

CREATE TABLE reservations (
    vente_id CHAR(36) NOT NULL PRIMARY KEY,
    magasin_id BIGINT NOT NULL,
    statut VARCHAR(16) NOT NULL,
    empreinte CHAR(64) NOT NULL,
    auteur VARCHAR(64) NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    liberee_le DATETIME(3) NULL,
    CONSTRAINT ck_reservations_statut CHECK (statut IN ('reservee', 'liberee'))
) ENGINE = InnoDB;

CREATE TABLE reservation_lignes (
    vente_id CHAR(36) NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL,
    PRIMARY KEY (vente_id, produit_id),
    CONSTRAINT fk_reservation_lignes FOREIGN KEY (vente_id) REFERENCES reservations (vente_id),
    CONSTRAINT ck_reservation_lignes_quantite CHECK (quantite > 0)
) ENGINE = InnoDB;
