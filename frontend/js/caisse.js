// The cashier register: one search field that keeps focus (scan or name),
// the cart (it lives in panier, so it survives a reload and is shared by a
// second tab), running totals, and the keyboard shortcuts. Checkout is in
// encaissement.js, receipts in recu.js, today's sales in ventes-jour.js, the
// register session (pick a register, open with a float, close with the cash
// count and the Z-report) in caisse-poste.js: every cart belongs to it.

import { api, annoncer, effacerMessage, signaler } from "./api.js";
import { argent, cents, el, nouvelleCle, taxes } from "./format.js";
import * as session from "./session.js";
import { Encaissement } from "./encaissement.js";
import { afficherRecu, initRecu } from "./recu.js";
import { initVentesJour, ouvrirVentesJour } from "./ventes-jour.js";
import * as horsLigne from "./hors-ligne.js";
import { modeHorsLigne } from "./caisse-hors-ligne.js";
import { posteCaisse } from "./caisse-poste.js";

const s = session.exiger(["caissier", "gerant"]);
const $ = (id) => document.getElementById(id);
const BROUILLON = "caisse.brouillon.caisse";

/** The register's state: the open cart as panier last answered, and the cart edits in flight. */
// Offline (`horsLigne`), the cart is local: same shape as panier's, priced from the cached catalogue.
// `session` is the register session the carts are opened in (null while a register is being picked).
const etat = { session: null, panier: null, manquants: new Map(), enCours: Promise.resolve(), modifications: 0, horsLigne: false };

const q = $("q");
document.body.dataset.modifications = "0";
const magasinId = s && s.employe.magasin_id;

function focusRecherche() {
  const actif = document.activeElement;
  const ailleurs = actif && actif !== document.body && actif !== q && actif.closest("dialog[open], #bloc-especes, td");
  if (!ailleurs) q.focus();
}

// ---- Cart -----------------------------------------------------------------

async function chargerPanier() {
  if (!etat.session) {
    etat.panier = null;
    afficherPanier();
    return;
  }
  const { paniers } = await api("GET", "/api/paniers");
  const file = horsLigne.paniersDeLaFile();
  // A cart left open in an earlier session stays there: this register sells in its own session.
  const id = etat.session.id;
  etat.panier = paniers.find((p) => !file.has(p.id) && (p.session_id === undefined || p.session_id === id)) || null;
  afficherPanier();
}

// One Idempotency-Key per cart opening, kept until it is answered: a retry
// (by the gateway after a replica died, or by a reload after a lost answer)
// gets the same cart, never a second one.
const CLE_PANIER = "caisse.cle-panier";
async function panierOuvert() {
  if (!etat.panier) {
    if (!etat.session) throw new Error("aucune session de caisse");
    const cle = sessionStorage.getItem(CLE_PANIER) || nouvelleCle();
    sessionStorage.setItem(CLE_PANIER, cle);
    try {
      etat.panier = await api("POST", "/api/paniers", { cle, corps: { session_id: etat.session.id } });
    } catch (err) {
      // The session was closed (by a gérant), or is not usable here: back to the registers.
      if (err.statut === 409 || err.statut === 403 || err.statut === 422) {
        sessionStorage.removeItem(CLE_PANIER);
        await poste.sessionPerdue(err);
        return null;
      }
      throw err;
    }
    sessionStorage.removeItem(CLE_PANIER);
  }
  return etat.panier;
}

// Hoisted: afficherPanier and chargerPanier are function declarations.
const { panierLocal, modifierLocal, passerHorsLigne, bandeau, retourEnLigne } = modeHorsLigne(etat, afficherPanier, chargerPanier);

// Cart edits run one after the other; checkout waits for them (a scan then
// F4 at once must sell what was scanned).
function fixerQuantite(produitId, quantite, produit) {
  etat.modifications += 1;
  document.body.dataset.modifications = String(etat.modifications);
  // `quantite` may be a function of the quantity once the previous edits have landed.
  const suite = etat.enCours.catch(() => {})
    .then(() => appliquer(produitId, typeof quantite === "function" ? quantite(quantiteDe(produitId)) : quantite, produit));
  etat.enCours = suite.finally(() => {
    etat.modifications -= 1;
    document.body.dataset.modifications = String(etat.modifications);
  });
  return suite;
}

async function appliquer(produitId, quantite, produit) {
  if (etat.horsLigne) {
    modifierLocal(produit, produitId, quantite);
    afficherPanier();
    return;
  }
  let horsReseau = false;
  const p = await panierOuvert().catch((err) => {
    if (err.reseau) { passerHorsLigne(); horsReseau = true; return null; }
    throw err;
  });
  if (horsReseau) return appliquer(produitId, quantite, produit);
  if (!p) return; // session lost: the register list is shown
  try {
    etat.panier = quantite <= 0
      ? await api("DELETE", `/api/paniers/${p.id}/lignes/${produitId}`)
      : await api("PUT", `/api/paniers/${p.id}/lignes/${produitId}`, { corps: { quantite } });
  } catch (err) {
    if (err.reseau) {
      passerHorsLigne();
      return appliquer(produitId, quantite, produit);
    }
    // The cart was closed meanwhile (sold from another tab): start a new one.
    if (err.statut === 409 || err.statut === 404) {
      etat.panier = null;
      await chargerPanier();
    }
    throw err;
  }
  etat.manquants.delete(produitId);
  afficherPanier();
}

function quantiteDe(produitId) {
  const l = etat.panier && etat.panier.lignes.find((x) => x.produit_id === produitId);
  return l ? l.quantite : 0;
}

export async function ajouter(produit) {
  await fixerQuantite(produit.id, (n) => n + 1, produit);
  if (!etat.session) return; // the session was closed meanwhile: the register list says why
  annoncer(`${produit.nom} ajouté (quantité ${quantiteDe(produit.id)}).`);
}

async function action(fn) {
  try {
    await fn();
  } catch (err) {
    signaler(err);
  }
}

function ligneHtml(l) {
  const manque = etat.manquants.get(l.produit_id);
  const nom = el("td", {}, el("span", { className: "nom" }, l.nom),
    l.actif ? null : el("span", { className: "alerte-texte" }, " (n’est plus vendu)"),
    manque ? el("span", { className: "alerte-texte bloc" }, `Stock insuffisant : ${manque.disponible} disponible(s) pour ${manque.demande} demandé(s)`) : null);
  const champ = el("input", {
    type: "number", min: "1", max: "999", value: String(l.quantite), className: "quantite",
    id: `quantite-${l.produit_id}`, "aria-label": `Quantité de ${l.nom}`,
  });
  champ.addEventListener("change", () => action(async () => {
    const n = Number.parseInt(champ.value, 10);
    if (!Number.isInteger(n) || n < 0 || n > 999) {
      annoncer(`Quantité de ${l.nom} : un entier de 0 à 999 (0 retire la ligne).`, { erreur: true });
      champ.value = String(l.quantite);
      return;
    }
    await fixerQuantite(l.produit_id, n);
    q.focus();
  }));
  champ.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); champ.blur(); } });
  const moins = el("button", { type: "button", className: "petit neutre", textContent: "−", "aria-label": `Enlever un ${l.nom}` });
  moins.addEventListener("click", () => action(() => fixerQuantite(l.produit_id, (n) => n - 1)));
  const plus = el("button", { type: "button", className: "petit neutre", textContent: "+", "aria-label": `Ajouter un ${l.nom}` });
  plus.addEventListener("click", () => action(() => fixerQuantite(l.produit_id, (n) => n + 1)));
  const retirer = el("button", { type: "button", className: "petit danger", textContent: "Retirer", "aria-label": `Retirer ${l.nom} du panier` });
  retirer.addEventListener("click", () => action(async () => { await fixerQuantite(l.produit_id, 0); q.focus(); }));
  const tr = el("tr", { "data-produit": String(l.produit_id), "data-quantite": String(l.quantite) }, nom,
    el("td", { className: "nombre" }, argent(l.prix_unitaire)),
    el("td", { className: "centre quantites" }, moins, champ, plus),
    el("td", { className: "nombre" }, argent(l.total_ligne)),
    el("td", {}, retirer));
  if (manque) tr.classList.add("en-defaut");
  return tr;
}

/** Totals shown while selling; the receipt carries the server's own. */
export function totauxCourants() {
  const st = etat.panier ? cents(etat.panier.sous_total) : 0;
  return taxes(st ?? 0);
}

function afficherPanier() {
  const p = etat.panier;
  const lignes = p ? p.lignes : [];
  $("panier-numero").textContent = !p ? "" : typeof p.id === "number" ? `n° ${p.id}` : "local (hors ligne)";
  $("panier-vide").hidden = lignes.length > 0;
  $("lignes").hidden = lignes.length === 0;
  $("lignes").tBodies[0].replaceChildren(...lignes.map(ligneHtml));
  const t = totauxCourants();
  $("t-sous-total").textContent = argent(t.sous_total);
  $("t-tps").textContent = argent(t.tps);
  $("t-tvq").textContent = argent(t.tvq);
  $("t-total").textContent = argent(t.total);
  encaissement.rafraichir();
}

// ---- Search ---------------------------------------------------------------

async function stockIci(produitId) {
  if (etat.horsLigne) return null;
  try {
    const st = await api("GET", `/api/stocks/magasins/${magasinId}/produits/${produitId}`);
    return st.quantite;
  } catch (err) {
    if (err.statut === 404) return 0;
    return null;
  }
}

async function chercherProduits(texte, limite) {
  if (!etat.horsLigne) {
    try {
      return (await api("GET", `/api/produits?q=${encodeURIComponent(texte)}&limit=${limite}`)).produits;
    } catch (err) {
      if (!err.reseau) throw err;
      passerHorsLigne();
    }
  }
  return horsLigne.chercherLocal(texte);
}

async function rechercher(texte) {
  const res = $("resultats");
  if (/^\d{8,14}$/.test(texte)) {
    const produits = await chercherProduits(texte, 5);
    const p = produits.find((x) => x.code_barres === texte);
    if (p) {
      res.replaceChildren();
      await ajouter(p);
      return;
    }
    if (produits.length === 0) {
      annoncer(`Aucun produit avec le code-barres ou le numéro ${texte}.`, { erreur: true });
      return;
    }
  }
  const produits = await chercherProduits(texte, 10);
  if (produits.length === 0) {
    res.replaceChildren(el("p", { className: "resume" }, `Aucun produit ne correspond à « ${texte} ».`));
    return;
  }
  const stocks = await Promise.all(produits.map((p) => stockIci(p.id)));
  const liste = el("ul", { className: "resultats", "aria-label": "Produits trouvés" });
  produits.forEach((p, i) => {
    const st = stocks[i];
    const bouton = el("button", { type: "button", className: "resultat" },
      el("span", { className: "nom" }, p.nom),
      el("span", { className: "nombre" }, argent(p.prix)),
      el("span", { className: st === 0 ? "alerte-texte" : "discret" }, st === null ? "stock inconnu" + (etat.horsLigne ? " (hors ligne)" : "") : `${st} en stock`));
    bouton.setAttribute("aria-label", `Ajouter ${p.nom}, ${argent(p.prix)}, ${st === null ? "stock inconnu" : st + " en stock"}`);
    bouton.addEventListener("click", () => action(async () => { await ajouter(p); res.replaceChildren(); q.value = ""; q.focus(); }));
    liste.append(el("li", {}, bouton));
  });
  res.replaceChildren(liste);
}

$("recherche-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const texte = q.value.trim();
  if (!texte) return;
  effacerMessage();
  q.value = "";
  action(() => rechercher(texte)).finally(focusRecherche);
});

// ---- Checkout, receipts, shortcuts -----------------------------------------

const encaissement = new Encaissement({
  panier: () => etat.panier,
  horsLigne: () => etat.horsLigne,
  enregistrerHorsLigne: (vente) => {
    // The sale belongs to the session open on this register; its cart will be opened in it at sync.
    horsLigne.mettreEnFile({ ...vente, session_id: etat.session.id });
    etat.panier = panierLocal([]);
    etat.manquants.clear();
    afficherPanier();
    bandeau();
  },
  modificationsFinies: () => etat.enCours.catch(() => {}),
  totaux: totauxCourants,
  apresVente: async (recu, local) => {
    etat.manquants.clear();
    if (!local) {
      etat.panier = null;
      await chargerPanier().catch((err) => { if (err.reseau) passerHorsLigne(); else throw err; });
    }
    afficherRecu(recu);
  },
  manquants: (liste) => {
    etat.manquants = new Map(liste.map((m) => [m.produit_id, m]));
    afficherPanier();
  },
});

function nouvelleVente() {
  effacerMessage();
  $("resultats").replaceChildren();
  q.value = "";
  encaissement.reinitialiser();
  q.focus();
}

document.addEventListener("keydown", (ev) => {
  const touches = {
    F2: () => { q.focus(); q.select(); },
    F4: () => encaissement.encaisser(),
    F6: nouvelleVente,
    F7: () => ouvrirVentesJour(),
    F8: () => encaissement.choisirMode("especes"),
    F9: () => encaissement.choisirMode("carte"),
  };
  // While picking a register, only today's sales.
  if (!etat.session && ev.key !== "F7") return;
  if (touches[ev.key]) {
    ev.preventDefault();
    touches[ev.key]();
  } else if (ev.key === "Escape" && !document.querySelector("dialog[open]")) {
    $("resultats").replaceChildren();
    q.focus();
  }
});
$("btn-nouvelle").addEventListener("click", nouvelleVente);
$("btn-ventes").addEventListener("click", () => ouvrirVentesJour());
$("btn-ventes-choix").addEventListener("click", () => ouvrirVentesJour());
// Clicking on empty space brings the focus back to the search field.
document.addEventListener("click", (ev) => {
  if (!ev.target.closest("button, input, a, label, select, textarea, dialog")) focusRecherche();
});

// ---- Register session ---------------------------------------------------------

let catalogueCharge = false;

/** Sells on `sessionCaisse` (online: its cart, a pending checkout, the catalogue, the queue). */
async function commencer(sessionCaisse, { horsLigne: sansReseau = false } = {}) {
  etat.session = sessionCaisse;
  etat.panier = null;
  $("colonne-vente").hidden = false;
  $("colonne-paiement").hidden = false;
  afficherPanier();
  q.focus();
  if (sansReseau || etat.horsLigne) { passerHorsLigne(); return; }
  try {
    await chargerPanier();
  } catch (err) {
    if (err.reseau) { passerHorsLigne(); return; }
    throw err;
  }
  await encaissement.reprendre();
  if (!catalogueCharge) {
    const n = await horsLigne.chargerCatalogue();
    catalogueCharge = true;
    document.body.dataset.catalogue = String(n);
  }
  if (horsLigne.file().length) await retourEnLigne();
}

/** Leaves the selling screen (session closed or lost): the register list is shown. */
function arreter() {
  etat.session = null;
  etat.panier = null;
  etat.manquants.clear();
  $("colonne-vente").hidden = true;
  $("colonne-paiement").hidden = true;
  $("resultats").replaceChildren();
  afficherPanier();
}

/** Why the register cannot be closed right now, or null. */
function occupee() {
  const n = horsLigne.file().length;
  if (n) return `${n} vente(s) hors ligne attendent leur envoi : attendez la synchronisation avant de fermer la caisse.`;
  if (etat.horsLigne) return "Hors ligne : la caisse se ferme quand le réseau revient.";
  if (encaissement.tentative()) return "Un encaissement attend sa réponse : réessayez-le (F4) avant de fermer la caisse.";
  if (etat.panier && etat.panier.lignes.length) return "Le panier contient des articles : encaissez-les ou retirez-les avant de fermer la caisse.";
  return null;
}

const poste = s && posteCaisse({
  employe: s.employe, magasinId, commencer, arreter, occupee,
  reprendreFocus: () => q.focus(),
});

// ---- Start ----------------------------------------------------------------

if (s) {
  session.entete(s);
  $("magasin").textContent = `— magasin ${magasinId}`;
  $("lien-sessions").hidden = s.employe.role !== "gerant";
  session.surExpiration(() => localStorage.setItem(BROUILLON, JSON.stringify({ q: q.value, recu: $("montant-recu").value })));
  try {
    const b = JSON.parse(localStorage.getItem(BROUILLON) || "null");
    if (b) { q.value = b.q || ""; $("montant-recu").value = b.recu || ""; }
  } catch (_) { /* no draft */ }
  localStorage.removeItem(BROUILLON);
  initRecu(focusRecherche);
  initVentesJour({ magasinId, login: s.employe.login, gerant: s.employe.role === "gerant", ouvrirRecu: afficherRecu, apres: focusRecherche });
  $("btn-refus-vu").addEventListener("click", () => { horsLigne.oublierRefus(); bandeau(); q.focus(); });
  window.addEventListener("offline", passerHorsLigne);
  window.addEventListener("online", () => { retourEnLigne(); });
  // While offline or with sales waiting, check the gateway every 3 s.
  setInterval(() => { if (etat.horsLigne || horsLigne.file().length) retourEnLigne(); }, 3000);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  bandeau();
  action(() => poste.demarrer());
}
