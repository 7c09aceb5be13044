// Checkout (POST /api/ventes). One Idempotency-Key per checkout attempt,
// kept in localStorage with the request body until the attempt has a final
// answer, so a double click, a timeout, a 503 or even a reload retries with
// the SAME key and can never make two sales (vente replays the answer of a
// key it has seen). Final answers: 201 (sold), 409 (stock short: names the
// lines, or cart already paid), 422 (refused). A 503 means nothing was sold:
// the same key may be retried. No answer at all (network, deadline): the
// outcome is unknown, the form stays locked on that attempt until a retry
// gets an answer.

import { api, annoncer, effacerMessage, ErreurApi, signaler } from "./api.js";
import { argent, arrondiEspeces, cents, decimal, nouvelleCle } from "./format.js";

const CLE = "caisse.encaissement";
const $ = (id) => document.getElementById(id);

export class Encaissement {
  constructor({ panier, horsLigne, enregistrerHorsLigne, modificationsFinies, totaux, apresVente, manquants }) {
    this.panier = panier;
    this.horsLigne = horsLigne;
    this.enregistrerHorsLigne = enregistrerHorsLigne;
    this.modificationsFinies = modificationsFinies;
    this.totaux = totaux;
    this.apresVente = apresVente;
    this.apresVenteLocale = (recu) => apresVente(recu, true);
    this.signalerManquants = manquants;
    this.enVol = false;
    this.bouton = $("btn-encaisser");
    this.recu = $("montant-recu");
    this.bouton.addEventListener("click", () => this.encaisser());
    this.recu.addEventListener("input", () => this.rafraichir());
    this.recu.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); this.encaisser(); }
    });
    for (const r of document.querySelectorAll("input[name=mode]")) {
      r.addEventListener("change", () => this.rafraichir());
    }
  }

  mode() {
    return $("mode-carte").checked ? "carte" : "especes";
  }

  choisirMode(mode) {
    if (this.tentative()) return; // locked on a pending attempt
    $(mode === "carte" ? "mode-carte" : "mode-especes").checked = true;
    this.rafraichir();
    if (mode === "especes") { this.recu.focus(); this.recu.select(); }
  }

  /** The attempt waiting for a final answer, if any. */
  tentative() {
    try { return JSON.parse(localStorage.getItem(CLE) || "null"); } catch (_) { return null; }
  }

  rafraichir() {
    const especes = this.mode() === "especes";
    $("bloc-especes").hidden = !especes;
    const total = this.totaux().total;
    const aPayer = arrondiEspeces(total);
    $("a-payer").textContent = argent(aPayer);
    const ecart = aPayer - total;
    $("arrondi").textContent = (ecart > 0 ? "+" : ecart < 0 ? "−" : "") + argent(Math.abs(ecart));
    const recu = cents(this.recu.value);
    const monnaie = $("monnaie");
    if (this.recu.value.trim() === "") monnaie.textContent = "—";
    else if (recu === null || recu < 0) monnaie.textContent = "montant invalide";
    else if (recu < aPayer) monnaie.textContent = `il manque ${argent(aPayer - recu)}`;
    else monnaie.textContent = argent(recu - aPayer);
    const p = this.panier();
    const t = this.tentative();
    this.bouton.disabled = this.enVol || (!t && (!p || p.lignes.length === 0));
    for (const r of document.querySelectorAll("input[name=mode]")) r.disabled = !!t;
    this.recu.readOnly = !!t;
  }

  reinitialiser() {
    if (this.tentative() || this.enVol) return;
    this.recu.value = "";
    $("etat-encaissement").textContent = "";
    $("mode-especes").checked = true;
    this.rafraichir();
  }

  /** After a reload: an attempt without a final answer is retried with its key. */
  async reprendre() {
    const t = this.tentative();
    if (!t) return;
    $("etat-encaissement").textContent = `Un encaissement (panier ${t.corps.panier_id}) attend sa réponse : nouvel essai avec la même clé.`;
    await this.envoyer(t);
  }

  async encaisser() {
    if (this.enVol) return; // a second click while the first is in flight
    let t = this.tentative();
    if (!t) {
      this.enVol = true; // until the cart edits in flight have landed
      try { await this.modificationsFinies(); } finally { this.enVol = false; }
      t = this.tentative();
    }
    if (!t) {
      const p = this.panier();
      if (!p || p.lignes.length === 0) {
        annoncer("Le panier est vide : scannez au moins un article.", { erreur: true });
        return;
      }
      const corps = { panier_id: p.id, paiement: { mode: this.mode() } };
      if (corps.paiement.mode === "especes") {
        const recu = cents(this.recu.value);
        const aPayer = arrondiEspeces(this.totaux().total);
        if (recu === null || recu < aPayer) {
          annoncer(`Montant reçu : entrez au moins ${argent(aPayer)} (espèces, arrondi au 0,05 $).`, { erreur: true });
          this.recu.focus();
          return;
        }
        corps.paiement.montant_recu = decimal(recu);
      }
      if (this.horsLigne()) return this.venteHorsLigne(p, corps.paiement);
      t = { cle: nouvelleCle(), corps };
      localStorage.setItem(CLE, JSON.stringify(t));
    }
    await this.envoyer(t);
  }

  /** Offline: the sale joins the queue with its own key; a provisional receipt is shown. */
  async venteHorsLigne(p, paiement) {
    const t = this.totaux();
    const aPayer = paiement.mode === "especes" ? arrondiEspeces(t.total) : t.total;
    const recu = paiement.mode === "especes" ? cents(paiement.montant_recu) : null;
    const vendu = new Date().toISOString();
    this.enregistrerHorsLigne({
      cle: nouvelleCle(),
      lignes: p.lignes.map((l) => ({ produit_id: l.produit_id, quantite: l.quantite, nom: l.nom })),
      paiement, vendu_le: vendu, total: decimal(t.total),
    });
    this.recu.value = "";
    $("etat-encaissement").textContent = "Vente hors ligne mise en attente : elle sera envoyée au retour du réseau.";
    this.rafraichir();
    await this.apresVenteLocale({
      numero: "provisoire (hors ligne)", magasin_id: "", statut: "terminee", cree_le: vendu, caissier_login: "",
      lignes: p.lignes, sous_total: decimal(t.sous_total), tps: decimal(t.tps), tvq: decimal(t.tvq), total: decimal(t.total),
      paiement: { mode: paiement.mode, a_payer: decimal(aPayer), arrondi: decimal(aPayer - t.total),
        montant_recu: recu === null ? null : decimal(recu), monnaie: recu === null ? null : decimal(recu - aPayer) },
      retours: [],
    });
  }

  async envoyer(t) {
    this.enVol = true;
    this.rafraichir();
    const etat = $("etat-encaissement");
    etat.textContent = "Encaissement en cours…";
    try {
      const recu = await api("POST", "/api/ventes", { corps: t.corps, cle: t.cle, delai: 30000 });
      localStorage.removeItem(CLE);
      effacerMessage(); // an earlier attempt's error is settled
      etat.textContent = `Vente n° ${recu.numero} enregistrée.`;
      this.recu.value = "";
      this.enVol = false;
      await this.apresVente(recu);
    } catch (err) {
      this.enVol = false;
      this.echec(err, t);
    } finally {
      this.enVol = false;
      this.rafraichir();
    }
  }

  echec(err, t) {
    const etat = $("etat-encaissement");
    if (!(err instanceof ErreurApi)) { signaler(err); return; }
    if (err.reseau || err.statut === 503 || err.statut === 502 || err.statut === 504) {
      // Unknown or "nothing sold": keep the key; the button retries with it.
      etat.textContent = "Aucune réponse définitive : rien n’est encore vendu. Appuyez sur Encaisser (F4) pour réessayer — la même vente ne sera jamais enregistrée deux fois.";
      signaler(err);
      return;
    }
    if (err.statut === 401) return; // going back to login; the key is kept
    localStorage.removeItem(CLE); // 409 / 422 / 4xx: final for this key
    etat.textContent = "";
    const manquants = (err.corps && err.corps.manquants) || [];
    if (err.statut === 409 && manquants.length) {
      const lignes = (this.panier() && this.panier().lignes) || [];
      const nom = (id) => (lignes.find((l) => l.produit_id === id) || { nom: `produit ${id}` }).nom;
      const texte = manquants.map((m) => `« ${nom(m.produit_id)} » : ${m.demande} demandé(s), ${m.disponible} disponible(s)`).join(" ; ");
      annoncer(`Stock insuffisant, rien n’a été vendu. ${texte}. Ajustez les quantités puis encaissez de nouveau.`, { erreur: true, reference: err.reference });
      this.signalerManquants(manquants);
      return;
    }
    signaler(err);
  }
}
