// Stock of a store (store staff: their own; admin and logistics: any),
// paged, or its alerts only, with the state of each entry written out (not
// colour alone).

import { api, signaler } from "./api.js";
import { el } from "./format.js";
import * as session from "./session.js";

const s = session.exiger(["caissier", "gerant", "logistique", "admin"]);
const $ = (id) => document.getElementById(id);
let magasin = null;
let suivant = null;

function etat(st) {
  if (st.quantite <= 0) return el("span", { className: "etat-rupture" }, "Rupture");
  if (st.quantite <= st.seuil_alerte) return el("span", { className: "etat-alerte" }, "Sous le seuil d’alerte");
  if (st.quantite >= st.seuil_surstock) return el("span", { className: "etat-alerte" }, "Surstock");
  return el("span", { className: "etat-ok" }, "Normal");
}

async function page(reset) {
  if ($("alertes-seulement").checked) return alertes();
  const apres = reset ? "" : `&apres=${suivant}`;
  const r = await api("GET", `/api/stocks/magasins/${magasin}?limit=50${apres}`);
  const lignes = r.stocks.map((st) => el("tr", {},
    el("td", {}, String(st.produit_id)), el("td", { className: "nombre" }, String(st.quantite)),
    el("td", { className: "nombre" }, String(st.seuil_alerte)), el("td", { className: "nombre" }, String(st.seuil_surstock)),
    el("td", {}, etat(st))));
  const corps = $("stocks").tBodies[0];
  if (reset) corps.replaceChildren(...lignes); else corps.append(...lignes);
  suivant = r.suivant;
  $("btn-suite").hidden = suivant === null || suivant === undefined;
  $("magasin").textContent = `— magasin ${magasin}`;
}

/** The store's entries in alert only (GET /api/stocks/alertes). */
async function alertes() {
  const r = await api("GET", `/api/stocks/alertes?magasin_id=${magasin}&limit=100`);
  $("stocks").tBodies[0].replaceChildren(...(r.alertes.length ? r.alertes.map((st) => el("tr", {},
    el("td", {}, String(st.produit_id)), el("td", { className: "nombre" }, String(st.quantite)),
    el("td", { className: "nombre" }, String(st.seuil_alerte)), el("td", { className: "nombre" }, String(st.seuil_surstock)),
    el("td", {}, etat(st))))
    : [el("tr", {}, el("td", { colSpan: 5 }, "Aucune alerte."))]));
  $("btn-suite").hidden = true;
  $("magasin").textContent = `— magasin ${magasin}`;
}

if (s) {
  $("alertes-seulement").addEventListener("change", () => { if (magasin) page(true).catch(signaler); });
  session.entete(s);
  const role = s.employe.role;
  $("lien-caisse").hidden = !["caissier", "gerant"].includes(role);
  $("lien-produits").hidden = role !== "admin";
  $("lien-reappro").hidden = !["gerant", "admin"].includes(role);
  $("lien-sessions").hidden = !["gerant", "admin"].includes(role);
  $("btn-suite").addEventListener("click", () => page(false).catch(signaler));
  if (s.employe.magasin_id) {
    magasin = s.employe.magasin_id;
    page(true).catch(signaler);
  } else {
    $("choix-magasin").hidden = false;
    $("choix-magasin").addEventListener("submit", (ev) => {
      ev.preventDefault();
      magasin = Number($("magasin-id").value);
      page(true).catch(signaler);
    });
  }
}
