-- The tamper-evident journal (src/journal.rs): every completed sale, return
-- and cancellation, one row written in the transaction that records it
-- (sequence and hashes still NULL). The chainer then gives committed rows,
-- store by store and in id order, the next `sequence` of their store, the
-- `precedente` hash (the previous entry's `empreinte`, 64 zeros for the
-- first) and their own `empreinte` (SHA-256 of the canonical encoding of
-- magasin_id, sequence, type, reference, charge, precedente). Chained rows
-- are never updated again; GET /api/ventes/journal/verification recomputes
-- the chain and names the first entry that does not hold.
CREATE TABLE journal (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    magasin_id BIGINT NOT NULL,
    -- 1, 2, 3… per store once chained; NULL until then.
    sequence BIGINT NULL,
    -- vente, retour, annulation
    type VARCHAR(12) NOT NULL,
    -- The sale's id (vente, annulation) or the return's id (retour).
    reference VARCHAR(64) NOT NULL,
    -- The canonical payload (JSON, fixed field order), exactly as hashed.
    charge MEDIUMTEXT NOT NULL,
    precedente CHAR(64) NULL,
    empreinte CHAR(64) NULL,
    cree_le DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    chainee_le DATETIME(3) NULL,
    UNIQUE KEY uq_journal_sequence (magasin_id, sequence),
    -- One entry per fact: a sale is completed, a return or a cancellation recorded, once.
    UNIQUE KEY uq_journal_fait (type, reference),
    KEY ix_journal_a_chainer (sequence, id),
    CONSTRAINT ck_journal_type CHECK (type IN ('vente', 'retour', 'annulation')),
    CONSTRAINT ck_journal_chainee CHECK ((sequence IS NULL) = (empreinte IS NULL) AND (sequence IS NULL) = (precedente IS NULL))
) ENGINE = InnoDB;
