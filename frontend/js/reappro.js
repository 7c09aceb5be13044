// The store's restocking requests (gérant; admin for a chosen store): the
// suggested request (entries under their alert threshold, up to their
// target level) submitted as is or adjusted, the store's requests with
// their status trail, and the reception of a shipped one with the
// quantities received (a shortfall needs a reason).

import { api, annoncer, signaler } from "./api.js";
import { chargerNoms, historique, nom, statut } from "./demandes.js";
import { el } from "./format.js";
import * as session from "./session.js";

const s = session.exiger(["gerant", "admin"]);
const $ = (id) => document.getElementById(id);
let magasin = null;
let proposition = []; // [{ produit_id, quantite_actuelle, niveau_cible, quantite }]

async function suggestion() {
  const r = await api("GET", `/api/stocks/demandes/suggestion?magasin_id=${magasin}`);
  await chargerNoms(r.lignes.map((l) => l.produit_id));
  proposition = r.lignes.map((l) => ({ ...l }));
  $("suggestion-vide").hidden = proposition.length > 0;
  $("btn-soumettre").disabled = proposition.length === 0;
  $("suggestion").tBodies[0].replaceChildren(...proposition.map((l) => {
    const champ = el("input", { type: "number", min: "0", max: "100000", value: String(l.quantite), className: "quantite",
      id: `suggere-${l.produit_id}`, "aria-label": `Quantité de ${nom(l.produit_id)} à demander` });
    champ.addEventListener("change", () => { l.quantite = Number.parseInt(champ.value, 10) || 0; });
    return el("tr", { "data-produit": String(l.produit_id) }, el("td", {}, nom(l.produit_id)),
      el("td", { className: "nombre" }, String(l.quantite_actuelle)), el("td", { className: "nombre" }, String(l.niveau_cible)),
      el("td", { className: "centre" }, champ));
  }));
}

async function soumettre() {
  const lignes = proposition.filter((l) => l.quantite > 0).map((l) => ({ produit_id: l.produit_id, quantite: l.quantite }));
  if (!lignes.length) { annoncer("Aucune quantité à demander.", { erreur: true }); return; }
  $("btn-soumettre").disabled = true;
  try {
    const d = await api("POST", "/api/stocks/demandes", { corps: { magasin_id: magasin, lignes } });
    annoncer(`Demande n° ${d.id} envoyée au centre logistique (${lignes.length} ligne(s)).`);
    await Promise.all([suggestion(), demandes()]);
  } catch (err) {
    signaler(err);
  } finally {
    $("btn-soumettre").disabled = proposition.length === 0;
  }
}

function carte(d) {
  const expediee = d.statut === "expediee";
  const lignes = d.lignes.map((l) => {
    const envoye = l.quantite_approuvee ?? null;
    let recu = l.quantite_recue === null ? "—" : String(l.quantite_recue);
    if (expediee && envoye > 0) {
      recu = el("input", { type: "number", min: "0", max: String(envoye), value: String(envoye), className: "quantite",
        id: `recu-${d.id}-${l.produit_id}`, "aria-label": `Quantité de ${nom(l.produit_id)} reçue` });
    }
    return el("tr", { "data-produit": String(l.produit_id) }, el("td", {}, nom(l.produit_id)),
      el("td", { className: "nombre" }, String(l.quantite_demandee)),
      el("td", { className: "nombre" }, envoye === null ? "—" : String(envoye)),
      el("td", { className: "nombre" }, recu));
  });
  const tableau = el("table", {},
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Produit"), el("th", { scope: "col", className: "nombre" }, "Demandé"),
      el("th", { scope: "col", className: "nombre" }, "Approuvé"), el("th", { scope: "col", className: "nombre" }, "Reçu"))),
    el("tbody", {}, ...lignes));
  const article = el("article", { className: "demande", "data-demande": String(d.id), "data-statut": d.statut },
    el("h3", {}, `Demande n° ${d.id} — `, el("span", { className: "statut" }, statut(d.statut))),
    d.motif_refus ? el("p", { className: "alerte-texte" }, `Motif du refus : ${d.motif_refus}`) : null,
    tableau, historique(d));
  if (expediee) {
    const motif = el("input", { type: "text", id: `motif-${d.id}`, maxLength: 255, placeholder: "Ex. : carton endommagé" });
    const bouton = el("button", { type: "button", id: `btn-reception-${d.id}`, className: "principal" }, "Confirmer la réception");
    bouton.addEventListener("click", () => recevoir(d, bouton).catch(signaler));
    article.append(el("div", { className: "ligne" },
      el("label", { for: `motif-${d.id}` }, "Motif d’un écart (obligatoire s’il manque quelque chose)"), motif), bouton);
  }
  return article;
}

async function recevoir(d, bouton) {
  const lignes = d.lignes.filter((l) => (l.quantite_approuvee || 0) > 0).map((l) => ({
    produit_id: l.produit_id,
    quantite: Number.parseInt($(`recu-${d.id}-${l.produit_id}`).value, 10),
  }));
  if (lignes.some((l) => !Number.isInteger(l.quantite) || l.quantite < 0)) {
    annoncer("Chaque quantité reçue doit être un nombre entier positif ou nul.", { erreur: true });
    return;
  }
  const motif = $(`motif-${d.id}`).value.trim();
  bouton.disabled = true;
  try {
    await api("POST", `/api/stocks/demandes/${d.id}/reception`, { corps: { lignes, ...(motif ? { motif } : {}) } });
    annoncer(`Réception de la demande n° ${d.id} enregistrée.`);
    await Promise.all([demandes(), suggestion()]);
  } finally {
    bouton.disabled = false;
  }
}

async function demandes() {
  const r = await api("GET", `/api/stocks/demandes?magasin_id=${magasin}&limit=100`);
  const liste = r.demandes.slice().reverse(); // newest first
  await chargerNoms(liste.flatMap((d) => d.lignes.map((l) => l.produit_id)));
  $("demandes-vide").hidden = liste.length > 0;
  $("demandes").replaceChildren(...liste.map(carte));
}

function afficher() {
  $("magasin").textContent = `— magasin ${magasin}`;
  Promise.all([suggestion(), demandes()]).catch(signaler);
}

if (s) {
  session.entete(s);
  $("lien-caisse").hidden = s.employe.role !== "gerant";
  $("btn-soumettre").addEventListener("click", () => soumettre());
  if (s.employe.magasin_id) {
    magasin = s.employe.magasin_id;
    afficher();
  } else {
    $("choix-magasin").hidden = false;
    $("choix-magasin").addEventListener("submit", (ev) => {
      ev.preventDefault();
      magasin = Number($("magasin-id").value);
      afficher();
    });
  }
}
