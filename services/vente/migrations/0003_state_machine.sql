-- The sale state machine (src/status.rs): `abandonnee` replaces deleting a
-- sale that sold nothing, so every reservation stock ever saw keeps its
-- sale row. The idempotency key is held by `cle_verrou` while it answers
-- for a sale (NULL once abandoned, so the key may be used again); the cart
-- version priced lets recovery close the cart with carry-over; returns
-- record the cash actually handed back.
ALTER TABLE ventes DROP CONSTRAINT ck_ventes_statut;
ALTER TABLE ventes ADD CONSTRAINT ck_ventes_statut CHECK (statut IN ('en_cours', 'compensation', 'terminee',
    'rejetee', 'abandonnee', 'annulation', 'annulee'));
ALTER TABLE ventes ADD COLUMN cle_verrou VARCHAR(100) NULL AFTER cle_idempotence;
UPDATE ventes SET cle_verrou = cle_idempotence;
ALTER TABLE ventes ADD UNIQUE KEY uq_ventes_cle_verrou (cle_verrou);
ALTER TABLE ventes DROP INDEX uq_ventes_cle;
ALTER TABLE ventes ADD KEY ix_ventes_cle (cle_idempotence);
ALTER TABLE ventes ADD COLUMN panier_version INT NULL AFTER panier_verrou;
ALTER TABLE ventes DROP INDEX ix_ventes_statut;
ALTER TABLE ventes ADD KEY ix_ventes_statut (statut, tentative_le, cree_le);

ALTER TABLE retours ADD COLUMN rembourse DECIMAL(12, 2) NULL AFTER total;
UPDATE retours SET rembourse = total;
ALTER TABLE retours MODIFY rembourse DECIMAL(12, 2) NOT NULL;
