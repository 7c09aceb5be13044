// Who is logged in: the token from POST /api/auth/login, kept in
// localStorage so that a second tab of the register shares it. When the
// token expires or the API answers 401, the page saves its work in progress
// (hooks registered with `surExpiration`) and goes back to the login page,
// which brings the user back here afterwards.

const CLE = "caisse.session";
const CLE_MESSAGE = "caisse.message";

/** Where each role lands after logging in. */
const ACCUEIL = {
  caissier: "/caisse.html",
  gerant: "/caisse.html",
  admin: "/tableau.html",
  logistique: "/logistique.html",
};

export const ROLES = {
  caissier: "Caissier·ère",
  gerant: "Gérant·e",
  logistique: "Logistique",
  admin: "Administration",
};

export function accueil(role) {
  return ACCUEIL[role] || "/stock.html";
}

export function lire() {
  try {
    const s = JSON.parse(localStorage.getItem(CLE));
    if (!s || !s.jeton || !s.employe) return null;
    if (s.expire_a && Date.parse(s.expire_a) <= Date.now()) return null;
    return s;
  } catch (_) {
    return null;
  }
}

export function ecrire(reponseLogin) {
  localStorage.setItem(CLE, JSON.stringify({
    jeton: reponseLogin.jeton,
    expire_a: reponseLogin.expire_a,
    employe: reponseLogin.employe,
  }));
}

export function fermer() {
  localStorage.removeItem(CLE);
}

const sauvegardes = [];

/** Registers a function that saves the page's work before leaving for the login page. */
export function surExpiration(sauver) {
  sauvegardes.push(sauver);
}

let enCours = false;

/** Leaves for the login page with `message`, keeping the work in progress. */
export function expirer(message) {
  if (enCours) return;
  enCours = true;
  for (const sauver of sauvegardes) {
    try { sauver(); } catch (_) { /* saving is best effort */ }
  }
  fermer();
  sessionStorage.setItem(CLE_MESSAGE, message);
  const retour = location.pathname + location.search;
  location.assign("/index.html?retour=" + encodeURIComponent(retour));
}

/** The message left by `expirer` for the login page (read once). */
export function messageEnAttente() {
  const m = sessionStorage.getItem(CLE_MESSAGE);
  sessionStorage.removeItem(CLE_MESSAGE);
  return m;
}

/**
 * The current session for a page open to `roles`; otherwise leaves for the
 * login page (no session) or the user's own landing page (other role).
 * Also arms a timer that expires the session when the token does.
 */
export function exiger(roles) {
  const s = lire();
  if (!s) {
    expirer("Connectez-vous pour continuer.");
    return null;
  }
  if (roles && !roles.includes(s.employe.role)) {
    location.replace(accueil(s.employe.role));
    return null;
  }
  if (s.expire_a) {
    const reste = Date.parse(s.expire_a) - Date.now();
    // setTimeout holds at most ~24.8 days; tokens live far less.
    if (reste < 2 ** 31) setTimeout(() => expirer("Votre session a expiré : reconnectez-vous, votre travail a été conservé."), reste);
  }
  return s;
}

/** Fills the header (who, store, logout) present on every page. */
export function entete(s) {
  const info = document.getElementById("employe-info");
  if (info) {
    const magasin = s.employe.magasin_id ? ` — magasin ${s.employe.magasin_id}` : "";
    info.textContent = `${s.employe.nom} (${ROLES[s.employe.role] || s.employe.role})${magasin}`;
  }
  const bouton = document.getElementById("deconnexion");
  if (bouton) {
    bouton.addEventListener("click", () => {
      fermer();
      location.assign("/index.html");
    });
  }
}
