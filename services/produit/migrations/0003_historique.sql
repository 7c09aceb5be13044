-- Every create, edit and deactivation of a product, with who, when and the
-- fields before and after (the `ProductChanged` payload's shape, as JSON),
-- written in the transaction of the change.
CREATE TABLE historique (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    produit_id BIGINT NOT NULL,
    action VARCHAR(16) NOT NULL,
    par VARCHAR(64) NOT NULL,
    avant TEXT NULL,
    apres TEXT NOT NULL,
    le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    KEY ix_historique_produit (produit_id, id),
    CONSTRAINT ck_historique_action CHECK (action IN ('creation', 'modification', 'desactivation'))
) ENGINE = InnoDB;
