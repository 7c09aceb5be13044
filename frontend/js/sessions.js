// The store's register sessions (gérant; admin for a chosen store): the
// sessions still open, which a gérant closes with the cash counted in the
// drawer (a register left open at the end of a shift), and the closed ones
// with their expected cash, count and variance, each with its Z-report
// (the snapshot caisse took at closing), printable on the receipt printer.

import { api, annoncer, ErreurApi, signaler } from "./api.js";
import { argent, cents, dateHeure, decimal, el } from "./format.js";
import { comptage, ecartTexte, rapportZ } from "./rapport-z.js";
import * as session from "./session.js";

const s = session.exiger(["gerant", "admin"]);
const $ = (id) => document.getElementById(id);
let magasin = null;
let suivant = null;
let aFermer = null; // the open session being closed

async function ouvertes() {
  const { sessions } = await api("GET", `/api/caisses/sessions?magasin_id=${magasin}&statut=ouverte&limite=100`);
  const corps = $("ouvertes").tBodies[0];
  if (!sessions.length) {
    corps.replaceChildren(el("tr", {}, el("td", { colSpan: 6 }, "Aucune session ouverte.")));
    return;
  }
  corps.replaceChildren(...sessions.map((x) => {
    const bouton = el("button", { type: "button", className: "petit danger", textContent: "Fermer…",
      "aria-label": `Fermer la session ${x.id} de la caisse ${x.numero_caisse} (${x.caissier_login})` });
    bouton.addEventListener("click", () => demanderFermeture(x));
    return el("tr", { "data-session": String(x.id) },
      el("td", {}, `Caisse ${x.numero_caisse}`), el("td", {}, `n° ${x.id}`), el("td", {}, x.caissier_login),
      el("td", {}, dateHeure(x.ouverte_le)), el("td", { className: "nombre" }, argent(x.fond_de_caisse)), el("td", {}, bouton));
  }));
}

async function fermees(reset) {
  const apres = reset || suivant === null || suivant === undefined ? "" : `&apres=${suivant}`;
  const r = await api("GET", `/api/caisses/sessions?magasin_id=${magasin}&statut=fermee&limite=20${apres}`);
  const lignes = r.sessions.map((x) => {
    const bouton = el("button", { type: "button", className: "petit", textContent: "Rapport Z",
      "aria-label": `Rapport Z de la session ${x.id}` });
    bouton.addEventListener("click", () => montrerZ(x).catch(signaler));
    const manque = (cents(x.ecart) ?? 0) < 0;
    return el("tr", { "data-session": String(x.id) },
      el("td", {}, `Caisse ${x.numero_caisse}`), el("td", {}, `n° ${x.id}`), el("td", {}, x.caissier_login),
      el("td", {}, `${dateHeure(x.fermee_le)} par ${x.fermee_par || "—"}`),
      el("td", { className: "nombre" }, argent(x.especes_attendues)), el("td", { className: "nombre" }, argent(x.montant_compte)),
      el("td", { className: "nombre" + (manque ? " alerte-texte" : "") }, ecartTexte(x.ecart)), el("td", {}, bouton));
  });
  const corps = $("fermees").tBodies[0];
  if (reset) corps.replaceChildren(...(lignes.length ? lignes : [el("tr", {}, el("td", { colSpan: 8 }, "Aucune session fermée."))]));
  else corps.append(...lignes);
  suivant = r.suivant;
  $("btn-suite").hidden = suivant === null || suivant === undefined;
}

async function charger() {
  $("magasin").textContent = `— magasin ${magasin}`;
  await Promise.all([ouvertes(), fermees(true)]);
  document.body.dataset.charge = "1";
}

function messageFermeture(texte) {
  $("fermeture-message").textContent = texte ? "Erreur : " + texte : "";
  $("fermeture-message").hidden = !texte;
}

function demanderFermeture(x) {
  aFermer = x;
  $("titre-fermeture").textContent = `Fermer la session n° ${x.id} — caisse ${x.numero_caisse}`;
  $("fermeture-resume").textContent = `Ouverte par ${x.caissier_login} le ${dateHeure(x.ouverte_le)} avec un fond de ${argent(x.fond_de_caisse)}.`;
  $("montant-compte").value = "";
  messageFermeture(null);
  $("dialogue-fermeture").showModal();
  $("montant-compte").focus();
}

async function fermer() {
  const c = cents($("montant-compte").value);
  if (c === null || c < 0 || c > 100000000) {
    messageFermeture("Montant compté : les espèces du tiroir, fond compris (ex. 312.45).");
    $("montant-compte").focus();
    return;
  }
  const bouton = $("btn-confirmer-fermeture");
  if (bouton.disabled) return;
  bouton.disabled = true;
  try {
    const fermee = await api("POST", `/api/caisses/sessions/${aFermer.id}/fermeture`, { corps: { montant_compte: decimal(c) } });
    $("dialogue-fermeture").close();
    annoncer(`Session n° ${fermee.id} (caisse ${fermee.numero_caisse}) fermée : écart ${ecartTexte(fermee.ecart)}.`);
    await charger();
    await montrerZ(fermee, true);
  } catch (err) {
    messageFermeture(err instanceof ErreurApi ? err.texte() : String(err));
    if (err instanceof ErreurApi && err.statut === 409) await charger().catch(() => {});
  } finally {
    bouton.disabled = false;
  }
}

async function montrerZ(x, avecComptage = false) {
  const z = await api("GET", `/api/caisses/sessions/${x.id}/rapport-z`);
  $("comptage").replaceChildren(...(avecComptage ? [comptage(z.session)] : []));
  $("rapport-z").replaceChildren(...rapportZ(z));
  document.body.dataset.rapportZ = String(x.id);
  const d = $("dialogue-z");
  if (!d.open) d.showModal();
  // The count and the report's top in view; the focus on "Imprimer".
  d.scrollTop = 0;
  $("btn-imprimer-z").focus({ preventScroll: true });
}

if (s) {
  session.entete(s);
  $("lien-caisse").hidden = s.employe.role !== "gerant";
  $("form-fermeture").addEventListener("submit", (ev) => { ev.preventDefault(); fermer(); });
  $("btn-annuler-fermeture").addEventListener("click", () => $("dialogue-fermeture").close());
  $("btn-imprimer-z").addEventListener("click", () => window.print());
  $("btn-fermer-z").addEventListener("click", () => $("dialogue-z").close());
  $("btn-suite").addEventListener("click", () => fermees(false).catch(signaler));
  if (s.employe.magasin_id) {
    magasin = s.employe.magasin_id;
    charger().catch(signaler);
  } else {
    $("choix-magasin").hidden = false;
    $("choix-magasin").addEventListener("submit", (ev) => {
      ev.preventDefault();
      magasin = Number($("magasin-id").value);
      charger().catch(signaler);
    });
  }
}
