-- Stores, logistics centre and head office; staff accounts.
CREATE TABLE magasins (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    nom VARCHAR(120) NOT NULL,
    type VARCHAR(16) NOT NULL,
    adresse VARCHAR(255) NOT NULL DEFAULT '',
    ville VARCHAR(120) NOT NULL DEFAULT '',
    version INT NOT NULL DEFAULT 1,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    modifie_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_magasins_nom (nom),
    KEY ix_magasins_type (type),
    CONSTRAINT ck_magasins_type CHECK (type IN ('magasin', 'logistique', 'maison_mere'))
) ENGINE = InnoDB;

CREATE TABLE employes (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    login VARCHAR(64) NOT NULL,
    nom VARCHAR(120) NOT NULL,
    role VARCHAR(16) NOT NULL,
    magasin_id BIGINT NULL,
    mot_de_passe_hash VARCHAR(255) NOT NULL,
    actif BOOLEAN NOT NULL DEFAULT TRUE,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_employes_login (login),
    CONSTRAINT fk_employes_magasin FOREIGN KEY (magasin_id) REFERENCES magasins (id),
    CONSTRAINT ck_employes_role CHECK (role IN ('caissier', 'gerant', 'logistique', 'admin')),
    -- Store staff always belong to a store.
    CONSTRAINT ck_employes_portee CHECK (role NOT IN ('caissier', 'gerant') OR magasin_id IS NOT NULL)
) ENGINE = InnoDB;
