// Today's sales of this cashier at this store, or of the whole store for a
// gérant (GET /api/ventes from the start of the store day): reprint a
// receipt, cancel a sale, return some of its lines.
// A return carries its own Idempotency-Key, kept until it has an answer.

import { api, ErreurApi } from "./api.js";
import { argent, aujourdhuiMagasin, el, heure, nouvelleCle } from "./format.js";

const $ = (id) => document.getElementById(id);
const STATUTS = { terminee: "Payée", annulation: "Annulation en cours", annulee: "Annulée" };
let ctx = null;
let retour = null; // { vente, cle }

function message(texte, erreur = true) {
  const m = $("ventes-message");
  m.textContent = (erreur ? "Erreur : " : "") + texte;
  m.classList.toggle("erreur", erreur);
  m.hidden = false;
}

function echec(err) {
  message(err instanceof ErreurApi ? err.texte() : String(err));
}

export function initVentesJour(c) {
  ctx = c;
  $("btn-fermer-ventes").addEventListener("click", () => $("dialogue-ventes").close());
  $("dialogue-ventes").addEventListener("close", () => ctx.apres());
  $("form-retour").addEventListener("submit", (ev) => { ev.preventDefault(); validerRetour(); });
}

export async function ouvrirVentesJour() {
  const d = $("dialogue-ventes");
  $("ventes-message").hidden = true;
  $("form-retour").hidden = true;
  if (!d.open) d.showModal();
  try {
    await lister();
  } catch (err) {
    echec(err);
  }
}

async function lister() {
  const { ventes } = await api("GET", `/api/ventes?du=${aujourdhuiMagasin()}&limit=100`);
  // A cashier sees their own sales; a gérant every sale of the store (and may cancel any).
  const miennes = ctx.gerant ? ventes : ventes.filter((v) => v.caissier_login === ctx.login);
  const corps = $("ventes").tBodies[0];
  if (miennes.length === 0) {
    corps.replaceChildren(el("tr", {}, el("td", { colSpan: 5 }, "Aucune vente aujourd’hui.")));
    return;
  }
  corps.replaceChildren(...miennes.map((v) => {
    const reimprimer = el("button", { type: "button", className: "petit", textContent: "Réimprimer", "aria-label": `Réimprimer le reçu ${v.numero}` });
    reimprimer.addEventListener("click", () => agir(async () => {
      const recu = await api("GET", `/api/ventes/${v.id}`);
      $("dialogue-ventes").close();
      ctx.ouvrirRecu(recu);
    }));
    const actions = [reimprimer];
    if (v.statut === "terminee") {
      const annuler = el("button", { type: "button", className: "petit danger", textContent: "Annuler", "aria-label": `Annuler la vente ${v.numero}` });
      annuler.addEventListener("click", () => agir(async () => {
        if (!window.confirm(`Annuler la vente n° ${v.numero} (${argent(v.total)}) ? Les articles retournent en stock.`)) return;
        await api("POST", `/api/ventes/${v.id}/annulation`);
        message(`Vente n° ${v.numero} annulée.`, false);
        await lister();
      }));
      const rendre = el("button", { type: "button", className: "petit neutre", textContent: "Retour", "aria-label": `Retour d’articles de la vente ${v.numero}` });
      rendre.addEventListener("click", () => agir(() => preparerRetour(v.id)));
      actions.push(annuler, rendre);
    }
    return el("tr", { "data-vente": v.id },
      el("td", {}, String(v.numero)), el("td", {}, heure(v.cree_le) + (ctx.gerant ? ` — ${v.caissier_login}` : "")),
      el("td", { className: "nombre" }, argent(v.total)), el("td", {}, STATUTS[v.statut] || v.statut),
      el("td", { className: "actions-ligne" }, actions));
  }));
}

async function agir(fn) {
  try {
    await fn();
  } catch (err) {
    echec(err);
  }
}

async function preparerRetour(venteId) {
  const vente = await api("GET", `/api/ventes/${venteId}`);
  const dejaRendu = new Map();
  for (const r of vente.retours || []) for (const l of r.lignes) dejaRendu.set(l.produit_id, (dejaRendu.get(l.produit_id) || 0) + l.quantite);
  retour = { vente, cle: nouvelleCle() };
  $("titre-retour").textContent = `Retour partiel — vente n° ${vente.numero}`;
  $("retour-lignes").replaceChildren(...vente.lignes.map((l) => {
    const max = l.quantite - (dejaRendu.get(l.produit_id) || 0);
    const id = `retour-${l.produit_id}`;
    return el("div", { className: "ligne-retour" },
      el("label", { for: id }, `${l.nom} (${max} sur ${l.quantite} retournable(s))`),
      el("input", { id, type: "number", min: "0", max: String(max), value: "0", "data-produit": String(l.produit_id) }));
  }));
  $("form-retour").hidden = false;
  $("retour-lignes").querySelector("input")?.focus();
}

async function validerRetour() {
  if (!retour) return;
  const lignes = [...$("retour-lignes").querySelectorAll("input")]
    .map((i) => ({ produit_id: Number(i.dataset.produit), quantite: Number.parseInt(i.value, 10) || 0 }))
    .filter((l) => l.quantite > 0);
  if (lignes.length === 0) { message("Indiquez au moins un article à retourner."); return; }
  const bouton = $("btn-valider-retour");
  bouton.disabled = true;
  try {
    // The same key on every click until an answer arrives: one refund only.
    const r = await api("POST", `/api/ventes/${retour.vente.id}/retours`, { corps: { lignes }, cle: retour.cle });
    message(`Retour enregistré : ${argent(r.montant.total)} à rembourser.`, false);
    retour = null;
    $("form-retour").hidden = true;
    await lister();
  } catch (err) {
    if (err instanceof ErreurApi && !err.reseau && err.statut !== 503) retour.cle = nouvelleCle();
    echec(err);
  } finally {
    bouton.disabled = false;
  }
}
