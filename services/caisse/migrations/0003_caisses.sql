-- Registers (caisses) of the sales stores and the cash sessions opened on
-- them. A register has at most one open session: `ouverte_caisse_id` holds
-- the register's id while the session is open and NULL once closed, and is
-- unique, so the schema itself refuses a second open session.
CREATE TABLE caisses (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    magasin_id BIGINT NOT NULL,
    numero INT NOT NULL,
    nom VARCHAR(60) NOT NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE KEY uq_caisses_numero (magasin_id, numero),
    CONSTRAINT fk_caisses_magasin FOREIGN KEY (magasin_id) REFERENCES magasins (id),
    CONSTRAINT ck_caisses_numero CHECK (numero BETWEEN 1 AND 999)
) ENGINE = InnoDB;

CREATE TABLE sessions_caisse (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    caisse_id BIGINT NOT NULL,
    magasin_id BIGINT NOT NULL,
    caissier_id BIGINT NOT NULL,
    caissier_login VARCHAR(64) NOT NULL,
    statut VARCHAR(8) NOT NULL DEFAULT 'ouverte',
    -- The register's id while open, NULL once closed (unique: one open session per register).
    ouverte_caisse_id BIGINT NULL,
    fond_de_caisse DECIMAL(12, 2) NOT NULL,
    ouverte_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    fermee_le DATETIME(3) NULL,
    fermee_par VARCHAR(64) NULL,
    especes_attendues DECIMAL(12, 2) NULL,
    montant_compte DECIMAL(12, 2) NULL,
    ecart DECIMAL(12, 2) NULL,
    -- The Z-report as printed at closing (JSON), never recomputed.
    rapport_z MEDIUMTEXT NULL,
    UNIQUE KEY uq_sessions_ouverte (ouverte_caisse_id),
    KEY ix_sessions_magasin (magasin_id, id),
    KEY ix_sessions_caisse (caisse_id, id),
    CONSTRAINT fk_sessions_caisse FOREIGN KEY (caisse_id) REFERENCES caisses (id),
    CONSTRAINT ck_sessions_statut CHECK (statut IN ('ouverte', 'fermee')),
    CONSTRAINT ck_sessions_ouverte CHECK ((statut = 'ouverte') = (ouverte_caisse_id IS NOT NULL)
        AND (ouverte_caisse_id IS NULL OR ouverte_caisse_id = caisse_id)),
    CONSTRAINT ck_sessions_fond CHECK (fond_de_caisse BETWEEN 0 AND 10000)
) ENGINE = InnoDB;
