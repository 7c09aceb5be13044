-- The register and cash session a cart was opened on (checked once with
-- caisse when the cart is created; NULL for carts opened before registers).
ALTER TABLE paniers
    ADD COLUMN caisse_id BIGINT NULL AFTER caissier_id,
    ADD COLUMN session_id BIGINT NULL AFTER caisse_id;
