-- Price at scan: a line keeps the name, barcode and price the register
-- showed when the product was scanned (or last re-scanned), so the cart,
-- its total and the sale are what the customer saw, and reading the cart
-- (at the register, at checkout) asks the catalogue nothing. NULL on lines
-- scanned before this migration: those are still priced from the catalogue.
ALTER TABLE panier_lignes
    ADD COLUMN nom VARCHAR(200) NULL,
    ADD COLUMN code_barres VARCHAR(13) NULL,
    ADD COLUMN prix_unitaire DECIMAL(12, 2) NULL;
