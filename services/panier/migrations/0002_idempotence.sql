-- A cart opened with an Idempotency-Key: the same cashier sending the same
-- key again gets the same cart (the gateway may retry the POST on another
-- replica). NULL keys (no header) never collide.
ALTER TABLE paniers
    ADD COLUMN cle_idempotence VARCHAR(100) NULL,
    ADD UNIQUE KEY uq_paniers_cle (caissier_id, cle_idempotence);
