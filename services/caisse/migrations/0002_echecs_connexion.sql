-- Failed logins in a row, per login (known or not, so a locked answer says
-- nothing about whether the account exists). Every caisse replica reads the
-- same rows: a lock holds whichever replica the next attempt reaches.
CREATE TABLE echecs_connexion (
    login VARCHAR(64) NOT NULL PRIMARY KEY,
    echecs INT NOT NULL,
    dernier_echec DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    bloque_jusqua DATETIME(3) NULL
) ENGINE = InnoDB;
