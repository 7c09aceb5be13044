// The API client: same-origin calls through the gateway's /api, the token
// from the session, RFC 9457 problem+json errors turned into ErreurApi, an
// optional Idempotency-Key, a deadline, and 401 -> back to login.

import * as session from "./session.js";

export class ErreurApi extends Error {
  constructor(statut, titre, detail, { reference = null, corps = null, reseau = false } = {}) {
    super(detail || titre);
    this.statut = statut;
    this.titre = titre;
    this.detail = detail;
    this.reference = reference;
    /** The whole problem document (extra members such as `manquants`, `errors`). */
    this.corps = corps;
    /** True when no answer arrived (network down, deadline): the outcome is unknown. */
    this.reseau = reseau;
  }

  /** One readable sentence: title, detail and the fields in error. */
  texte() {
    let t = this.detail && this.detail !== this.titre ? `${this.titre} — ${this.detail}` : this.titre;
    const erreurs = (this.corps && this.corps.errors) || [];
    if (erreurs.length) t += " (" + erreurs.map((e) => `${e.champ || e.field || e.pointer || "?"} : ${e.message || e.detail}`).join(" ; ") + ")";
    return t;
  }
}

/**
 * Calls the API. Returns { statut, donnees, etag }; throws ErreurApi for any
 * non-2xx answer or when no answer came within `delai` ms.
 */
export async function requete(methode, chemin, { corps, cle, siVersion, delai = 15000, anonyme = false } = {}) {
  const entetes = { Accept: "application/json, application/problem+json" };
  const s = session.lire();
  if (s && !anonyme) entetes.Authorization = "Bearer " + s.jeton;
  if (corps !== undefined) entetes["Content-Type"] = "application/json";
  if (cle) entetes["Idempotency-Key"] = cle;
  if (siVersion) entetes["If-Match"] = siVersion;

  const arret = new AbortController();
  const minuterie = setTimeout(() => arret.abort(), delai);
  let reponse;
  try {
    reponse = await fetch(chemin, {
      method: methode,
      headers: entetes,
      body: corps === undefined ? undefined : JSON.stringify(corps),
      signal: arret.signal,
      cache: "no-store",
    });
  } catch (_) {
    throw new ErreurApi(0, "Serveur injoignable",
      "Aucune réponse du serveur. Vérifiez le réseau puis réessayez.", { reseau: true });
  } finally {
    clearTimeout(minuterie);
  }

  // nginx and the service may both set it: "id, id".
  const reference = (reponse.headers.get("X-Request-Id") || "").split(",")[0].trim() || null;
  const type = reponse.headers.get("Content-Type") || "";
  let donnees = null;
  if (reponse.status !== 204 && type.includes("json")) {
    try { donnees = await reponse.json(); } catch (_) { donnees = null; }
  }
  if (!reponse.ok) {
    const titre = (donnees && donnees.title) || `Erreur ${reponse.status}`;
    const detail = (donnees && donnees.detail) || reponse.statusText || "";
    const err = new ErreurApi(reponse.status, titre, detail, { reference, corps: donnees });
    if (reponse.status === 401 && !anonyme && s) {
      session.expirer("Votre session a expiré ou a été refusée : reconnectez-vous, votre travail a été conservé.");
    }
    throw err;
  }
  return { statut: reponse.status, donnees, etag: reponse.headers.get("ETag") };
}

/** Like `requete`, returning only the JSON body. */
export async function api(methode, chemin, options) {
  return (await requete(methode, chemin, options)).donnees;
}

/** Shows a message in the page's live region (#message); `erreur` may be an ErreurApi. */
export function annoncer(texte, { erreur = false, reference = null } = {}) {
  const zone = document.getElementById("message");
  if (!zone) return;
  zone.replaceChildren(document.createTextNode((erreur ? "Erreur : " : "") + texte));
  if (reference) {
    const ref = document.createElement("span");
    ref.className = "reference";
    ref.textContent = "Référence de la requête : " + reference;
    zone.append(ref);
  }
  zone.classList.toggle("erreur", erreur);
  zone.hidden = false;
}

export function signaler(err) {
  if (err instanceof ErreurApi) annoncer(err.texte(), { erreur: true, reference: err.reference });
  else annoncer("erreur inattendue : " + err, { erreur: true });
}

export function effacerMessage() {
  const zone = document.getElementById("message");
  if (zone) { zone.hidden = true; zone.replaceChildren(); }
}
