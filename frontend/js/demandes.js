// Shared by the store's and the logistics pages: restocking requests'
// status labels, their trail (who and when), and product names by id.

import { api } from "./api.js";
import { dateHeure, el } from "./format.js";

export const STATUTS = {
  creee: "Créée",
  approuvee: "Approuvée",
  refusee: "Refusée",
  expediee: "Expédiée",
  recue: "Reçue",
};

export function statut(code) {
  return STATUTS[code] || code;
}

/** The request's trail: one item per status change, who and when (and why). */
export function historique(d) {
  return el("ol", { className: "historique", "aria-label": `Historique de la demande ${d.id}` },
    ...d.historique.map((e) => el("li", {},
      el("strong", {}, statut(e.statut)), ` par ${e.par} le ${dateHeure(e.le)}`,
      e.motif ? ` — ${e.motif}` : "")));
}

const noms = new Map();

/** Fills the product-name cache for `ids` (one call for the missing ones). */
export async function chargerNoms(ids) {
  const manquants = [...new Set(ids)].filter((id) => !noms.has(id));
  for (let i = 0; i < manquants.length; i += 100) {
    const lot = manquants.slice(i, i + 100);
    const { produits } = await api("GET", `/api/produits?ids=${lot.join(",")}`);
    for (const p of produits) noms.set(p.id, p.nom);
  }
}

export function nom(id) {
  return noms.get(id) || `Produit n° ${id}`;
}
