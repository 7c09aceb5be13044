// Head office's dashboard (GET /api/rapports/tableau-de-bord): sales per
// store side by side, the daily trend as an inline SVG chart, top products,
// stock alerts, and the sales CSV export (fetched with the token, then
// saved as a file).

import { api, signaler, ErreurApi } from "./api.js";
import { argent, aujourdhuiMagasin, cents, el } from "./format.js";
import { barres } from "./graphique.js";
import * as session from "./session.js";

const s = session.exiger(["admin", "gerant"]);
const $ = (id) => document.getElementById(id);
const ETATS = { rupture: "Rupture", sous_le_seuil: "Sous le seuil d’alerte", surstock: "Surstock", normal: "Normal" };

function iso(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function parametres() {
  const p = new URLSearchParams({ du: $("du").value, au: $("au").value });
  if ($("magasin").value) p.set("magasin_id", $("magasin").value);
  return p;
}

function ventes(r) {
  const totalNet = Math.max(1, cents(r.total.net));
  $("periode").textContent = `du ${r.du} au ${r.au}`;
  $("ventes-magasins").tBodies[0].replaceChildren(...r.magasins.map((m) => {
    const part = Math.round((100 * Math.max(0, cents(m.net))) / totalNet);
    return el("tr", { "data-magasin": String(m.magasin_id) },
      el("th", { scope: "row" }, `${m.magasin} (n° ${m.magasin_id})`),
      el("td", { className: "nombre" }, String(m.nb_ventes)),
      el("td", { className: "nombre" }, argent(m.brut)),
      el("td", { className: "nombre" }, argent(m.retours)),
      el("td", { className: "nombre" }, argent(m.annulations)),
      el("td", { className: "nombre" }, argent(m.net)),
      el("td", { className: "nombre" }, argent(m.panier_moyen)),
      el("td", {}, el("span", { className: "jauge", style: `--part:${part}%` }), ` ${part} %`));
  }));
  $("ventes-magasins").tFoot.replaceChildren(el("tr", {},
    el("th", { scope: "row" }, "Total"), el("td", { className: "nombre" }, String(r.total.nb_ventes)),
    el("td", { className: "nombre" }, argent(r.total.brut)), el("td", { className: "nombre" }, argent(r.total.retours)),
    el("td", { className: "nombre" }, argent(r.total.annulations)), el("td", { className: "nombre" }, argent(r.total.net)),
    el("td", { className: "nombre" }, argent(r.total.panier_moyen)), el("td", {}, "")));
}

function tendance(t) {
  const jour = (j) => new Date(j.jour + "T12:00:00").toLocaleDateString("fr-CA", { day: "numeric", month: "short" });
  barres($("graphique"), t.jours.map((j) => ({ libelle: jour(j), valeur: Math.max(0, cents(j.total.net)) / 100, etiquette: argent(j.total.net) })),
    { titre: `Ventes nettes par jour du ${t.du} au ${t.au}` });
  $("tendance-table").tBodies[0].replaceChildren(...t.jours.map((j) => el("tr", {},
    el("td", {}, j.jour), el("td", { className: "nombre" }, String(j.total.nb_ventes)), el("td", { className: "nombre" }, argent(j.total.net)))));
}

function classement(liste, champ) {
  return liste.length
    ? liste.map((p) => el("li", {}, `${p.nom || "produit " + p.produit_id} — ${champ === "montant" ? argent(p.montant) : p.quantite + " vendu(s)"}`))
    : [el("li", {}, "Aucune vente sur la période.")];
}

async function charger() {
  const p = parametres();
  const jours = Math.min(366, Math.max(1, Math.round((Date.parse($("au").value) - Date.parse($("du").value)) / 86400000) + 1));
  p.set("jours", String(jours));
  const r = await api("GET", `/api/rapports/tableau-de-bord?${p}`);
  ventes(r.ventes);
  tendance(r.tendance);
  $("top-montant").replaceChildren(...classement(r.produits.par_montant, "montant"));
  $("top-quantite").replaceChildren(...classement(r.produits.par_quantite, "quantite"));
  const alertes = r.alertes_stock.stocks;
  $("alertes").tBodies[0].replaceChildren(...(alertes.length ? alertes.map((a) => el("tr", {},
    el("td", {}, String(a.magasin_id)), el("td", {}, a.nom || `produit ${a.produit_id}`),
    el("td", { className: "nombre" }, String(a.quantite)), el("td", { className: "nombre" }, String(a.seuil_alerte)),
    el("td", { className: a.statut === "rupture" ? "etat-rupture" : "etat-alerte" }, ETATS[a.statut] || a.statut)))
    : [el("tr", {}, el("td", { colSpan: 5 }, "Aucune alerte."))]));
  document.body.dataset.charge = String(r.ventes.total.nb_ventes);
}

async function exporter() {
  const session = JSON.parse(localStorage.getItem("caisse.session"));
  const reponse = await fetch(`/api/rapports/ventes.csv?${parametres()}`, { headers: { Authorization: "Bearer " + session.jeton } });
  if (!reponse.ok) throw new ErreurApi(reponse.status, "Export impossible", `le serveur a répondu ${reponse.status}`);
  const url = URL.createObjectURL(await reponse.blob());
  const a = el("a", { href: url, download: `ventes_${$("du").value}_${$("au").value}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

if (s) {
  session.entete(s);
  $("lien-produits").hidden = s.employe.role !== "admin";
  // Store days (America/Toronto), as reporting counts them.
  const aujourdhui = aujourdhuiMagasin();
  $("au").value = aujourdhui;
  $("du").value = iso(new Date(Date.parse(aujourdhui + "T12:00:00") - 6 * 86400000));
  $("filtres").addEventListener("submit", (ev) => { ev.preventDefault(); charger().catch(signaler); });
  $("btn-csv").addEventListener("click", () => exporter().catch(signaler));
  (async () => {
    if (s.employe.role === "admin") {
      const { magasins } = await api("GET", "/api/magasins?type=magasin");
      $("magasin").append(...magasins.map((m) => el("option", { value: String(m.id) }, `${m.nom} (n° ${m.id})`)));
    } else {
      $("magasin").replaceChildren(el("option", { value: String(s.employe.magasin_id) }, `Mon magasin (n° ${s.employe.magasin_id})`));
    }
    await charger();
  })().catch(signaler);
}
