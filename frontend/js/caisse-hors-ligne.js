// The register's offline mode: a local cart (panier's shape, priced from the
// catalogue cached in IndexedDB), the "hors ligne" banner, the refusals met
// at sync, and the way back online (local cart finished first, then the
// queue is synced in order). Queue and sync rules: hors-ligne.js.

import { annoncer } from "./api.js";
import { argent, cents, decimal, el } from "./format.js";
import * as horsLigne from "./hors-ligne.js";

const $ = (id) => document.getElementById(id);

/** `etat` is the register's state; `afficherPanier`/`chargerPanier` its cart view and loader. */
export function modeHorsLigne(etat, afficherPanier, chargerPanier) {
  function panierLocal(lignes) {
    const sousTotal = lignes.reduce((t, l) => t + cents(l.total_ligne), 0);
    return { id: "hors ligne", lignes, sous_total: decimal(sousTotal), nombre_articles: lignes.reduce((t, l) => t + l.quantite, 0) };
  }

  function modifierLocal(produit, produitId, quantite) {
    const lignes = (etat.panier ? etat.panier.lignes : []).filter((l) => l.produit_id !== produitId || quantite > 0);
    const l = lignes.find((x) => x.produit_id === produitId);
    if (l) {
      l.quantite = quantite;
      l.total_ligne = decimal(cents(l.prix_unitaire) * quantite);
    } else if (quantite > 0 && produit) {
      lignes.push({ produit_id: produit.id, nom: produit.nom, code_barres: produit.code_barres, prix_unitaire: produit.prix, quantite, total_ligne: decimal(cents(produit.prix) * quantite), actif: true });
    }
    etat.panier = panierLocal(lignes);
  }

  function passerHorsLigne() {
    if (!etat.horsLigne) {
      etat.horsLigne = true;
      etat.panier = panierLocal([]);
      afficherPanier();
    }
    bandeau();
  }

  function bandeau() {
    const n = horsLigne.file().length;
    const b = $("bandeau-hors-ligne");
    b.hidden = !etat.horsLigne && n === 0;
    b.textContent = etat.horsLigne
      ? `Hors ligne — ${n} vente(s) en attente. La caisse vend avec le dernier catalogue chargé ; les ventes seront envoyées au retour du réseau.`
      : `Synchronisation — ${n} vente(s) en attente d’envoi.`;
    document.body.dataset.enAttente = String(n);
    const refus = horsLigne.refus();
    $("refus-hors-ligne").hidden = refus.length === 0;
    $("refus-liste").replaceChildren(...refus.map((r) => el("li", {}, `Vente de ${argent(r.total)} (${new Date(r.vendu_le).toLocaleTimeString("fr-CA")}) : ${r.motif}`)));
  }

  /** Back online: the local cart must be empty (finish the sale first), then sync the queue. */
  async function retourEnLigne() {
    try {
      const r = await fetch("/health", { cache: "no-store" });
      if (!r.ok) return;
    } catch (_) {
      return;
    }
    if (etat.horsLigne && etat.panier && etat.panier.lignes.length > 0) return;
    if (horsLigne.file().length) {
      const r = await horsLigne.synchroniser();
      if (r.envoyees) annoncer(`${r.envoyees} vente(s) hors ligne enregistrée(s).`);
      if (horsLigne.file().length === 0) $("etat-encaissement").textContent = "";
    }
    if (etat.horsLigne && horsLigne.file().length === 0) {
      etat.horsLigne = false;
      await chargerPanier();
    }
    bandeau();
  }


  return { panierLocal, modifierLocal, passerHorsLigne, bandeau, retourEnLigne };
}
