// Offline register: the catalogue (prices, barcodes) cached in IndexedDB
// while online, and the queue of sales rung up offline, each with its own
// Idempotency-Key, synced in order when the gateway answers again.
//
// Rules (README "Offline register"): a queued sale is recorded through the
// ordinary checkout — a cart is opened (in the register session the sale was
// rung up in) and filled, then POST /api/ventes with
// the key generated when the sale was rung up. A retry (interrupted sync,
// lost answer) reuses the same cart and key, so vente replays the first
// answer: each sale is recorded once. Prices: the catalogue price at sync
// time wins (vente prices the cart); a cash sale whose tendered amount no
// longer covers it, or a stock shortage, is refused and shown to the cashier.

import { api, ErreurApi } from "./api.js";

const BASE = "caisse-catalogue";
const FILE = "caisse.file-hors-ligne";
const REFUS = "caisse.refus-hors-ligne";

function ouvrirBase() {
  return new Promise((ok, ko) => {
    const r = indexedDB.open(BASE, 1);
    r.onupgradeneeded = () => {
      const os = r.result.createObjectStore("produits", { keyPath: "id" });
      os.createIndex("code_barres", "code_barres");
    };
    r.onsuccess = () => ok(r.result);
    r.onerror = () => ko(r.error);
  });
}

function tout(requete) {
  return new Promise((ok, ko) => { requete.onsuccess = () => ok(requete.result); requete.onerror = () => ko(requete.error); });
}

/** Loads the whole active catalogue into IndexedDB (pages of 100). */
export async function chargerCatalogue() {
  const produits = [];
  let apres = 0;
  for (;;) {
    const r = await api("GET", `/api/produits?limit=100&apres=${apres}`);
    produits.push(...r.produits);
    if (r.suivant === null || r.suivant === undefined) break;
    apres = r.suivant;
  }
  const db = await ouvrirBase();
  const tx = db.transaction("produits", "readwrite");
  tx.objectStore("produits").clear();
  for (const p of produits) tx.objectStore("produits").put(p);
  await new Promise((ok, ko) => { tx.oncomplete = ok; tx.onerror = () => ko(tx.error); });
  db.close();
  return produits.length;
}

/** Offline search: exact barcode or id first, else names containing the text. */
export async function chercherLocal(texte) {
  const db = await ouvrirBase();
  const tous = await tout(db.transaction("produits").objectStore("produits").getAll());
  db.close();
  const exact = tous.filter((p) => p.code_barres === texte || String(p.id) === texte);
  if (exact.length) return exact;
  const t = texte.toLocaleLowerCase("fr-CA");
  return tous.filter((p) => p.nom.toLocaleLowerCase("fr-CA").includes(t)).slice(0, 10);
}

// ---- Queue -------------------------------------------------------------------

export function file() {
  try { return JSON.parse(localStorage.getItem(FILE) || "[]"); } catch (_) { return []; }
}

function ecrireFile(f) {
  localStorage.setItem(FILE, JSON.stringify(f));
}

/** Queues a sale: { cle, session_id, lignes: [{produit_id, quantite, nom}], paiement, vendu_le }. */
export function mettreEnFile(vente) {
  ecrireFile([...file(), { ...vente, panier_id: null, envoye: false }]);
}

/** Carts opened by the sync: not the register's current cart. */
export function paniersDeLaFile() {
  return new Set(file().map((v) => v.panier_id).filter(Boolean));
}

export function refus() {
  try { return JSON.parse(localStorage.getItem(REFUS) || "[]"); } catch (_) { return []; }
}

export function oublierRefus() {
  localStorage.removeItem(REFUS);
}

function maj(cle, changement) {
  ecrireFile(file().map((v) => (v.cle === cle ? { ...v, ...changement } : v)));
}

let enCours = null;

/**
 * Sends the queue in order; stops at the first sale without a final answer
 * (network, 503), to retry later with the same cart and key. Returns
 * { envoyees, refusees, restantes }.
 */
export function synchroniser() {
  if (!enCours) enCours = envoyer().finally(() => { enCours = null; });
  return enCours;
}

async function envoyer() {
  let envoyees = 0, refusees = 0;
  for (const v of file()) {
    let panierId = v.panier_id;
    try {
      if (!panierId) {
        // Keyed by the sale's own key: a retry gets the same cart back.
        // In the register session that was open when the sale was rung up.
        const corps = v.session_id ? { session_id: v.session_id } : {};
        panierId = (await api("POST", "/api/paniers", { cle: `panier-${v.cle}`, corps })).id;
        maj(v.cle, { panier_id: panierId });
      }
      if (!v.envoye) {
        for (const l of v.lignes) {
          try {
            await api("PUT", `/api/paniers/${panierId}/lignes/${l.produit_id}`, { corps: { quantite: l.quantite } });
          } catch (err) {
            if (!(err instanceof ErreurApi) || err.statut !== 409) throw err; // 409: cart already sold by a lost answer
          }
        }
      }
      maj(v.cle, { envoye: true });
      await api("POST", "/api/ventes", { corps: { panier_id: panierId, paiement: v.paiement }, cle: v.cle, delai: 30000 });
      ecrireFile(file().filter((x) => x.cle !== v.cle));
      envoyees += 1;
    } catch (err) {
      if (!(err instanceof ErreurApi) || err.reseau || err.statut >= 500 || err.statut === 401) break;
      // A final refusal (stock, price change, cart): out of the queue, shown to
      // the cashier; the cart opened for it is emptied (it sold nothing).
      if (panierId) await api("DELETE", `/api/paniers/${panierId}/lignes`).catch(() => {});
      ecrireFile(file().filter((x) => x.cle !== v.cle));
      const manquants = (err.corps && err.corps.manquants) || [];
      const noms = manquants.map((m) => {
        const l = v.lignes.find((x) => x.produit_id === m.produit_id);
        return `« ${l ? l.nom : "produit " + m.produit_id} » ${m.disponible} disponible(s) pour ${m.demande}`;
      });
      localStorage.setItem(REFUS, JSON.stringify([...refus(), {
        cle: v.cle, vendu_le: v.vendu_le, total: v.total, lignes: v.lignes,
        motif: err.texte() + (noms.length ? " — " + noms.join(" ; ") : ""),
      }]));
      refusees += 1;
    }
  }
  return { envoyees, refusees, restantes: file().length };
}
