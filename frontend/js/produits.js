// Head office: the catalogue (search, paging) and the product editor.
// Edits send If-Match with the ETag read; a 412 (someone saved first) shows
// the other person's values beside ours and lets the admin choose.

import { ErreurApi, annoncer, api, effacerMessage, requete, signaler } from "./api.js";
import { argent, cents, dateHeure, el } from "./format.js";
import * as session from "./session.js";

const s = session.exiger(["admin"]);
const $ = (id) => document.getElementById(id);
const CHAMPS = ["nom", "description", "prix", "code_barres"];
const BROUILLON = "caisse.brouillon.produit";
const TAILLE = 20;

const liste = { q: "", pages: [0], suivant: null };
// `original`: the values as read, so that only the fields the admin changed are sent.
const edition = { produit: null, etag: null, original: null };

// ---- List -------------------------------------------------------------------

async function chargerListe() {
  const apres = liste.pages[liste.pages.length - 1];
  const r = await api("GET", `/api/produits?q=${encodeURIComponent(liste.q)}&inclure_inactifs=true&limit=${TAILLE}&apres=${apres}`);
  liste.suivant = r.suivant;
  $("produits").tBodies[0].replaceChildren(...r.produits.map((p) => {
    const lien = el("button", { type: "button", className: "petit neutre", textContent: p.nom, "aria-label": `Modifier ${p.nom}` });
    lien.addEventListener("click", () => ouvrir(p.id).catch(signaler));
    const tr = el("tr", { "data-produit": String(p.id) }, el("td", {}, String(p.id)), el("td", {}, lien),
      el("td", { className: "nombre" }, argent(p.prix)), el("td", {}, p.actif ? "Actif" : "Désactivé"));
    if (edition.produit && edition.produit.id === p.id) tr.classList.add("selection");
    return tr;
  }));
  $("page-info").textContent = r.produits.length
    ? `Page ${liste.pages.length} — produits ${r.produits[0].id} à ${r.produits[r.produits.length - 1].id}`
    : "Aucun produit ne correspond.";
  $("btn-precedents").disabled = liste.pages.length === 1;
  $("btn-suivants").disabled = liste.suivant === null || liste.suivant === undefined;
}

$("recherche-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  liste.q = $("q").value.trim();
  liste.pages = [0];
  chargerListe().catch(signaler);
});
$("btn-suivants").addEventListener("click", () => { liste.pages.push(liste.suivant); chargerListe().catch(signaler); });
$("btn-precedents").addEventListener("click", () => { liste.pages.pop(); chargerListe().catch(signaler); });

// ---- Editor -----------------------------------------------------------------

function valeurs() {
  return Object.fromEntries(CHAMPS.map((c) => [c, $(c).value]));
}

function remplir(v) {
  for (const c of CHAMPS) $(c).value = v[c] ?? "";
}

function depuisProduit(p) {
  return { nom: p.nom, description: p.description, prix: p.prix, code_barres: p.code_barres || "" };
}

function erreursChamps(erreurs) {
  for (const c of CHAMPS) { $("err-" + c).hidden = true; $(c).removeAttribute("aria-invalid"); }
  for (const e of erreurs) {
    if (!CHAMPS.includes(e.champ)) continue;
    $("err-" + e.champ).textContent = `${$(e.champ).labels[0].textContent} : ${e.message}`;
    $("err-" + e.champ).hidden = false;
    $(e.champ).setAttribute("aria-invalid", "true");
  }
}

/** GS1 check digit (EAN-8, UPC-A, EAN-13), as produit checks it. */
function verifierCode(code) {
  if (!code) return null;
  if (!/^\d+$/.test(code) || ![8, 12, 13].includes(code.length)) return "8, 12 ou 13 chiffres attendus (EAN-8, UPC-A, EAN-13)";
  const d = [...code].map(Number);
  const corps = d.slice(0, -1).reverse();
  const somme = corps.reduce((t, x, i) => t + x * (i % 2 === 0 ? 3 : 1), 0);
  const cle = (10 - (somme % 10)) % 10;
  return cle === d[d.length - 1] ? null : `chiffre de contrôle invalide (attendu ${cle})`;
}

function verifier(v) {
  const erreurs = [];
  if (!v.nom.trim()) erreurs.push({ champ: "nom", message: "obligatoire" });
  if (cents(v.prix) === null || cents(v.prix) < 0) erreurs.push({ champ: "prix", message: "un montant positif, ex. 12.50" });
  const code = verifierCode(v.code_barres.trim());
  if (code) erreurs.push({ champ: "code_barres", message: code });
  if (edition.produit && edition.produit.code_barres && !v.code_barres.trim()) {
    erreurs.push({ champ: "code_barres", message: "un code-barres ne peut pas être retiré, seulement remplacé" });
  }
  return erreurs;
}

async function ouvrir(id) {
  const r = await requete("GET", `/api/produits/${id}`);
  afficher(r.donnees, r.etag);
  for (const tr of $("produits").tBodies[0].rows) tr.classList.toggle("selection", tr.dataset.produit === String(id));
  $("nom").focus();
}

function afficher(p, etag) {
  edition.produit = p;
  edition.etag = etag;
  edition.original = p ? depuisProduit(p) : null;
  $("editeur").hidden = false;
  $("conflit").hidden = true;
  erreursChamps([]);
  remplir(p ? depuisProduit(p) : { nom: "", description: "", prix: "", code_barres: "" });
  $("titre-editeur").textContent = p ? `Produit n° ${p.id}` : "Nouveau produit";
  $("etat-produit").textContent = p ? `${p.actif ? "Actif" : "Désactivé"} — version ${p.version}, modifié le ${dateHeure(p.modifie_le)}` : "";
  $("btn-desactiver").hidden = !p || !p.actif;
  historique(p).catch(() => { $("historique").replaceChildren(el("li", {}, "Historique indisponible.")); });
}

async function enregistrer(v, etag) {
  const erreurs = verifier(v);
  erreursChamps(erreurs);
  if (erreurs.length) { annoncer("Corrigez les champs signalés.", { erreur: true }); return; }
  const propre = { nom: v.nom.trim(), description: v.description, prix: v.prix.trim().replace(",", "."), code_barres: v.code_barres.trim() };
  const corps = {};
  for (const c of CHAMPS) {
    if (edition.original && propre[c] === edition.original[c]) continue; // unchanged: never overwrite someone else's value
    if (c === "code_barres" && !propre[c]) continue;
    corps[c] = propre[c];
  }
  if (edition.produit && Object.keys(corps).length === 0) { annoncer("Aucun changement à enregistrer."); return; }
  try {
    const r = edition.produit
      ? await requete("PATCH", `/api/produits/${edition.produit.id}`, { corps, siVersion: etag })
      : await requete("POST", "/api/produits", { corps });
    afficher(r.donnees, r.etag);
    annoncer(`Produit n° ${r.donnees.id} enregistré (version ${r.donnees.version}).`);
    await chargerListe();
  } catch (err) {
    if (err instanceof ErreurApi && err.statut === 412) return conflit(v);
    if (err instanceof ErreurApi && err.corps && err.corps.errors) erreursChamps(err.corps.errors);
    signaler(err);
  }
}

/**
 * Someone saved first: show their values beside ours. "Keep mine" applies
 * only the fields this admin changed on top of the version now stored.
 */
async function conflit(miennes) {
  const original = edition.original;
  const r = await requete("GET", `/api/produits/${edition.produit.id}`);
  const leurs = depuisProduit(r.donnees);
  const changes = CHAMPS.filter((c) => miennes[c] !== original[c]);
  $("conflit-texte").textContent = `Le produit a été modifié pendant que vous l’éditiez (version ${r.donnees.version}, le ${dateHeure(r.donnees.modifie_le)}). Rien de vos changements n’a été enregistré.`;
  $("conflit-lignes").replaceChildren(...CHAMPS.map((c) => el("tr", { className: miennes[c] !== leurs[c] ? "diff" : "" },
    el("td", {}, $(c).labels[0].textContent, miennes[c] !== leurs[c] ? el("span", { className: "bloc alerte-texte" }, "diffère") : null),
    el("td", { "data-champ": c, className: "miennes" }, miennes[c] || "—"),
    el("td", { "data-champ": c, className: "leurs" }, leurs[c] || "—"))));
  $("conflit").hidden = false;
  annoncer("Conflit : quelqu’un d’autre a enregistré ce produit avant vous. Comparez puis choisissez.", { erreur: true });
  $("btn-garder-miennes").textContent = `Appliquer mes changements (${changes.map((c) => $(c).labels[0].textContent).join(", ")}) à leur version`;
  $("btn-garder-miennes").onclick = () => {
    const fusion = { ...leurs };
    for (const c of changes) fusion[c] = miennes[c];
    afficher(r.donnees, r.etag);
    remplir(fusion);
    enregistrer(fusion, r.etag);
  };
  $("btn-prendre-leurs").onclick = () => afficher(r.donnees, r.etag);
  $("btn-garder-miennes").focus();
}

async function historique(p) {
  const ul = $("historique");
  if (!p) { ul.replaceChildren(); return; }
  // The product's own trail (GET /api/produits/{id}/historique), oldest first, paged.
  const changements = [];
  let apres = 0;
  for (let n = 0; n < 10 && apres !== null && apres !== undefined; n += 1) {
    const page = await api("GET", `/api/produits/${p.id}/historique?limit=100&apres=${apres}`);
    changements.push(...page.changements);
    apres = page.suivant;
  }
  ul.replaceChildren(...changements.reverse().map((c) => {
    const changes = c.avant
      ? c.champs.map((k) => `${k} : ${c.avant[k] ?? "—"} → ${c.apres[k] ?? "—"}`).join(", ")
      : "création";
    return el("li", {}, `${dateHeure(c.le)} — ${c.par} — ${changes || c.action}`);
  }));
  if (!changements.length) ul.replaceChildren(el("li", {}, "Aucun changement."));
}

$("form-produit").addEventListener("submit", (ev) => { ev.preventDefault(); effacerMessage(); enregistrer(valeurs(), edition.etag); });
$("btn-nouveau").addEventListener("click", () => { afficher(null, null); $("nom").focus(); });
$("btn-desactiver").addEventListener("click", async () => {
  if (!edition.produit || !window.confirm(`Désactiver « ${edition.produit.nom} » ? Il ne pourra plus être vendu.`)) return;
  try {
    const r = await requete("DELETE", `/api/produits/${edition.produit.id}`, { siVersion: edition.etag });
    afficher(r.donnees, r.etag);
    annoncer(`Produit n° ${r.donnees.id} désactivé.`);
    await chargerListe();
  } catch (err) {
    if (err instanceof ErreurApi && err.statut === 412) return conflit(valeurs());
    signaler(err);
  }
});

// ---- Start ------------------------------------------------------------------

if (s) {
  session.entete(s);
  // Work in progress survives a session expiry.
  session.surExpiration(() => {
    if (!$("editeur").hidden) localStorage.setItem(BROUILLON, JSON.stringify({ id: edition.produit && edition.produit.id, etag: edition.etag, original: edition.original, valeurs: valeurs() }));
  });
  (async () => {
    await chargerListe();
    const b = JSON.parse(localStorage.getItem(BROUILLON) || "null");
    localStorage.removeItem(BROUILLON);
    if (b) {
      if (b.id) await ouvrir(b.id); else afficher(null, null);
      remplir(b.valeurs);
      // Saving checks the version read before: a change made meanwhile is a 412, never overwritten.
      if (b.etag) { edition.etag = b.etag; edition.original = b.original; }
      annoncer("Vos modifications non enregistrées ont été conservées : vérifiez puis enregistrez.");
    }
  })().catch(signaler);
}
