-- The transactional outbox (one shape for every producer: this file is
-- services/common/migrations/outbox.sql, and each producer's migrations carry
-- an identical copy, checked by caisse-common's tests).
-- A row is written in the transaction of the change it reports. The relay
-- leader then numbers committed rows (`numero`: the event id, dense and
-- strictly increasing per producer, so a consumer can tell a lost event from
-- a rolled-back one), publishes them to the producer's Redis stream and keeps
-- them for the retention window, served by the producer's feed.
CREATE TABLE outbox (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    numero BIGINT NULL,
    type VARCHAR(40) NOT NULL,
    version SMALLINT NOT NULL,
    -- The aggregate concerned (vente:<uuid>, stock:<magasin>:<produit>, produit:<id>).
    cle VARCHAR(100) NOT NULL,
    charge MEDIUMTEXT NOT NULL,
    survenu_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    publie_le DATETIME(3) NULL,
    UNIQUE KEY uq_outbox_numero (numero),
    KEY ix_outbox_a_publier (publie_le, numero),
    KEY ix_outbox_cle (cle)
) ENGINE = InnoDB;
