-- Carts being built at a register. A cart belongs to one magasin and the
-- cashier who opened it; its id is the handle that survives a page reload.
CREATE TABLE paniers (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    magasin_id BIGINT NOT NULL,
    caissier_id BIGINT NOT NULL,
    statut VARCHAR(8) NOT NULL DEFAULT 'ouvert',
    vente_id CHAR(36) NULL,
    version INT NOT NULL DEFAULT 1,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    modifie_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    KEY ix_paniers_caissier (caissier_id, statut, id),
    CONSTRAINT ck_paniers_statut CHECK (statut IN ('ouvert', 'ferme'))
) ENGINE = InnoDB;

CREATE TABLE panier_lignes (
    panier_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL,
    ajoute_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (panier_id, produit_id),
    CONSTRAINT fk_panier_lignes FOREIGN KEY (panier_id) REFERENCES paniers (id),
    CONSTRAINT ck_panier_lignes_quantite CHECK (quantite BETWEEN 1 AND 999)
) ENGINE = InnoDB;
