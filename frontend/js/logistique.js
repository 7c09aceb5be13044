// Logistics: ship goods from the logistics centre to a store (POST
// /api/stocks/transferts), with the centre's and the store's stock beside
// each line. One Idempotency-Key per shipment, kept until a final answer,
// so a retry never ships twice; a shortage names the lines.
// Above it, the stores' restocking requests (logistique-demandes.js).

import { api, annoncer, ErreurApi, signaler } from "./api.js";
import { el, nouvelleCle } from "./format.js";
import { fileDemandes } from "./logistique-demandes.js";
import * as session from "./session.js";

const s = session.exiger(["logistique", "admin"]);
const $ = (id) => document.getElementById(id);
const CENTRE = (s && s.employe.magasin_id) || 6;
const lignes = new Map(); // produit_id -> { produit, centre, magasin, quantite }
let envoi = null; // { cle, corps } until a final answer
let expedie = null; // the body just shipped: the same lines again need a change first

async function stock(magasin, produitId) {
  try {
    return (await api("GET", `/api/stocks/magasins/${magasin}/produits/${produitId}`)).quantite;
  } catch (err) {
    if (err instanceof ErreurApi && err.statut === 404) return 0;
    throw err;
  }
}

function afficher() {
  $("lignes-vide").hidden = lignes.size > 0;
  $("lignes").tBodies[0].replaceChildren(...[...lignes.values()].map((l) => {
    const champ = el("input", { type: "number", min: "1", max: "100000", value: String(l.quantite), className: "quantite", id: `envoi-${l.produit.id}`, "aria-label": `Quantité de ${l.produit.nom} à expédier` });
    champ.addEventListener("change", () => { l.quantite = Number.parseInt(champ.value, 10) || 0; envoi = null; });
    const retirer = el("button", { type: "button", className: "petit danger", textContent: "Retirer", "aria-label": `Retirer ${l.produit.nom} de l’envoi` });
    retirer.addEventListener("click", () => { lignes.delete(l.produit.id); envoi = null; afficher(); });
    return el("tr", { "data-produit": String(l.produit.id) }, el("td", {}, l.produit.nom, l.manque ? el("span", { className: "bloc alerte-texte" }, l.manque) : null),
      el("td", { className: "nombre" }, String(l.centre)), el("td", { className: "nombre" }, String(l.magasin)),
      el("td", { className: "centre" }, champ), el("td", {}, retirer));
  }));
}

async function ajouter(p) {
  const destination = Number($("destination").value);
  const [centre, magasin] = await Promise.all([stock(CENTRE, p.id), stock(destination, p.id)]);
  lignes.set(p.id, { produit: p, centre, magasin, quantite: lignes.get(p.id)?.quantite || 1 });
  envoi = null;
  afficher();
}

async function rechercher() {
  const { produits } = await api("GET", `/api/produits?q=${encodeURIComponent($("q").value.trim())}&limit=10`);
  $("resultats").replaceChildren(...produits.map((p) => {
    const b = el("button", { type: "button", className: "resultat", "aria-label": `Ajouter ${p.nom} à l’envoi` },
      el("span", { className: "nom" }, p.nom), el("span", { className: "discret" }, `n° ${p.id}`), el("span", {}, "Ajouter"));
    b.addEventListener("click", () => ajouter(p).catch(signaler));
    return el("li", {}, b);
  }));
  if (!produits.length) $("resultats").replaceChildren(el("li", {}, "Aucun produit trouvé."));
}

async function expedier() {
  const destination = Number($("destination").value);
  if (!envoi) {
    const l = [...lignes.values()].map((x) => ({ produit_id: x.produit.id, quantite: x.quantite }));
    if (!l.length) { annoncer("Ajoutez au moins une ligne.", { erreur: true }); return; }
    const corps = { source_id: CENTRE, destination_id: destination, lignes: l };
    if (JSON.stringify(corps) === expedie) {
      annoncer("Cet envoi vient d’être expédié : modifiez-le (magasin, produits, quantités) pour en faire un autre.", { erreur: true });
      return;
    }
    envoi = { cle: nouvelleCle(), corps };
  }
  $("btn-expedier").disabled = true;
  try {
    const t = await api("POST", "/api/stocks/transferts", { corps: envoi.corps, cle: envoi.cle });
    expedie = JSON.stringify(envoi.corps);
    envoi = null;
    annoncer(`Transfert n° ${t.id} expédié au magasin ${destination}.`);
    for (const l of lignes.values()) {
      [l.centre, l.magasin] = await Promise.all([stock(CENTRE, l.produit.id), stock(destination, l.produit.id)]);
      l.manque = null;
    }
    afficher();
  } catch (err) {
    if (err instanceof ErreurApi && !err.reseau && err.statut < 500) envoi = null; // final: a new key next time
    for (const m of (err.corps && err.corps.manquants) || []) {
      const l = lignes.get(m.produit_id);
      if (l) l.manque = `Stock insuffisant au centre : ${m.disponible} disponible(s) pour ${m.demande}`;
    }
    afficher();
    signaler(err);
  } finally {
    $("btn-expedier").disabled = false;
  }
}

if (s) {
  session.entete(s);
  fileDemandes();
  $("centre").textContent = `— centre ${CENTRE}`;
  $("recherche-form").addEventListener("submit", (ev) => { ev.preventDefault(); rechercher().catch(signaler); });
  $("btn-expedier").addEventListener("click", () => expedier());
  $("destination").addEventListener("change", () => {
    envoi = null;
    Promise.all([...lignes.values()].map(async (l) => { l.magasin = await stock(Number($("destination").value), l.produit.id); })).then(afficher).catch(signaler);
  });
  api("GET", "/api/magasins?type=magasin").then(({ magasins }) => {
    $("destination").replaceChildren(...magasins.map((m) => el("option", { value: String(m.id) }, `${m.nom} (n° ${m.id})`)));
  }).catch(signaler);
}
