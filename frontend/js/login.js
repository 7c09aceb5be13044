// Login page: POST /api/auth/login, then the page the user was sent away
// from (after an expiry) or their role's landing page.

import { api, annoncer, signaler } from "./api.js";
import * as session from "./session.js";

const form = document.getElementById("login-form");
const bouton = document.getElementById("btn-connexion");
const params = new URLSearchParams(location.search);

// Only same-site paths: never an open redirect.
function retourPermis(role) {
  const r = params.get("retour");
  if (!r || !r.startsWith("/") || r.startsWith("//") || r.startsWith("/index.html")) return null;
  const page = r.split("?")[0];
  const pages = { caissier: ["/caisse.html"], gerant: ["/caisse.html", "/stock.html", "/tableau.html", "/reappro.html", "/sessions.html"], admin: ["/tableau.html", "/produits.html", "/stock.html", "/reappro.html", "/sessions.html"], logistique: ["/logistique.html", "/stock.html"] };
  return (pages[role] || []).includes(page) ? r : null;
}

const attente = session.messageEnAttente();
if (attente) annoncer(attente, { erreur: true });

const deja = session.lire();
if (deja && !params.get("retour")) location.replace(session.accueil(deja.employe.role));

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  bouton.disabled = true;
  try {
    const reponse = await api("POST", "/api/auth/login", {
      anonyme: true,
      corps: { login: form.login.value.trim(), mot_de_passe: form.mot_de_passe.value },
    });
    session.ecrire(reponse);
    location.assign(retourPermis(reponse.employe.role) || session.accueil(reponse.employe.role));
  } catch (err) {
    signaler(err);
    form.mot_de_passe.select();
  } finally {
    bouton.disabled = false;
  }
});
