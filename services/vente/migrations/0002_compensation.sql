-- `compensation`: recovery has decided to undo a pending sale; the saga can
-- no longer complete it, and recovery retries the release until it holds.
ALTER TABLE ventes DROP CONSTRAINT ck_ventes_statut;
ALTER TABLE ventes ADD CONSTRAINT ck_ventes_statut CHECK (statut IN ('en_cours', 'compensation', 'terminee',
    'rejetee', 'annulation', 'annulee'));
