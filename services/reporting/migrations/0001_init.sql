-- reporting's read model, built only from the producers' events. Each event
-- is applied in the transaction that moves its producer's cursor, so an event
-- delivered twice changes nothing. Days are the stores' calendar days
-- (America/Toronto).
CREATE TABLE curseurs (
    producteur VARCHAR(16) NOT NULL PRIMARY KEY,
    -- The last event id applied: the next one must be dernier_id + 1.
    dernier_id BIGINT NOT NULL DEFAULT 0,
    -- When that event happened at its producer.
    survenu_le DATETIME(3) NULL,
    modifie_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    CONSTRAINT ck_curseurs_producteur CHECK (producteur IN ('vente', 'stock', 'produit'))
) ENGINE = InnoDB;
INSERT INTO curseurs (producteur) VALUES ('vente'), ('stock'), ('produit');

-- Sales as sold (what returns and cancellations refer to).
CREATE TABLE ventes (
    vente_id CHAR(36) NOT NULL PRIMARY KEY,
    magasin_id BIGINT NOT NULL,
    jour DATE NOT NULL,
    mode_paiement VARCHAR(8) NOT NULL,
    total DECIMAL(12, 2) NOT NULL,
    CONSTRAINT ck_ventes_paiement CHECK (mode_paiement IN ('especes', 'carte'))
) ENGINE = InnoDB;

CREATE TABLE vente_lignes (
    vente_id CHAR(36) NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL,
    prix_unitaire DECIMAL(12, 2) NOT NULL,
    PRIMARY KEY (vente_id, produit_id)
) ENGINE = InnoDB;

-- Per store, day and payment mode: sales, returns and cancellations
-- (amounts taxes included).
CREATE TABLE ventes_jour (
    magasin_id BIGINT NOT NULL,
    jour DATE NOT NULL,
    mode_paiement VARCHAR(8) NOT NULL,
    nb_ventes INT NOT NULL DEFAULT 0,
    brut DECIMAL(14, 2) NOT NULL DEFAULT 0,
    nb_retours INT NOT NULL DEFAULT 0,
    retours DECIMAL(14, 2) NOT NULL DEFAULT 0,
    nb_annulations INT NOT NULL DEFAULT 0,
    annulations DECIMAL(14, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (magasin_id, jour, mode_paiement),
    KEY ix_ventes_jour_jour (jour)
) ENGINE = InnoDB;

-- Per store, day and product: quantities and amounts (before taxes), net of
-- returns and cancellations on the day they happened.
CREATE TABLE produits_jour (
    magasin_id BIGINT NOT NULL,
    jour DATE NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL DEFAULT 0,
    montant DECIMAL(14, 2) NOT NULL DEFAULT 0,
    PRIMARY KEY (magasin_id, jour, produit_id),
    KEY ix_produits_jour_jour (jour, produit_id)
) ENGINE = InnoDB;

CREATE TABLE produits (
    produit_id BIGINT NOT NULL PRIMARY KEY,
    nom VARCHAR(200) NOT NULL,
    actif BOOLEAN NOT NULL
) ENGINE = InnoDB;

CREATE TABLE stocks (
    magasin_id BIGINT NOT NULL,
    produit_id BIGINT NOT NULL,
    quantite INT NOT NULL,
    seuil_alerte INT NOT NULL,
    seuil_surstock INT NOT NULL,
    modifie_le DATETIME(3) NOT NULL,
    PRIMARY KEY (magasin_id, produit_id)
) ENGINE = InnoDB;
