// Which register this page sells on: the register session (caisse's
// `Session`). After login the cashier picks one of the store's registers
// (GET /api/caisses, each with its open session and who holds it) and opens
// a session with the float counted into the drawer, or takes back their own
// session still open. The session id is kept in localStorage (shared by a
// second tab, kept across a reload and an expired login) and checked again
// with GET /api/caisses/sessions/{id} when the page loads; offline the kept
// session is used as is (a sale rung offline belongs to it). "Fermer la
// caisse" asks the counted cash, shows expected / counted / variance and the
// Z-report, printable on the receipt printer.

import { api, annoncer, effacerMessage, ErreurApi, signaler } from "./api.js";
import { argent, cents, decimal, el, heure } from "./format.js";
import { comptage, ecartTexte, rapportZ } from "./rapport-z.js";

const CLE = "caisse.session-caisse";
const $ = (id) => document.getElementById(id);

/** The kept session of `login` on this browser, or null. */
export function sessionGardee(login) {
  try {
    const g = JSON.parse(localStorage.getItem(CLE) || "null");
    return g && g.login === login && g.session ? g.session : null;
  } catch (_) {
    return null;
  }
}

function garder(login, session) {
  localStorage.setItem(CLE, JSON.stringify({ login, session }));
}

function oublier() {
  localStorage.removeItem(CLE);
}

/** "200", "200.5", "200,50" -> cents; null unless 0 ≤ x ≤ 10 000.00 with at most 2 decimals. */
function montantValide(texte, max = 1000000) {
  const c = cents(texte);
  return c === null || c < 0 || c > max ? null : c;
}

/**
 * ctx: { employe, magasinId, commencer(session, { horsLigne }), arreter(), occupee() -> null | reason }
 * `commencer` shows the selling screen on that session; `arreter` leaves it;
 * `occupee` says why the register cannot be closed now (cart, queue).
 */
export function posteCaisse(ctx) {
  const login = ctx.employe.login;
  let courante = null;
  let fermee = null; // the session just closed, while its result is shown

  function entete() {
    const p = $("poste");
    p.textContent = courante
      ? `· caisse ${courante.numero_caisse}, session n° ${courante.id}`
      : "· aucune caisse ouverte";
    $("btn-fermer-caisse").hidden = !courante;
    document.body.dataset.session = courante ? String(courante.id) : "";
  }

  function choisir(message) {
    courante = null;
    entete();
    ctx.arreter();
    $("choix-caisse").hidden = false;
    if (message) annoncer(message, { erreur: true });
    return lister().catch(signaler);
  }

  function adopter(session, options = {}) {
    courante = session;
    garder(login, session);
    $("choix-caisse").hidden = true;
    entete();
    return ctx.commencer(session, options);
  }

  // ---- The store's registers ------------------------------------------------

  async function lister() {
    const corps = $("caisses").tBodies[0];
    const { caisses } = await api("GET", `/api/caisses?magasin_id=${ctx.magasinId}`);
    document.body.dataset.caisses = String(caisses.length);
    if (caisses.length === 0) {
      corps.replaceChildren(el("tr", {}, el("td", { colSpan: 3 }, "Ce magasin n’a aucune caisse : un·e gérant·e doit en créer une.")));
      return;
    }
    corps.replaceChildren(...caisses.map(ligneCaisse));
    const champ = corps.querySelector("input");
    const reprendre = corps.querySelector("button.reprendre");
    (reprendre || champ)?.focus();
  }

  function ligneCaisse(c) {
    const o = c.session_ouverte;
    const nom = c.nom || `Caisse ${c.numero}`;
    const etat = o
      ? el("td", {}, el("strong", {}, "Ouverte"), ` par ${o.caissier_login} depuis ${heure(o.ouverte_le)}`,
        el("span", { className: "discret bloc" }, `session n° ${o.id}, fond ${argent(o.fond_de_caisse)}`))
      : el("td", {}, el("span", { className: "etat-ok" }, "Libre"));
    let action;
    if (!o) {
      const id = `fond-${c.id}`;
      const champ = el("input", { id, name: id, inputMode: "decimal", autocomplete: "off", className: "fond", placeholder: "200.00" });
      const bouton = el("button", { type: "submit", id: `btn-ouvrir-${c.id}`, textContent: "Ouvrir" });
      bouton.setAttribute("aria-label", `Ouvrir ${nom}`);
      const form = el("form", { className: "ligne ouverture" },
        el("label", { for: id, className: "visuellement-cache" }, `Fond de caisse de ${nom} ($)`), champ, bouton);
      form.addEventListener("submit", (ev) => { ev.preventDefault(); ouvrir(c, champ, bouton); });
      action = form;
    } else if (o.caissier_login === login) {
      action = el("button", { type: "button", className: "reprendre", textContent: "Reprendre ma session" });
      action.setAttribute("aria-label", `Reprendre ma session sur ${nom}`);
      action.addEventListener("click", () => adopter(o).catch(signaler));
    } else if (ctx.employe.role === "gerant") {
      action = el("a", { href: "/sessions.html" }, "Fermer depuis « Sessions de caisse »");
    } else {
      action = el("span", { className: "discret" }, "Occupée");
    }
    return el("tr", { "data-caisse": String(c.id), "data-numero": String(c.numero), "data-etat": o ? "ouverte" : "libre" },
      el("th", { scope: "row" }, nom), etat, el("td", {}, action));
  }

  async function ouvrir(c, champ, bouton) {
    effacerMessage();
    const fond = montantValide(champ.value);
    if (fond === null) {
      annoncer(`Fond de caisse de ${c.nom || "Caisse " + c.numero} : un montant de 0 à 10 000,00 $ (ex. 200.00).`, { erreur: true });
      champ.focus();
      return;
    }
    if (bouton.disabled) return;
    bouton.disabled = true;
    try {
      const session = await api("POST", `/api/caisses/${c.id}/sessions`, { corps: { fond_de_caisse: decimal(fond) } });
      annoncer(`Session n° ${session.id} ouverte sur ${c.nom || "Caisse " + c.numero} avec un fond de ${argent(session.fond_de_caisse)}.`);
      await adopter(session);
    } catch (err) {
      // Already open: ours (a lost answer, another tab) is taken back; someone else's is shown.
      const autre = err instanceof ErreurApi && err.statut === 409 && err.corps && err.corps.session_id;
      if (autre) {
        const session = await api("GET", `/api/caisses/sessions/${err.corps.session_id}`).catch(() => null);
        if (session && session.statut === "ouverte" && session.caissier_login === login) {
          await adopter(session);
          return;
        }
      }
      signaler(err);
      await lister().catch(() => {});
    } finally {
      bouton.disabled = false;
    }
  }

  // ---- Start: the kept session, checked again ---------------------------------

  async function demarrer() {
    const gardee = sessionGardee(login);
    if (!navigator.onLine) {
      if (gardee) return adopter(gardee, { horsLigne: true });
      courante = null;
      entete();
      ctx.arreter();
      $("choix-caisse").hidden = false;
      annoncer("Hors ligne et aucune session de caisse sur ce poste : ouvrez une session quand le réseau revient.", { erreur: true });
      return;
    }
    if (!gardee) return choisir();
    let session;
    try {
      session = await api("GET", `/api/caisses/sessions/${gardee.id}`);
    } catch (err) {
      if (err.reseau) return adopter(gardee, { horsLigne: true });
      oublier();
      return choisir(err.statut === 404 || err.statut === 403 ? null : err.texte());
    }
    if (session.statut !== "ouverte") {
      oublier();
      return choisir(`La session n° ${session.id} (caisse ${session.numero_caisse}) a été fermée par ${session.fermee_par || "un·e gérant·e"} : ouvrez une session pour continuer.`);
    }
    return adopter(session);
  }

  /** A cart creation refused because the session is no longer usable (closed by a gérant). */
  function sessionPerdue(err) {
    oublier();
    return choisir(err.texte());
  }

  // ---- Closing ------------------------------------------------------------------

  function messageFermeture(texte) {
    const m = $("fermeture-message");
    m.textContent = texte ? "Erreur : " + texte : "";
    m.hidden = !texte;
  }

  function demanderFermeture() {
    if (!courante) return;
    const raison = ctx.occupee();
    if (raison) {
      annoncer(raison, { erreur: true });
      return;
    }
    fermee = null;
    $("form-fermeture").hidden = false;
    $("resultat-fermeture").hidden = true;
    $("titre-fermeture").textContent = `Fermer la caisse ${courante.numero_caisse} (session n° ${courante.id})`;
    $("montant-compte").value = "";
    messageFermeture(null);
    const d = $("dialogue-fermeture");
    if (!d.open) d.showModal();
    $("montant-compte").focus();
  }

  async function fermer() {
    const compte = montantValide($("montant-compte").value, 100000000);
    if (compte === null) {
      messageFermeture("Montant compté : les espèces du tiroir, fond compris (ex. 312.45).");
      $("montant-compte").focus();
      return;
    }
    const bouton = $("btn-confirmer-fermeture");
    if (bouton.disabled) return;
    bouton.disabled = true;
    try {
      const raison = ctx.occupee();
      if (raison) { messageFermeture(raison); return; }
      const session = await api("POST", `/api/caisses/sessions/${courante.id}/fermeture`, { corps: { montant_compte: decimal(compte) } });
      await montrerFermee(session);
    } catch (err) {
      // Closed meanwhile (a gérant, another tab): show that closing as is.
      if (err instanceof ErreurApi && err.statut === 409) {
        const session = await api("GET", `/api/caisses/sessions/${courante.id}`).catch(() => null);
        if (session && session.statut === "fermee") {
          await montrerFermee(session);
          return;
        }
      }
      messageFermeture(err instanceof ErreurApi ? err.texte() : String(err));
    } finally {
      bouton.disabled = false;
    }
  }

  async function montrerFermee(session) {
    fermee = session;
    oublier();
    courante = null;
    entete();
    ctx.arreter();
    $("form-fermeture").hidden = true;
    $("resultat-fermeture").hidden = false;
    $("comptage").replaceChildren(comptage(session));
    $("rapport-z").replaceChildren(el("p", {}, "Rapport Z en préparation…"));
    try {
      const z = await api("GET", `/api/caisses/sessions/${session.id}/rapport-z`);
      $("rapport-z").replaceChildren(...rapportZ(z));
      document.body.dataset.rapportZ = String(session.id);
    } catch (err) {
      $("rapport-z").replaceChildren(el("p", { className: "alerte-texte" },
        `Rapport Z indisponible pour l’instant (${err instanceof ErreurApi ? err.texte() : err}) : il reste consultable depuis « Sessions de caisse ».`));
    }
    // The count and the report's top in view; the focus on "Imprimer".
    $("dialogue-fermeture").scrollTop = 0;
    $("btn-imprimer-z").focus({ preventScroll: true });
  }

  function init() {
    $("btn-fermer-caisse").addEventListener("click", demanderFermeture);
    $("form-fermeture").addEventListener("submit", (ev) => { ev.preventDefault(); fermer(); });
    $("btn-annuler-fermeture").addEventListener("click", () => $("dialogue-fermeture").close());
    $("btn-imprimer-z").addEventListener("click", () => window.print());
    $("btn-terminer").addEventListener("click", () => $("dialogue-fermeture").close());
    $("btn-actualiser-caisses").addEventListener("click", () => { effacerMessage(); lister().catch(signaler); });
    $("dialogue-fermeture").addEventListener("close", () => {
      if (fermee) {
        const f = fermee;
        fermee = null;
        choisir().then(() => annoncer(`Caisse ${f.numero_caisse} fermée (session n° ${f.id}) : écart ${ecartTexte(f.ecart)}.`));
      } else if (courante) {
        ctx.reprendreFocus();
      }
    });
  }

  init();
  return {
    demarrer,
    sessionPerdue,
    courante: () => courante,
    lister,
  };
}
