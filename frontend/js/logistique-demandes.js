// Logistics' queue of restocking requests (GET /api/stocks/demandes): new
// ones to approve — fully, or line by line with the centre's stock beside
// each line — or refuse with a reason; approved ones to ship. A shipment
// keeps one Idempotency-Key per request until a final answer, so a double
// click or a retry ships once; a shortage names the lines.

import { api, annoncer, ErreurApi, signaler } from "./api.js";
import { chargerNoms, historique, nom, statut } from "./demandes.js";
import { el, nouvelleCle } from "./format.js";

const $ = (id) => document.getElementById(id);
const cles = new Map(); // demande id -> Idempotency-Key of its shipment in progress
const manques = new Map(); // demande id -> Map(produit_id -> text)

function ligne(d, l) {
  const creee = d.statut === "creee";
  let approuve = l.quantite_approuvee === null ? "—" : String(l.quantite_approuvee);
  if (creee) {
    approuve = el("input", { type: "number", min: "0", max: String(l.quantite_demandee), value: String(l.quantite_demandee),
      className: "quantite", id: `approuve-${d.id}-${l.produit_id}`, "aria-label": `Quantité de ${nom(l.produit_id)} approuvée` });
  }
  const manque = manques.get(d.id)?.get(l.produit_id);
  const court = l.quantite_centre !== null && l.quantite_centre < (l.quantite_approuvee ?? l.quantite_demandee);
  return el("tr", { "data-produit": String(l.produit_id) },
    el("td", {}, nom(l.produit_id), manque ? el("span", { className: "bloc alerte-texte" }, manque) : null),
    el("td", { className: "nombre" }, String(l.quantite_demandee)),
    el("td", { className: "nombre" }, l.quantite_centre === null ? "—" : String(l.quantite_centre),
      court ? el("span", { className: "bloc alerte-texte" }, "insuffisant") : null),
    el("td", { className: "centre" }, approuve));
}

function carte(d) {
  const tableau = el("table", {},
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Produit"), el("th", { scope: "col", className: "nombre" }, "Demandé"),
      el("th", { scope: "col", className: "nombre" }, "Stock du centre"), el("th", { scope: "col", className: "centre" }, "Approuvé"))),
    el("tbody", {}, ...d.lignes.map((l) => ligne(d, l))));
  const article = el("article", { className: "demande", "data-demande": String(d.id), "data-statut": d.statut },
    el("h3", {}, `Demande n° ${d.id} — magasin ${d.magasin_id} — `, el("span", { className: "statut" }, statut(d.statut))),
    tableau, historique(d));
  const actions = el("div", { className: "actions" });
  if (d.statut === "creee") {
    const approuver = el("button", { type: "button", id: `btn-approuver-${d.id}`, className: "principal" }, "Approuver");
    approuver.addEventListener("click", () => decider(approuver, () => approuver_(d)));
    const motif = el("input", { type: "text", id: `refus-${d.id}`, maxLength: 255, placeholder: "Ex. : produit discontinué" });
    const refuser = el("button", { type: "button", id: `btn-refuser-${d.id}`, className: "danger" }, "Refuser");
    refuser.addEventListener("click", () => decider(refuser, () => refuser_(d)));
    article.append(el("div", { className: "ligne" }, el("label", { for: `refus-${d.id}` }, "Motif du refus"), motif));
    actions.append(approuver, refuser);
  } else if (d.statut === "approuvee") {
    const expedier = el("button", { type: "button", id: `btn-expedier-${d.id}`, className: "principal" }, "Expédier");
    expedier.addEventListener("click", () => decider(expedier, () => expedier_(d)));
    actions.append(expedier);
  }
  article.append(actions);
  return article;
}

let occupe = false;

async function decider(bouton, action) {
  if (occupe) return; // one decision at a time: a double click sends once
  occupe = true;
  bouton.disabled = true;
  try {
    await action();
  } catch (err) {
    signaler(err);
  } finally {
    occupe = false;
    bouton.disabled = false;
    await fileDemandes();
  }
}

async function approuver_(d) {
  const lignes = d.lignes.map((l) => ({
    produit_id: l.produit_id,
    quantite: Number.parseInt($(`approuve-${d.id}-${l.produit_id}`).value, 10),
  }));
  if (lignes.some((l) => !Number.isInteger(l.quantite))) {
    annoncer("Chaque quantité approuvée doit être un nombre entier.", { erreur: true });
    return;
  }
  await api("POST", `/api/stocks/demandes/${d.id}/approbation`, { corps: { lignes } });
  annoncer(`Demande n° ${d.id} approuvée.`);
}

async function refuser_(d) {
  const motif = $(`refus-${d.id}`).value.trim();
  if (!motif) {
    annoncer("Indiquez le motif du refus.", { erreur: true });
    $(`refus-${d.id}`).focus();
    return;
  }
  await api("POST", `/api/stocks/demandes/${d.id}/refus`, { corps: { motif } });
  annoncer(`Demande n° ${d.id} refusée.`);
}

async function expedier_(d) {
  if (!cles.has(d.id)) cles.set(d.id, nouvelleCle());
  try {
    const r = await api("POST", `/api/stocks/demandes/${d.id}/expedition`, { cle: cles.get(d.id) });
    cles.delete(d.id);
    manques.delete(d.id);
    annoncer(`Demande n° ${d.id} expédiée au magasin ${d.magasin_id} (transfert n° ${r.transfert_id}).`);
  } catch (err) {
    // A final answer frees the key; no answer keeps it for the retry.
    if (err instanceof ErreurApi && !err.reseau && err.statut < 500) cles.delete(d.id);
    const m = new Map();
    for (const x of (err.corps && err.corps.manquants) || []) {
      m.set(x.produit_id, `Stock insuffisant au centre : ${x.disponible} disponible(s) pour ${x.demande}`);
    }
    manques.set(d.id, m);
    throw err;
  }
}

/** (Re)draws the queue: new requests, then approved ones waiting to ship. */
export async function fileDemandes() {
  try {
    const [creees, approuvees] = await Promise.all([
      api("GET", "/api/stocks/demandes?statut=creee&limit=100"),
      api("GET", "/api/stocks/demandes?statut=approuvee&limit=100"),
    ]);
    const liste = [...creees.demandes, ...approuvees.demandes];
    await chargerNoms(liste.flatMap((d) => d.lignes.map((l) => l.produit_id)));
    $("file-vide").hidden = liste.length > 0;
    $("file-demandes").replaceChildren(...liste.map(carte));
  } catch (err) {
    signaler(err);
  }
}
